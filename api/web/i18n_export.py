"""The quiz page's Canvas export section's words in English and Norwegian (bokmål), merged
into `api.web.i18n.TEXTS`."""

from __future__ import annotations

__all__ = ["EXPORT_TEXTS"]

# key: (English, Norwegian)
EXPORT_TEXTS: dict[str, tuple[str, str]] = {
    "export.heading": ("Export to Canvas", "Eksporter til Canvas"),
    "export.not_configured": (
        "Canvas is not set up on this server.",
        "Canvas er ikke satt opp på denne serveren.",
    ),
    "export.not_connected": (
        "Connect Canvas to export this quiz to one of your courses.",
        "Koble til Canvas for å eksportere denne quizen til et av emnene dine.",
    ),
    "export.course": ("Course", "Emne"),
    "export.course_id": ("Canvas course id", "Emne-ID i Canvas"),
    "export.course_id_help": (
        "The number in the course's address in Canvas (…/courses/123).",
        "Tallet i emnets adresse i Canvas (…/courses/123).",
    ),
    "export.courses_unavailable": (
        "Canvas could not be reached to list your courses; type the course id instead.",
        "Canvas kunne ikke nås for å vise emnene dine; skriv inn emne-ID-en i stedet.",
    ),
    "export.token_refused": (
        "Canvas refused the saved token",
        "Canvas avviste den lagrede nøkkelen",
    ),
    "export.title": ("Title in Canvas", "Tittel i Canvas"),
    "export.points": ("Points per question", "Poeng per spørsmål"),
    "export.submit": ("Export to Canvas", "Eksporter til Canvas"),
    "export.state.running": ("Exporting", "Eksporterer"),
    "export.state.waiting_for_canvas": ("Waiting for Canvas", "Venter på Canvas"),
    "export.state.published": ("In Canvas", "I Canvas"),
    "export.state.failed": ("Export failed", "Eksporten feilet"),
    "export.state.cancelled": ("Export cancelled", "Eksporten ble avbrutt"),
    "export.state.undoing": ("Undoing the export", "Angrer eksporten"),
    "export.progress": (
        "{exported} of {total} questions exported",
        "{exported} av {total} spørsmål eksportert",
    ),
    "export.progress_label": ("Questions exported", "Spørsmål eksportert"),
    "export.to_course": (
        "“{title}” to Canvas course {course}, {points} points per question.",
        "«{title}» til Canvas-emne {course}, {points} poeng per spørsmål.",
    ),
    "export.changed": (
        "{changed} questions were edited since they were exported.",
        "{changed} spørsmål er endret siden de ble eksportert.",
    ),
    "export.reason": ("Reason", "Årsak"),
    "export.open": ("Open in Canvas", "Åpne i Canvas"),
    "export.retry": ("Retry export", "Prøv eksporten igjen"),
    "export.changes": ("Export changes", "Eksporter endringene"),
    "export.again": ("Export again", "Eksporter igjen"),
    "export.cancel": ("Cancel export", "Avbryt eksporten"),
    "export.undo": ("Undo export", "Angre eksporten"),
    "export.undo_confirm": (
        "Delete the quiz from Canvas?",
        "Slette quizen fra Canvas?",
    ),
    "export.undo_help": (
        "Undo deletes the quiz this export made in Canvas.",
        "Angre sletter quizen denne eksporten laget i Canvas.",
    ),
    "export.other_course": ("Or export to a course:", "Eller eksporter til et emne:"),
    "notice.export_started": (
        "The export to Canvas has started.",
        "Eksporten til Canvas har startet.",
    ),
    "notice.export_retried": ("The export runs again.", "Eksporten kjører igjen."),
    "notice.export_undoing": (
        "The export is being undone: the quiz is deleted from Canvas.",
        "Eksporten angres: quizen slettes fra Canvas.",
    ),
    "notice.export_cancelled": ("The export is being cancelled.", "Eksporten avbrytes."),
    "notice.export_not_configured": (
        "Canvas is not set up on this server.",
        "Canvas er ikke satt opp på denne serveren.",
    ),
    "notice.export_not_connected": (
        "Connect Canvas first.",
        "Koble til Canvas først.",
    ),
    "notice.export_running": (
        "An export of this quiz is running: wait for it, or cancel it.",
        "En eksport av denne quizen kjører: vent på den, eller avbryt den.",
    ),
    "notice.export_not_running": (
        "No export of this quiz is running.",
        "Ingen eksport av denne quizen kjører.",
    ),
    "notice.export_none_approved": (
        "The quiz has no approved question to export: approve some first.",
        "Quizen har ingen godkjente spørsmål å eksportere: godkjenn noen først.",
    ),
    "notice.export_not_ready": (
        "This quiz cannot be exported yet.",
        "Denne quizen kan ikke eksporteres ennå.",
    ),
    "notice.export_other_course": (
        "This quiz is in another Canvas course: undo that export before exporting elsewhere.",
        "Denne quizen ligger i et annet Canvas-emne: angre den eksporten før du eksporterer "
        "et annet sted.",
    ),
    "notice.export_no_course": (
        "Choose the Canvas course to export to.",
        "Velg Canvas-emnet det skal eksporteres til.",
    ),
    "notice.export_bad_points": (
        "Points per question must be a number from 0 to 1000.",
        "Poeng per spørsmål må være et tall fra 0 til 1000.",
    ),
    "notice.export_not_exported": (
        "This quiz has not been exported.",
        "Denne quizen er ikke eksportert.",
    ),
    "notice.export_unavailable": (
        "The export could not start just now; nothing was changed. Try again in a moment.",
        "Eksporten kunne ikke starte nå; ingenting ble endret. Prøv igjen om litt.",
    ),
    "notice.export_refused": (
        "The export was refused; nothing was changed.",
        "Eksporten ble avvist; ingenting ble endret.",
    ),
}
