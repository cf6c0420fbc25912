"""`python -m bench`: quizgen's benchmark suite on the real stack, one command.

    .venv/bin/python -m bench [--quick] [--only PART] [--out DIR]

Starts a Temporal dev server and a fresh PostgreSQL database of its own, runs
the parts below in order (each against a baseline measured side by side in
the same run), writes `DIR/latest.md` and `DIR/latest.json` (default
bench/results/) and prints the Markdown table. A part that fails or runs out
of time becomes a row saying so; the others still run.

Parts: server, overhead, parallel, tokens, load, reads, recovery, durability, fairness,
export, extraction.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import os
import platform
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import (
    Row,
    Stack,
    log,
    open_stack,
)
from deploy.local.processes import kill_all_processes

Part = Callable[[Stack], Awaitable[list[Row]]]

# Each part is a module `bench.<name>` with `async def run(stack) -> list[Row]`,
# imported when it runs, so one broken module fails only its own part.
PARTS = [
    "server",
    "overhead",
    "parallel",
    "tokens",
    "load",
    "reads",
    "recovery",
    "durability",
    "fairness",
    "export",
    "extraction",
]
# Seconds a part may take before it is cut off (full run; --quick halves them).
BUDGET = {
    "server": 120,
    "overhead": 240,
    "parallel": 150,
    "tokens": 240,
    "load": 240,
    "reads": 180,
    "recovery": 180,
    "durability": 150,
    "fairness": 240,
    "export": 180,
    "extraction": 120,
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[Row], meta: dict[str, Any]) -> str:
    lines = [
        f"# quizgen benchmarks ({'quick' if meta['quick'] else 'full'} run)",
        "",
        f"{meta['started_at']} · {meta['cpus']} CPUs · Python {meta['python']} · "
        f"total {meta['total_seconds']:.0f} s · load average before/after "
        f"{meta['load_before']:.2f}/{meta['load_after']:.2f} (other work on the machine "
        "skews absolute times; each ratio compares runs made side by side)",
        "",
        "| Part | Measure | Result | Baseline | Ratio | Notes |",
        "|---|---|---|---|---|---|",
    ]
    for row in rows:
        shown = f"**{row.ratio:.2f}x** ({row.ratio_label})" if row.ratio is not None else "n/a"
        cells = [row.part, row.measure, row.result, row.baseline, shown, row.notes]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines.append("")
    lines.append(
        "Part times: "
        + ", ".join(f"{name} {info['seconds']:.0f} s" for name, info in meta["parts"].items())
    )
    return "\n".join(lines) + "\n"


async def run_parts(names: list[str], quick: bool) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    parts: dict[str, Any] = {}
    # SIGTERM cancels the run like Ctrl-C does, so worker processes, the dev server
    # and the database are cleaned up on the way out.
    main_task = asyncio.current_task()
    assert main_task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    with tempfile.TemporaryDirectory(prefix="quizgen-bench-") as tmp:
        async with open_stack(Path(tmp), quick) as stack:
            for name in names:
                budget = BUDGET[name] // (2 if quick else 1)
                log(f"part {name} (budget {budget} s)")
                started = time.perf_counter()
                error = None
                try:
                    async with asyncio.timeout(budget):
                        part: Part = importlib.import_module(f"bench.{name}").run
                        rows.extend(await part(stack))
                except TimeoutError:
                    error = f"cut off after its budget of {budget} s"
                    rows.append(Row(name, "(part timed out)", error, "-", None))
                    log(f"part {name} FAILED: {error}")
                except Exception as err:  # one broken part must not hide the others
                    error = f"{type(err).__name__}: {err}"[:400]
                    rows.append(
                        Row(
                            part=name,
                            measure="(part failed)",
                            result=error,
                            baseline="-",
                            ratio=None,
                        )
                    )
                    log(f"part {name} FAILED: {error}")
                finally:
                    await kill_all_processes()
                elapsed = time.perf_counter() - started
                parts[name] = {"seconds": round(elapsed, 1), "error": error}
                log(f"part {name} done in {elapsed:.0f} s")
    return rows, parts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(PARTS), action="append", help="run only this part")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, smaller shapes")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    names = [n for n in PARTS if not args.only or n in args.only]
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    try:
        rows, parts = asyncio.run(run_parts(names, args.quick))
    except (KeyboardInterrupt, asyncio.CancelledError):
        log("interrupted; workers, dev server and database cleaned up")
        sys.exit(130)
    meta: dict[str, Any] = {
        "started_at": started_at,
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "total_seconds": round(time.perf_counter() - started, 1),
        "load_before": load_before,
        "load_after": os.getloadavg()[0],
        "parts": parts,
    }
    text = markdown(rows, meta)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(text)
    document = {**meta, "rows": [asdict(row) for row in rows]}
    (args.out / "latest.json").write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(text)
    log(f"total {meta['total_seconds']:.0f} s; written to {args.out}/latest.md and latest.json")


if __name__ == "__main__":
    main()
