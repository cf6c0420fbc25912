"""Running Alembic against a chosen database, the way `alembic upgrade head` does."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> Config:
    config = Config(str(REPO_ROOT / "alembic.ini"))
    # ConfigParser treats "%" as interpolation; a password may contain one.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    # Leave pytest's logging alone.
    config.attributes["configure_logging"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(url), revision)
