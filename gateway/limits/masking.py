"""Error masking: clients see our errors as raised, and nothing of any other failure.

An exception raised while resolving a field that is not a :class:`~gateway.errors.GatewayError`
reaches the client as::

    {"message": "Internal server error", "path": [...],
     "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": "<uuid4>"}}

and is logged, traceback included, under the same request id: the HTTP request's (its
``X-Request-Id`` and access log line), or a new one outside a request. Syntax, validation and
variable errors (no ``path``: raised before execution) and our own errors keep their message.
"""

from __future__ import annotations

import logging
import uuid

from graphql.error import GraphQLError
from strawberry.extensions import MaskErrors

from gateway.errors import REQUEST_ID, ErrorCode, GatewayError

logger = logging.getLogger("gateway.errors")

MASKED_MESSAGE = "Internal server error"
"""The message of every masked error."""


def should_mask(error: GraphQLError) -> bool:
    """True for a failure inside field execution that is not one of our errors."""
    if error.path is None:
        return False
    return not isinstance(error.original_error, GatewayError)


class GatewayMaskErrors(MaskErrors):
    """:class:`MaskErrors` that adds a code and a request id, and logs the real exception."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask, error_message=MASKED_MESSAGE)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        """The masked copy of ``error``; the original is logged with the same request id.

        An argument that only turns out invalid during execution (an explicit ``null``
        variable for a non-null argument with a default, found by the fuzz tests) is the
        client's mistake: it keeps graphql-core's message, with ``BAD_USER_INPUT``.
        """
        if isinstance(error.original_error, GraphQLError):
            return GraphQLError(
                message=error.original_error.message,
                nodes=error.nodes,
                source=error.source,
                positions=error.positions,
                path=error.path,
                extensions={"code": ErrorCode.BAD_USER_INPUT.value},
            )
        request_id = REQUEST_ID.get() or str(uuid.uuid4())
        original = error.original_error or error
        logger.error(
            "internal error %s at %s: %s",
            request_id,
            ".".join(str(part) for part in error.path or ()),
            error.message,
            exc_info=(type(original), original, original.__traceback__),
        )
        return GraphQLError(
            message=self.error_message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=None,
            extensions={"code": ErrorCode.INTERNAL_SERVER_ERROR.value, "requestId": request_id},
        )
