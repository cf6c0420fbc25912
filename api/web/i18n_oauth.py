"""Sign in with Canvas's words in English and Norwegian (bokmål), merged into
`api.web.i18n.TEXTS`."""

from __future__ import annotations

__all__ = ["OAUTH_TEXTS"]

# key: (English, Norwegian)
OAUTH_TEXTS: dict[str, tuple[str, str]] = {
    "oauth.sign_in": ("Sign in with Canvas", "Logg inn med Canvas"),
    "oauth.or_token": (
        "Or sign in with an API token:",
        "Eller logg inn med en API-nøkkel:",
    ),
    "oauth.signed_in_title": ("Signed in", "Logget inn"),
    "oauth.signed_in_as": ("Signed in with Canvas as {name}.", "Logget inn med Canvas som {name}."),
    "oauth.continue": ("Continue to your quizzes", "Gå videre til quizene dine"),
    "oauth.signed_in_with_canvas": ("(with Canvas)", "(med Canvas)"),
    "oauth.state_refused": (
        "This sign-in with Canvas cannot be finished here: it was started in another "
        "browser, already used, or too long ago. Sign in again.",
        "Denne innloggingen med Canvas kan ikke fullføres her: den ble startet i en annen "
        "nettleser, er allerede brukt, eller er for gammel. Logg inn på nytt.",
    ),
    "oauth.cancelled": (
        "Signing in with Canvas was cancelled in Canvas. Sign in again.",
        "Innloggingen med Canvas ble avbrutt i Canvas. Logg inn på nytt.",
    ),
    "oauth.code_refused": (
        "Canvas did not accept this sign-in (the code was wrong, used or expired). Sign in again.",
        "Canvas godtok ikke denne innloggingen (koden var feil, brukt eller utløpt). "
        "Logg inn på nytt.",
    ),
    "oauth.unavailable": (
        "Canvas could not be reached or is busy; you are not signed in. Try again in a moment.",
        "Canvas kunne ikke nås eller er opptatt; du er ikke logget inn. Prøv igjen om litt.",
    ),
}
