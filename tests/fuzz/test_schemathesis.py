"""Schemathesis against the live gateway: generated queries of every root field, as a
platform administrator (everything readable, so every resolver can be reached), must never
get a server error: no 5xx, no ``INTERNAL_SERVER_ERROR`` anywhere in a response.

The operations come from the checked-in ``schema.graphql`` (the schema the server prints);
``GATEWAY_FUZZ_EXAMPLES`` bounds the examples per root field (30 by default, as in CI).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings

from tests.fuzz.conftest import EXAMPLES, Live

SCHEMA = schemathesis.graphql.from_path(Path(__file__).parents[2] / "schema.graphql")


def no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    """No 5xx, and no error of the response masked as an internal one (a bug the server hid).

    Schemathesis's own ``not_a_server_error`` counts every GraphQL error as a server error;
    here ``NOT_FOUND`` (a random id), ``BAD_USER_INPUT`` (a random range) and the like are
    right answers.
    """
    del ctx
    assert response.status_code < 500, (response.status_code, case.body)
    assert b"INTERNAL_SERVER_ERROR" not in response.content, (response.content[:2000], case.body)
    return None


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_generated_queries_never_get_a_server_error(case: Any, live: Live) -> None:
    case.call_and_validate(
        base_url=f"{live.url}/graphql",
        headers=live.admin,
        checks=[no_server_error],
    )
