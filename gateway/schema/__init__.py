"""The GraphQL schema: strawberry types only (one module per type), built by :func:`build_schema`.

Example:
    >>> "type Query" in print_sdl()
    True
"""

from __future__ import annotations

from functools import cache

import strawberry
from graphql.error import GraphQLError
from strawberry.extensions import ParserCache, ValidationCache
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.schema.masking import GatewayMaskErrors, should_mask
from gateway.schema.query import Query
from gateway.schema.scalars import SCALAR_MAP

CACHE_SIZE = 512
"""Distinct query texts whose parse and validation results are kept (LRU)."""


class GatewaySchema(strawberry.Schema):
    """A schema whose error log holds only what the masking extension does not log.

    strawberry logs every error with its traceback before extensions see it; client errors
    (bad input, not found, ...) are not server problems, and masked ones are logged by
    :class:`~gateway.schema.masking.GatewayMaskErrors` with their request id.
    """

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here (see the class docstring)."""
        del errors, execution_context


def _parser_cache() -> ParserCache:
    return ParserCache(maxsize=CACHE_SIZE)


def _validation_cache() -> ValidationCache:
    return ValidationCache(maxsize=CACHE_SIZE)


def build_schema() -> strawberry.Schema:
    """The executable schema, with parse/validation caches and error masking."""
    return GatewaySchema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
        extensions=[_parser_cache, _validation_cache, GatewayMaskErrors],
    )


@cache
def print_sdl() -> str:
    """The printed schema (SDL, directives included), ending with a newline."""
    return build_schema().as_str() + "\n"


__all__ = ["GatewaySchema", "build_schema", "print_sdl", "should_mask"]
