"""Deterministic orchestration: no I/O, no SQLAlchemy or openai imports."""

from workflows.batch import BatchGenerationWorkflow
from workflows.quiz import QuizGenerationWorkflow

__all__ = ["WORKFLOWS", "BatchGenerationWorkflow", "QuizGenerationWorkflow"]

WORKFLOWS = [QuizGenerationWorkflow, BatchGenerationWorkflow]
