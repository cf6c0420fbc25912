"""The local stack: every part the demo, the tests and the bench start and stop, once.

| part | module |
|---|---|
| where state outlives a process (`.quizgen/`) | `paths` |
| the Temporal dev server (its flags; in-process or long-lived) | `temporal` |
| PostgreSQL (given, local or embedded; databases made and dropped) | `postgres` |
| the schema (`alembic upgrade`, in-process or as an operator runs it) | `migrations` |
| workers and the API as `python -m ...` processes | `processes` |
| the HTTP API in-process or on a real port | `api` |
| an OpenAI-compatible server that writes questions and injects faults | `fake_openai` |
| a Canvas LMS stand-in (REST API as documented: courses, modules, New Quizzes; faults) | `canvas` |
| waiting until a quiz's round is recorded | `waiting` |
| the demo's export to the Canvas stand-in and its QTI download | `demo_canvas` |
| serving an ASGI app in this event loop, stopping at once (the two fakes' server) | `servers` |

Nothing in the product imports this package; `./dev demo` (deploy/demo.py),
`tests/` and `bench/` do. External systems faked here are faked only at their
HTTP boundary.
"""
