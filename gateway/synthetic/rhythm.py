"""When traffic happens: relative volume per day of the window and time of day."""

from __future__ import annotations

import numpy as np

from gateway.synthetic import words
from gateway.synthetic.catalog import Floats, Ints
from gateway.synthetic.clock import Window

_HOURS = np.array(words.HOURLY_WEIGHTS) / sum(words.HOURLY_WEIGHTS)


def day_weights(window: Window, rng: np.random.Generator) -> Floats:
    """Relative volume of each window day: weekends +20%, 30% growth, a little noise."""
    days = np.arange(window.days)
    weekday = (window.first_day + days + 3) % 7  # 1970-01-01 was a Thursday; Monday is 0
    weekly = np.where(weekday >= 5, 1.2, 1.0)
    growth = 1.0 + 0.3 * days / window.days
    return weekly * growth * rng.lognormal(0.0, 0.05, window.days)


def split(total: int, weights: Floats) -> Ints:
    """``total`` split in proportion to ``weights`` into integers that sum to ``total``."""
    edges = np.rint(total * np.cumsum(weights) / weights.sum()).astype(np.int64)
    counts: Ints = np.diff(edges, prepend=0)
    return counts


def time_of_day(rng: np.random.Generator, n: int) -> Ints:
    """``n`` seconds-of-day following the daily curve of :data:`words.HOURLY_WEIGHTS`."""
    hours = rng.choice(24, size=n, p=_HOURS)
    return (hours * 3_600 + rng.integers(0, 3_600, n)).astype(np.int64)
