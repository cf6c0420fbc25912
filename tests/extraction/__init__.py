"""The extraction library (quizgen/extraction) and the Canvas client's capped download."""
