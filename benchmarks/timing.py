"""Wall times of repeated calls, per named stage, for benchmarks that compare stages in one run."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, List

import numpy as np


class StageTimes:
    """Call through it to time a stage; ask for medians afterwards.

    >>> times = StageTimes()
    >>> times("sum", sum, [1, 2])
    3
    >>> list(times.seconds)
    ['sum']
    """

    def __init__(self) -> None:
        self.seconds: Dict[str, List[float]] = {}

    def __call__(self, stage: str, call: Callable[..., Any], *arguments: Any) -> Any:
        started = time.perf_counter()
        result = call(*arguments)
        self.seconds.setdefault(stage, []).append(time.perf_counter() - started)
        return result

    def median_ms(self, stage: str, skip: int = 0) -> float:
        """Median in ms of ``stage``'s calls after the first ``skip`` (warm-up)."""
        return 1000 * float(np.median(self.seconds[stage][skip:]))
