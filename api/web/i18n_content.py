"""Content in from Canvas: the words of the "New quiz from Canvas" pages, the quiz page's
"Content from Canvas" section and the module text page, in English and Norwegian
(bokmål), merged into `api.web.i18n.TEXTS`."""

from __future__ import annotations

__all__ = ["CONTENT_TEXTS"]

# key: (English, Norwegian)
CONTENT_TEXTS: dict[str, tuple[str, str]] = {
    "content.new_link": (
        "New quiz from Canvas pages and PDFs",
        "Ny quiz fra Canvas-sider og PDF-er",
    ),
    "content.connect_link": (
        "Connect Canvas to make a quiz from a course's pages and PDFs",
        "Koble til Canvas for å lage en quiz fra et emnes sider og PDF-er",
    ),
    "content.title": ("New quiz from Canvas", "Ny quiz fra Canvas"),
    "content.not_configured": (
        "Canvas is not set up on this server.",
        "Canvas er ikke satt opp på denne serveren.",
    ),
    "content.not_connected": (
        "Connect Canvas first to pick a course's pages and PDFs.",
        "Koble til Canvas først for å velge et emnes sider og PDF-er.",
    ),
    "content.token_refused": (
        "Canvas refused the saved token (expired or revoked)",
        "Canvas avviste den lagrede nøkkelen (utløpt eller trukket tilbake)",
    ),
    "content.unavailable": (
        "Canvas cannot be reached just now; try again in a moment.",
        "Canvas svarer ikke akkurat nå; prøv igjen om litt.",
    ),
    "content.step_course": ("1. Pick a course", "1. Velg et emne"),
    "content.step_items": (
        "2. Pick pages and PDFs from “{course}”",
        "2. Velg sider og PDF-er fra «{course}»",
    ),
    "content.other_course": ("Pick another course", "Velg et annet emne"),
    "content.no_modules": ("This course has no modules.", "Dette emnet har ingen moduler."),
    "content.module_help": (
        "A module with at least one item picked becomes a module of the quiz.",
        "En modul der minst ett element er valgt, blir en modul i quizen.",
    ),
    "content.items": ("Items", "Elementer"),
    "content.kind.Page": ("Page", "Side"),
    "content.kind.File": ("PDF", "PDF"),
    "content.not_supported": ("not supported", "støttes ikke"),
    "content.module_name": ("Name in the quiz", "Navn i quizen"),
    "content.no_items": (
        "Pick at least one page or PDF.",
        "Velg minst én side eller PDF.",
    ),
    "content.unknown_item": (
        "An item picked is no longer in the course (or cannot be read): pick again.",
        "Et valgt element finnes ikke lenger i emnet (eller kan ikke leses): velg på nytt.",
    ),
    "content.create": ("Create quiz and extract the text", "Opprett quiz og hent teksten"),
    "content.create_failed": (
        "The quiz could not be created: {reason}",
        "Quizen kunne ikke opprettes: {reason}",
    ),
    "content.temporal_down": (
        "The extraction service is not available; try again in a moment.",
        "Uttrekkstjenesten er ikke tilgjengelig; prøv igjen om litt.",
    ),
    # The quiz page's section.
    "content.heading": ("Content from Canvas", "Innhold fra Canvas"),
    "content.summary": (
        "{extracted} of {total} items extracted, {failed} failed",
        "{extracted} av {total} elementer hentet, {failed} feilet",
    ),
    "content.col_item": ("Item", "Element"),
    "content.col_kind": ("Type", "Type"),
    "content.col_status": ("Status", "Status"),
    "content.col_detail": ("Details", "Detaljer"),
    "content.status.pending": ("Pending", "Venter"),
    "content.status.extracted": ("Extracted", "Hentet"),
    "content.status.failed": ("Failed", "Feilet"),
    "content.chars": ("{chars} characters", "{chars} tegn"),
    "content.pages": ("{pages} pages", "{pages} sider"),
    "content.state.ready": ("Text ready ({chars} characters)", "Tekst klar ({chars} tegn)"),
    "content.state.extracting": ("Extracting…", "Henter tekst…"),
    "content.state.empty": (
        "No usable text: it cannot be generated from until text is added",
        "Ingen brukbar tekst: det kan ikke lages spørsmål før tekst er lagt til",
    ),
    "content.preview": ("Preview and edit text", "Se og rediger teksten"),
    "content.retry": ("Retry extraction", "Prøv uttrekket på nytt"),
    "content.retry_help": (
        "Only the failed items are extracted again; what was extracted is kept.",
        "Bare elementene som feilet hentes på nytt; det som er hentet, beholdes.",
    ),
    "content.continue_help": (
        "You may also generate questions from what was extracted.",
        "Du kan også lage spørsmål fra det som er hentet.",
    ),
    # The module text page.
    "content.text_title": ("Text of “{module}”", "Teksten i «{module}»"),
    "content.text_label": ("The module's text", "Modulens tekst"),
    "content.text_help": (
        "Questions are generated from this text. Trim what does not belong, or paste "
        "text of your own (at most {chars} characters).",
        "Spørsmålene lages fra denne teksten. Fjern det som ikke hører hjemme, eller lim "
        "inn egen tekst (høyst {chars} tegn).",
    ),
    "content.text_extracting": (
        "The text is still being extracted; come back when it is done.",
        "Teksten hentes fortsatt; kom tilbake når det er ferdig.",
    ),
    "content.text_locked": (
        "Generation has started: the text can no longer change.",
        "Spørsmålsgenereringen har startet: teksten kan ikke endres lenger.",
    ),
    "content.text_save": ("Save text", "Lagre teksten"),
    "content.back": ("Back to the quiz", "Tilbake til quizen"),
    # Notices after a post (`content_` + key).
    "notice.content_retried": (
        "The failed items are being extracted again.",
        "Elementene som feilet, hentes på nytt.",
    ),
    "notice.content_nothing_to_retry": (
        "No item failed: there is nothing to retry.",
        "Ingen elementer feilet: det er ingenting å prøve på nytt.",
    ),
    "notice.content_not_allowed": (
        "That is not possible once generation has started.",
        "Det går ikke etter at spørsmålsgenereringen har startet.",
    ),
    "notice.content_running": (
        "Extraction is already running for this quiz.",
        "Uttrekket kjører allerede for denne quizen.",
    ),
    "notice.content_unavailable": (
        "The extraction service is not available; try again in a moment.",
        "Uttrekkstjenesten er ikke tilgjengelig; prøv igjen om litt.",
    ),
    "notice.content_text_saved": ("The module's text is saved.", "Modulens tekst er lagret."),
    "new.big_file": (
        "The file is larger than 10 MB: upload a smaller PDF, or paste the text.",
        "Filen er større enn 10 MB: last opp en mindre PDF, eller lim inn teksten.",
    ),
    "notice.extracting": (
        "The quiz is created; the text of its pages and files is being extracted.",
        "Quizen er opprettet; teksten i sidene og filene hentes ut.",
    ),
}
