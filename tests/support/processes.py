"""Running test workers in real processes (spawned, so nothing is shared by fork)."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from multiprocessing.queues import Queue
from typing import Any

CONTEXT = multiprocessing.get_context("spawn")
TIMEOUT = 120.0


def run_workers(target: Callable[..., None], arguments: Sequence[tuple[Any, ...]]) -> list[Any]:
    """One process per argument tuple (plus a result queue); one report from each."""
    results: Queue[Any] = CONTEXT.Queue()
    processes = [CONTEXT.Process(target=target, args=(*args, results)) for args in arguments]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=TIMEOUT) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=TIMEOUT)
            if process.is_alive():
                process.kill()
    assert [process.exitcode for process in processes] == [0] * len(processes)
    return reports


def error_text(error: BaseException) -> str:
    """A picklable one-line description of ``error``."""
    return f"{type(error).__name__}: {error}"
