"""The GraphQL schema: strawberry types only (one module per type), built by :func:`build_schema`.

Example:
    >>> "type Query" in print_sdl()
    True
"""

from __future__ import annotations

import re
from functools import cache

import strawberry
from graphql.error import GraphQLError
from strawberry.schema.config import BatchingConfig, StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.authz.directive import ROLES_ARGUMENT_DESCRIPTION
from gateway.authz.install import Installed, install_matrix
from gateway.authz.matrix import DEFAULT_MATRIX, RoleMatrix
from gateway.limits.documents import MemoValidationCache
from gateway.limits.masking import GatewayMaskErrors, should_mask
from gateway.limits.rules import QueryLimits, limit_extensions
from gateway.schema.query import Query
from gateway.schema.scalars import SCALAR_MAP

MAX_BATCH_OPERATIONS = 10
"""Most operations in one batched request (when ``GATEWAY_ALLOW_BATCHING`` is on)."""


_ROLE_LIST = re.compile(r"@requiresRole\(roles: \[([^\]]*)\]\)")


def _one_line(match: re.Match[str]) -> str:
    return f"@requiresRole(roles: [{', '.join(match.group(1).split())}])"


class GatewaySchema(strawberry.Schema):
    authz: Installed
    """The role matrix this schema enforces (set by :func:`build_schema`)."""
    limits: QueryLimits
    """The query limits this schema enforces (set by :func:`build_schema`)."""

    """A schema whose error log holds only what the masking extension does not log.

    strawberry logs every error with its traceback before extensions see it; client errors
    (bad input, not found, ...) are not server problems, and masked ones are logged by
    :class:`~gateway.limits.masking.GatewayMaskErrors` with their request id.
    """

    def as_str(self) -> str:
        """The SDL, with each ``@requiresRole`` role list on one line (graphql-core breaks
        long list values over several lines, indented as if they were at the top level)."""
        return _ROLE_LIST.sub(_one_line, super().as_str())

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here (see the class docstring)."""
        del errors, execution_context


def build_schema(
    matrix: RoleMatrix = DEFAULT_MATRIX, limits: QueryLimits | None = None
) -> GatewaySchema:
    """The executable schema: ``matrix`` enforced on every coordinate and printed as
    ``@requiresRole``, ``limits`` enforced before execution (the defaults when None),
    parse/validation caches, error masking.

    Raises:
        MatrixError: ``matrix`` names a type, field or argument the schema lacks, or leaves a
            type without entries.
    """
    bare = strawberry.Schema(query=Query, config=StrawberryConfig(scalar_map=SCALAR_MAP))
    installed = install_matrix(bare, matrix)
    limits = limits or QueryLimits()
    batching = (
        BatchingConfig(max_operations=MAX_BATCH_OPERATIONS) if limits.allow_batching else None
    )
    schema = GatewaySchema(
        query=Query,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, batching_config=batching),
        extensions=[*limit_extensions(limits), MemoValidationCache, GatewayMaskErrors],
    )
    schema.authz = installed
    schema.limits = limits
    # strawberry drops the descriptions of schema-directive arguments; set it on the built one.
    directive = schema._schema.get_directive("requiresRole")
    if directive is not None:
        directive.args["roles"].description = ROLES_ARGUMENT_DESCRIPTION
    return schema


@cache
def print_sdl() -> str:
    """The printed schema (SDL, directives included), ending with a newline."""
    return build_schema().as_str() + "\n"


__all__ = ["GatewaySchema", "QueryLimits", "build_schema", "print_sdl", "should_mask"]
