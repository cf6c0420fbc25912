"""The workflows a worker runs (and the replay test replays)."""

from workflows.batch import BatchGenerationWorkflow
from workflows.export import CanvasExportWorkflow
from workflows.extraction import ContentExtractionWorkflow
from workflows.quiz import QuizGenerationWorkflow

__all__ = ["WORKFLOWS"]

WORKFLOWS = [
    QuizGenerationWorkflow,
    BatchGenerationWorkflow,
    CanvasExportWorkflow,
    ContentExtractionWorkflow,
]
