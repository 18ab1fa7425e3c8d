"""An OTLP/HTTP trace receiver in a thread, for tests: what an OpenTelemetry Collector would
receive from the gateway's ``otlp`` exporter (``POST /v1/traces``, protobuf, gzip or not).

Example:
    >>> with otlp_collector() as collector:                                # doctest: +SKIP
    ...     env = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.endpoint}
    ...     collector.spans[0].service, collector.spans[0].name
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from tests.http_thread import serving


@dataclass(frozen=True)
class ReceivedSpan:
    """One exported span, as the receiver decoded it."""

    service: str
    name: str
    trace_id: str
    """32 hex digits."""
    parent_span_id: str
    """16 hex digits; empty for a root span."""
    scope: str
    """The instrumentation scope (``opentelemetry.instrumentation.sqlalchemy``, ...)."""
    attributes: dict[str, Any]


@dataclass
class Collector:
    """The spans received so far, and where to send them."""

    endpoint: str = ""
    spans: list[ReceivedSpan] = field(default_factory=list)
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def received(self) -> list[ReceivedSpan]:
        """A copy of the spans received so far."""
        with self.lock:
            return list(self.spans)


def _value(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    return None if kind is None else getattr(value, kind)


def _attributes(pairs: list[KeyValue]) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


@contextmanager
def otlp_collector() -> Iterator[Collector]:
    """Receive OTLP/HTTP traces on a free port until the block ends."""
    state = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            request = ExportTraceServiceRequest.FromString(body)
            spans = [
                ReceivedSpan(
                    service=str(_attributes(list(rs.resource.attributes)).get("service.name")),
                    name=span.name,
                    trace_id=span.trace_id.hex(),
                    parent_span_id=span.parent_span_id.hex(),
                    scope=ss.scope.name,
                    attributes=_attributes(list(span.attributes)),
                )
                for rs in request.resource_spans
                for ss in rs.scope_spans
                for span in ss.spans
            ]
            with state.lock:
                state.spans.extend(spans)
                state.requests += 1
            answer = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: object) -> None:
            pass

    with serving(Handler) as base:
        state.endpoint = base
        yield state
