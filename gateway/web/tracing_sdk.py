"""The OpenTelemetry SDK side of :mod:`gateway.web.tracing`: the tracer provider, its sampler
and exporter. Imported only when tracing is on (it imports the SDK at the top).

Example:
    >>> provider = tracer_provider("gateway", "none")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, TraceState, get_current_span
from opentelemetry.util.types import Attributes


class RequestsOnly(Sampler):
    """Drops client spans that start a trace of their own, then asks ``inner``.

    The SQL a process runs outside any request (the snapshot-generation poll every
    ``GATEWAY_CACHE_POLL_SECONDS``, the refresher) would otherwise be a one-span trace each
    time; a request's SQL has the request's span above it and is sampled with it.
    """

    def __init__(self, inner: Sampler) -> None:
        self.inner = inner

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: TraceState | None = None,
    ) -> SamplingResult:
        """DROP for a parentless client span; else ``inner``'s decision."""
        parent = get_current_span(parent_context).get_span_context()
        if kind is SpanKind.CLIENT and not parent.is_valid:
            return SamplingResult(Decision.DROP)
        return self.inner.should_sample(
            parent_context, trace_id, name, kind, attributes, links, trace_state
        )

    def get_description(self) -> str:
        """The sampler's name, as the SDK reports it."""
        return f"RequestsOnly{{{self.inner.get_description()}}}"


def tracer_provider(service_name: str, exporter: str) -> TracerProvider:
    """A provider for ``service_name`` sampling as ``OTEL_TRACES_SAMPLER`` says (the SDK's
    default: every trace, or as the caller's ``traceparent`` decided), requests only.

    Args:
        service_name: The ``service.name`` resource attribute.
        exporter: ``otlp`` (OTLP over HTTP, ``OTEL_EXPORTER_OTLP_*``), ``console`` or
            ``none`` (no processor: a caller may add its own).

    Raises:
        ValueError: Another exporter name.
    """
    resource = Resource.create({"service.name": service_name})
    inner = TracerProvider(resource=resource).sampler  # the one OTEL_TRACES_SAMPLER names
    provider = TracerProvider(resource=resource, sampler=RequestsOnly(inner))
    processor = _processor(exporter)
    if processor is not None:
        provider.add_span_processor(processor)
    return provider


def _processor(exporter: str) -> SpanProcessor | None:
    if exporter == "none":
        return None
    if exporter == "console":
        return BatchSpanProcessor(ConsoleSpanExporter())
    if exporter != "otlp":
        raise ValueError(f"OTEL_TRACES_EXPORTER={exporter!r}: use otlp, console or none")
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return BatchSpanProcessor(OTLPSpanExporter())
