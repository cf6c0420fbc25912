"""`python -m api`: serve the HTTP API on API_HOST:API_PORT, in API_WORKERS processes.

Behind a reverse proxy that terminates TLS, set FORWARDED_ALLOW_IPS to the
proxy's address: uvicorn then takes the client's address and scheme from its
X-Forwarded-For and X-Forwarded-Proto (and from nobody else's).
"""

from __future__ import annotations

import logging
import sys

import uvicorn
from pydantic import ValidationError

from api.app import create_app
from quizgen.errors import ConfigurationError
from quizgen.logs import configure_logging
from quizgen.settings import describe_settings_error, get_settings


def main() -> None:
    try:
        settings = get_settings()
        configure_logging(settings.log_format, settings.log_level)
        create_app(settings)  # refuses bad settings (weak tokens, ...) before serving
    except ValidationError as err:
        sys.exit(f"api: invalid settings:\n{describe_settings_error(err)}")
    except ConfigurationError as err:
        sys.exit(f"api: invalid settings: {err}")
    if not settings.api_tokens:
        logging.getLogger("api").warning("API_TOKENS is empty: every request will be refused (401)")
    uvicorn.run(
        # A factory by name: each of API_WORKERS processes builds its own app.
        "api.app:app_from_environment",
        factory=True,
        host=settings.api_host,
        port=settings.api_port,
        workers=settings.api_workers,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # uvicorn logs through the handler configure_logging set up.
        log_config=None,
    )


if __name__ == "__main__":
    main()
