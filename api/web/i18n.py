"""The review pages' words in English and Norwegian (bokmål).

A page's language is the reader's choice when they made one (the switch sets a
cookie), else the quiz's language, else the browser's preference. A form error
from pydantic's own checks (a missing field, a length, a range, a choice) is
said in the page's language (`Translator.problem`); messages of quizgen's own
rules and of the LLM (a rule a question breaks, a batch's last error) are
shown as they are, in English.
"""

from __future__ import annotations

from typing import Any

from api.web.i18n_canvas import CANVAS_TEXTS
from api.web.i18n_content import CONTENT_TEXTS
from api.web.i18n_export import EXPORT_TEXTS
from api.web.i18n_oauth import OAUTH_TEXTS
from quizgen.domain import Language

__all__ = ["LANG_COOKIE", "PROBLEMS", "TEXTS", "Translator", "pick_language"]

LANG_COOKIE = "quizgen_lang"

# key: (English, Norwegian)
TEXTS: dict[str, tuple[str, str]] = {
    "app.name": ("quizgen", "quizgen"),
    "nav.skip": ("Skip to content", "Hopp til innholdet"),
    "nav.quizzes": ("Quizzes", "Quizer"),
    "nav.new": ("New quiz", "Ny quiz"),
    "nav.sign_out": ("Sign out", "Logg ut"),
    "nav.language": ("Language", "Språk"),
    "signin.title": ("Sign in", "Logg inn"),
    "signin.token": ("API token", "API-nøkkel"),
    "signin.help": (
        "Paste the API token you were given. It is sent once and never shown in an address.",
        "Lim inn API-nøkkelen du har fått. Den sendes én gang og vises aldri i en adresse.",
    ),
    "signin.submit": ("Sign in", "Logg inn"),
    "signin.refused": ("That token is not valid.", "Den nøkkelen er ikke gyldig."),
    "signin.throttled": (
        "Too many failed sign-ins from here; wait a minute and try again.",
        "For mange mislykkede innlogginger herfra; vent et minutt og prøv igjen.",
    ),
    "signin.expired": (
        "The form expired; please sign in again.",
        "Skjemaet er utløpt; logg inn på nytt.",
    ),
    "signin.signed_out": ("You are signed out.", "Du er logget ut."),
    "list.title": ("Your quizzes", "Dine quizer"),
    "list.empty": ("No quizzes yet.", "Ingen quizer ennå."),
    "list.col_title": ("Title", "Tittel"),
    "list.col_status": ("Status", "Status"),
    "list.col_progress": ("Progress", "Fremdrift"),
    "list.col_created": ("Created", "Opprettet"),
    "list.previous": ("Previous page", "Forrige side"),
    "list.next": ("Next page", "Neste side"),
    "list.page": ("Page {page} of {pages}", "Side {page} av {pages}"),
    "status.created": ("Created", "Opprettet"),
    "status.extracting_content": ("Reading content", "Leser innhold"),
    "status.generating_questions": ("Generating", "Genererer"),
    "status.ready_for_review": ("Ready for review", "Klar for gjennomgang"),
    "status.ready_for_review_partial": ("Partly ready", "Delvis klar"),
    "status.exporting_to_canvas": ("Exporting", "Eksporterer"),
    "status.published": ("Published", "Publisert"),
    "status.failed": ("Failed", "Feilet"),
    "batch.pending": ("Waiting", "Venter"),
    "batch.running": ("Running", "Kjører"),
    "batch.succeeded": ("Succeeded", "Lyktes"),
    "batch.failed": ("Failed", "Feilet"),
    "type.multiple_choice": ("Multiple choice", "Flervalg"),
    "type.true_false": ("True/false", "Sant/usant"),
    "type.fill_in_blank": ("Fill in the blank", "Fyll inn"),
    "type.matching": ("Matching", "Par"),
    "type.categorization": ("Categorization", "Kategorisering"),
    "difficulty.easy": ("Easy", "Lett"),
    "difficulty.medium": ("Medium", "Middels"),
    "difficulty.hard": ("Hard", "Vanskelig"),
    "tone.academic": ("Academic", "Akademisk"),
    "tone.casual": ("Casual", "Uformell"),
    "tone.encouraging": ("Encouraging", "Oppmuntrende"),
    "tone.professional": ("Professional", "Profesjonell"),
    "language.en": ("English", "Engelsk"),
    "language.no": ("Norwegian", "Norsk"),
    "progress.sentence": (
        "{saved} questions generated successfully ({remaining} remaining)",
        "{saved} spørsmål generert ({remaining} gjenstår)",
    ),
    "progress.label": ("Questions generated", "Spørsmål generert"),
    "quiz.batches": ("Batches", "Satser"),
    "quiz.col_module": ("Module", "Modul"),
    "quiz.col_type": ("Type", "Type"),
    "quiz.col_difficulty": ("Difficulty", "Vanskegrad"),
    "quiz.col_target": ("Target", "Mål"),
    "quiz.col_generated": ("Generated", "Generert"),
    "quiz.col_status": ("Status", "Status"),
    "quiz.col_attempts": ("Attempts", "Forsøk"),
    "quiz.col_error": ("Last error", "Siste feil"),
    "quiz.col_tokens": ("Tokens", "Tokens"),
    "quiz.generate": ("Generate Questions", "Generer spørsmål"),
    "quiz.retry_failed": ("Retry Failed Batches", "Prøv mislykkede satser igjen"),
    "quiz.retry_all": ("Retry Question Generation", "Prøv spørsmålsgenerering igjen"),
    "quiz.questions_link": ("Review questions", "Gå gjennom spørsmål"),
    "quiz.workflow_link": ("Open the workflow in Temporal", "Åpne arbeidsflyten i Temporal"),
    "quiz.qti_link": (
        "Download the approved questions (QTI 1.2, for Canvas)",
        "Last ned de godkjente spørsmålene (QTI 1.2, for Canvas)",
    ),
    "quiz.failure": ("Why it failed", "Hvorfor det feilet"),
    "quiz.generating_note": (
        "This page updates by itself while the questions are generated.",
        "Siden oppdaterer seg selv mens spørsmålene genereres.",
    ),
    "notice.started": ("Generation has started.", "Genereringen har startet."),
    "notice.already_running": (
        "Generation is already running; this page shows its progress.",
        "Genereringen kjører allerede; siden viser fremdriften.",
    ),
    "notice.not_allowed": (
        "Nothing to generate for this quiz right now.",
        "Ingenting å generere for denne quizen nå.",
    ),
    "notice.unavailable": (
        "The service is busy or unreachable; nothing was changed. Try again in a moment.",
        "Tjenesten er opptatt eller utilgjengelig; ingenting ble endret. Prøv igjen om litt.",
    ),
    "notice.created": ("The quiz was created.", "Quizen ble opprettet."),
    "notice.saved": ("The question was saved.", "Spørsmålet ble lagret."),
    "notice.approved": ("Approved.", "Godkjent."),
    "notice.approved_page": (
        "Every question on the page was approved.",
        "Alle spørsmålene på siden ble godkjent.",
    ),
    "notice.question_changed": (
        "Someone changed that question after this page was shown, so it was not approved. "
        "Look at it again below.",
        "Noen endret det spørsmålet etter at siden ble vist, så det ble ikke godkjent. "
        "Se på det igjen nedenfor.",
    ),
    "notice.page_changed": (
        "Some questions were changed after this page was shown and were not approved; the "
        "rest were. Look at them again below.",
        "Noen spørsmål ble endret etter at siden ble vist og ble ikke godkjent; resten ble "
        "det. Se på dem igjen nedenfor.",
    ),
    "notice.saved_unapproved": (
        "The question was saved. It changed, so it is no longer approved: approve it again "
        "when it is ready.",
        "Spørsmålet ble lagret. Det er endret, så det er ikke lenger godkjent: godkjenn det "
        "igjen når det er klart.",
    ),
    "new.title": ("New quiz", "Ny quiz"),
    "new.quiz_title": ("Title", "Tittel"),
    "new.language": ("Language of the questions", "Spørsmålenes språk"),
    "new.tone": ("Tone", "Tone"),
    "new.module": ("Module {n}", "Modul {n}"),
    "new.module_name": ("Module name", "Modulnavn"),
    "new.content": ("Content", "Innhold"),
    "new.content_help": (
        "Paste the text, or upload a .txt, .md or PDF file (at most {chars} characters).",
        "Lim inn teksten, eller last opp en .txt-, .md- eller PDF-fil (høyst {chars} tegn).",
    ),
    "new.file": ("Or upload a file", "Eller last opp en fil"),
    "new.batches": (
        "Batches (up to {max} per module; leave a type empty to skip a row)",
        "Satser (inntil {max} per modul; la typen stå tom for å hoppe over en rad)",
    ),
    "new.batch_row": ("Batch {n}", "Sats {n}"),
    "new.type": ("Question type", "Spørsmålstype"),
    "new.type_none": ("(none)", "(ingen)"),
    "new.count": ("Questions (1 to {max})", "Spørsmål (1 til {max})"),
    "new.difficulty": ("Difficulty", "Vanskegrad"),
    "new.add_module": ("Add a module", "Legg til en modul"),
    "new.remove_module": ("Remove this module", "Fjern denne modulen"),
    "new.limits": (
        "Limits: {modules} modules, {content} characters per module, {quiz} in all.",
        "Grenser: {modules} moduler, {content} tegn per modul, {quiz} totalt.",
    ),
    "new.create": ("Create quiz", "Opprett quiz"),
    "new.has_errors": (
        "The quiz was not created. Please correct the fields marked below.",
        "Quizen ble ikke opprettet. Rett feltene som er merket nedenfor.",
    ),
    "new.bad_file": (
        "Upload a PDF, or a UTF-8 .txt or .md file.",
        "Last opp en PDF, eller en UTF-8 .txt- eller .md-fil.",
    ),
    "new.bad_count": ("Enter a whole number.", "Skriv et heltall."),
    "new.no_batches": (
        "Choose a question type for at least one batch.",
        "Velg en spørsmålstype for minst én sats.",
    ),
    "new.too_many_modules": (
        "A quiz has at most {max} modules; the form sent more. Only the first {max} are "
        "shown: the quiz was not created.",
        "En quiz har høyst {max} moduler; skjemaet sendte flere. Bare de {max} første vises: "
        "quizen ble ikke opprettet.",
    ),
    "questions.title": ("Questions", "Spørsmål"),
    "questions.back": ("Back to the quiz", "Tilbake til quizen"),
    "questions.empty": ("No questions match.", "Ingen spørsmål passer."),
    "questions.filter": ("Filter", "Filtrer"),
    "questions.any": ("Any", "Alle"),
    "questions.approval": ("Approval", "Godkjenning"),
    "questions.approved": ("Approved", "Godkjent"),
    "questions.not_approved": ("Not approved", "Ikke godkjent"),
    "questions.approve": ("Approve", "Godkjenn"),
    "questions.approve_page": ("Approve all on this page", "Godkjenn alle på siden"),
    "questions.edit": ("Edit", "Rediger"),
    "questions.correct": ("correct", "riktig"),
    "questions.answer": ("Answer", "Svar"),
    "questions.true": ("True", "Sant"),
    "questions.false": ("False", "Usant"),
    "questions.blank": ("Blank {n}", "Felt {n}"),
    "questions.also": ("also accepted", "godtas også"),
    "questions.pairs": ("Pairs", "Par"),
    "questions.distractors": ("Distractors", "Distraktorer"),
    "questions.explanation": ("Explanation", "Forklaring"),
    "questions.count": ("{count} questions", "{count} spørsmål"),
    "review.status": ("Review", "Gjennomgang"),
    "review.pending": ("Pending", "Venter"),
    "review.approved": ("Approved", "Godkjent"),
    "review.rejected": ("Rejected", "Avvist"),
    "review.manual": ("Written by hand", "Skrevet for hånd"),
    "review.reject": ("Reject", "Avvis"),
    "review.restore": ("Restore", "Gjenopprett"),
    "review.move_up": ("Move up", "Flytt opp"),
    "review.move_down": ("Move down", "Flytt ned"),
    "review.counts": (
        "Approved: {approved} · Pending: {pending} · Rejected: {rejected} · To export: {to_export}",
        "Godkjent: {approved} · Venter: {pending} · Avvist: {rejected} · "
        "Skal eksporteres: {to_export}",
    ),
    "add.link": ("Add a question", "Legg til et spørsmål"),
    "add.title": ("Add a question", "Legg til et spørsmål"),
    "add.choose": ("Choose this type", "Velg denne typen"),
    "add.help": (
        "A question written by hand is checked by the same rules as generated ones. It "
        "starts pending and comes last; move it where it belongs.",
        "Et spørsmål skrevet for hånd sjekkes etter de samme reglene som genererte. Det "
        "venter på godkjenning og kommer sist; flytt det dit det hører hjemme.",
    ),
    "add.difficulty": ("Difficulty", "Vanskelighetsgrad"),
    "add.save": ("Add the question", "Legg til spørsmålet"),
    "notice.rejected": (
        "Rejected. It is kept but will not be exported; restore it to review it again.",
        "Avvist. Det beholdes, men eksporteres ikke; gjenopprett det for å vurdere det igjen.",
    ),
    "notice.restored": (
        "Restored: the question is pending again.",
        "Gjenopprettet: spørsmålet venter på godkjenning igjen.",
    ),
    "notice.moved": ("The question was moved.", "Spørsmålet ble flyttet."),
    "notice.added": (
        "The question was added. It is pending and comes last.",
        "Spørsmålet ble lagt til. Det venter på godkjenning og kommer sist.",
    ),
    "notice.decision_changed": (
        "Someone changed that question after this page was shown, so nothing was changed. "
        "Look at it again below.",
        "Noen endret det spørsmålet etter at siden ble vist, så ingenting ble endret. "
        "Se på det igjen nedenfor.",
    ),
    "edit.title": ("Edit question", "Rediger spørsmål"),
    "edit.question_text": ("Question text", "Spørsmålstekst"),
    "edit.explanation": ("Explanation", "Forklaring"),
    "edit.option": ("Option {letter}", "Alternativ {letter}"),
    "edit.correct_answer": ("Correct answer", "Riktig svar"),
    "edit.details": ("Details (JSON)", "Detaljer (JSON)"),
    "edit.details_help": (
        "The rest of the question as JSON, checked by the same rules as generated questions.",
        "Resten av spørsmålet som JSON, sjekket etter de samme reglene som genererte spørsmål.",
    ),
    "edit.bad_json": (
        "This is not a JSON object: {problem}",
        "Dette er ikke et JSON-objekt: {problem}",
    ),
    "edit.too_many_values": (
        "it holds far more values than a question can have",
        "den har langt flere verdier enn et spørsmål kan ha",
    ),
    "edit.save": ("Save", "Lagre"),
    "edit.cancel": ("Cancel", "Avbryt"),
    "edit.has_errors": (
        "The question was not changed. Please correct the fields marked below.",
        "Spørsmålet ble ikke endret. Rett feltene som er merket nedenfor.",
    ),
    "edit.changed": (
        "Someone changed this question while you were editing it. Their version is shown "
        "below; your changes were not saved.",
        "Noen endret dette spørsmålet mens du redigerte det. Den nye versjonen vises "
        "nedenfor; endringene dine ble ikke lagret.",
    ),
    "edit.unsaved": ("Your changes (not saved)", "Endringene dine (ikke lagret)"),
    "edit.unsaved_help": (
        "Copy what you still want into the form above, then save again.",
        "Kopier det du fortsatt vil ha inn i skjemaet ovenfor, og lagre på nytt.",
    ),
    "error.title": ("Something went wrong", "Noe gikk galt"),
    "error.404": ("This page does not exist.", "Denne siden finnes ikke."),
    "error.403": (
        "The form was stale or came from elsewhere; nothing was changed. Reload the page "
        "and try again.",
        "Skjemaet var utløpt eller kom fra et annet sted; ingenting ble endret. Last siden "
        "på nytt og prøv igjen.",
    ),
    "error.413": (
        "The form was too large to send (a quiz holds at most 500,000 characters of "
        "content); nothing was changed. Go back, shorten it and send it again.",
        "Skjemaet var for stort til å sendes (en quiz har høyst 500 000 tegn innhold); "
        "ingenting ble endret. Gå tilbake, gjør det kortere og send det på nytt.",
    ),
    "error.too_many_fields": (
        "The form had more fields than the new-quiz form can have (at most 20 modules of "
        "4 batches); nothing was changed. Reload the page and try again.",
        "Skjemaet hadde flere felt enn skjemaet for ny quiz kan ha (høyst 20 moduler med "
        "4 satser); ingenting ble endret. Last siden på nytt og prøv igjen.",
    ),
    "error.503": (
        "The service is busy or unreachable; try again in a moment.",
        "Tjenesten er opptatt eller utilgjengelig; prøv igjen om litt.",
    ),
    "error.500": ("An unexpected error occurred.", "En uventet feil oppstod."),
    "error.home": ("Go to your quizzes", "Gå til dine quizer"),
    **CANVAS_TEXTS,
    **OAUTH_TEXTS,
    **EXPORT_TEXTS,
    **CONTENT_TEXTS,
}


# pydantic error type -> Norwegian words, filled from the error's `ctx`. English
# keeps pydantic's own message; a type not listed here (quizgen's own rules,
# `value_error`) is shown as pydantic words it, in English.
PROBLEMS: dict[str, str] = {
    "missing": "Må fylles ut.",
    "string_too_short": "Skriv minst {min_length} tegn.",
    "string_too_long": "Skriv høyst {max_length} tegn.",
    "too_short": "Det må være minst {min_length}.",
    "too_long": "Det kan være høyst {max_length}.",
    "greater_than_equal": "Må være minst {ge}.",
    "greater_than": "Må være større enn {gt}.",
    "less_than_equal": "Kan være høyst {le}.",
    "less_than": "Må være mindre enn {lt}.",
    "int_parsing": "Skriv et heltall.",
    "int_type": "Skriv et heltall.",
    "int_from_float": "Skriv et heltall.",
    "float_parsing": "Skriv et tall.",
    "float_type": "Skriv et tall.",
    "bool_parsing": "Velg sann eller usann.",
    "bool_type": "Velg sann eller usann.",
    "enum": "Velg en av {expected}.",
    "literal_error": "Velg en av {expected}.",
    "string_pattern_mismatch": "Teksten har feil form.",
    "string_type": "Skriv tekst.",
    "extra_forbidden": "Dette feltet er ikke tillatt.",
    "list_type": "Må være en liste.",
    "dict_type": "Må være et JSON-objekt.",
    "model_type": "Må være et JSON-objekt.",
}


class Translator:
    def __init__(self, language: Language) -> None:
        self.language = language
        self._index = 1 if language is Language.NORWEGIAN else 0

    def __call__(self, key: str, **values: object) -> str:
        text = TEXTS[key][self._index]
        return text.format(**values) if values else text

    def problem(self, error: Any) -> str:
        """One pydantic error (an item of `ValidationError.errors()`) in this language."""
        english = str(error.get("msg", "invalid value")).removeprefix("Value error, ")
        template = PROBLEMS.get(str(error.get("type")))
        if self.language is Language.ENGLISH or template is None:
            return english
        ctx = dict(error.get("ctx") or {})
        if "expected" in ctx:
            ctx["expected"] = str(ctx["expected"]).replace(" or ", " eller ")
        if error.get("type") == "string_too_short" and ctx.get("min_length") == 1:
            return "Kan ikke være tom."
        try:
            return template.format(**ctx)
        except (KeyError, IndexError):
            return english


def pick_language(
    chosen: str | None, quiz_language: Language | None, accept_language: str | None
) -> Language:
    """The reader's choice, else the quiz's language, else the browser's preference."""
    for candidate in (chosen, quiz_language):
        if candidate in (Language.ENGLISH.value, Language.NORWEGIAN.value):
            return Language(candidate)
    preferred = (accept_language or "").split(",")[0].strip().lower()
    if preferred.startswith(("nb", "nn", "no")):
        return Language.NORWEGIAN
    return Language.ENGLISH
