"""Records as JSON lines (SPEC §2): catalog records from the world, events from day arrays.

Catalog records are few (users aside) and go through msgspec. Events are millions, so their
lines are assembled from pre-built fragments (the app/mini-program pair, the data type, the
page) with one f-string each; every value is an id, a slug, a number or a timestamp, so
nothing needs JSON escaping.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

import msgspec

from gateway.synthetic.audience import PLATFORMS, REGIONS, Audience, event_audience
from gateway.synthetic.catalog import (
    NO_MERCHANT,
    NOT_ONBOARDED,
    app_id,
    merchant_id,
    mini_program_id,
    workspace_id,
)
from gateway.synthetic.clock import DAY, date_prefix, hms_table, iso, suffix
from gateway.synthetic.events import AD_IMPRESSION, LAUNCH, PAGE_TEXTS, DayEvents
from gateway.synthetic.users import NO_CREATED_AT, guid
from gateway.synthetic.words import USER_SOURCES
from gateway.synthetic.world import World

_encode = msgspec.json.encode
_DATA_TYPE = ("", ',"dataType":"PRODUCTION"', ',"dataType":"NON_PRODUCTION"')
_PAGE = ("", *(f',"page":"{page}"' for page in PAGE_TEXTS))  # index page + 1
_REGION = ("", *(f',"region":"{code}"' for code in REGIONS))  # index region + 1


@lru_cache(maxsize=65_536)
def revenue_text(micros: int) -> str:
    """Micro-dollars as a decimal string without trailing zeros, e.g. 12500 -> ``"0.0125"``."""
    whole, frac = divmod(micros, 1_000_000)
    return f"{whole}.{frac:06d}".rstrip("0").rstrip(".")


def _workspace_lines(world: World) -> Iterator[bytes]:
    for w, name in enumerate(world.apps.workspace_names):
        yield _encode({"kind": "workspace", "id": workspace_id(w), "name": name})


def _merchant_lines(world: World) -> Iterator[bytes]:
    merchants = world.merchants
    for m, name in enumerate(merchants.names):
        onboarded = int(merchants.onboarded[m])
        yield _encode({
            "kind": "merchant",
            "id": merchant_id(m),
            "workspaceId": workspace_id(int(merchants.workspace[m])),
            "name": name,
            "merchantType": "TECHNICAL" if merchants.technical[m] else "NON_TECHNICAL",
            "onboardedAt": None if onboarded == NOT_ONBOARDED else iso(onboarded, 0),
        })  # fmt: skip


def _app_lines(world: World) -> Iterator[bytes]:
    apps = world.apps
    for a, name in enumerate(apps.names):
        yield _encode({
            "kind": "targetApp",
            "id": app_id(a),
            "workspaceId": workspace_id(int(apps.workspace[a])),
            "name": name,
            "createdAt": iso(int(apps.created[a]), int(apps.offset[a])),
        })  # fmt: skip


def _mini_program_lines(world: World) -> Iterator[bytes]:
    mps = world.mps
    for m, name in enumerate(mps.names):
        merchant = int(mps.merchant[m])
        yield _encode({
            "kind": "miniProgram",
            "id": mini_program_id(m),
            "workspaceId": workspace_id(int(mps.workspace[m])),
            "merchantId": None if merchant == NO_MERCHANT else merchant_id(merchant),
            "name": name,
            "type": "MINI_GAME" if mps.game[m] else "MINI_PROGRAM",
            "category": mps.category[m],
            "source": mps.source[m],
            "createdAt": iso(int(mps.created[m]), 0),
        })  # fmt: skip


def _deployment_lines(world: World) -> Iterator[bytes]:
    deployments = world.deployments
    for p, history in enumerate(deployments.history):
        app = int(deployments.app[p])
        head = f'{{"kind":"deployment","targetAppId":"{app_id(app)}","miniProgramId":'
        head += f'"{mini_program_id(int(deployments.mp[p]))}","status":"'
        offset = int(world.apps.offset[app])
        for status, at in history:
            yield f'{head}{status.value}","at":"{iso(at, offset)}"}}'.encode()


def _user_lines(world: World) -> Iterator[bytes]:
    users = world.users
    sources = [f'","source":"{slug}"' for slug, _ in USER_SOURCES]
    for u, (has, source, created) in enumerate(
        zip(users.has_record.tolist(), users.source.tolist(), users.created.tolist(), strict=True)
    ):
        if has:  # the others stay without a record: their source is "unknown"
            tail = "" if created == NO_CREATED_AT else f',"createdAt":"{iso(created, 0)}"'
            yield f'{{"kind":"user","guid":"{guid(u)}{sources[source]}{tail}}}'.encode()


def catalog_lines(world: World) -> Iterator[bytes]:
    """Every catalog record, parents before children, users last."""
    yield from _workspace_lines(world)
    yield from _merchant_lines(world)
    yield from _app_lines(world)
    yield from _mini_program_lines(world)
    yield from _deployment_lines(world)
    yield from _user_lines(world)


class EventWriter:
    """Turns :class:`DayEvents` into lines; ids are ``ev_<n>`` numbered from 1 in order."""

    def __init__(self, world: World, audience: Audience) -> None:
        deployments, apps = world.deployments, world.apps
        self._audience, self._start = audience, world.window.start
        lower = audience.lower_case[deployments.app].tolist()
        self._platform = [
            ["", *(f',"platform":"{p.lower() if low else p}"' for p in PLATFORMS)] for low in lower
        ]  # by pair, then platform + 1
        self._pair = [
            f'"targetAppId":"{app_id(a)}","miniProgramId":"{mini_program_id(m)}"'
            for a, m in zip(deployments.app.tolist(), deployments.mp.tolist(), strict=True)
        ]
        self._offset = apps.offset[deployments.app]
        self._suffix = [suffix(int(o)) for o in self._offset.tolist()]
        self.next_id = 1

    def lines(self, events: DayEvents) -> list[bytes]:
        """The lines of ``events`` (in their order), consuming the next ``len(events)`` ids."""
        local = events.at + self._offset[events.pair]
        first_day = int(local.min() // DAY) if len(events) else 0
        prefixes = [date_prefix(first_day + i) for i in range(3)]
        day = (local // DAY - first_day).tolist()
        hms, pair_text, tz = hms_table(), self._pair, self._suffix
        platform, region = event_audience(
            self._audience, events.user, (events.at - self._start) // DAY
        )
        platforms = self._platform
        out: list[bytes] = []
        for i, (k, d, s, p, u, dt, pg, ms, ok, rev, pf, rg) in enumerate(
            zip(events.kind.tolist(), day, (local % DAY).tolist(), events.pair.tolist(),
                events.user.tolist(), events.data_type.tolist(), events.page.tolist(),
                events.duration_ms.tolist(), events.valid.tolist(),
                events.revenue_micros.tolist(), platform.tolist(), region.tolist(),
                strict=True),
            self.next_id,
        ):  # fmt: skip
            head = (
                f'"id":"ev_{i}","at":"{prefixes[d]}{hms[s]}{tz[p]}",{pair_text[p]},'
                f'"userGuid":"u_{u:07d}"{_DATA_TYPE[dt]}{platforms[p][pf + 1]}{_REGION[rg + 1]}'
            )
            if k == LAUNCH:
                line = f'{{"kind":"launch",{head}}}'
            elif k == AD_IMPRESSION:
                money = f'"valid":true,"revenue":"{revenue_text(rev)}"' if ok else _INVALID
                line = f'{{"kind":"adImpression",{head},{money}}}'
            else:
                line = f'{{"kind":"pageView",{head}{_PAGE[pg + 1]},"durationMs":{ms}}}'
            out.append(line.encode())
        self.next_id += len(out)
        return out


_INVALID = '"valid":false,"revenue":"0"'
