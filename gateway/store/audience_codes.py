"""``platform`` and ``region`` of events (SPEC §2) as the small integers raw rows and rollups hold.

A platform's code is its position in :class:`~gateway.domain.Platform` (``UNKNOWN`` = 0); a
region's is ``1 + 26 × letter₁ + letter₂`` of its ISO 3166-1 alpha-2 code (``UNKNOWN`` = 0), so
every code fits a ``SMALLINT`` and numpy indexes tables by it.

Example:
    >>> platform_code("ios"), region_code("sg"), region_name(region_code("SG"))
    (1, 475, 'SG')
    >>> checked_region("ZZ")
    Traceback (most recent call last):
    ...
    ValueError: region must be an ISO 3166-1 alpha-2 country code such as SG or CN, got 'ZZ'
"""

from __future__ import annotations

import pycountry

from gateway.domain import UNKNOWN_REGION, Platform

PLATFORMS: tuple[Platform, ...] = tuple(Platform)
"""Platforms by code."""
_PLATFORM_CODES = {platform.name: code for code, platform in enumerate(PLATFORMS)}
_ASKED = ", ".join(p.name for p in PLATFORMS if p is not Platform.UNKNOWN)
REGIONS: frozenset[str] = frozenset(country.alpha_2 for country in pycountry.countries)
"""Every ISO 3166-1 alpha-2 code."""
REGION_CODES = 1 + 26 * 26
"""Codes 0 (``UNKNOWN``) to 676: the size of a table indexed by region code."""


def checked_platform(value: str) -> str:
    """``value`` upper-cased, when it names a platform an event may carry.

    Raises:
        ValueError: any other value (``UNKNOWN`` too: an event without one omits the field).
    """
    name = value.upper()
    if name not in _PLATFORM_CODES or name == Platform.UNKNOWN.name:
        raise ValueError(f"platform must be one of {_ASKED} (any case), got {value!r}")
    return name


def checked_region(value: str) -> str:
    """``value`` upper-cased, when it is an ISO 3166-1 alpha-2 code.

    Raises:
        ValueError: any other value.
    """
    code = value.upper()
    if code not in REGIONS:
        raise ValueError(
            f"region must be an ISO 3166-1 alpha-2 country code such as SG or CN, got {value!r}"
        )
    return code


_SPELLINGS = 4096
"""Most spellings remembered per dimension (only valid ones are: at most a few per value)."""
_platforms: dict[str, int] = {}
_regions: dict[str, int] = {}


def platform_code(value: str | None) -> int:
    """The code of a platform name (any case; None: ``UNKNOWN``), checked
    (:func:`checked_platform`) the first time a spelling is seen: ingest codes every event, so
    a spelling seen before costs one lookup."""
    if value is None:
        return 0
    code = _platforms.get(value)
    if code is None:
        code = _PLATFORM_CODES[checked_platform(value)]
        if len(_platforms) < _SPELLINGS:
            _platforms[value] = code
    return code


def region_code(value: str | None) -> int:
    """The code of an alpha-2 region (any case; None: ``UNKNOWN``), checked
    (:func:`checked_region`) the first time a spelling is seen."""
    if value is None:
        return 0
    code = _regions.get(value)
    if code is None:
        name = checked_region(value)
        code = 1 + 26 * (ord(name[0]) - ord("A")) + ord(name[1]) - ord("A")
        if len(_regions) < _SPELLINGS:
            _regions[value] = code
    return code


def platform_name(code: int) -> str:
    """The platform of a code."""
    return PLATFORMS[code].name


def region_name(code: int) -> str:
    """The alpha-2 region of a code (``UNKNOWN`` for 0)."""
    if code == 0:
        return UNKNOWN_REGION
    first, second = divmod(code - 1, 26)
    return chr(ord("A") + first) + chr(ord("A") + second)
