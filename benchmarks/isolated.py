"""Run one measurement in a fresh process, so its peak RSS is its own and nothing leaks between runs."""

from __future__ import annotations

import multiprocessing
import resource
from typing import Any, Callable, Dict


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _run(measure: Callable[..., Dict[str, Any]], args: tuple, queue: "multiprocessing.Queue[Any]") -> None:
    try:
        outcome = measure(*args)
        outcome["peak_rss_mb"] = peak_rss_mb()
        queue.put(outcome)
    except BaseException as exc:  # handed to the parent, which reports it and goes on
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run_isolated(measure: Callable[..., Dict[str, Any]], *args: Any) -> Dict[str, Any]:
    """``measure(*args)`` in a spawned process: its dict plus ``peak_rss_mb``, or ``{"error": line}``.

    ``measure`` must be a module-level function so the child can import it.
    """
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_run, args=(measure, args, queue))
    child.start()
    outcome = queue.get()
    child.join()
    return outcome
