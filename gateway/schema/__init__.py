"""The GraphQL schema: strawberry types only (one module per type), built by :func:`build_schema`.

Example:
    >>> "type Query" in print_sdl()
    True
"""

from __future__ import annotations

from functools import cache

import strawberry
from strawberry.schema.config import BatchingConfig, StrawberryConfig

from gateway.authz.directive import ROLES_ARGUMENT_DESCRIPTION
from gateway.authz.install import install_matrix
from gateway.authz.matrix import DEFAULT_MATRIX, RoleMatrix
from gateway.limits.documents import MemoValidationCache
from gateway.limits.masking import GatewayMaskErrors, should_mask
from gateway.limits.rules import QueryLimits, limit_extensions
from gateway.schema.executable import GatewaySchema
from gateway.schema.fast_values import FastValuesExecutionContext
from gateway.schema.query import Query
from gateway.schema.scalars import SCALAR_MAP
from gateway.schema.subscription import Subscription

MAX_BATCH_OPERATIONS = 10
"""Most operations in one batched request (when ``GATEWAY_ALLOW_BATCHING`` is on)."""


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
    bare = strawberry.Schema(
        query=Query, subscription=Subscription, config=StrawberryConfig(scalar_map=SCALAR_MAP)
    )
    installed = install_matrix(bare, matrix)
    limits = limits or QueryLimits()
    batching = (
        BatchingConfig(max_operations=MAX_BATCH_OPERATIONS) if limits.allow_batching else None
    )
    schema = GatewaySchema(
        query=Query,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP, batching_config=batching),
        extensions=[*limit_extensions(limits), MemoValidationCache, GatewayMaskErrors],
        execution_context_class=FastValuesExecutionContext,
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
