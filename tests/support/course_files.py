"""The sample course's files, made in memory: PDFs drawn with reportlab, HTML pages written
here, each with the exact strings the tests look for.

    text_pdf()            3 pages of Norwegian text (TEXT_PDF_PAGES), a text layer on each
    scanned_pdf()         one page holding only a picture of text: no text layer
    encrypted_pdf()       text locked with a user password (ENCRYPTED_PASSWORD)
    owner_locked_pdf()    an owner password only: opens without a prompt, so it is read
    truncated_pdf()       text_pdf() cut in the middle
    oversized_pdf()       text_pdf() padded past MAX_FILE_BYTES
    pages_pdf(n)          n short pages ("Side 1", ...): the page limit
    LESSON_HTML           a Canvas page: headings, a list, a table, script, style, nav,
                          header, footer, entities, Norwegian; LESSON_LINES is exactly what
                          html_to_text gives, LESSON_ABSENT what it must not

`add_sample_course(canvas)` puts all of them in a CanvasStandIn course, in one module, with
an item type quizgen does not extract (ExternalUrl), and returns their ids and titles.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas as pdf_canvas

from deploy.local.canvas import CanvasStandIn
from quizgen.extraction import MAX_FILE_BYTES

# One page each; every line is drawn as a line of text and comes back as one.
TEXT_PDF_PAGES: tuple[str, ...] = (
    "Fotosyntesen\nPlanter lager sukker av lys, vann og karbondioksid.\nKlorofyll er grønt.",
    "Cellemembranen\nMembranen slipper gjennom vann og små molekyler.\nÆrlig talt: blåbær.",
    "Mitokondriene\nCellens kraftverk lager ATP.\nØvingsoppgave på side tre.",
)
ENCRYPTED_PASSWORD = "hemmelig"
ENCRYPTED_TEXT = "Hemmelig kapittel om enzymer"
OWNER_LOCKED_TEXT = "Åpent kapittel om proteiner"


def text_pdf(
    pages: Sequence[str] = TEXT_PDF_PAGES, *, encrypt: StandardEncryption | None = None
) -> bytes:
    """A PDF with a text layer: each string a page, each line of it a line of text."""
    buffer = io.BytesIO()
    # invariant: the same bytes every run (no dates, no random ids).
    drawing = pdf_canvas.Canvas(buffer, pagesize=A4, encrypt=encrypt, invariant=1)
    for page in pages:
        y = 780.0
        for line in page.split("\n"):
            drawing.drawString(72, y, line)
            y -= 18
        drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def scanned_pdf() -> bytes:
    """What a scanner makes: one page that is a picture (of text), no text layer."""
    picture = Image.new("L", (600, 200), color=255)
    pen = ImageDraw.Draw(picture)
    pen.text((20, 80), "Skannet side: fotosyntese", fill=0)
    pen.rectangle((10, 10, 590, 190), outline=0)
    buffer = io.BytesIO()
    drawing = pdf_canvas.Canvas(buffer, pagesize=A4, invariant=1)
    drawing.drawImage(ImageReader(picture), 72, 500, width=450, height=150)
    drawing.showPage()
    drawing.save()
    return buffer.getvalue()


def encrypted_pdf() -> bytes:
    """Opens only with ENCRYPTED_PASSWORD (RC4 128-bit, what reportlab writes)."""
    lock = StandardEncryption(ENCRYPTED_PASSWORD, ownerPassword="eier", strength=128)
    return text_pdf([ENCRYPTED_TEXT], encrypt=lock)


def owner_locked_pdf() -> bytes:
    """Encrypted with an empty user password (copying forbidden): any viewer opens it."""
    lock = StandardEncryption("", ownerPassword="eier", canCopy=0, strength=128)
    return text_pdf([OWNER_LOCKED_TEXT], encrypt=lock)


def truncated_pdf() -> bytes:
    """A download cut off halfway: no cross-reference table, no trailer."""
    whole = text_pdf()
    return whole[: len(whole) // 2]


def oversized_pdf() -> bytes:
    """A valid PDF one byte over MAX_FILE_BYTES (a comment after %%EOF pads it)."""
    whole = text_pdf() + b"\n%"
    return whole + b"0" * (MAX_FILE_BYTES + 1 - len(whole))


def pages_pdf(count: int) -> bytes:
    return text_pdf([f"Side {n}" for n in range(1, count + 1)])


LESSON_TITLE = "Fotosyntese og celler"
LESSON_HTML = """<!DOCTYPE html>
<html><head><title>Ikke innhold</title><style>p { color: red; }</style></head>
<body>
<header><a href="/">Hjem-lenke i toppen</a></header>
<nav><ul><li>Navigasjonsmeny</li><li>Forrige side</li></ul></nav>
<h1>Fotosyntese &amp; celler</h1>
<p>Planter bruker <strong>lys</strong>, vann og CO<sub>2</sub> til &aring; lage sukker.
   Dette skjer i   kloroplastene.</p>
<h2>Viktige begreper</h2>
<ul>
  <li>Klorofyll &ndash; det grønne pigmentet</li>
  <li>Glukose<br>lagres som stivelse</li>
</ul>
<ol><li>Lysreaksjonen</li><li>Calvinsyklusen</li></ol>
<table>
  <thead><tr><th>Organell</th><th>Oppgave</th></tr></thead>
  <tbody>
    <tr><td>Kloroplast</td><td>Fotosyntese</td></tr>
    <tr><td>Mitokondrie</td><td>Celleånding</td></tr>
    <tr><td></td><td></td></tr>
  </tbody>
</table>
<script>var hemmelig = "skripttekst som ikke skal med";</script>
<noscript>Slå på JavaScript</noscript>
<!-- lærerens kommentar -->
<aside>Sidestolpe med reklame</aside>
<p>Ærlig talt: blåbær&nbsp;og øl er ikke fotosyntese.</p>
<footer>Bunntekst &copy; skolen</footer>
</body></html>
"""
LESSON_LINES: tuple[str, ...] = (
    "Fotosyntese & celler",
    "Planter bruker lys, vann og CO2 til å lage sukker. Dette skjer i kloroplastene.",
    "Viktige begreper",
    "Klorofyll \u2013 det grønne pigmentet",
    "Glukose",
    "lagres som stivelse",
    "Lysreaksjonen",
    "Calvinsyklusen",
    "Organell | Oppgave",
    "Kloroplast | Fotosyntese",
    "Mitokondrie | Celleånding",
    "Ærlig talt: blåbær og øl er ikke fotosyntese.",
)
LESSON_ABSENT: tuple[str, ...] = (
    "Ikke innhold",
    "color: red",
    "Hjem-lenke",
    "Navigasjonsmeny",
    "skripttekst",
    "Slå på JavaScript",
    "lærerens kommentar",
    "Sidestolpe",
    "Bunntekst",
)


@dataclass
class SampleCourse:
    course: int
    module: int
    # Title → Canvas id (page url for pages, file id for files, item id otherwise).
    pages: dict[str, str] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)
    unsupported: dict[str, int] = field(default_factory=dict)


SAMPLE_FILES = {
    "fotosyntese.pdf": text_pdf,
    "skannet.pdf": scanned_pdf,
    "kryptert.pdf": encrypted_pdf,
    "avkuttet.pdf": truncated_pdf,
    "for-stor.pdf": oversized_pdf,
}


def add_sample_course(
    canvas: CanvasStandIn, course: int | None = None, *, module_name: str = "Uke 1"
) -> SampleCourse:
    """The course (a new one unless given) with one module holding LESSON_HTML, every file
    of SAMPLE_FILES and an ExternalUrl item."""
    course = course if course is not None else canvas.add_course("Biologi 1", "BIO1")
    module = canvas.add_module(course, module_name)
    sample = SampleCourse(course, module)
    sample.pages[LESSON_TITLE] = canvas.add_page(
        course, LESSON_TITLE, LESSON_HTML, module_id=module
    )
    for name, make in SAMPLE_FILES.items():
        sample.files[name] = canvas.add_file(course, name, make(), module_id=module)
    sample.unsupported["Nettressurs"] = canvas.add_module_item(
        course, module, "Nettressurs", "ExternalUrl", external_url="https://example.org/"
    )
    return sample
