"""Cursors of ranked lists: a sealed position (sort value, item id) in one ordering.

A list ranked by a value (ties by id, ascending) is paged with cursors carrying the ordering's
signature (what it sorts by, which way, over which range) and the position of the last item
seen; the next page starts at the first item sorting after that position, so an item that
appears or goes between two requests never repeats or skips another, and a cursor of another
ordering is refused rather than misread. Used by ``Workspace.targetApps(orderBy)`` and
``MiniProgram.pages``.

Example:
    >>> cursor = encode_position("NAME:ASC", "Alpha", "ta-1")
    >>> parse_position(cursor)
    ('NAME:ASC', 'Alpha', 'ta-1')
    >>> sorts_after("Beta", "ta-0", ("Alpha", "ta-1"), descending=False)
    True
"""

from __future__ import annotations

import orjson

from gateway.errors import BadUserInputError
from gateway.resolvers.sealing import seal, unseal

CURSOR_PREFIX = "v2:"
"""Ordered cursors (id-ordered pages write ``v1:<id>``)."""

Value = float | str


def encode_position(signature: str, value: Value, item_id: str) -> str:
    """The opaque cursor of the item ``item_id`` whose sort value is ``value``."""
    body = orjson.dumps({"o": signature, "v": value, "id": item_id})
    return seal(CURSOR_PREFIX.encode() + body)


def parse_position(cursor: object) -> tuple[str, Value, str] | None:
    """(signature, value, id) of an ordered cursor; None for anything else (an id cursor).

    Raises:
        BadUserInputError: ``cursor`` has the ordered prefix but is not a valid cursor.
    """
    if not isinstance(cursor, str):
        return None
    raw = unseal(cursor)
    if raw is None:  # not sealed by this gateway: neither kind of cursor
        raise BadUserInputError(f"malformed cursor {cursor!r}")
    if not raw.startswith(CURSOR_PREFIX.encode()):
        return None
    try:
        body = orjson.loads(raw[len(CURSOR_PREFIX) :])
        signature, value, item_id = body["o"], body["v"], body["id"]
    except (ValueError, KeyError, TypeError):
        raise BadUserInputError(f"malformed cursor {cursor!r}") from None
    if not (isinstance(signature, str) and isinstance(item_id, str)):
        raise BadUserInputError(f"malformed cursor {cursor!r}")
    if not isinstance(value, (int, float, str)):
        raise BadUserInputError(f"malformed cursor {cursor!r}")
    return signature, value, item_id


def sorts_after(
    value: Value, item_id: str, position: tuple[Value, str], *, descending: bool
) -> bool:
    """Whether the item (``value``, ``item_id``) sorts after ``position`` (ties by id)."""
    cursor_value, cursor_id = position
    if value == cursor_value:
        return item_id > cursor_id
    return bool(value < cursor_value) if descending else bool(value > cursor_value)  # type: ignore[operator]
