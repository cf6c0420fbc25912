"""`python -m cli`: the `quizgen` command line."""

from cli.main import main

raise SystemExit(main())
