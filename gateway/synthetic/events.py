"""The events of one day, simulated in bulk with numpy.

A day is a set of *sessions* (a user opens a mini program in an app): first sessions of the
users who start that day, then returning users drawn by weight until the day's event budget
is met. A session expands into one launch, a geometric number of page views and, for games
and some mini programs, a Poisson number of ad impressions.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from gateway.synthetic import words
from gateway.synthetic.catalog import Bools, Ints
from gateway.synthetic.clock import DAY
from gateway.synthetic.rhythm import time_of_day
from gateway.synthetic.world import World

LAUNCH, PAGE_VIEW, AD_IMPRESSION = 0, 1, 2
"""Values of :attr:`DayEvents.kind`."""
OMITTED, PRODUCTION, NON_PRODUCTION = 0, 1, 2
"""Values of :attr:`DayEvents.data_type`; OMITTED lines leave the field out (= PRODUCTION)."""
PAGE_TEXTS = words.PAGES + words.GAME_PAGES
""":attr:`DayEvents.page` indexes this tuple; -1 leaves ``page`` out."""
_EVENTS_PER_SESSION = 2.8


@dataclass(frozen=True, slots=True)
class DayEvents:
    """One day's events as parallel arrays, sorted by ``at`` (epoch seconds)."""

    at: Ints
    kind: Ints
    pair: Ints
    user: Ints
    data_type: Ints
    page: Ints
    duration_ms: Ints
    valid: Bools
    revenue_micros: Ints

    def __len__(self) -> int:
        return len(self.at)


@dataclass(frozen=True, slots=True)
class _Sessions:
    user: Ints
    pair: Ints
    start: Ints


def _choose_pairs(world: World, day: int, rng: np.random.Generator, user: Ints) -> Ints:
    """The pair of each session (-1 when the chosen app has nothing released that day)."""
    users, weight = world.users, world.deployments.weight[:, day]
    home = users.home_app[user]
    app = np.where(rng.random(len(user)) < 0.15, users.alt_app[user], home)
    pair = np.full(len(user), -1, dtype=np.int64)
    for a, pairs in enumerate(world.app_pairs):
        chosen = np.flatnonzero(app == a)
        cdf = np.cumsum(weight[pairs])
        if len(chosen) and cdf[-1] > 0:
            picks = np.searchsorted(cdf, rng.random(len(chosen)) * cdf[-1], side="right")
            pair[chosen] = pairs[np.minimum(picks, len(pairs) - 1)]
    favorite = users.favorite[user]
    loyal = (rng.random(len(user)) < 0.5) & (app == home) & (weight[favorite] > 0)
    return np.where(loyal, favorite, pair)


def _sessions(
    world: World, day: int, rng: np.random.Generator, user: Ints, start: Ints
) -> _Sessions:
    pair = _choose_pairs(world, day, rng, user)
    keep = pair >= 0
    return _Sessions(user[keep], pair[keep], start[keep])


def _returning(world: World, day: int, rng: np.random.Generator, n: int) -> _Sessions:
    """``n`` sessions of users already seen, drawn by their return weight."""
    cdf = world.users.return_cdf[: world.users.bounds[day + 1]]
    user = np.searchsorted(cdf, rng.random(n) * cdf[-1], side="right")
    user = np.minimum(user, len(cdf) - 1).astype(np.int64)
    start = world.window.start + day * DAY + time_of_day(rng, n)
    return _sessions(world, day, rng, user, start)


def _counts(
    world: World, rng: np.random.Generator, sessions: _Sessions, room: int
) -> tuple[Ints, Ints]:
    """Events per session and page views per session, cut after ``room`` events in all."""
    n = len(sessions.user)
    views = rng.geometric(0.4, n) - 1
    count = 1 + views + rng.poisson(world.pair_ad_rate[sessions.pair])
    ends = np.cumsum(count)
    if n and ends[-1] > room:
        last = int(np.searchsorted(ends, room))  # the session holding event number `room`
        count = count[: last + 1]
        count[last] = room - (ends[last - 1] if last else 0)
    return count.astype(np.int64), views[: len(count)].astype(np.int64)


def _expand(
    world: World, day: int, rng: np.random.Generator, sessions: _Sessions, room: int
) -> DayEvents:
    """Events of ``sessions``, at most ``room`` of them (the last session may be partial)."""
    count, views = _counts(world, rng, sessions, room)
    session = np.repeat(np.arange(len(count)), count)
    position = np.arange(len(session)) - np.repeat(np.cumsum(count) - count, count)
    kind = np.where(position <= views[session], PAGE_VIEW, AD_IMPRESSION)
    kind[position == 0] = LAUNCH
    step = rng.integers(5, 90, len(count))[session]  # seconds between a session's events
    pair = sessions.pair[session]
    nonprod = world.deployments.pilot[pair, day] | (rng.random(len(count)) < 0.04)[session]
    omitted = (rng.random(len(count)) < 0.25)[session]
    data_type = np.where(nonprod, NON_PRODUCTION, np.where(omitted, OMITTED, PRODUCTION))
    page, duration_ms, valid, revenue_micros = _details(world, rng, pair)
    # Sessions never cross midnight, nor (on today) the present: an event from the future is
    # quarantined (GATEWAY_MAX_CLOCK_SKEW_SECONDS); a window ending in the past is unchanged.
    last_second = min(world.window.start + (day + 1) * DAY - 1, int(time.time()))
    return DayEvents(
        at=np.minimum(sessions.start[session] + position * step, last_second),
        kind=kind.astype(np.int64),
        pair=pair,
        user=sessions.user[session],
        data_type=data_type.astype(np.int64),
        page=page,
        duration_ms=duration_ms,
        valid=valid,
        revenue_micros=revenue_micros,
    )


def _details(world: World, rng: np.random.Generator, pair: Ints) -> tuple[Ints, Ints, Bools, Ints]:
    """Page, duration, validity and revenue for every event (each kind writes its own)."""
    n = len(pair)
    plain = rng.integers(0, len(words.PAGES), n)
    game_page = len(words.PAGES) + rng.integers(0, len(words.GAME_PAGES), n)
    page = np.where(world.pair_game[pair], game_page, plain).astype(np.int64)
    page[rng.random(n) < 0.03] = -1
    duration = np.minimum(rng.lognormal(np.log(15_000), 1.0, n), 1_800_000).astype(np.int64)
    duration[rng.random(n) < 0.04] = 0
    valid = rng.random(n) < 0.85
    revenue = np.maximum(np.rint(rng.lognormal(np.log(12_500), 0.6, n) / 50), 1) * 50
    return page, duration, valid, np.where(valid, revenue, 0).astype(np.int64)


def _concat(parts: list[DayEvents]) -> DayEvents:
    fields = DayEvents.__slots__
    merged = {f: np.concatenate([getattr(p, f) for p in parts]) for f in fields}
    order = np.argsort(merged["at"], kind="stable")
    return DayEvents(**{f: merged[f][order] for f in fields})


def simulate_day(world: World, day: int, rng: np.random.Generator) -> DayEvents:
    """Exactly ``world.daily_events[day]`` events of window day ``day`` (fewer only if no
    mini program can have traffic that day), sorted by time."""
    budget = int(world.daily_events[day])
    users = world.users
    first = np.arange(users.bounds[day], users.bounds[day + 1], dtype=np.int64)
    sessions = _sessions(world, day, rng, first, users.first_at[first])
    parts = [_expand(world, day, rng, sessions, budget)]
    made, idle = len(parts[0]), 0
    while made < budget and idle < 5 and users.bounds[day + 1] > 0:
        wanted = int((budget - made) / _EVENTS_PER_SESSION * 1.1) + 8
        part = _expand(world, day, rng, _returning(world, day, rng, wanted), budget - made)
        made, idle = made + len(part), 0 if len(part) else idle + 1
        parts.append(part)
    return _concat(parts)
