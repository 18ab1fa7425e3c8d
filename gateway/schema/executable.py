"""The executable schema's class: the matrix and limits it enforces, its SDL and error log."""

from __future__ import annotations

import re

import strawberry
from graphql.error import GraphQLError
from strawberry.types import ExecutionContext

from gateway.authz.install import Installed
from gateway.limits.rules import QueryLimits

_ROLE_LIST = re.compile(r"@requiresRole\(roles: \[([^\]]*)\]\)")


def _one_line(match: re.Match[str]) -> str:
    return f"@requiresRole(roles: [{', '.join(match.group(1).split())}])"


class GatewaySchema(strawberry.Schema):
    """A schema that knows the role matrix and limits it enforces, and whose error log holds
    only what the masking extension does not log.

    strawberry logs every error with its traceback before extensions see it; client errors
    (bad input, not found, ...) are not server problems, and masked ones are logged by
    :class:`~gateway.limits.masking.GatewayMaskErrors` with their request id.
    """

    authz: Installed
    """The role matrix this schema enforces (set by :func:`gateway.schema.build_schema`)."""
    limits: QueryLimits
    """The query limits this schema enforces (set by :func:`gateway.schema.build_schema`)."""

    def as_str(self) -> str:
        """The SDL, with each ``@requiresRole`` role list on one line (graphql-core breaks
        long list values over several lines, indented as if they were at the top level)."""
        return _ROLE_LIST.sub(_one_line, super().as_str())

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log nothing here (see the class docstring)."""
        del errors, execution_context
