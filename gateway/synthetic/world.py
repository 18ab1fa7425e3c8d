"""A whole synthetic world: catalog, deployments, users and the daily event budget."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gateway.synthetic.catalog import (
    Apps,
    Bools,
    Floats,
    Ints,
    Merchants,
    MiniPrograms,
    build_apps,
    build_merchants,
    build_mini_programs,
)
from gateway.synthetic.clock import Window
from gateway.synthetic.deployments import Deployments, build_deployments
from gateway.synthetic.rhythm import day_weights, split
from gateway.synthetic.scales import Scale
from gateway.synthetic.users import Users, build_users


@dataclass(frozen=True, slots=True)
class World:
    """Everything the event simulation and the record writer need."""

    scale: Scale
    window: Window
    apps: Apps
    merchants: Merchants
    mps: MiniPrograms
    deployments: Deployments
    users: Users
    daily_events: Ints
    """Exact number of events of each window day (sums to ``scale.events``)."""
    pair_game: Bools
    pair_ad_rate: Floats
    app_pairs: list[Ints]
    """Pair indices of each app."""


def build_world(scale: Scale, window: Window, rng: np.random.Generator) -> World:
    """Draw the catalog and the population of ``scale`` over ``window`` from ``rng``."""
    apps = build_apps(scale, window, rng)
    merchants = build_merchants(scale, window, rng)
    mps = build_mini_programs(scale, window, rng, apps, merchants)
    deployments = build_deployments(window, rng, apps, mps)
    volume = day_weights(window, rng)
    users = build_users(scale.users, window, rng, volume, (apps, mps, deployments))
    return World(
        scale=scale,
        window=window,
        apps=apps,
        merchants=merchants,
        mps=mps,
        deployments=deployments,
        users=users,
        daily_events=split(scale.events, volume),
        pair_game=mps.game[deployments.mp],
        pair_ad_rate=mps.ad_rate[deployments.mp],
        app_pairs=[np.flatnonzero(deployments.app == a) for a in range(len(apps.names))],
    )
