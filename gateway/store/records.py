"""The JSON Lines record format of SPEC §2, declared once as msgspec structs.

One decoder parses and validates a line in a single C pass; its error messages name the field
(``Expected `str`, got `int` - at `$.userGuid```), which is what the quarantine stores.

Example:
    >>> rec = decode_record(b'{"kind":"workspace","id":"ws_1","name":"Acme"}')
    >>> rec.id, rec.name
    ('ws_1', 'Acme')
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

import msgspec

from gateway.domain import (
    ID_PATTERN,
    SLUG_PATTERN,
    DataType,
    DeploymentStatus,
    MerchantType,
    MiniProgramType,
)
from gateway.store.audience_codes import (
    platform_code,
    region_code,
)
from gateway.utc import naive_utc

Id = Annotated[str, msgspec.Meta(pattern=ID_PATTERN)]  # 1-128 of [A-Za-z0-9_.:@/-]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
Slug = Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN, max_length=64)]
Timestamp = Annotated[datetime, msgspec.Meta(tz=True)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0, le=2**63 - 1)]  # fits a BIGINT

MAX_DURATION_MS = 24 * 3600 * 1000
"""Longest time on one page a record may carry (a day): more is bad input, not a sum to wrap."""
MAX_REVENUE_USD = 10_000
"""Largest revenue of one ad impression, USD. With the duration bound it keeps every day's sum
of a rollup cell within 64 bits below 900 million maximal records a cell-day (range totals are
summed exactly, without a bound)."""
DurationMs = Annotated[int, msgspec.Meta(ge=0, le=MAX_DURATION_MS)]

REVENUE_DECIMALS = 6
"""Revenue is stored as integer micro-dollars; more precise values are rejected, not rounded."""


class _Record(msgspec.Struct, frozen=True, kw_only=True, rename="camel", tag_field="kind"):
    """Base of every record: camelCase keys, discriminated by ``kind``."""


class WorkspaceRecord(_Record, frozen=True, tag="workspace"):
    """A tenant workspace (super-app team)."""

    id: Id
    name: Name


class TargetAppRecord(_Record, frozen=True, tag="targetApp"):
    """A super app inside a workspace that hosts mini programs."""

    id: Id
    workspace_id: Id
    name: Name
    created_at: Timestamp


class MerchantRecord(_Record, frozen=True, tag="merchant"):
    """A merchant (mini-program team) of a workspace; ``onboarded_at`` null until onboarded."""

    id: Id
    workspace_id: Id
    name: Name
    merchant_type: MerchantType
    onboarded_at: Timestamp | None = None


class MiniProgramRecord(_Record, frozen=True, tag="miniProgram"):
    """A mini program or mini game."""

    id: Id
    workspace_id: Id
    name: Name
    type: MiniProgramType
    category: Slug
    source: Slug
    created_at: Timestamp
    merchant_id: Id | None = None


class DeploymentRecord(_Record, frozen=True, tag="deployment"):
    """A status change of a mini program in a target app (history is kept)."""

    target_app_id: Id
    mini_program_id: Id
    status: DeploymentStatus
    at: Timestamp


class UserRecord(_Record, frozen=True, tag="user"):
    """Attributes of an end user, keyed by GUID."""

    guid: Id
    source: Slug
    created_at: Timestamp | None = None


class _Event(_Record, frozen=True):
    """Fields common to the three event kinds."""

    id: Id
    at: Timestamp
    target_app_id: Id
    mini_program_id: Id
    user_guid: Id
    data_type: DataType = DataType.PRODUCTION
    platform: Annotated[str, msgspec.Meta(max_length=32)] | None = None
    region: Annotated[str, msgspec.Meta(max_length=8)] | None = None

    def __post_init__(self) -> None:
        # Case-insensitive on input, stored normalized (SPEC §2): checked here, coded on storage.
        if self.platform is not None:
            platform_code(self.platform)
        if self.region is not None:
            region_code(self.region)

    @property
    def platform_code(self) -> int:
        """The platform's code (:mod:`~gateway.store.audience_codes`; 0 when absent)."""
        return platform_code(self.platform)

    @property
    def region_code(self) -> int:
        """The region's code (:mod:`~gateway.store.audience_codes`; 0 when absent)."""
        return region_code(self.region)


class LaunchRecord(_Event, frozen=True, tag="launch"):
    """A user launched a mini program in a target app."""


class PageViewRecord(_Event, frozen=True, kw_only=True, tag="pageView"):
    """A user viewed a page of a mini program for ``duration_ms`` milliseconds."""

    duration_ms: DurationMs
    page: Annotated[str, msgspec.Meta(max_length=1024)] | None = None


class AdImpressionRecord(_Event, frozen=True, kw_only=True, tag="adImpression"):
    """An ad was shown; ``valid`` impressions earned ``revenue`` USD."""

    valid: bool
    revenue: Decimal

    def __post_init__(self) -> None:
        super().__post_init__()
        if not self.revenue.is_finite() or self.revenue < 0:
            raise ValueError("revenue must be a finite decimal >= 0")
        if self.revenue > MAX_REVENUE_USD:
            raise ValueError(
                f"revenue is above {MAX_REVENUE_USD} USD, the most one impression earns"
            )
        exponent = self.revenue.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -REVENUE_DECIMALS:
            raise ValueError(f"revenue has more than {REVENUE_DECIMALS} decimal places")

    @property
    def revenue_micros(self) -> int:
        """Revenue in integer micro-dollars (exact)."""
        return int(self.revenue.scaleb(REVENUE_DECIMALS))


CatalogRecord = (
    WorkspaceRecord
    | TargetAppRecord
    | MerchantRecord
    | MiniProgramRecord
    | DeploymentRecord
    | UserRecord
)
EventRecord = LaunchRecord | PageViewRecord | AdImpressionRecord
Record = CatalogRecord | EventRecord

CATALOG_KINDS: tuple[type[_Record], ...] = (
    WorkspaceRecord,
    TargetAppRecord,
    MerchantRecord,
    MiniProgramRecord,
    DeploymentRecord,
    UserRecord,
)
EVENT_KINDS: tuple[type[_Event], ...] = (LaunchRecord, PageViewRecord, AdImpressionRecord)

_decoder: msgspec.json.Decoder[Record] = msgspec.json.Decoder(Record)
_encoder = msgspec.json.Encoder(decimal_format="string")


def decode_record(line: bytes | str) -> Record:
    """Parse and validate one JSON line; raises :class:`msgspec.DecodeError` with the reason."""
    return _decoder.decode(line)


def encode_record(record: Record) -> bytes:
    """Serialize a record back to its JSON line (without the newline)."""
    return _encoder.encode(record)


def kind_of(record: Record | type[Record]) -> str:
    """The ``kind`` tag of a record or record class, e.g. ``"pageView"``."""
    cls = record if isinstance(record, type) else type(record)
    tag = cls.__struct_config__.tag
    assert isinstance(tag, str)
    return tag


def to_utc_naive(moment: datetime) -> datetime:
    """Timestamps are stored as naive UTC on both databases."""
    return naive_utc(moment)
