"""How sure a figure is: 95% intervals for rates and means, paired differences and the exact McNemar test.

Pure arithmetic on plain numbers (no numpy, no scipy), deterministic:

- :func:`wilson`: the Wilson score interval of a proportion ``k / n`` (right at 0% and 100%, unlike ``p ± 1.96 se``);
- :func:`bootstrap_mean`: a percentile bootstrap interval of a mean (latency, tokens, partial fact scores), with a
  fixed seed so the same data always gives the same interval;
- :func:`rate_interval`: Wilson when every value is 0 or 1, else the bootstrap;
- :func:`paired_difference`: Newcombe's interval (method 10, 1998) for the difference of two paired proportions;
- :func:`mcnemar_exact`: the exact two-sided McNemar test, a binomial test on the discordant pairs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

Z95 = 1.959963984540054  # the 97.5th percentile of the standard normal
BOOTSTRAP_SEED = 20240514
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95% interval. ``method``: "wilson", "bootstrap", "newcombe" or "none" (no data)."""

    estimate: float | None
    low: float | None
    high: float | None
    n: int
    method: str

    @property
    def known(self) -> bool:
        return self.estimate is not None and self.low is not None and self.high is not None

    def pct(self, digits: int = 0) -> str:
        """``"79% (63–90%)"``; ``"—"`` without data."""
        if not self.known:
            return "—"
        assert self.estimate is not None and self.low is not None and self.high is not None
        return f"{self.estimate * 100:.{digits}f}% ({self.low * 100:.{digits}f}–{self.high * 100:.{digits}f}%)"

    def scaled(self, factor: float, digits: int = 0, unit: str = "") -> str:
        """``"812 ms (640–1,020)"`` style for means: every bound times ``factor``."""
        if not self.known:
            return "—"
        assert self.estimate is not None and self.low is not None and self.high is not None
        return (
            f"{self.estimate * factor:,.{digits}f}{unit} "
            f"({self.low * factor:,.{digits}f}–{self.high * factor:,.{digits}f})"
        )

    def to_dict(self, digits: int = 4) -> dict[str, object]:
        def r(x: float | None) -> float | None:
            return None if x is None else round(x, digits)

        return {
            "estimate": r(self.estimate),
            "low": r(self.low),
            "high": r(self.high),
            "n": self.n,
            "method": self.method,
            "level": 0.95,
        }


NO_DATA = Interval(None, None, None, 0, "none")


def wilson(successes: int, n: int, z: float = Z95) -> Interval:
    """Wilson score interval of ``successes / n``."""
    if n <= 0:
        return NO_DATA
    if not 0 <= successes <= n:
        raise ValueError(f"successes must be within 0..{n}, got {successes}")
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return Interval(p, low, high, n, "wilson")


def bootstrap_mean(
    values: Sequence[float], *, seed: int = BOOTSTRAP_SEED, resamples: int = BOOTSTRAP_RESAMPLES
) -> Interval:
    """Percentile bootstrap interval of the mean (fixed seed: the same values give the same interval)."""
    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        return NO_DATA
    mean = sum(xs) / n
    if n == 1 or min(xs) == max(xs):
        return Interval(mean, mean, mean, n, "bootstrap")
    rng = random.Random(seed)
    means = sorted(sum(rng.choices(xs, k=n)) / n for _ in range(resamples))
    lo = means[int(0.025 * (resamples - 1))]
    hi = means[int(math.ceil(0.975 * (resamples - 1)))]
    return Interval(mean, min(lo, mean), max(hi, mean), n, "bootstrap")


def rate_interval(values: Sequence[float]) -> Interval:
    """A rate's interval: Wilson when every value is 0 or 1 (a proportion), else a bootstrap of the mean."""
    xs = [float(v) for v in values]
    if all(v in (0.0, 1.0) for v in xs):
        return wilson(int(sum(xs)), len(xs))
    return bootstrap_mean(xs)


@dataclass(frozen=True)
class McNemar:
    """The exact McNemar test on ``a_only`` (first right, second wrong) vs ``b_only`` discordant pairs."""

    a_only: int
    b_only: int
    p_value: float

    @property
    def discordant(self) -> int:
        return self.a_only + self.b_only


def mcnemar_exact(a_only: int, b_only: int) -> McNemar:
    """Two-sided exact McNemar: under "no difference" each discordant pair goes either way with probability 1/2,
    so the smaller count follows Binomial(a_only + b_only, 1/2); p = 2 × its lower tail, at most 1."""
    if a_only < 0 or b_only < 0:
        raise ValueError("counts cannot be negative")
    n = a_only + b_only
    if n == 0:
        return McNemar(a_only, b_only, 1.0)
    k = min(a_only, b_only)
    tail = Fraction(sum(math.comb(n, i) for i in range(k + 1)), 2**n)
    return McNemar(a_only, b_only, float(min(Fraction(1), 2 * tail)))


def paired_difference(both: int, a_only: int, b_only: int, neither: int) -> Interval:
    """The difference of two paired proportions, ``p_b - p_a = (b_only - a_only) / n``, with Newcombe's hybrid
    score interval (method 10): Wilson intervals of each proportion combined with the pairs' correlation."""
    n = both + a_only + b_only + neither
    if n == 0:
        return NO_DATA
    pa, pb = (both + a_only) / n, (both + b_only) / n
    wa, wb = wilson(both + a_only, n), wilson(both + b_only, n)
    assert wa.low is not None and wa.high is not None and wb.low is not None and wb.high is not None
    denom = (both + a_only) * (b_only + neither) * (both + b_only) * (a_only + neither)
    cross = both * neither - a_only * b_only
    # Newcombe's phi: a positive association is shrunk by n/2 (a continuity correction), a negative one is kept
    corrected = cross - n / 2 if cross > n / 2 else (cross if cross < 0 else 0.0)
    phi = 0.0 if denom == 0 else corrected / math.sqrt(denom)
    diff = pb - pa
    lo2 = (pb - wb.low) ** 2 - 2 * phi * (pb - wb.low) * (wa.high - pa) + (wa.high - pa) ** 2
    hi2 = (wb.high - pb) ** 2 - 2 * phi * (wb.high - pb) * (pa - wa.low) + (pa - wa.low) ** 2
    low = max(-1.0, diff - math.sqrt(max(0.0, lo2)))
    high = min(1.0, diff + math.sqrt(max(0.0, hi2)))
    return Interval(diff, low, high, n, "newcombe")


def format_p(p: float) -> str:
    """``p = 0.031``, ``p < 0.001``."""
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}" if p < 0.1 else f"p = {p:.2f}"
