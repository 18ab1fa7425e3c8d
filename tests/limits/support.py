"""Documents built to an exact size: depth, aliases, tokens, bytes."""

from __future__ import annotations

from itertools import cycle, islice
from typing import Any

import httpx
from graphql import Lexer, Source, TokenKind

CHAIN = ("workspaces", "nodes", "targetApps", "nodes", "workspace", "targetApps", "nodes")
"""Object fields that nest without end: Workspace.targetApps -> TargetApp.workspace -> ..."""

CYCLE_START = 2
"""``CHAIN[2:]`` repeats (targetApps, nodes, workspace) after the first two levels."""

LEAF = {"workspaces": "totalCount", "targetApps": "totalCount", "nodes": "id", "workspace": "id"}
"""A scalar field closing each kind of level."""


def chain(levels: int) -> list[str]:
    """The first ``levels`` fields of the endless Workspace/TargetApp chain."""
    head = list(CHAIN[:CYCLE_START])
    tail = cycle(CHAIN[CYCLE_START : CYCLE_START + 3])
    return [*head, *islice(tail, max(0, levels - len(head)))][:levels]


PAGED = frozenset({"workspaces", "targetApps"})
"""Connections of the chain: asked with ``first: 1`` so that deep documents stay cheap (the
cost limit would otherwise refuse 50 × 50 × ... entities)."""


def deep_query(depth: int) -> str:
    """A valid query whose deepest field sits at level ``depth`` (depth >= 2), one entity
    per level."""
    fields = chain(depth - 1)
    inner = LEAF[fields[-1]]
    for name in reversed(fields):
        inner = f"{name}(first: 1) {{ {inner} }}" if name in PAGED else f"{name} {{ {inner} }}"
    return "{ " + inner + " }"


def count_tokens(document: str) -> int:
    """The lexical tokens of ``document``, as graphql-core's parser counts them (EOF excluded)."""
    lexer = Lexer(Source(document))
    count = 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def errors(response: httpx.Response) -> list[dict[str, Any]]:
    """The ``errors`` of a GraphQL answer (empty when none)."""
    found: list[dict[str, Any]] = response.json().get("errors") or []
    return found


def codes(response: httpx.Response) -> list[str]:
    """The ``extensions.code`` of each error."""
    return [(e.get("extensions") or {}).get("code", "") for e in errors(response)]
