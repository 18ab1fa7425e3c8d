"""The catalog of a synthetic world: workspaces, target apps, merchants and mini programs.

Entities are numbered from 0 and held as numpy arrays (one per attribute), so the event
simulation can index them in bulk; :mod:`gateway.synthetic.lines` turns them into records.
Ids are derived from the number: ``ws_01``, ``app_001``, ``mer_0001``, ``mp_00001``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from gateway.synthetic import words
from gateway.synthetic.clock import DAY, PLUS_EIGHT, Window
from gateway.synthetic.scales import Scale

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

NOT_ONBOARDED = -1
"""``merchant_onboarded`` value of a merchant whose ``onboardedAt`` is null."""
NO_MERCHANT = -1
"""``mp_merchant`` value of a mini program without a merchant."""


def workspace_id(i: int) -> str:
    """Id of workspace number ``i``."""
    return f"ws_{i + 1:02d}"


def app_id(i: int) -> str:
    """Id of target app number ``i``."""
    return f"app_{i + 1:03d}"


def merchant_id(i: int) -> str:
    """Id of merchant number ``i``."""
    return f"mer_{i + 1:04d}"


def mini_program_id(i: int) -> str:
    """Id of mini program number ``i``."""
    return f"mp_{i + 1:05d}"


def pick(rng: np.random.Generator, table: Sequence[tuple[str, float]], n: int) -> Ints:
    """``n`` indices into ``table`` drawn by its weights."""
    weights = np.array([w for _, w in table], dtype=np.float64)
    return rng.choice(len(table), size=n, p=weights / weights.sum()).astype(np.int64)


def _days(rng: np.random.Generator, low: float, high: float, n: int) -> Ints:
    """``n`` random durations between ``low`` and ``high`` days, in whole seconds."""
    return (rng.uniform(low, high, n) * DAY).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Apps:
    """Workspaces and their target apps."""

    workspace_names: list[str]
    workspace: Ints
    names: list[str]
    created: Ints
    offset: Ints
    weight: Floats


@dataclass(frozen=True, slots=True)
class Merchants:
    """Merchants; ``onboarded`` is epoch seconds or :data:`NOT_ONBOARDED`."""

    workspace: Ints
    names: list[str]
    technical: Bools
    onboarded: Ints


@dataclass(frozen=True, slots=True)
class MiniPrograms:
    """Mini programs; ``popularity`` is a Zipf weight, ``ad_rate`` the ads per session."""

    workspace: Ints
    merchant: Ints
    names: list[str]
    game: Bools
    category: list[str]
    source: list[str]
    created: Ints
    rank: Ints
    popularity: Floats
    ad_rate: Floats


def build_apps(scale: Scale, window: Window, rng: np.random.Generator) -> Apps:
    """Round-robin the target apps over the workspaces; a third of them write +08:00."""
    brands = words.WORKSPACE_BRANDS
    ws_names = [
        f"{brands[i % len(brands)]} Super App"
        + (f" {i // len(brands) + 1}" if i >= len(brands) else "")
        for i in range(scale.workspaces)
    ]
    workspace = np.arange(scale.target_apps, dtype=np.int64) % scale.workspaces
    names = [
        f"{brands[int(w) % len(brands)]} {words.APP_KINDS[(a // scale.workspaces) % 6]}"
        + (f" {a // (scale.workspaces * 6) + 1}" if a >= scale.workspaces * 6 else "")
        for a, w in enumerate(workspace)
    ]
    created = window.start - _days(rng, 200, 1000, scale.target_apps)
    offset = np.where(workspace % 3 == 1, PLUS_EIGHT, 0).astype(np.int64)
    weight = rng.lognormal(0.0, 0.6, scale.target_apps)
    return Apps(ws_names, workspace, names, created, offset, weight)


def build_merchants(scale: Scale, window: Window, rng: np.random.Generator) -> Merchants:
    """Both merchant types; some never onboarded, the rest before or during the window."""
    n = scale.merchants
    workspace = np.arange(n, dtype=np.int64) % scale.workspaces
    first, second = words.MERCHANT_WORDS
    names = [f"{first[i % 10]} {second[(i // 10 + i * 3) % 10]} {i + 1}" for i in range(n)]
    technical = rng.random(n) < 0.4
    technical[:2] = (True, False)  # both types exist at every scale
    before = window.start - _days(rng, 1, 400, n)
    during = window.start + (rng.random(n) * (window.stop - window.start - 60)).astype(np.int64)
    onboarded = np.where(rng.random(n) < 0.45, before, during)
    onboarded[rng.random(n) < 0.12] = NOT_ONBOARDED
    onboarded[2 % n] = NOT_ONBOARDED
    return Merchants(workspace, names, technical, onboarded)


def _categories(rng: np.random.Generator, game: Bools) -> list[str]:
    plain = pick(rng, [(slug, w) for slug, w, _ in words.CATEGORIES], len(game))
    games_elsewhere = rng.random(len(game)) < 0.15  # some games file under "entertainment"
    return [
        ("entertainment" if other else words.GAME_CATEGORY[0])
        if is_game
        else words.CATEGORIES[int(c)][0]
        for is_game, other, c in zip(game.tolist(), games_elsewhere.tolist(), plain, strict=True)
    ]


def _names(rng: np.random.Generator, category: list[str], workspace: Ints) -> list[str]:
    nouns = {slug: ns for slug, _, ns in words.CATEGORIES} | {
        words.GAME_CATEGORY[0]: words.GAME_CATEGORY[1]
    }
    nouns["entertainment"] = nouns["entertainment"] + words.GAME_CATEGORY[1]
    seen: dict[tuple[int, str], int] = {}
    names = []
    for cat, ws, r1, r2 in zip(
        category, workspace.tolist(), rng.integers(0, 1 << 30, len(category)).tolist(),
        rng.integers(0, 1 << 30, len(category)).tolist(), strict=True,
    ):  # fmt: skip
        base = f"{nouns[cat][r1 % len(nouns[cat])]} {words.NAME_SUFFIXES[r2 % 8]}"
        count = seen[ws, base] = seen.get((ws, base), 0) + 1
        names.append(base if count == 1 else f"{base} {count}")
    return names


def _sources(rng: np.random.Generator, merchant: Ints) -> list[str]:
    table = words.MINI_PROGRAM_SOURCES
    others = pick(rng, table[1:], len(merchant))
    from_merchant = (merchant != NO_MERCHANT) & (rng.random(len(merchant)) < 0.7)
    return [
        table[0][0] if own else table[1 + int(o)][0]
        for own, o in zip(from_merchant.tolist(), others, strict=True)
    ]


def _merchants_of(rng: np.random.Generator, workspace: Ints, merchants: Merchants) -> Ints:
    """A merchant of the same workspace for ~85% of mini programs, none for the rest."""
    result = np.full(len(workspace), NO_MERCHANT, dtype=np.int64)
    for ws in np.unique(workspace).tolist():
        own = np.flatnonzero(merchants.workspace == ws)
        mine = np.flatnonzero(workspace == ws)
        if len(own):
            result[mine] = own[rng.integers(0, len(own), len(mine))]
    result[rng.random(len(workspace)) < 0.15] = NO_MERCHANT
    return result


def build_mini_programs(
    scale: Scale, window: Window, rng: np.random.Generator, apps: Apps, merchants: Merchants
) -> MiniPrograms:
    """Zipf popularity, ~30% games, popular ones created well before the window."""
    n = scale.mini_programs
    apps_per_ws = np.bincount(apps.workspace, minlength=scale.workspaces).astype(np.float64)
    workspace = rng.choice(scale.workspaces, size=n, p=apps_per_ws / apps_per_ws.sum())
    workspace[: scale.workspaces] = np.arange(scale.workspaces)  # none is left empty
    rank = rng.permutation(n).astype(np.int64)
    popularity = (1.0 / (rank + 1.0) ** 0.9).astype(np.float64)
    game = rng.random(n) < 0.3
    game[rank == 0], game[rank == 1] = False, True  # the top two cover both types
    merchant = _merchants_of(rng, workspace, merchants)
    category = _categories(rng, game)
    old = window.start - _days(rng, 60, 500, n)
    recent = window.start + (rng.random(n) * (window.stop - window.start - 3 * DAY)).astype(
        np.int64
    )
    is_recent = (rank >= n * 0.3) & (rng.random(n) < 0.5)
    ad_rate = np.where(game, rng.uniform(0.6, 1.4, n), np.where(rng.random(n) < 0.25, 0.3, 0.0))
    return MiniPrograms(
        workspace=workspace.astype(np.int64),
        merchant=merchant,
        names=_names(rng, category, workspace),
        game=game,
        category=category,
        source=_sources(rng, merchant),
        created=np.where(is_recent, recent, old),
        rank=rank,
        popularity=popularity,
        ad_rate=ad_rate,
    )
