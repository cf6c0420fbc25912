"""Building a worker from settings: clients, providers, activities, workflows."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from activities.generation import GenerationActivities
from activities.llm.base import QuestionProvider
from activities.llm.faults import FaultInjectingProvider, FaultPlan
from activities.llm.offline import OfflineProvider
from activities.persistence import PersistenceActivities
from quizgen.errors import ConfigurationError
from quizgen.settings import LLMProviderName, Settings
from workflows import WORKFLOWS

__all__ = ["build_provider", "build_worker"]


def build_provider(settings: Settings) -> QuestionProvider:
    """The configured generator, wrapped in fault injection when a fault rate is set."""
    provider: QuestionProvider
    if settings.llm_provider is LLMProviderName.OFFLINE:
        provider = OfflineProvider(latency_seconds=settings.llm_offline_latency_seconds)
    else:
        raise ConfigurationError(
            f"LLM_PROVIDER={settings.llm_provider.value} is not available yet; use 'offline'"
        )
    plan = FaultPlan.from_settings(settings)
    return FaultInjectingProvider(provider, plan) if plan.rate > 0 else provider


def build_worker(
    client: Client,
    settings: Settings,
    engine: AsyncEngine,
    provider: QuestionProvider,
    *,
    persistence: PersistenceActivities | None = None,
) -> Worker:
    generation = GenerationActivities(engine, provider)
    persistence = persistence or PersistenceActivities(engine)
    return Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=[
            generation.generate_questions,
            persistence.start_round,
            persistence.save_batch,
            persistence.record_round,
            persistence.saved_batches,
        ],
        # On SIGTERM, let running LLM calls finish instead of burning an attempt.
        graceful_shutdown_timeout=settings.llm_call_timeout,
    )
