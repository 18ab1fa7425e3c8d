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


def platform_code(value: str | None) -> int:
    """The code of a platform name (any case; None: ``UNKNOWN``)."""
    return 0 if value is None else _PLATFORM_CODES[value.upper()]


def region_code(value: str | None) -> int:
    """The code of an alpha-2 region (any case; None: ``UNKNOWN``)."""
    if value is None:
        return 0
    code = value.upper()
    return 1 + 26 * (ord(code[0]) - ord("A")) + ord(code[1]) - ord("A")


def platform_name(code: int) -> str:
    """The platform of a code."""
    return PLATFORMS[code].name


def region_name(code: int) -> str:
    """The alpha-2 region of a code (``UNKNOWN`` for 0)."""
    if code == 0:
        return UNKNOWN_REGION
    first, second = divmod(code - 1, 26)
    return chr(ord("A") + first) + chr(ord("A") + second)
