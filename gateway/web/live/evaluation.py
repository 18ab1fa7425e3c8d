"""One live evaluation: a plan's query run once for everyone who shares it, through the cache.

A :class:`Topic` is what subscribers share: the planned query, its variables and the grants
it runs with (the caller's subject too when the document may select ``viewer``). Its answer
for a generation of the data is computed once per process and snapshot (the snapshot cache's
single flight), and with Redis once for all processes (the cache's lock and entries), exactly
as the response cache does for ``/graphql``.

The stored answer is the query's ``{"data", "errors"}`` under the subscription's response key,
closed by ``"extensions": {"cost": n}`` like a stored ``/graphql`` response. It is cached only
when every error is ``FORBIDDEN`` or ``NOT_FOUND`` and it read the generation's snapshot.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from strawberry.types.execution import PreExecutionError

from gateway.authz.principal import Principal
from gateway.cache.keys import cache_key
from gateway.cache.snapshot_cache import SnapshotCache
from gateway.context import Context
from gateway.errors import ErrorCode
from gateway.store.generation import Generation
from gateway.store.replicas import ReadRouter
from gateway.store.rollup import Snapshot
from gateway.web.live.instruments import COMPUTATIONS, SHARED
from gateway.web.live.plan import Plan
from gateway.web.response_cache import (
    VIEWER_FIELD,
    caller_part,
    canonical_variables,
    scoped_errors_only,
)
from gateway.web.timeout import TIMEOUT_MESSAGE

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

    from gateway.schema import GatewaySchema
    from gateway.settings import Settings

LAYER = "live"


@dataclass(frozen=True, slots=True)
class Answer:
    """An evaluation's outcome.

    Attributes:
        body: The answer's JSON (``data``, ``errors``, ``extensions.cost``).
        fatal: The query did not execute (validation, limits, cost): the errors are the
            operation's ``error`` message, not a ``next``.
        errors: The formatted errors (for a fatal answer).
        snapshot: The snapshot it read when computed here (None: from the cache, which only
            holds answers that read their generation's snapshot).
    """

    body: bytes
    fatal: bool = False
    errors: tuple[dict[str, Any], ...] = ()
    snapshot: Snapshot | None = None


@dataclass(eq=False, slots=True)
class Topic:
    """What subscribers with the same plan, variables and grants share."""

    key: str
    plan: Plan
    variables: dict[str, Any] | None
    principal: Principal
    subscribers: set[Any] = field(default_factory=set)


def topic_key(
    plan: Plan, variables: dict[str, Any] | None, principal: Principal, versions: tuple[str, str]
) -> str:
    """The key of a topic: the planned query, operation, canonical variables, the grants
    (and subject when the query may select ``viewer``), the matrix and limits versions."""
    return cache_key(
        LAYER,
        plan.kind,
        plan.response_key,
        plan.query,
        plan.operation_name or "",
        canonical_variables(variables),
        principal.grants_key,
        caller_part(principal, VIEWER_FIELD in plan.query),
        *versions,
    )


def _cacheable(answer: Answer, errors: list[dict[str, Any]], read: int | None, want: int) -> bool:
    if answer.fatal or (read is not None and read != want):
        return False
    return scoped_errors_only(errors)


@dataclass
class Evaluator:
    """Runs topics' queries (see the module docstring)."""

    schema: GatewaySchema
    engine: AsyncEngine
    settings: Settings
    cache: SnapshotCache
    refresh_interval: float
    grace_seconds: float
    reads: ReadRouter | None = None
    """Chooses a read replica for each evaluation's snapshot transaction, as for
    ``/graphql`` (None: ``engine``)."""
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)

    async def answer(self, topic: Topic, generation: Generation) -> Answer:
        """The topic's answer for ``generation``: cached, shared or computed here."""
        now = self.clock()
        key = cache_key(LAYER, generation.token, now.date().isoformat(), topic.key)
        mine: list[Answer] = []

        async def compute() -> bytes | None:
            COMPUTATIONS.inc()
            answer, errors, read = await self._execute(topic, now)
            mine.append(answer)
            keep = _cacheable(answer, errors, read, generation.snapshot.id)
            return answer.body if keep else None

        ttl = generation.snapshot.entry_ttl(self.refresh_interval, self.grace_seconds, now)
        result = await self.cache.get_or_compute(LAYER, key, compute, ttl)
        if result.value is not None:
            if not mine:
                SHARED.inc()
            return mine[0] if mine else Answer(result.value)
        if mine:
            return mine[0]
        # Joined a computation whose answer could not be stored: compute this one.
        COMPUTATIONS.inc()
        return (await self._execute(topic, now))[0]

    async def _execute(
        self, topic: Topic, now: dt.datetime
    ) -> tuple[Answer, list[dict[str, Any]], int | None]:
        """Run the topic's query once: its answer, formatted errors and the snapshot read."""
        context = Context.create(
            self.engine,
            self.settings,
            None,
            now=now,
            principal=topic.principal,
            cache=self.cache,
            reads=self.reads,
        )
        deadline = asyncio.timeout(self.settings.request_timeout_seconds)
        try:
            async with deadline:
                result = await self.schema.execute(
                    topic.plan.query,
                    variable_values=topic.variables,
                    context_value=context,
                    operation_name=topic.plan.operation_name,
                )
        except TimeoutError:
            if not deadline.expired():
                raise
            stopped = [dict(ErrorCode.TIMEOUT.body(TIMEOUT_MESSAGE)["errors"][0])]
            return Answer(orjson.dumps({"data": None, "errors": stopped})), stopped, None
        finally:
            snapshot = context.reader.state
            read = snapshot.id if snapshot is not None else None
            await context.close()
        errors: list[dict[str, Any]] = [dict(e.formatted) for e in result.errors or ()]
        fatal = result.data is None and bool(errors) and _pre_execution(result)
        if fatal:
            return Answer(b"", fatal=True, errors=tuple(errors), snapshot=snapshot), errors, read
        # Errors in a canonical order (resolvers finish in any order): an answer that did
        # not change is then the same bytes, and is not sent again.
        errors.sort(key=lambda e: orjson.dumps([e.get("path"), e.get("message")]))
        wrapped = topic.plan.wrap({"data": result.data, "errors": errors})
        wrapped["extensions"] = {"cost": context.cost.cost or 0}
        return Answer(orjson.dumps(wrapped), snapshot=snapshot), errors, read


def _pre_execution(result: object) -> bool:
    """True when ``result`` stopped before execution (strawberry's ``PreExecutionError``)."""
    return isinstance(result, PreExecutionError)
