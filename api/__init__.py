"""The HTTP API (FastAPI): `python -m api`.

It creates quizzes, starts / signals / queries the quiz workflows, and reads
PostgreSQL. It never generates questions itself.
"""

from api.app import create_app

__all__ = ["create_app"]
