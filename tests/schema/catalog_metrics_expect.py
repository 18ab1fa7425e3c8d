"""Brute-force expectations of the catalog metric fields over one inserted random catalog."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from gateway.store import tables
from tests.schema import catalog_metrics_data as bf


def random_range(rng: random.Random) -> tuple[dict[str, Any], tuple[dt.date, dt.date]]:
    """A ``TimeRangeInput`` in one of the three forms, and the (first, last) day it means."""
    today = bf.TODAY
    form = rng.choice(("custom", "custom", "days", "preset"))
    if form == "preset":
        name, back = rng.choice(
            [("TODAY", 0), ("YESTERDAY", 1), ("LAST_7_DAYS", 7), ("LAST_30_DAYS", 30)]
        )
        last = today if name == "TODAY" else today - dt.timedelta(days=1)
        return {"preset": name}, (today - dt.timedelta(days=back), last)
    last = today - dt.timedelta(days=rng.randrange(120))
    first = last - dt.timedelta(days=rng.randrange(90))
    if form == "days":
        n = (last - first).days + 1
        return {"days": n, "endDate": last.isoformat()}, (first, last)
    return {"from": first.isoformat(), "to": last.isoformat()}, (first, last)


class Expect:
    """Brute-force answers over one inserted catalog."""

    def __init__(self, rows: bf.Rows) -> None:
        self.mps = {row["id"]: row for row in rows[tables.mini_programs]}
        self.app_ws = {row["id"]: row["workspace_id"] for row in rows[tables.target_apps]}
        self.merchants = rows[tables.merchants]
        self.first: dict[tuple[str, str], dt.datetime] = {}
        for row in rows[tables.deployments]:
            for scope in (row["target_app_id"], self.app_ws[row["target_app_id"]]):
                key = (scope, row["mini_program_id"])
                self.first[key] = min(self.first.get(key, row["at"]), row["at"])

    def admitted(self, mp: str, type_: str | None, category: str | None) -> bool:
        row = self.mps[mp]
        return type_ in (None, "ALL", row["type"]) and category in (None, row["category"])

    def associated(
        self, scope: str, type_: str | None, category: str | None
    ) -> dict[str, dt.datetime]:
        return {
            mp: at
            for (s, mp), at in self.first.items()
            if s == scope and self.admitted(mp, type_, category)
        }

    def breakdowns(
        self, scope: str, span: tuple[dt.date, dt.date], type_: str | None, cat: str | None
    ) -> dict[str, Any]:
        by_source = self.associated(scope, type_, cat)
        by_category = self.associated(scope, type_, None)
        return {
            "miniProgramsBySource": bf.breakdown(
                {mp: (at, self.mps[mp]["source"]) for mp, at in by_source.items()}, *span
            ),
            "miniProgramsByCategory": bf.breakdown(
                {mp: (at, self.mps[mp]["category"]) for mp, at in by_category.items()}, *span
            ),
        }

    def onboarding(self, ws: str, span: tuple[dt.date, dt.date]) -> dict[str, Any]:
        onboarded = [m for m in self.merchants if m["workspace_id"] == ws and m["onboarded_at"]]
        kinds = {"all": None, "technical": "TECHNICAL", "nonTechnical": "NON_TECHNICAL"}
        times = {
            name: [m["onboarded_at"] for m in onboarded if kind in (None, m["merchant_type"])]
            for name, kind in kinds.items()
        }
        tech, other = times["technical"], times["nonTechnical"]
        return {
            "newMerchants": {n: bf.metric(bf.within(t), *span) for n, t in times.items()},
            "totalMerchants": {n: bf.metric(bf.cumulative(t), *span) for n, t in times.items()},
            "series": [
                {
                    "date": day.isoformat(),
                    "newTechnical": bf.within(tech)(day, day),
                    "cumulativeTechnical": bf.cumulative(tech)(day, day),
                    "newNonTechnical": bf.within(other)(day, day),
                    "cumulativeNonTechnical": bf.cumulative(other)(day, day),
                }
                for day in bf.days(*span)
            ],
        }

    def workspace(
        self, ws: str, span: tuple[dt.date, dt.date], type_: str | None, cat: str | None
    ) -> dict[str, Any]:
        created = [
            row["created_at"]
            for row in self.mps.values()
            if row["workspace_id"] == ws and self.admitted(row["id"], type_, cat)
        ]
        apps = sorted(app for app, w in self.app_ws.items() if w == ws)
        return {
            "id": ws,
            "createdMiniPrograms": bf.metric(bf.cumulative(created), *span),
            "merchantOnboarding": self.onboarding(ws, span),
            **self.breakdowns(ws, span, type_, cat),
            "targetApps": {"nodes": [self.app(app, span, type_, cat) for app in apps]},
        }

    def app(
        self, app: str, span: tuple[dt.date, dt.date], type_: str | None, cat: str | None
    ) -> dict[str, Any]:
        firsts = self.associated(app, type_, cat).values()
        return {
            "id": app,
            "miniProgramCount": bf.metric(bf.cumulative(firsts), *span),
            **self.breakdowns(app, span, type_, cat),
        }
