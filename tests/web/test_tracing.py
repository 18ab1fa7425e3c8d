"""OpenTelemetry tracing (gateway/web/tracing.py): the spans of a traced request, and nothing
at all (not even an import) when tracing is off."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import orjson
import pytest
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.app import create_app
from gateway.loaders import tracing as loader_tracing
from gateway.settings import Settings
from gateway.store import tables
from gateway.web.tracing import LOADER_KEYS, OPERATION_NAME, Tracing

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{PARENT_ID}-01"
QUERY = {
    "query": "query Workspaces { workspaces { totalCount nodes { id name } } }",
    "operationName": "Workspaces",  # a cached answer knows the name the request gives
}
SQL_SCOPE = "opentelemetry.instrumentation.sqlalchemy"


@pytest.fixture
async def traced(
    app_settings: Settings, engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[httpx.AsyncClient, InMemorySpanExporter]]:
    """A client on a traced app whose spans end in memory (nothing is exported elsewhere)."""
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    async with engine.begin() as conn:
        await conn.execute(tables.workspaces.insert(), [{"id": "ws-1", "name": "A"}])
    app = create_app(app_settings.model_copy(update={"otel_enabled": True}))
    tracing = app.state.config.tracing
    assert tracing is not None
    exporter = InMemorySpanExporter()
    tracing.provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with (
        LifespanManager(app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=manager.app), base_url="http://gateway.test"
        ) as http,
    ):
        yield http, exporter
    loader_tracing.install_batch_span(None)  # the next test's app may be untraced


async def _ask(http: httpx.AsyncClient, admin: dict[str, str]) -> httpx.Response:
    headers = {"Content-Type": "application/json", "traceparent": TRACEPARENT, **admin}
    response = await http.post("/graphql", content=orjson.dumps(QUERY), headers=headers)
    assert response.status_code == 200, response.text
    return response


def _under(span: ReadableSpan, ancestor: ReadableSpan, spans: Sequence[ReadableSpan]) -> bool:
    by_id = {s.context.span_id: s for s in spans}
    parent = span.parent
    while parent is not None:
        if parent.span_id == ancestor.context.span_id:
            return True
        above = by_id.get(parent.span_id)
        parent = above.parent if above is not None else None
    return False


async def test_a_request_is_traced_under_the_callers_traceparent(
    traced: tuple[httpx.AsyncClient, InMemorySpanExporter], admin: dict[str, str]
) -> None:
    http, exporter = traced
    await _ask(http, admin)
    spans = exporter.get_finished_spans()
    (request,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert request.context.trace_id == int(TRACE_ID, 16)
    assert request.parent is not None
    assert request.parent.span_id == int(PARENT_ID, 16)
    assert request.attributes is not None
    assert request.attributes[OPERATION_NAME] == "Workspaces"
    batches = [s for s in spans if s.name.endswith("Loader.batch")]
    assert batches, [s.name for s in spans]
    assert all(_under(batch, request, spans) for batch in batches)
    assert all(batch.attributes and batch.attributes[LOADER_KEYS] >= 1 for batch in batches)
    sql = [
        s for s in spans if s.instrumentation_scope and s.instrumentation_scope.name == SQL_SCOPE
    ]
    in_batches = [s for s in sql if any(_under(s, batch, spans) for batch in batches)]
    assert len(in_batches) >= 2  # the page and its count
    assert all(s.context.trace_id == int(TRACE_ID, 16) for s in spans)  # no stray trace


async def test_a_cached_hit_is_traced_with_its_operation(
    traced: tuple[httpx.AsyncClient, InMemorySpanExporter], admin: dict[str, str]
) -> None:
    http, exporter = traced
    await _ask(http, admin)
    exporter.clear()
    hit = await _ask(http, admin)
    assert orjson.loads(hit.content)["extensions"]["cache"]["hit"] is True
    spans = exporter.get_finished_spans()
    (request,) = [s for s in spans if s.kind is SpanKind.SERVER]
    assert request.attributes is not None
    assert request.attributes[OPERATION_NAME] == "Workspaces"
    assert request.context.trace_id == int(TRACE_ID, 16)
    assert not [s for s in spans if s.name.endswith(".batch")]  # answered from the cache


_UNTRACED = """
import asyncio, sys
import redis  # redis-py imports OpenTelemetry's metrics SDK when it is installed
before = {name for name in sys.modules if name.startswith("opentelemetry")}
import httpx
from asgi_lifespan import LifespanManager
from gateway.app import create_app
from gateway.loaders import tracing

async def main() -> None:
    app = create_app()
    async with LifespanManager(app) as manager, httpx.AsyncClient(
        transport=httpx.ASGITransport(app=manager.app), base_url="http://gateway.test"
    ) as http:
        await http.get("/healthz")
        await http.post("/graphql", json={"query": "{ __typename }"})
    assert app.state.config.tracing is None and tracing._batch_span is None
    after = {name for name in sys.modules if name.startswith("opentelemetry")}
    print(sorted(after - before))
    print(sorted(n for n in after if n.startswith(("opentelemetry.sdk.trace", "opentelemetry.i"))))

asyncio.run(main())
"""


def test_tracing_off_imports_no_opentelemetry(tmp_path: Path) -> None:
    root = Path(__file__).parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": str(root),
        "GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}",
        "GATEWAY_LOG_LEVEL": "error",
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",  # alone, it turns nothing on
    }
    env.pop("GATEWAY_OTEL_ENABLED", None)
    done = subprocess.run(
        [sys.executable, "-c", _UNTRACED], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "[]"]  # nothing of the app's, no tracing at all


@pytest.mark.parametrize(
    ("env", "expected"), [(None, "gateway"), ("analytics-edge", "analytics-edge")]
)
def test_service_name_follows_otel_service_name(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, env: str | None, expected: str
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    if env is None:
        monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    else:
        monkeypatch.setenv("OTEL_SERVICE_NAME", env)
    try:
        tracing = Tracing.configured(settings.model_copy(update={"otel_enabled": True}))
        assert tracing is not None
        assert tracing.provider.resource.attributes["service.name"] == expected
        tracing.shutdown()
    finally:
        loader_tracing.install_batch_span(None)


def test_an_unknown_exporter_stops_the_start(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "zipkin")
    with pytest.raises(ValueError, match="OTEL_TRACES_EXPORTER"):
        create_app(settings.model_copy(update={"otel_enabled": True}))
    loader_tracing.install_batch_span(None)
