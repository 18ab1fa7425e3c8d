"""GraphQL enums: the :mod:`gateway.domain` enums wrapped, never retyped.

Schema modules import the enums from here (not from :mod:`gateway.domain`): importing this
module is what registers the GraphQL names and descriptions on the domain classes (the classes
are the same objects). ``MiniProgramTypeFilter`` is :class:`~gateway.domain.TypeFilter`.

Each wrapper names the GraphQL type and describes each of its values; the type's description is
the domain class's docstring, written once. A test walks the schema and fails on a value
without a description.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

import strawberry
from strawberry.types.enum import StrawberryEnumDefinition

from gateway.domain import (
    DataType,
    DeploymentStatus,
    Granularity,
    MerchantType,
    MiniProgramType,
    OrderDirection,
    OrderField,
    PageOrderField,
    RetentionCohortKind,
    TimeRangePreset,
    TypeFilter,
    UserBasis,
)

E = TypeVar("E", bound=enum.Enum)


def _graphql_enum(cls: type[E], name: str, values: Mapping[E, str]) -> None:
    """Register ``cls`` as the GraphQL enum ``name``, described by its docstring (one
    paragraph, written for clients), each value by ``values``."""
    description = " ".join((cls.__doc__ or "").split())
    wrapped = strawberry.enum(cls, name=name, description=description)
    definition: StrawberryEnumDefinition = wrapped.__strawberry_definition__  # type: ignore[attr-defined]
    for value in definition.values:
        value.description = values[cls[value.name]]


_graphql_enum(
    DeploymentStatus,
    "DeploymentStatus",
    {
        DeploymentStatus.DEVELOPING: "Being developed; not yet submitted for review.",
        DeploymentStatus.REVIEWING: "Submitted and under review by the super app.",
        DeploymentStatus.REVIEWED: "Review passed; not yet released.",
        DeploymentStatus.PILOT_TESTING: "Released to pilot testers only.",
        DeploymentStatus.PILOT_TESTING_COMPLETED: "Pilot testing finished.",
        DeploymentStatus.GRAYSCALE_RELEASE: "Released to a share of the app's users.",
        DeploymentStatus.GRAYSCALE_CANCELLED: "A grayscale release was withdrawn.",
        DeploymentStatus.FULL_RELEASE: "Released to every user of the app.",
        DeploymentStatus.ARCHIVED: "Archived by its owner; no longer offered.",
        DeploymentStatus.OFFLINE: "Taken offline by the super app.",
    },
)

_graphql_enum(
    MiniProgramType,
    "MiniProgramType",
    {
        MiniProgramType.MINI_PROGRAM: "An app-like mini program (services, shopping, ...).",
        MiniProgramType.MINI_GAME: "A mini game.",
    },
)

_graphql_enum(
    TypeFilter,
    "MiniProgramTypeFilter",
    {
        TypeFilter.ALL: "Every mini program, whatever its type (the default).",
        TypeFilter.MINI_PROGRAM: "Only mini programs of type MINI_PROGRAM.",
        TypeFilter.MINI_GAME: "Only mini programs of type MINI_GAME.",
    },
)

_graphql_enum(
    MerchantType,
    "MerchantType",
    {
        MerchantType.TECHNICAL: "Onboarded as a technical merchant (develops its own "
        "mini programs).",
        MerchantType.NON_TECHNICAL: "Onboarded as a non-technical merchant.",
    },
)

_graphql_enum(
    DataType,
    "DataType",
    {
        DataType.PRODUCTION: "Events from real users of released mini programs (the default).",
        DataType.NON_PRODUCTION: "Events from testing (development, review, pilot devices).",
    },
)

_graphql_enum(
    TimeRangePreset,
    "TimeRangePreset",
    {
        TimeRangePreset.TODAY: "Today only; partial, as of the last snapshot.",
        TimeRangePreset.YESTERDAY: "Yesterday, the last complete day.",
        TimeRangePreset.LAST_7_DAYS: "The 7 complete days ending yesterday.",
        TimeRangePreset.LAST_15_DAYS: "The 15 complete days ending yesterday.",
        TimeRangePreset.LAST_30_DAYS: "The 30 complete days ending yesterday.",
    },
)

_graphql_enum(
    Granularity,
    "Granularity",
    {
        Granularity.DAY: "One point per UTC day.",
        Granularity.WEEK: "One point per ISO week (Monday to Sunday).",
        Granularity.MONTH: "One point per calendar month.",
    },
)

_graphql_enum(
    UserBasis,
    "UserBasis",
    {
        UserBasis.CUMULATIVE: "Users with a launch in the scope and filters on or before R's "
        "last day (the default); the previous period: on or before its last day.",
        UserBasis.ACTIVE: "Users with a launch in the scope and filters during R (active "
        "users); the previous period: during it.",
    },
)

_graphql_enum(
    PageOrderField,
    "PageOrderField",
    {
        PageOrderField.PAGE_VIEWS: "Page views in the range.",
        PageOrderField.VISITORS: "Distinct visitors in the range.",
        PageOrderField.TOTAL_TIME: "Total time on the page in the range.",
        PageOrderField.PATH: "The page path, alphabetically (by code point).",
    },
)

_graphql_enum(
    RetentionCohortKind,
    "RetentionCohortKind",
    {
        RetentionCohortKind.NEW_USERS: "The users whose first-ever launch in the scope and "
        "filters falls in the cohort's bucket (cohorts are disjoint; their sizes sum to "
        "newUsers over the cohort range).",
        RetentionCohortKind.ACTIVE_USERS: "The users with a launch in the scope and filters in "
        "the cohort's bucket (a user can be in several cohorts).",
    },
)

_graphql_enum(
    OrderField,
    "TargetAppOrderField",
    {
        OrderField.USER_COUNT: "activeUsers of the app (all mini programs, PRODUCTION) over "
        "`timeRange`.",
        OrderField.MINI_PROGRAM_COUNT: "miniProgramCount of the app by the last day of "
        "`timeRange`.",
        OrderField.NAME: "The app's display name.",
    },
)

_graphql_enum(
    OrderDirection,
    "OrderDirection",
    {
        OrderDirection.ASC: "Smallest (or alphabetically first) first.",
        OrderDirection.DESC: "Largest (or alphabetically last) first.",
    },
)

MiniProgramTypeFilter = TypeFilter
"""The GraphQL name of :class:`~gateway.domain.TypeFilter`."""

__all__ = [
    "DataType",
    "DeploymentStatus",
    "Granularity",
    "MerchantType",
    "MiniProgramType",
    "MiniProgramTypeFilter",
    "OrderDirection",
    "OrderField",
    "PageOrderField",
    "RetentionCohortKind",
    "TimeRangePreset",
    "UserBasis",
]
