"""`python -m api`: serve the HTTP API on API_HOST:API_PORT."""

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
        app = create_app(settings)
    except ValidationError as err:
        sys.exit(f"api: invalid settings:\n{describe_settings_error(err)}")
    except ConfigurationError as err:
        sys.exit(f"api: invalid settings: {err}")
    if not settings.api_tokens:
        logging.getLogger("api").warning("API_TOKENS is empty: every request will be refused (401)")
    # log_config=None: uvicorn logs through the handler configure_logging set up.
    uvicorn.run(app, host=settings.api_host, port=settings.api_port, log_config=None)


if __name__ == "__main__":
    main()
