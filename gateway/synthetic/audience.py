"""Who the users are: their devices and countries, for the events' ``platform`` and ``region``.

Each user has a main platform (Android and iOS dominate, HarmonyOS is common, desktops are rare)
and about one in five a second one, used on about a third of their active days. Each target app
has its own country mix (a home market and a few neighbours), from which its users' countries
are drawn; on about 1% of their active days a user is abroad. A few users' clients send neither
field (their events are ``UNKNOWN``), and one app in eight sends the platform in lower case
(ingestion normalizes it).

The per-day choices are a hash of (user, day), not draws from the event stream's generator, so
the events (and every figure measured on them) are those the same seed gave before events had
these fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gateway.synthetic.catalog import Bools, Ints

PLATFORMS = ("ANDROID", "IOS", "HARMONYOS", "WEB", "WINDOWS", "MACOS", "OTHER")
_PLATFORM_SHARES = np.array([0.52, 0.31, 0.09, 0.04, 0.02, 0.015, 0.005])
MARKETS = (
    ("SG", ("MY", "ID", "IN", "CN")),
    ("MY", ("SG", "ID", "TH")),
    ("ID", ("MY", "SG", "AU")),
    ("TH", ("MY", "VN", "LA", "KH")),
    ("VN", ("TH", "KH", "LA")),
    ("PH", ("SG", "HK", "JP")),
    ("CN", ("HK", "MO", "TW", "SG")),
    ("HK", ("CN", "MO", "TW")),
    ("JP", ("KR", "TW", "US")),
    ("KR", ("JP", "CN", "US")),
    ("IN", ("AE", "SG", "GB")),
    ("AE", ("SA", "IN", "EG")),
    ("BR", ("AR", "PT", "US")),
    ("MX", ("US", "CO", "ES")),
)
"""Home markets of target apps and their neighbours."""
REGIONS: tuple[str, ...] = tuple(sorted({code for home, near in MARKETS for code in (home, *near)}))
"""Every region the users come from (index = region number)."""
_SECOND_DAY_SHARE = 0.33
_ABROAD_DAY_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class Audience:
    """Per-user devices and countries, per-app casing."""

    platform: Ints
    """Main platform of each user (index into :data:`PLATFORMS`)."""
    second: Ints
    """Second platform of each user, -1 for none."""
    region: Ints
    """Home region of each user (index into :data:`REGIONS`)."""
    abroad: Ints
    """The region a user visits when abroad."""
    silent: Bools
    """Users whose clients send neither ``platform`` nor ``region``."""
    lower_case: Bools
    """Target apps whose clients send the platform in lower case."""


def build_audience(rng: np.random.Generator, home_app: Ints, apps: int) -> Audience:
    """The audience of users whose home apps are ``home_app`` (``apps`` target apps)."""
    n = len(home_app)
    shares = _PLATFORM_SHARES / _PLATFORM_SHARES.sum()
    platform = rng.choice(len(PLATFORMS), size=n, p=shares)
    other = (platform + rng.integers(1, len(PLATFORMS), n)) % len(PLATFORMS)
    second = np.where(rng.random(n) < 0.2, other, -1)
    index = {code: i for i, code in enumerate(REGIONS)}
    region = np.zeros(n, dtype=np.int64)
    abroad = np.zeros(n, dtype=np.int64)
    for app in range(apps):
        home, near = MARKETS[int(rng.integers(0, len(MARKETS)))]
        mix = [index[home], *(index[code] for code in near)]
        weights = np.array([rng.uniform(3, 9), *rng.uniform(0.2, 1, len(near))])
        mine = np.flatnonzero(home_app == app)
        region[mine] = np.array(mix)[rng.choice(len(mix), len(mine), p=weights / weights.sum())]
        abroad[mine] = rng.choice(mix, len(mine))
    return Audience(
        platform=platform.astype(np.int64),
        second=second.astype(np.int64),
        region=region,
        abroad=abroad,
        silent=rng.random(n) < 0.03,
        lower_case=rng.random(apps) < 0.125,
    )


def _mix(user: Ints, day: Ints, salt: int) -> Ints:
    """A uniform 32-bit hash of (user, day, salt) per event (the murmur3 finalizer)."""
    h = (
        user.astype(np.uint64) * np.uint64(0x9E3779B1)
        + day.astype(np.uint64) * np.uint64(0x85EBCA77)
        + np.uint64(salt)
    ) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    h = (h * np.uint64(0x85EBCA6B)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(13)
    h = (h * np.uint64(0xC2B2AE35)) & np.uint64(0xFFFFFFFF)
    h ^= h >> np.uint64(16)
    return h.astype(np.int64)


def event_audience(audience: Audience, user: Ints, day: Ints) -> tuple[Ints, Ints]:
    """The platform and region of each event of ``user`` on window ``day`` (indexes into
    :data:`PLATFORMS` and :data:`REGIONS`; -1 when the event leaves the field out)."""
    limit = float(1 << 32)
    second = audience.second[user]
    on_second = (second >= 0) & (_mix(user, day, 1) < _SECOND_DAY_SHARE * limit)
    platform = np.where(on_second, second, audience.platform[user])
    away = _mix(user, day, 2) < _ABROAD_DAY_SHARE * limit
    region = np.where(away, audience.abroad[user], audience.region[user])
    silent = audience.silent[user]
    return np.where(silent, -1, platform), np.where(silent, -1, region)
