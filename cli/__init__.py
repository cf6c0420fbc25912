"""`quizgen`: the command line, a client of the HTTP API.

    main             runs the app; every error becomes one `error: ...` line and an exit code
    app              the Typer app, its global options (--api, --token) and shared helpers
    quiz_commands    create, generate, retry, status, list, delete
    review_commands  questions, approve
    export_commands  export: JSON, a QTI package, or to Canvas (and its undo, cancel, status)
    decision_commands  reject, restore, add (a question written by hand)
    canvas_commands  canvas connect, status, disconnect, courses
    watch            following a round (or an export) until it settles; a round's exit codes
    client           the HTTP calls, and their failures as one-line errors
    quizfile         reading and checking quiz files (YAML/JSON) before any request
    render           the rich tables and the live progress view

Reference and examples: docs/cli.md.
"""
