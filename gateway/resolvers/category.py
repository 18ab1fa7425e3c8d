"""The ``category`` argument: a slug, or null for every category.

Checked before any query, so ``category: "*"`` (the rollups' internal wildcard) or a typo with
spaces is a ``BAD_USER_INPUT``, not a silent "every category" or zero.

Example:
    >>> check_category("food_beverage")
    'food_beverage'
"""

from __future__ import annotations

import re

from gateway.domain import SLUG_PATTERN
from gateway.errors import BadUserInputError

_SLUG = re.compile(SLUG_PATTERN)


def check_category(category: str | None) -> str | None:
    """``category`` when null or a slug of at most 64 characters.

    Raises:
        BadUserInputError: otherwise.
    """
    if category is None or (len(category) <= 64 and _SLUG.match(category)):
        return category
    raise BadUserInputError(
        f"category must be a slug such as `food_beverage` (lowercase letters, digits, `_` or "
        f"`-`), or null for every category; got {category!r}"
    )
