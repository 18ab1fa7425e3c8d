"""Seeded random principals and GraphQL documents for the differential cache test.

Principals hold one or two grants of any role (INGESTER included) on either tenant. Documents
are built from a small grammar over the catalog and metric fields: lookups by id (literal or a
variable), lists, nested edges in both directions, metrics with ranges, filters and series,
breakdowns, aliases, named and inline fragments, and duplicated fields. Every generated document
is valid: aliases are unique, and a field name is only repeated with identical arguments.

Example:
    >>> rng = random.Random(7)
    >>> doc = Document.build(rng)
    >>> doc.text.startswith("query")
    True
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from gateway.authz.principal import Principal
from gateway.roles import Role
from tests.access.support import grant_of
from tests.cache_http.world import MERCHANT_IDS, WORKSPACES

RANGES: tuple[dict[str, Any], ...] = (
    {"from": "2024-03-01", "to": "2024-03-14"},
    {"from": "2024-03-05", "to": "2024-03-20"},
    {"days": 7, "endDate": "2024-03-10"},
    {"preset": "LAST_7_DAYS"},
)
METRICS = (
    "activeUsers", "newUsers", "lifetimeUsers", "launches", "pageViews",
    "averageTimePerUser", "validAdImpressions", "estimatedAdRevenue",
)  # fmt: skip
FILTERS = ("", "type: MINI_GAME", "type: MINI_PROGRAM", "dataType: NON_PRODUCTION",
           'category: "food_beverage"')  # fmt: skip
IDS = {
    "Workspace": ("ws-1", "ws-2"),
    "TargetApp": ("app-1", "app-2", "app-3"),
    "MiniProgram": ("mp-1", "mp-2", "mp-3", "mp-4", "mp-5", "mp-6"),
    "Merchant": ("m-1", "m-2", "m-3"),
}
ROOTS = {"Workspace": "workspace", "TargetApp": "targetApp", "MiniProgram": "miniProgram",
         "Merchant": "merchant"}  # fmt: skip
SCALARS = {
    "Workspace": ("id", "name", "availableMiniPrograms"),
    "TargetApp": ("id", "name", "createdAt", "availableMiniPrograms"),
    "MiniProgram": ("id", "name", "type", "category", "source", "status"),
    "Merchant": ("id", "name", "merchantType", "onboardedAt"),
}
EDGES = {  # type -> (field, target type, is a connection)
    "Workspace": (("targetApps", "TargetApp", True), ("miniPrograms", "MiniProgram", True),
                  ("merchants", "Merchant", True)),
    "TargetApp": (("workspace", "Workspace", False), ("miniPrograms", "MiniProgram", True)),
    "MiniProgram": (("merchant", "Merchant", False), ("workspace", "Workspace", False)),
    "Merchant": (("workspace", "Workspace", False), ("miniPrograms", "MiniProgram", True)),
}  # fmt: skip
EXTRAS = {  # fields with their own fixed selection, '$R' standing for a time range
    "Workspace": ("usersBySource(timeRange: $R) { total items { key count share } }",
                  "miniProgramsByCategory(timeRange: $R) { total items { key count } }",
                  "createdMiniPrograms(timeRange: $R) { value previousValue }",
                  "merchantOnboarding(timeRange: $R) { newMerchants { all { value } } }"),
    "TargetApp": ("miniProgramStatusCounts { all fullRelease reviewing inactive }",
                  "miniProgramCount(timeRange: $R) { value change }",
                  "usersByCategory(timeRange: $R) { total items { key count } }"),
    "MiniProgram": ("deployments { totalCount nodes { status targetApp { id name } } }",
                    'monthlyActiveUsers(from: "2024-02", to: "2024-03") { month value }'),
    "Merchant": (),
}  # fmt: skip


def random_principal(rng: random.Random, n: int) -> Principal:
    """A principal ``p<n>`` with one or two grants of random roles and tenants."""
    grants = [
        grant_of(rng.choice(list(Role)), rng.choice(WORKSPACES), rng.choice(MERCHANT_IDS))
        for _ in range(rng.choice((1, 1, 1, 2)))
    ]
    return Principal(f"p{n}", tuple(grants))


@dataclass
class Document:
    """A document under construction: its fragments, variables and alias counter."""

    rng: random.Random
    fragments: list[str] = field(default_factory=list)
    variables: dict[str, Any] = field(default_factory=dict)
    declarations: dict[str, str] = field(default_factory=dict)
    aliases: int = 0
    text: str = ""

    @classmethod
    def build(cls, rng: random.Random) -> Document:
        """A random valid document (``text``) and its ``variables``."""
        doc = cls(rng)
        roots = [doc._root() for _ in range(rng.randint(1, 3))]
        header = ", ".join(f"${n}: {t}" for n, t in doc.declarations.items())
        signature = f"({header})" if header else ""
        doc.text = "\n".join([f"query Q{signature} {{", *roots, "}", *doc.fragments])
        return doc

    def _alias(self) -> str:
        self.aliases += 1
        return f"a{self.aliases}: "

    def _range(self) -> str:
        """A time range: a variable (the same one each time) or a literal."""
        if self.rng.random() < 0.5:
            self.declarations["r"] = "TimeRangeInput!"
            self.variables.setdefault("r", dict(self.rng.choice(RANGES)))
            return "$r"
        chosen = self.rng.choice(RANGES)
        parts = ", ".join(f"{k}: {v}" if k in ("days", "preset") else f'{k}: "{v}"'
                          for k, v in chosen.items())  # fmt: skip
        return f"{{{parts}}}"

    def _root(self) -> str:
        kind = self.rng.choice([*ROOTS, "list"])
        if kind == "list":
            nodes = self._selection("Workspace", 2)
            return f"{self._alias()}workspaces {{ totalCount nodes {{ {nodes} }} }}"
        entity = self.rng.choice(IDS[kind])
        if self.rng.random() < 0.3:
            name = f"id{len(self.declarations)}"
            self.declarations[name] = "ID!"
            self.variables[name] = entity
            argument = f"${name}"
        else:
            argument = f'"{entity}"'
        return f"{self._alias()}{ROOTS[kind]}(id: {argument}) {{ {self._selection(kind, 2)} }}"

    def _metric(self) -> str:
        name = self.rng.choice(METRICS)
        arguments = ", ".join(
            a for a in (f"timeRange: {self._range()}", self.rng.choice(FILTERS)) if a
        )
        subfields = self.rng.sample(["value", "previousValue", "change", "changeRate"], k=2)
        if self.rng.random() < 0.5:
            granularity = self.rng.choice(("DAY", "WEEK", "MONTH"))
            subfields.append(f"series(granularity: {granularity}) {{ date value }}")
        return f"{self._alias()}{name}({arguments}) {{ {' '.join(subfields)} }}"

    def _field(self, kind: str, depth: int) -> str:
        choice = self.rng.random()
        if choice < 0.3:
            return self.rng.choice(SCALARS[kind])
        if choice < 0.6 and kind != "Merchant":  # merchants have no metrics
            return self._metric()
        if choice < 0.8 and EXTRAS[kind]:
            extra = self.rng.choice(EXTRAS[kind])
            if "$R" in extra:
                extra = extra.replace("$R", self._range())
            return self._alias() + extra
        if depth == 0:
            return "id"
        name, target, connection = self.rng.choice(EDGES[kind])
        inner = self._selection(target, depth - 1)
        body = f"nodes {{ {inner} }}" if connection else inner
        return f"{self._alias()}{name} {{ {body} }}"

    def _selection(self, kind: str, depth: int) -> str:
        """Fields of ``kind``, some duplicated, some inside named or inline fragments."""
        fields = [self._field(kind, depth) for _ in range(self.rng.randint(1, 4))]
        if self.rng.random() < 0.3:
            fields.append(self.rng.choice(fields))  # a duplicated field (identical text)
        wrap = self.rng.random()
        if wrap < 0.25:
            name = f"F{len(self.fragments)}"
            self.fragments.append(f"fragment {name} on {kind} {{ {' '.join(fields)} }}")
            return f"id ...{name}"
        if wrap < 0.5:
            return f"... on {kind} {{ {' '.join(fields)} }} id"
        return " ".join(fields)
