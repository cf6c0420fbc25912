"""The Canvas connection page's words (and those around a list of the teacher's courses) in
English and Norwegian (bokmål), merged into `api.web.i18n.TEXTS`."""

from __future__ import annotations

__all__ = ["CANVAS_TEXTS"]

# key: (English, Norwegian)
CANVAS_TEXTS: dict[str, tuple[str, str]] = {
    "nav.canvas": ("Canvas", "Canvas"),
    "canvas.title": ("Connect Canvas", "Koble til Canvas"),
    "canvas.not_configured": (
        "Canvas is not set up on this server, so it cannot be connected here. Ask whoever "
        "runs quizgen to set CANVAS_BASE_URL and CANVAS_TOKEN_KEYS.",
        "Canvas er ikke satt opp på denne serveren, så det kan ikke kobles til her. Be den "
        "som drifter quizgen om å sette CANVAS_BASE_URL og CANVAS_TOKEN_KEYS.",
    ),
    "canvas.connected_as": (
        "Connected as {name} since {when} UTC.",
        "Koblet til som {name} siden {when} UTC.",
    ),
    "canvas.not_connected": ("Canvas is not connected.", "Canvas er ikke koblet til."),
    "canvas.token": ("Canvas access token", "Tilgangsnøkkel fra Canvas"),
    "canvas.token_help": (
        "Make one in Canvas under Account → Settings → New access token, and paste it "
        "here. It is checked with Canvas, kept encrypted and never shown again.",
        "Lag en i Canvas under Konto → Innstillinger → Ny tilgangsnøkkel, og lim den inn "
        "her. Den sjekkes mot Canvas, lagres kryptert og vises aldri igjen.",
    ),
    "canvas.settings_link": ("Open your Canvas settings", "Åpne innstillingene dine i Canvas"),
    "canvas.connect": ("Connect", "Koble til"),
    "canvas.reconnect": ("Connect with a new token", "Koble til med en ny nøkkel"),
    "canvas.disconnect": ("Disconnect", "Koble fra"),
    # The links and words around a list of the teacher's courses (new quiz, export).
    "courses.connect": ("Connect Canvas", "Koble til Canvas"),
    "courses.reconnect": ("reconnect Canvas", "koble til Canvas på nytt"),
    "courses.none": (
        "Canvas lists no course where you are a teacher.",
        "Canvas viser ingen emner der du er lærer.",
    ),
    "canvas.disconnect_help": (
        "Disconnecting forgets the token here; it stays valid in Canvas until you delete it there.",
        "Å koble fra sletter nøkkelen her; den er gyldig i Canvas til du sletter den der.",
    ),
    "canvas.empty_token": ("Paste a Canvas access token.", "Lim inn en tilgangsnøkkel fra Canvas."),
    "canvas.long_token": (
        "That is longer than any Canvas access token.",
        "Det er lengre enn noen tilgangsnøkkel fra Canvas.",
    ),
    "canvas.refused": (
        "Canvas refused this token (it is wrong, expired or deleted): make a new one in "
        "Canvas and paste it here.",
        "Canvas avviste denne nøkkelen (den er feil, utløpt eller slettet): lag en ny i "
        "Canvas og lim den inn her.",
    ),
    "canvas.unavailable": (
        "Canvas could not be reached or is busy; nothing was changed. Try again in a moment.",
        "Canvas kunne ikke nås eller er opptatt; ingenting ble endret. Prøv igjen om litt.",
    ),
    "canvas.denied": (
        "Canvas did not accept the check of this token; nothing was changed. Make sure the "
        "token is for {url}.",
        "Canvas godtok ikke sjekken av denne nøkkelen; ingenting ble endret. Sjekk at "
        "nøkkelen er for {url}.",
    ),
    "notice.canvas_connected": ("Connected to Canvas as {name}.", "Koblet til Canvas som {name}."),
    "notice.canvas_disconnected": (
        "Canvas is disconnected; the token was forgotten.",
        "Canvas er koblet fra; nøkkelen ble slettet.",
    ),
}
