"""LLM providers: what turns a `GenerationRequest` into raw (untrusted) text.

- `base`: the `QuestionProvider` interface and its request/response types.
- `openai_provider` (+ `capped_http`, the answer-size cap; `completion`, reading an
  answer's envelope): OpenAI-compatible chat completions.
- `offline/`: a deterministic generator that needs no network or key.
- `faults`: a wrapper that injects the `LLM_FAULT_*` faults.
- `prompts/`: the prompt texts, per language and question type.

Providers do no validation and know nothing of Temporal: `activities/generation.py`
calls them and maps their errors to retry semantics.
"""
