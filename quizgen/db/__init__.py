"""Persistence: the tables and one module per kind of read or write over them.

| module | what it owns |
|---|---|
| `tables` | the SQLModel tables (the schema itself is Alembic's, `migrations/`) |
| `engine` | the async engine, and one-statement reads without a transaction |
| `outage` | telling "PostgreSQL cannot serve this now" from every other error |
| `repository` | the quiz itself: create, read, lock, change its status (`write_status`) |
| `rounds` | the two writes that open and close a generation round |
| `attempts` | a round's attempt rows, and the generation metadata built from them |
| `batch_context` | what one LLM call of a batch reads first |
| `drafts` | a batch's questions between its first LLM call and its save |
| `review` | saved questions: list, edit, approve |
| `sessions` | review-page sessions ended by signing out |
| `json_rows` | child rows as one JSON array in the parent's statement |

A function over an `AsyncEngine` is one transaction of its own; one over an
`AsyncConnection` runs inside its caller's. Where a read exists both ways,
the connection's version has the engine's name with `_in` (`get_quiz` /
`get_quiz_in`, `count_drafts` / `count_drafts_in`).
"""
