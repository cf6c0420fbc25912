"""All configuration, read once from the environment (names: docs/architecture.md)."""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from quizgen.contracts import GenerationConfig
from quizgen.names import canvas_task_queue, llm_task_queue

_GENERATION = GenerationConfig()

__all__ = [
    "FaultKind",
    "LLMProviderName",
    "Settings",
    "describe_settings_error",
    "get_settings",
    "normalize_database_url",
]

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/quizgen"


class LLMProviderName(StrEnum):
    OFFLINE = "offline"
    OPENAI = "openai"


class FaultKind(StrEnum):
    """What an injected fault does to a batch (see quizgen/llm/faults.py)."""

    PERMANENT = "permanent"
    TRANSIENT = "transient"
    MALFORMED = "malformed"
    SHORT = "short"
    INVALID = "invalid"


def normalize_database_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` too; the engine always uses asyncpg."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url.removeprefix(prefix)
    return url


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True)

    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    temporal_task_queue: str = "quiz-generation"

    @property
    def canvas_configured(self) -> bool:
        """Whether this deployment has a Canvas (`CANVAS_BASE_URL`) and keys for its tokens."""
        return bool(self.canvas_base_url) and self.canvas_token_keys is not None

    @property
    def llm_task_queue(self) -> str:
        return llm_task_queue(self.temporal_task_queue)

    @property
    def canvas_task_queue(self) -> str:
        return canvas_task_queue(self.temporal_task_queue)

    database_url: str = DEFAULT_DATABASE_URL

    llm_provider: LLMProviderName = LLMProviderName.OFFLINE
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    # Empty means "do not send one" (reasoning models accept only their default).
    llm_temperature: Annotated[float | None, Field(ge=0.0, le=2.0)] = 0.7

    # Models a quiz may ask for (its `llm_model`), comma-separated; LLM_MODEL always is.
    llm_allowed_models: Annotated[list[str], NoDecode] = []

    # What one teacher may spend (0 turns a limit off): questions their rounds may
    # generate per UTC day, rounds running at once, questions held in all their quizzes.
    quota_questions_per_day: Annotated[int, Field(ge=0)] = 2_000
    quota_concurrent_rounds: Annotated[int, Field(ge=0)] = 3
    quota_questions_held: Annotated[int, Field(ge=0)] = 20_000

    llm_fault_rate: Annotated[float, Field(ge=0.0, le=1.0)] = 0.0
    llm_fault_seed: str = "quizgen"
    llm_fault_kinds: Annotated[list[FaultKind], NoDecode] = [FaultKind.PERMANENT]

    # Generation behaviour, handed to workflows as part of their input
    # (`temporal_client.generation_config`); the defaults are GenerationConfig's.
    max_concurrent_batches: Annotated[int, Field(ge=1, le=500)] = _GENERATION.max_concurrent_batches
    batch_repair_rounds: Annotated[int, Field(ge=0, le=10)] = _GENERATION.repair_rounds
    # Empty: a quiz with unfinished batches waits for a retry as long as it exists.
    retry_wait: timedelta | None = _GENERATION.retry_wait
    llm_call_timeout: timedelta = _GENERATION.llm_call_timeout
    llm_heartbeat_timeout: timedelta = _GENERATION.llm_heartbeat_timeout
    llm_max_attempts: Annotated[int, Field(ge=1, le=100)] = _GENERATION.llm_max_attempts
    llm_retry_window: timedelta = _GENERATION.llm_retry_window
    llm_max_output_tokens: Annotated[int, Field(ge=256, le=200_000)] = 8_000
    # OpenAI and Azure want max_completion_tokens (reasoning models refuse max_tokens);
    # some older compatible servers know only max_tokens.
    llm_max_tokens_param: Literal["max_completion_tokens", "max_tokens"] = "max_completion_tokens"
    # LLM activities run on their own task queue, so these limits never slow
    # the database activities: per worker (concurrency) and per queue (rate).
    # At least MAX_CONCURRENT_BATCHES: the provider is protected by
    # LLM_RATE_PER_SECOND and by honouring its 429s, not by a per-worker cap.
    llm_max_concurrency: Annotated[int, Field(ge=1, le=1000)] = 20
    llm_rate_per_second: Annotated[float | None, Field(gt=0)] = None
    # Simulated LLM latency of the offline provider, so demos can be watched.
    llm_offline_latency_seconds: Annotated[float, Field(ge=0.0, le=60.0)] = 0.0

    api_host: str = "127.0.0.1"
    api_port: int = 8000
    api_tokens: SecretStr | None = None
    # Processes serving the API (uvicorn workers); each keeps its own throttles.
    api_workers: Annotated[int, Field(ge=1, le=64)] = 1
    # Proxies whose X-Forwarded-For/-Proto are believed (comma-separated addresses or
    # CIDRs, as uvicorn takes them): the TLS ingress in front of the API. Never `*` by
    # default: anyone could then claim any address and scheme.
    forwarded_allow_ips: str = "127.0.0.1"
    # The address teachers use (https://quizgen.example.edu): when set, the review pages'
    # Origin check and Secure cookies follow it instead of the request's own view.
    public_url: str | None = None
    # The OpenAPI docs (/docs, /redoc, /openapi.json); off hides them.
    api_docs: bool = True
    # The deployment's Canvas (https://school.instructure.com); unset: no Canvas features.
    canvas_base_url: str | None = None
    # Fernet keys that encrypt teachers' Canvas tokens at rest, comma-separated: the
    # first encrypts, all decrypt (rotation: quizgen/canvas/tokens.py).
    canvas_token_keys: SecretStr | None = None
    # "Sign in with Canvas" (OAuth2, a Canvas developer key): its client id and secret.
    # Without CANVAS_CLIENT_ID the review pages keep the API-token sign-in only.
    canvas_client_id: str | None = None
    canvas_client_secret: SecretStr | None = None
    # Where Canvas sends the teacher back; default PUBLIC_URL (else the request's own
    # address) + /ui/oauth/canvas/callback. Must match the developer key's redirect URI.
    canvas_redirect_uri: str | None = None
    # One Canvas call's limit; a slower answer is a timeout, retried like a 5xx.
    canvas_call_timeout: timedelta = timedelta(seconds=20)
    # Item calls one export keeps in flight (Canvas throttles per token; a few suffice).
    canvas_export_concurrency: Annotated[int, Field(ge=1, le=50)] = 8
    # How long an export keeps retrying a throttled, failing or unreachable Canvas.
    canvas_retry_window: timedelta = timedelta(minutes=30)
    # /metrics on the API port: with a token, only for `Authorization: Bearer <it>`;
    # without, only for clients on this machine (loopback).
    api_metrics_token: SecretStr | None = None
    # Where the review pages link a quiz's workflow in the Temporal Web UI.
    temporal_ui_url: str = "http://localhost:8233"

    # Observability. The worker serves Prometheus metrics (the Temporal SDK's and
    # the app's own) at http://WORKER_METRICS_ADDRESS/metrics; empty turns it off.
    # The API serves its own at /metrics on API_PORT.
    worker_metrics_address: str = "127.0.0.1:9464"
    # `text` (readable) or `json` (one object per line, for log collectors).
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    @field_validator("database_url")
    @classmethod
    def _asyncpg_url(cls, value: str) -> str:
        # Messages never quote the URL: it usually carries a password.
        url = normalize_database_url(value)
        if not url.startswith("postgresql+asyncpg://"):
            raise ValueError("DATABASE_URL must be a PostgreSQL URL (postgresql://...)")
        try:
            make_url(url)
        except (ArgumentError, ValueError):
            raise ValueError(
                "DATABASE_URL is not a valid URL (postgresql://user:password@host:port/database)"
            ) from None
        return url

    @field_validator("canvas_base_url")
    @classmethod
    def _canvas_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("CANVAS_BASE_URL must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("canvas_redirect_uri")
    @classmethod
    def _redirect_uri(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("CANVAS_REDIRECT_URI must be an http:// or https:// URL")
        return value

    @field_validator("canvas_client_id")
    @classmethod
    def _client_id(cls, value: str | None) -> str | None:
        return value.strip() or None if value else None

    @field_validator("public_url")
    @classmethod
    def _public_origin(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.lower().startswith(("http://", "https://")):
            raise ValueError("PUBLIC_URL must be an http:// or https:// URL")
        return value.rstrip("/")

    @field_validator("openai_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        # Refused at start, rather than every call failing with "Connection error".
        if value and not value.lower().startswith(("http://", "https://")):
            raise ValueError("OPENAI_BASE_URL must be an http:// or https:// URL")
        return value or None

    @field_validator("llm_temperature", "llm_rate_per_second", "retry_wait", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "retry_wait",
        "llm_call_timeout",
        "llm_heartbeat_timeout",
        "llm_retry_window",
        mode="before",
    )
    @classmethod
    def _seconds_or_iso(cls, value: object) -> object:
        # "90" from the environment means seconds; ISO 8601 ("PT90S") works too.
        if isinstance(value, str) and value.strip().replace(".", "", 1).isdigit():
            return float(value)
        return value

    @property
    def allowed_models(self) -> frozenset[str]:
        return frozenset({self.llm_model, *self.llm_allowed_models})

    @field_validator("llm_allowed_models", mode="before")
    @classmethod
    def _model_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("llm_fault_kinds", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            kinds = [part.strip() for part in value.split(",") if part.strip()]
            return kinds or [FaultKind.PERMANENT]
        return value


def describe_settings_error(err: ValidationError) -> str:
    """What is wrong with the settings, a line per setting, by its variable's name.

    Never the values: pydantic's own text quotes each input, and a DATABASE_URL
    or an API key is a secret.
    """
    lines = []
    for error in err.errors(include_url=False, include_input=False, include_context=False):
        name = "_".join(str(part) for part in error["loc"]).upper() or "settings"
        lines.append(f"{name}: {error['msg']}")
    return "\n".join(lines)


@lru_cache
def get_settings() -> Settings:
    return Settings()
