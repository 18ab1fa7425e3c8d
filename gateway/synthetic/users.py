"""The user population: when each user first shows up, how often they return, and where.

Users are numbered in order of their first active day, so the users who may be active on a
day are a prefix ``[0, bounds[d + 1])`` and a weighted draw among them is one binary search
into a cumulative sum. Return weights are log-normal: most users are seen on one or two
days, a few on most days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gateway.synthetic import words
from gateway.synthetic.catalog import Apps, Bools, Floats, Ints, MiniPrograms, pick
from gateway.synthetic.clock import DAY, Window
from gateway.synthetic.deployments import Deployments
from gateway.synthetic.rhythm import time_of_day

NO_CREATED_AT = -1
"""``created`` value of a user record without ``createdAt``."""


def guid(i: int) -> str:
    """GUID of user number ``i``."""
    return f"u_{i:07d}"


@dataclass(frozen=True, slots=True)
class Users:
    """Per-user arrays, indexed by user number (sorted by ``first_day``)."""

    first_day: Ints
    first_at: Ints
    """Epoch seconds of the user's first session (on ``first_day``)."""
    bounds: Ints
    """Users ``[bounds[d], bounds[d + 1])`` have their first session on day ``d``."""
    return_cdf: Floats
    home_app: Ints
    alt_app: Ints
    """A second app of the home workspace, used for some sessions (cross-app users)."""
    favorite: Ints
    """A pair of the home app the user mostly comes back to."""
    has_record: Bools
    source: Ints
    """Index into :data:`words.USER_SOURCES`."""
    created: Ints


def _first_days(rng: np.random.Generator, n: int, volume: Floats) -> tuple[Ints, Bools]:
    """First active day of each user: existing users early, new ones with the traffic."""
    days = len(volume)
    existing = rng.random(n) < 0.35
    decay = volume * np.exp(-np.arange(days) / (days / 6))
    early = rng.choice(days, size=n, p=decay / decay.sum())
    steady = rng.choice(days, size=n, p=volume / volume.sum())
    first = np.where(existing, early, steady).astype(np.int64)
    order = np.argsort(first, kind="stable")
    return first[order], existing[order]


def _apps_of(rng: np.random.Generator, n: int, apps: Apps) -> tuple[Ints, Ints]:
    home = rng.choice(len(apps.weight), size=n, p=apps.weight / apps.weight.sum())
    alt = home.copy()
    for ws in range(len(apps.workspace_names)):
        ws_apps = np.flatnonzero(apps.workspace == ws)
        mine = np.flatnonzero(apps.workspace[home] == ws)
        alt[mine] = ws_apps[rng.integers(0, len(ws_apps), len(mine))]
    return home.astype(np.int64), alt.astype(np.int64)


def _favorites(
    rng: np.random.Generator, home: Ints, deployments: Deployments, mps: MiniPrograms
) -> Ints:
    favorite = np.zeros(len(home), dtype=np.int64)
    for app in np.unique(home).tolist():
        pairs = np.flatnonzero(deployments.app == app)
        weights = mps.popularity[deployments.mp[pairs]]
        mine = np.flatnonzero(home == app)
        favorite[mine] = pairs[rng.choice(len(pairs), size=len(mine), p=weights / weights.sum())]
    return favorite


def build_users(
    n: int,
    window: Window,
    rng: np.random.Generator,
    volume: Floats,
    catalog: tuple[Apps, MiniPrograms, Deployments],
) -> Users:
    """``n`` users whose first sessions follow ``volume`` (the relative traffic per day)."""
    apps, mps, deployments = catalog
    first_day, existing = _first_days(rng, n, volume)
    first_at = window.start + first_day * DAY + time_of_day(rng, n)
    home, alt = _apps_of(rng, n, apps)
    before = window.start - (rng.uniform(1, 720, n) * DAY).astype(np.int64)
    just_before = first_at - rng.integers(0, 7_200, n)
    created = np.where(existing, before, just_before)
    created[rng.random(n) < 0.03] = NO_CREATED_AT
    return Users(
        first_day=first_day,
        first_at=first_at,
        bounds=np.searchsorted(first_day, np.arange(window.days + 1)).astype(np.int64),
        return_cdf=np.cumsum(rng.lognormal(0.0, 1.3, n)),
        home_app=home,
        alt_app=alt,
        favorite=_favorites(rng, home, deployments, mps),
        has_record=rng.random(n) >= 0.05,
        source=pick(rng, words.USER_SOURCES, n),
        created=created,
    )
