"""Exporting a quiz's questions to files other systems import.

- `qti`: a QTI 1.2 content package in the dialect Canvas imports (`build_qti_package`,
  `ExportQuestion`); its docstring has the mapping of each question type.
- `qti_items`: the `<item>` of one question.
"""

from quizgen.export.qti import ExportQuestion, build_qti_package

__all__ = ["ExportQuestion", "build_qti_package"]
