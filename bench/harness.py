"""Side-by-side timing: interleaved rounds, per-round ratios, medians."""

from __future__ import annotations

import gc
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def use_test_helpers() -> None:
    """Make the repository root importable, hence `tests.support` (FakeIdP, ...)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def compare(
    cases: dict[str, tuple[Callable[[], object], int]], rounds: int, warmup: int = 3
) -> dict[str, list[float]]:
    """Time each case `(fn, number)` once per round; return seconds per call per round.

    A round runs every case's first half, then every case's second half in reverse
    order (A B | B A), so a slowdown that starts or ends mid-round hits both sides.
    """
    for fn, _ in cases.values():
        for _ in range(warmup):
            fn()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    names = list(cases)
    gc.collect()
    gc.freeze()  # what exists now is never scanned again: collections stay cheap
    try:
        for _ in range(rounds):
            spent = dict.fromkeys(names, 0.0)
            for half, order in ((0, names), (1, names[::-1])):
                for name in order:
                    fn, number = cases[name]
                    spent[name] += timed(
                        fn, number // 2 if half == 0 else number - number // 2
                    )
            for name in names:
                samples[name].append(spent[name] / cases[name][1])
    finally:
        gc.unfreeze()
    return samples


def timed(fn: Callable[[], object], number: int) -> float:
    """Seconds for `number` calls, the cyclic garbage collector paused (as timeit)."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn()
        return time.perf_counter() - start
    finally:
        gc.enable()


def median(values: list[float]) -> float:
    return statistics.median(values)


def ratio(samples: dict[str, list[float]], top: str, bottom: str) -> float:
    """Median of the per-round ratio top/bottom (a round's noise cancels)."""
    return statistics.median(
        a / b for a, b in zip(samples[top], samples[bottom], strict=True)
    )


def difference(samples: dict[str, list[float]], top: str, bottom: str) -> float:
    """Median over rounds of the per-round difference top - bottom, in seconds."""
    return statistics.median(
        a - b for a, b in zip(samples[top], samples[bottom], strict=True)
    )


def spread(
    samples: dict[str, list[float]], top: str, bottom: str
) -> tuple[float, float]:
    """Interquartile range of the per-round ratios."""
    values = sorted(a / b for a, b in zip(samples[top], samples[bottom], strict=True))
    q = statistics.quantiles(values, n=4) if len(values) > 1 else values * 3
    return q[0], q[2]


def us(seconds: float) -> str:
    """A duration in the unit that reads best."""
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"
