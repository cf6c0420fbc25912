"""Deterministic orchestration: no I/O, no SQLAlchemy or openai imports.

This package module imports nothing on purpose: Temporal's sandbox re-imports
a workflow's module (and its package) for every workflow run, so a batch run
must not pay for importing the quiz workflow too. The worker's list of
workflows is `workflows.registry.WORKFLOWS`.
"""
