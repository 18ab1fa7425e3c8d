"""The role matrix (SPEC §6): one declared table of which roles may read which schema field.

Each row of :data:`DEFAULT_RULES` names a GraphQL type, the access groups whose roles may read
the listed fields, and the fields. A field listed with two groups needs a role of *both*
(money at the workspace level is analytics *and* money). ``*`` covers every field of a value
type: such fields are readable wherever the field that returned the value was (``Metric.value``
is as readable as the ``activeUsers`` that produced it). An argument coordinate
(``Workspace.targetApps(orderBy:)``) guards the argument: passing it needs the roles.
Everything not covered is denied (deny by default); tests check that every field of the
schema has an entry and that no entry names something the schema lacks.

Worked example, with the default table::

    Workspace.activeUsers    -> WORKSPACE_ANALYTICS                 -> 5 roles
    MiniProgram.activeUsers  -> MINI_PROGRAM_ANALYTICS              -> 9 roles
    Workspace.estimatedAdRevenue -> WORKSPACE_ANALYTICS & MONEY     -> 5 roles
    MiniProgram.estimatedAdRevenue -> MINI_PROGRAM_ANALYTICS & MONEY -> 7 roles
    Metric.value             -> inherited from the field above it

>>> DEFAULT_MATRIX.roles("MiniProgram.estimatedAdRevenue") == GROUP_ROLES[Access.MONEY]
True
>>> Role.MINI_PROGRAM_DEVELOPER in DEFAULT_MATRIX.roles("MiniProgram.estimatedAdRevenue")
False
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import reduce
from types import MappingProxyType

from gateway.metrics.registry import EVENT_METRICS, MONEY_METRICS
from gateway.roles import Role

INHERITED = "*"
"""The field list of a value type whose fields inherit the access of their parent field."""


class Access(enum.Enum):
    """Groups of fields that share who may read them (the rows of SPEC §6's table)."""

    SELF = "the caller's own identity (`viewer`)"
    CATALOG = "catalog: names, lists, statuses, deployments"
    WORKSPACE_ANALYTICS = (
        "workspace and target-app analytics: metrics, breakdowns, status counts, merchant "
        "onboarding, target-app ranking"
    )
    MINI_PROGRAM_ANALYTICS = "mini-program analytics"
    MONEY = "money: " + ", ".join(f"`{name}`" for name in MONEY_METRICS)


_WORKSPACE_ANALYSTS = frozenset(
    {
        Role.SUPER_ADMIN,
        Role.PLATFORM_ADMIN,
        Role.SUPERAPP_ADMIN,
        Role.SENIOR_SUPERAPP_DEVELOPER,
        Role.SUPERAPP_OPERATOR,
    }
)

GROUP_ROLES: Mapping[Access, frozenset[Role]] = MappingProxyType(
    {
        Access.SELF: frozenset(Role),
        Access.CATALOG: frozenset(Role) - {Role.INGESTER},
        Access.WORKSPACE_ANALYTICS: _WORKSPACE_ANALYSTS,
        Access.MINI_PROGRAM_ANALYTICS: _WORKSPACE_ANALYSTS
        | {
            Role.MINI_PROGRAM_ADMIN,
            Role.MINI_PROGRAM_SENIOR_DEVELOPER,
            Role.MINI_PROGRAM_DEVELOPER,
            Role.MINI_PROGRAM_OPERATOR,
        },
        Access.MONEY: _WORKSPACE_ANALYSTS | {Role.MINI_PROGRAM_ADMIN, Role.MINI_PROGRAM_OPERATOR},
    }
)
"""The roles of each access group: SPEC §6's default matrix."""


@dataclass(frozen=True)
class Rule:
    """One row: ``fields`` of ``type_name`` need a role of every group in ``access``."""

    type_name: str
    access: tuple[Access, ...]
    fields: str
    """Space-separated field names (or argument coordinates ``field(arg:)``), or ``*``."""


_EVENT_METRICS = " ".join(name for name in EVENT_METRICS if name not in MONEY_METRICS)
_MONEY = " ".join(MONEY_METRICS)  # the registry says which metrics are money
_BREAKDOWNS = "usersBySource usersByCategory miniProgramsBySource miniProgramsByCategory"
_AUDIENCE = "retention usersByPlatform usersByRegion"
"""SPEC §6: retention, portrait and pages go with the level's analytics."""
_WA, _MA = Access.WORKSPACE_ANALYTICS, Access.MINI_PROGRAM_ANALYTICS
_VALUE_TYPES = (
    "Breakdown BreakdownItem Deployment DeploymentStatusChange Merchant MerchantCounts "
    "MerchantOnboarding MerchantOnboardingPoint Metric MetricDefinition MetricPoint "
    "MiniProgramStatusCounts MonthlyActiveUsers Page PageConnection PageEdge PageInfo "
    "Retention RetentionCohort RetentionPeriod Snapshot Viewer ViewerGrant "
    "DeploymentConnection DeploymentEdge MerchantConnection MerchantEdge "
    "MiniProgramConnection MiniProgramEdge TargetAppConnection TargetAppEdge "
    "WorkspaceConnection WorkspaceEdge"
)

DEFAULT_RULES: tuple[Rule, ...] = (
    Rule("Query", (Access.SELF,), "viewer"),
    Rule(
        "Query",
        (Access.CATALOG,),
        "workspaces workspace targetApp miniProgram merchant snapshot metricDefinitions",
    ),
    Rule("Subscription", (Access.CATALOG,), "snapshots live"),
    Rule("Workspace", (Access.CATALOG,), "id name targetApps miniPrograms merchants"),
    Rule(
        "Workspace",
        (_WA,),
        f"{_EVENT_METRICS} monthlyActiveUsers {_AUDIENCE} {_BREAKDOWNS} availableMiniPrograms "
        "createdMiniPrograms merchantOnboarding targetApps(orderBy:) targetApps(timeRange:)",
    ),
    Rule("Workspace", (_WA, Access.MONEY), _MONEY),
    Rule("TargetApp", (Access.CATALOG,), "id name createdAt workspace miniPrograms miniProgram"),
    Rule(
        "TargetApp",
        (_WA,),
        f"{_EVENT_METRICS} monthlyActiveUsers {_AUDIENCE} {_BREAKDOWNS} availableMiniPrograms "
        "miniProgramStatusCounts miniProgramCount",
    ),
    Rule("TargetApp", (_WA, Access.MONEY), _MONEY),
    Rule(
        "MiniProgram",
        (Access.CATALOG,),
        "id name type category source createdAt status deployment merchant workspace deployments",
    ),
    Rule("MiniProgram", (_MA,), f"{_EVENT_METRICS} monthlyActiveUsers {_AUDIENCE} pages"),
    Rule("MiniProgram", (_MA, Access.MONEY), _MONEY),
    *(Rule(name, (Access.CATALOG,), INHERITED) for name in ("Merchant", "Deployment")),
    *(
        Rule(name, (), INHERITED)
        for name in _VALUE_TYPES.split()
        if name not in ("Merchant", "Deployment")
    ),
)
"""SPEC §6's default matrix. ``Merchant`` and ``Deployment`` are catalog entities whose every
field is catalog; the other ``*`` rows are value types (no groups: inherited)."""


class MatrixError(ValueError):
    """A matrix names an unknown role, type, field or group (raised at start-up)."""


@dataclass(frozen=True)
class RoleMatrix:
    """The compiled matrix: coordinate -> roles allowed, and types whose fields inherit.

    Attributes:
        fields: ``Type.field`` or ``Type.field(arg:)`` -> the roles that may read or pass it.
        inherited: Types whose fields need no check of their own.
        wildcard: Types whose every field has the same roles (``Merchant: *``).
    """

    fields: Mapping[str, frozenset[Role]]
    inherited: frozenset[str]
    wildcard: Mapping[str, frozenset[Role]]

    def roles(self, coordinate: str) -> frozenset[Role]:
        """The roles that may read ``coordinate`` (empty: nobody; deny by default)."""
        found = self.fields.get(coordinate)
        if found is not None:
            return found
        return self.wildcard.get(coordinate.split(".", 1)[0], frozenset())

    def covers(self, type_name: str, field_name: str) -> bool:
        """True when the matrix has an entry for ``type_name.field_name``."""
        return (
            type_name in self.inherited
            or type_name in self.wildcard
            or f"{type_name}.{field_name}" in self.fields
        )

    @property
    def version(self) -> str:
        """A short hash of the matrix's content (cache keys include it)."""
        text = repr(
            (
                sorted((k, sorted(v)) for k, v in self.fields.items()),
                sorted(self.inherited),
                sorted((k, sorted(v)) for k, v in self.wildcard.items()),
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:12]

    @classmethod
    def compile(cls, rules: Iterable[Rule]) -> RoleMatrix:
        """Compile ``rules``; a coordinate listed twice is an error."""
        fields: dict[str, frozenset[Role]] = {}
        inherited: set[str] = set()
        wildcard: dict[str, frozenset[Role]] = {}
        for rule in rules:
            if not rule.access and rule.fields != INHERITED:
                raise MatrixError(f"{rule.type_name}: only `*` rows may have no access group")
            every: frozenset[Role] = frozenset(Role)
            roles = reduce(frozenset.intersection, (GROUP_ROLES[a] for a in rule.access), every)
            if rule.fields == INHERITED:
                if rule.type_name in inherited or rule.type_name in wildcard:
                    raise MatrixError(f"type {rule.type_name} is listed twice")
                if rule.access:
                    wildcard[rule.type_name] = roles
                else:
                    inherited.add(rule.type_name)
                continue
            for name in rule.fields.split():
                coordinate = f"{rule.type_name}.{name}"
                if coordinate in fields:
                    raise MatrixError(f"{coordinate} is listed twice")
                fields[coordinate] = roles
        return cls(MappingProxyType(fields), frozenset(inherited), MappingProxyType(wildcard))


DEFAULT_MATRIX = RoleMatrix.compile(DEFAULT_RULES)
"""The compiled default matrix."""
