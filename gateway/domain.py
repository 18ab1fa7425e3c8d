"""Domain vocabulary shared by every layer: the enumerations of SPEC §2, the id grammar, the
filter arguments and the reference naming one catalog entity.

Plain classes with no framework imports, so that ``store/``, ``metrics/`` and ``schema/`` can
all use them (the GraphQL enums wrap these, they are never typed twice). The docstring of an
enum that is a GraphQL type is its GraphQL description: one paragraph, written for clients.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class MiniProgramType(enum.Enum):
    """Whether a mini program is an app-like mini program or a game."""

    MINI_PROGRAM = "MINI_PROGRAM"
    MINI_GAME = "MINI_GAME"


class MerchantType(enum.Enum):
    """How a merchant was onboarded."""

    TECHNICAL = "TECHNICAL"
    NON_TECHNICAL = "NON_TECHNICAL"


class DataType(enum.Enum):
    """Which traffic an event metric counts: production or testing."""

    PRODUCTION = "PRODUCTION"
    NON_PRODUCTION = "NON_PRODUCTION"


class DeploymentStatus(enum.Enum):
    """Lifecycle status of a mini program inside one target app."""

    DEVELOPING = "DEVELOPING"
    REVIEWING = "REVIEWING"
    REVIEWED = "REVIEWED"
    PILOT_TESTING = "PILOT_TESTING"
    PILOT_TESTING_COMPLETED = "PILOT_TESTING_COMPLETED"
    GRAYSCALE_RELEASE = "GRAYSCALE_RELEASE"
    GRAYSCALE_CANCELLED = "GRAYSCALE_CANCELLED"
    FULL_RELEASE = "FULL_RELEASE"
    ARCHIVED = "ARCHIVED"
    OFFLINE = "OFFLINE"


class TypeFilter(enum.Enum):
    """Filter on the type of mini programs (or of the mini program an event belongs to)."""

    ALL = "ALL"
    MINI_PROGRAM = "MINI_PROGRAM"
    MINI_GAME = "MINI_GAME"

    def admits(self, value: MiniProgramType) -> bool:
        """True when a mini program of type ``value`` passes this filter."""
        return self is TypeFilter.ALL or self.value == value.value

    @property
    def only(self) -> MiniProgramType | None:
        """The single type this filter keeps, or None for ``ALL``."""
        return None if self is TypeFilter.ALL else MiniProgramType(self.value)


class UserBasis(enum.Enum):
    """Which users a user breakdown (usersBySource, usersByCategory) counts over the range R."""

    CUMULATIVE = "CUMULATIVE"
    ACTIVE = "ACTIVE"


class Platform(enum.Enum):
    """The platform an event came from (`UNKNOWN` when the event did not say)."""

    UNKNOWN = "UNKNOWN"
    IOS = "IOS"
    ANDROID = "ANDROID"
    HARMONYOS = "HARMONYOS"
    WEB = "WEB"
    WINDOWS = "WINDOWS"
    MACOS = "MACOS"
    OTHER = "OTHER"


UNKNOWN_REGION = "UNKNOWN"
"""The ``region`` of an event that did not carry one (else an ISO 3166-1 alpha-2 code)."""


class PageOrderField(enum.Enum):
    """What `MiniProgram.pages` is sorted by (ties by path, ascending)."""

    PAGE_VIEWS = "PAGE_VIEWS"
    VISITORS = "VISITORS"
    TOTAL_TIME = "TOTAL_TIME"
    PATH = "PATH"


class RetentionCohortKind(enum.Enum):
    """Who a retention cohort holds."""

    NEW_USERS = "NEW_USERS"
    ACTIVE_USERS = "ACTIVE_USERS"


UNKNOWN_SOURCE = "unknown"
"""The ``user.source`` of a user who has no ``user`` record."""


class TimeRangePreset(enum.Enum):
    """A named range of UTC days, relative to today's UTC date."""

    TODAY = "TODAY"
    YESTERDAY = "YESTERDAY"
    LAST_7_DAYS = "LAST_7_DAYS"
    LAST_15_DAYS = "LAST_15_DAYS"
    LAST_30_DAYS = "LAST_30_DAYS"


class Granularity(enum.Enum):
    """Bucket size of a series. Buckets are clipped to the range; a point carries its bucket's
    first day."""

    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"


MAX_RANGE_DAYS = 90
"""The longest time range a caller may ask for, in days, unless ``GATEWAY_MAX_RANGE_DAYS`` says
otherwise (SPEC §4)."""

REFRESH_INTERVAL_SECONDS = 1800
"""Seconds between two rollup snapshots, unless ``GATEWAY_REFRESH_INTERVAL_SECONDS`` says
otherwise: metric results computed on a snapshot stay valid until the next one is due."""

SLUG_PATTERN = r"^[a-z0-9]+(?:[_-][a-z0-9]+)*$"
"""Categories and sources are slugs (``food_beverage``, ``alipay_plus``), at most 64 long."""

ID_PATTERN = r"^[A-Za-z0-9_.:@/-]{1,128}$"
"""Every id (``id``, ``workspaceId``, ``targetAppId``, ``miniProgramId``, ``merchantId``, ``guid``,
``userGuid``, grant ids) is 1 to 128 ASCII letters, digits and ``_ - . : @ /`` (SPEC §2).

Keys and scope strings may then use any other character as a separator (``|``, a space, NUL),
and a record or credential with any other id is bad input, never stored.
"""
ID_RULE = "1 to 128 ASCII letters, digits and _ - . : @ /"
""":data:`ID_PATTERN` in words, for the messages that refuse an id."""
_ID = re.compile(ID_PATTERN)


def is_id(value: str) -> bool:
    """True when ``value`` follows :data:`ID_PATTERN`.

    >>> is_id("app_1"), is_id("ws;SUPER_ADMIN"), is_id("")
    (True, False, False)
    """
    return _ID.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class Filters:
    """The filter arguments of every metric and catalog field (SPEC §4): mini program ``type``
    and ``category`` (None: every category), and the events' ``data_type`` (event metrics
    only; catalog counts have no data type)."""

    type: TypeFilter = TypeFilter.ALL
    category: str | None = None
    data_type: DataType = DataType.PRODUCTION


class GroupBy(enum.Enum):
    """The mini program attribute a catalog breakdown groups by."""

    SOURCE = "SOURCE"
    CATEGORY = "CATEGORY"


class OrderField(enum.Enum):
    """What target apps are sorted by (ties are broken by id, ascending)."""

    USER_COUNT = "USER_COUNT"
    MINI_PROGRAM_COUNT = "MINI_PROGRAM_COUNT"
    NAME = "NAME"


class OrderDirection(enum.Enum):
    """Sort direction."""

    ASC = "ASC"
    DESC = "DESC"


class Level(enum.Enum):
    """The levels of the catalog graph (SPEC §2)."""

    WORKSPACE = "WORKSPACE"
    TARGET_APP = "TARGET_APP"
    MINI_PROGRAM = "MINI_PROGRAM"
    MERCHANT = "MERCHANT"


@dataclass(frozen=True, slots=True)
class EntityRef:
    """One catalog entity: its level, its id and the ids above it.

    What every layer derives an entity's place from: access control its workspace and merchant
    (:meth:`gateway.roles.Grant.covers`), the rollups its cell and scope
    (:func:`gateway.metrics.cells.scope_of`), the catalog breakdowns its level. Build one with
    the constructors below, which fill the ids above as each level has them.

    Attributes:
        level: Which kind of entity.
        id: Its id.
        workspace_id: Its workspace (a workspace's is its own id).
        target_app_id: A mini program's app when it was reached through one (its metrics and
            status are then those in that app); a target app's own id; else None.
        merchant_id: A mini program's merchant (None when it has none); a merchant's own id.

    Example:
        >>> EntityRef.mini_program("mp_1", "ws_1", merchant_id="m_1", via="app_1").target_app_id
        'app_1'
    """

    level: Level
    id: str
    workspace_id: str
    target_app_id: str | None = None
    merchant_id: str | None = None

    @classmethod
    def workspace(cls, workspace_id: str) -> EntityRef:
        """A workspace."""
        return cls(Level.WORKSPACE, workspace_id, workspace_id)

    @classmethod
    def target_app(cls, app_id: str, workspace_id: str) -> EntityRef:
        """A target app of ``workspace_id``."""
        return cls(Level.TARGET_APP, app_id, workspace_id, target_app_id=app_id)

    @classmethod
    def mini_program(
        cls, mp_id: str, workspace_id: str, *, merchant_id: str | None, via: str | None = None
    ) -> EntityRef:
        """A mini program, scoped to target app ``via`` when it was reached through one."""
        return cls(Level.MINI_PROGRAM, mp_id, workspace_id, via, merchant_id)

    @classmethod
    def merchant(cls, merchant_id: str, workspace_id: str) -> EntityRef:
        """A merchant of ``workspace_id``."""
        return cls(Level.MERCHANT, merchant_id, workspace_id, merchant_id=merchant_id)


class Entity:
    """Base of every object standing for a catalog entity: it says which one, once.

    The GraphQL types inherit it and implement :meth:`ref` from their own fields; every layer
    derives what it needs from that reference instead of the type restating it.
    """

    __slots__ = ()

    def ref(self) -> EntityRef:
        """The entity this object stands for."""
        raise NotImplementedError
