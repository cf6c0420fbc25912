"""Talking to Canvas LMS: the REST client (`client`) and teachers' tokens at rest (`tokens`).

One Canvas instance per deployment (`CANVAS_BASE_URL`). Tokens never leave PostgreSQL
unencrypted, never enter workflow history or logs (invariant 10): callers pass them
from `quizgen.db.canvas_connections` straight to `CanvasClient`.
"""
