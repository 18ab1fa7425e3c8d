"""OpenTelemetry tracing, off unless ``GATEWAY_OTEL_ENABLED`` is true.

On, a request is traced as::

    POST /graphql                      server span; child of the caller's W3C ``traceparent``
    │                                  graphql.operation.name = "Overview"
    ├── MetricResultLoader.batch       one per dataloader batch (gateway.loader.keys = 12)
    │   └── SELECT gateway_test        one per SQL statement (db.statement, ...)
    └── ...

The request span comes from OpenTelemetry's ASGI middleware (outermost, so it covers the fast
path of cached answers too); the batch spans from :mod:`gateway.loaders.tracing`; the SQL
spans from the SQLAlchemy instrumentation's :class:`EngineTracer`, bound to the app's own
engine only. The tracer provider is the app's, not the global one: two apps in one process
(tests) keep their spans apart.

Spans leave through a batch processor to the exporter ``OTEL_TRACES_EXPORTER`` names:
``otlp`` (default; OTLP over HTTP, configured by the standard ``OTEL_EXPORTER_OTLP_*``
variables), ``console`` or ``none``. ``OTEL_SERVICE_NAME`` names the service (default
``gateway``). Those variables alone do not turn tracing on: a platform may set them for every
container, and tracing costs a little on every request.

Off, nothing of OpenTelemetry is imported: this module imports it inside
:meth:`Tracing.configured` only.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from starlette.middleware import Middleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.loaders.tracing import install_batch_span
from gateway.settings import Settings
from gateway.web.request_state import request_state

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Tracer
    from sqlalchemy.ext.asyncio import AsyncEngine

SERVICE_NAME = "gateway"
"""The service name when ``OTEL_SERVICE_NAME`` is unset."""
OPERATION_NAME = "graphql.operation.name"
"""The request span's attribute naming the GraphQL operation (as the semantic conventions)."""
LOADER_KEYS = "gateway.loader.keys"
"""A batch span's attribute: how many keys the batch answered."""
UNTRACED_PATHS = "/healthz,/readyz,/metrics,/static/"
"""Probes, scrapes and assets get no span (a comma-separated list of path patterns)."""


class Tracing:
    """The app's tracer provider and what it instruments (see the module docstring)."""

    def __init__(self, provider: TracerProvider) -> None:
        self.provider = provider
        self._tracer: Tracer = provider.get_tracer("gateway")

    @classmethod
    def configured(cls, settings: Settings) -> Tracing | None:
        """Tracing as ``settings`` ask, installed for the loaders; None when off.

        Args:
            settings: ``otel_enabled`` decides; spans go to a batch processor on the exporter
                ``OTEL_TRACES_EXPORTER`` names (a test adds its own to :attr:`provider`).

        Raises:
            ImportError: Tracing is on but the ``otel`` extra is not installed.
            ValueError: ``OTEL_TRACES_EXPORTER`` names an exporter other than ``otlp``,
                ``console`` or ``none``.
        """
        if not settings.otel_enabled:
            install_batch_span(None)
            return None
        try:
            from gateway.web.tracing_sdk import tracer_provider
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise ImportError(
                "GATEWAY_OTEL_ENABLED needs OpenTelemetry: pip install "
                "'miniprogram-analytics-gateway[otel]'"
            ) from exc
        name = os.environ.get("OTEL_SERVICE_NAME") or SERVICE_NAME
        exporter = os.environ.get("OTEL_TRACES_EXPORTER", "otlp")
        provider = tracer_provider(name, exporter)
        tracing = cls(provider)
        install_batch_span(tracing.batch_span)
        return tracing

    def middleware(self) -> list[Middleware]:
        """The request span (outermost), then the operation name recorded on it."""
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        return [
            Middleware(
                OpenTelemetryMiddleware,
                excluded_urls=UNTRACED_PATHS,
                tracer_provider=self.provider,
                exclude_spans=["receive", "send"],  # a span per ASGI message is noise
            ),
            Middleware(OperationName),
        ]

    def instrument(self, engine: AsyncEngine) -> None:
        """A span per SQL statement run on ``engine`` (its listeners go with the engine)."""
        from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
        from opentelemetry.metrics import NoOpMeterProvider

        # The instrumentation counts pool connections in a meter; the gateway's pool metrics
        # are Prometheus', so that counter goes nowhere.
        usage = (
            NoOpMeterProvider()
            .get_meter("gateway")
            .create_up_down_counter("db.client.connections.usage")
        )
        tracer = self.provider.get_tracer("opentelemetry.instrumentation.sqlalchemy")
        # The instrumentation is untyped; its listeners live on the engine.
        EngineTracer(tracer, engine.sync_engine, usage, enable_commenter=False)  # type: ignore[no-untyped-call]

    @contextmanager
    def batch_span(self, loader: str, keys: int) -> Iterator[object]:
        """The span of one dataloader batch (:func:`gateway.loaders.tracing.traced_batch`)."""
        with self._tracer.start_as_current_span(
            f"{loader}.batch", attributes={LOADER_KEYS: keys}
        ) as span:
            yield span

    def shutdown(self) -> None:
        """Export the spans still queued and stop (the app's lifespan ends)."""
        self.provider.shutdown()


class OperationName:
    """ASGI middleware inside the request span: names the GraphQL operation on it as the
    response starts (the cost limit, or the fast path, has recorded the name by then; the
    span ends with the response's last message)."""

    def __init__(self, app: ASGIApp) -> None:
        from opentelemetry import trace

        self.app = app
        self._current_span = trace.get_current_span

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request, setting :data:`OPERATION_NAME` on the current span."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        span = self._current_span()

        async def naming_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                operation = request_state(scope).cost.operation
                if operation:
                    span.set_attribute(OPERATION_NAME, operation)
            await send(message)

        await self.app(scope, receive, naming_send)
