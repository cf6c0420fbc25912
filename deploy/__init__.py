"""Running quizgen: the local stack for the quickstart (`stack`, `demo`) and production notes."""
