"""`quizgen`: the command line, a client of the HTTP API."""
