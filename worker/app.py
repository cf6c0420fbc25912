"""Building workers from settings: clients, providers, activities, workflows.

A worker process polls two task queues:

- `TEMPORAL_TASK_QUEUE` (default `quiz-generation`): both workflows and the
  database activities;
- `{TEMPORAL_TASK_QUEUE}-llm`: only the LLM activity, with its own limits
  (`LLM_MAX_CONCURRENCY` per worker, `LLM_RATE_PER_SECOND` across the queue), so
  a quiz of 50 batches neither floods the provider nor starves the database work;
- `{TEMPORAL_TASK_QUEUE}-canvas`: the export's and the extraction's Canvas calls (and
  PDF parsing), so a slow or throttling Canvas never holds a slot the generation needs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.worker import Worker

from activities.export import CanvasExportActivities
from activities.extraction import ExtractionActivities
from activities.generation import GenerationActivities
from activities.metrics import LLM_CALL_BUCKETS, LLM_CALL_SECONDS
from activities.persistence import PersistenceActivities
from quizgen.llm.base import QuestionProvider
from quizgen.llm.faults import FaultInjectingProvider, FaultPlan
from quizgen.settings import LLMProviderName, Settings
from workflows.registry import WORKFLOWS

__all__ = [
    "build_provider",
    "build_workers",
    "close_provider",
    "metrics_runtime",
    "pool_size",
    "running_workers",
]

log = logging.getLogger(__name__)


def build_provider(settings: Settings) -> QuestionProvider:
    """The configured generator, wrapped in fault injection when a fault rate is set.

    Each provider is imported only when chosen: the openai SDK alone adds
    ~20 MiB to a worker that generates offline, and the other way round.
    """
    provider: QuestionProvider
    if settings.llm_provider is LLMProviderName.OPENAI:
        from quizgen.llm.openai_provider import OpenAIProvider

        provider = OpenAIProvider(settings)
    else:
        from quizgen.llm.offline import OfflineProvider

        provider = OfflineProvider(latency_seconds=settings.llm_offline_latency_seconds)
    plan = FaultPlan.from_settings(settings)
    return FaultInjectingProvider(provider, plan) if plan.rate > 0 else provider


async def close_provider(provider: QuestionProvider) -> None:
    """Release what the provider holds (the OpenAI client's connections), if anything."""
    while isinstance(provider, FaultInjectingProvider):
        provider = provider.inner
    close = getattr(provider, "aclose", None)
    if close is not None:
        await close()


def metrics_runtime(address: str) -> Runtime | None:
    """A Temporal runtime serving Prometheus metrics at http://{address}/metrics.

    The SDK's own metrics (task latencies, slots, polls) and the app's
    (`activities/metrics.py`) are served together; None when `address` is empty,
    or when it is taken (a second worker on the same host with the default
    address): that worker runs without metrics and says so, rather than not at all.
    """
    if not address:
        return None
    prometheus = PrometheusConfig(
        bind_address=address,
        counters_total_suffix=True,
        durations_as_seconds=True,
        histogram_bucket_overrides={LLM_CALL_SECONDS: list(LLM_CALL_BUCKETS)},
    )
    try:
        return Runtime(telemetry=TelemetryConfig(metrics=prometheus))
    except ValueError as err:  # the SDK's "Failed starting Prometheus exporter: ..."
        log.warning(
            "metrics not served: %s (%s); give each worker on this host its own "
            "WORKER_METRICS_ADDRESS (e.g. 127.0.0.1:9465), or set it empty",
            address,
            err,
        )
        return None


# Database activities a worker runs at once; with the LLM calls, what its pool must hold.
DB_ACTIVITY_SLOTS = 20
# Canvas export steps a worker runs at once (each mostly waits for Canvas).
CANVAS_ACTIVITY_SLOTS = 20


def pool_size(settings: Settings) -> int:
    """Connections a worker's engine keeps: one per activity it may run at once."""
    return settings.llm_max_concurrency + DB_ACTIVITY_SLOTS + CANVAS_ACTIVITY_SLOTS


def build_workers(
    client: Client,
    settings: Settings,
    engine: AsyncEngine,
    provider: QuestionProvider,
    *,
    persistence: PersistenceActivities | None = None,
    generation: GenerationActivities | None = None,
) -> list[Worker]:
    persistence = persistence or PersistenceActivities(engine)
    export = CanvasExportActivities(engine, settings)
    extraction = ExtractionActivities(engine, settings)
    generation = generation or GenerationActivities(engine, provider)
    # On SIGTERM, let running calls finish instead of burning an attempt.
    grace = settings.llm_call_timeout
    orchestration = Worker(
        client,
        task_queue=settings.temporal_task_queue,
        workflows=WORKFLOWS,
        activities=[
            persistence.start_round,
            persistence.save_batch,
            persistence.record_round,
            export.begin_export,
            export.set_export_state,
            extraction.begin_extraction,
            extraction.finish_extraction,
            extraction.stop_extraction,
        ],
        # Each holds a database connection for a few milliseconds.
        max_concurrent_activities=DB_ACTIVITY_SLOTS,
        # A killed worker's workflow tasks move to another worker after this,
        # not after the SDK's 10 s (the price: a replay when a worker is only slow).
        sticky_queue_schedule_to_start_timeout=timedelta(seconds=3),
        graceful_shutdown_timeout=grace,
    )
    llm = Worker(
        client,
        task_queue=settings.llm_task_queue,
        activities=[generation.generate_questions],
        max_concurrent_activities=settings.llm_max_concurrency,
        max_task_queue_activities_per_second=settings.llm_rate_per_second,
        graceful_shutdown_timeout=grace,
    )
    # Canvas calls on a queue of their own: a slow Canvas never holds up generation.
    canvas = Worker(
        client,
        task_queue=settings.canvas_task_queue,
        activities=[
            export.create_canvas_quiz,
            export.export_item,
            export.finish_export,
            export.undo_export,
            extraction.extract_source,
        ],
        max_concurrent_activities=CANVAS_ACTIVITY_SLOTS,
        graceful_shutdown_timeout=settings.canvas_call_timeout,
    )
    return [orchestration, llm, canvas]


@asynccontextmanager
async def running_workers(workers: list[Worker]) -> AsyncIterator[None]:
    async with AsyncExitStack() as stack:
        for worker in workers:
            await stack.enter_async_context(worker)
        yield
