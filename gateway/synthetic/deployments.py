"""Deployments: which mini program runs in which target app, and its status history there.

Each (app, mini program) pair follows a *scenario*, a path through the lifecycle. Popular
mini programs follow one that ends in FULL_RELEASE; the least popular pairs are given one
scenario each first, so that every status occurs at every scale. The history decides when
a pair may have traffic (:data:`TRAFFIC`), day by day.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.domain import DeploymentStatus as S
from gateway.synthetic.catalog import Apps, Bools, Floats, Ints, MiniPrograms
from gateway.synthetic.clock import DAY, Window

_REVIEW = (S.DEVELOPING, S.REVIEWING, S.REVIEWED)
_PILOT = (*_REVIEW, S.PILOT_TESTING, S.PILOT_TESTING_COMPLETED)
SCENARIOS: tuple[tuple[tuple[S, ...], float], ...] = (
    ((*_PILOT, S.GRAYSCALE_RELEASE, S.FULL_RELEASE), 50),
    ((*_REVIEW, S.FULL_RELEASE), 15),
    ((*_REVIEW, S.GRAYSCALE_RELEASE, S.GRAYSCALE_CANCELLED, *_REVIEW[1:], S.FULL_RELEASE), 5),
    ((*_REVIEW, S.GRAYSCALE_RELEASE), 6),
    ((*_REVIEW, S.GRAYSCALE_RELEASE, S.GRAYSCALE_CANCELLED), 3),
    ((*_REVIEW, S.FULL_RELEASE, S.ARCHIVED), 4),
    ((*_PILOT, S.FULL_RELEASE, S.OFFLINE), 4),
    (_REVIEW[:2], 3),
    (_REVIEW[:1], 3),
    (_REVIEW, 2),
    (_PILOT[:4], 2),
    (_PILOT, 1),
)
"""Status paths (and their weights). The first three end in FULL_RELEASE."""
RELEASED_SCENARIOS = 3

TRAFFIC: dict[S, float] = {S.FULL_RELEASE: 1.0, S.GRAYSCALE_RELEASE: 0.3, S.PILOT_TESTING: 0.05}
"""Share of a pair's traffic while in a status (grayscale reaches part of the users; pilot
testing only testers, whose events are NON_PRODUCTION). Other statuses get no traffic."""


@dataclass(frozen=True, slots=True)
class Deployments:
    """Pairs (``app[i]``, ``mp[i]``), their histories, and traffic weights per window day."""

    app: Ints
    mp: Ints
    history: list[list[tuple[S, int]]]
    weight: npt.NDArray[np.float64]
    """``[pair, day]``: popularity x traffic share of the status at the day's midnight."""
    pilot: Bools
    """``[pair, day]``: True while pilot testing (its traffic is NON_PRODUCTION)."""


def _pairs(rng: np.random.Generator, apps: Apps, mps: MiniPrograms) -> tuple[Ints, Ints]:
    """Each mini program in one or more apps of its workspace; the top one in all of them."""
    pair_app: list[int] = []
    pair_mp: list[int] = []
    n = len(mps.rank)
    for ws in range(len(apps.workspace_names)):
        ws_apps = np.flatnonzero(apps.workspace == ws)
        mine = np.flatnonzero(mps.workspace == ws)
        top = int(mine[np.argmin(mps.rank[mine])])
        for m in mine.tolist():
            p = 0.3 + 0.5 * (mps.rank[m] < 0.1 * n)
            k = len(ws_apps) if m == top else 1 + rng.binomial(len(ws_apps) - 1, p)
            chosen = np.sort(rng.choice(ws_apps, size=k, replace=False))
            pair_app += chosen.tolist()
            pair_mp += [m] * k
    return np.array(pair_app, dtype=np.int64), np.array(pair_mp, dtype=np.int64)


def _scenarios(rng: np.random.Generator, mps: MiniPrograms, pair_mp: Ints) -> list[int]:
    weights = np.array([w for _, w in SCENARIOS])
    popular = mps.rank[pair_mp] < 0.3 * len(mps.rank)
    top = rng.choice(RELEASED_SCENARIOS, len(pair_mp), p=weights[:3] / weights[:3].sum())
    anyone = rng.choice(len(SCENARIOS), len(pair_mp), p=weights / weights.sum())
    chosen = np.where(popular, top, anyone)
    # The least popular pairs take one scenario each, so every status occurs at every scale.
    unpopular = np.argsort(-mps.rank[pair_mp], kind="stable")[: len(SCENARIOS)]
    chosen[unpopular] = np.arange(len(unpopular))
    return [int(c) for c in chosen]


def _history(rng: np.random.Generator, path: tuple[S, ...], t0: int, stop: int) -> list[int]:
    """Times of the records of ``path`` from ``t0``, squeezed to end before ``stop``."""
    gaps = rng.uniform(0.5, 6.0, len(path)) * DAY
    gaps[0] = 0.0
    if path[-1] in (S.ARCHIVED, S.OFFLINE):
        gaps[-1] = rng.uniform(10.0, 60.0) * DAY  # released for a while first
    offsets = np.cumsum(gaps)
    room = stop - 3_600 - t0
    if offsets[-1] > room:
        offsets *= room / offsets[-1]
    times: list[int] = (t0 + offsets.astype(np.int64) + np.arange(len(path))).tolist()
    return times


def _traffic(history: list[tuple[S, int]], window: Window, out: Floats, pilot: Bools) -> None:
    """Fill one pair's row: the status in force at each day's midnight decides the share."""
    for i, (status, at) in enumerate(history):
        begin = max(0, -((window.start - at) // DAY))  # first midnight at or after `at`
        end = window.days
        if i + 1 < len(history):
            end = max(0, -((window.start - history[i + 1][1]) // DAY))
        begin, end = min(begin, window.days), min(end, window.days)
        out[begin:end] = TRAFFIC.get(status, 0.0)
        pilot[begin:end] = status is S.PILOT_TESTING


def build_deployments(
    window: Window, rng: np.random.Generator, apps: Apps, mps: MiniPrograms
) -> Deployments:
    """Pairs, their status histories and their daily traffic weights."""
    pair_app, pair_mp = _pairs(rng, apps, mps)
    scenarios = _scenarios(rng, mps, pair_mp)
    start = np.maximum(mps.created[pair_mp], apps.created[pair_app])
    t0 = np.minimum(start + (rng.uniform(0.5, 10.0, len(pair_mp)) * DAY).astype(np.int64),
                    window.stop - 2 * DAY)  # fmt: skip
    weight = np.zeros((len(pair_mp), window.days))
    pilot = np.zeros((len(pair_mp), window.days), dtype=np.bool_)
    histories = []
    for p, (scenario, first) in enumerate(zip(scenarios, t0.tolist(), strict=True)):
        path = SCENARIOS[scenario][0]
        history = list(zip(path, _history(rng, path, first, window.stop), strict=True))
        _traffic(history, window, weight[p], pilot[p])
        histories.append(history)
    weight *= mps.popularity[pair_mp][:, None]
    return Deployments(pair_app, pair_mp, histories, weight, pilot)
