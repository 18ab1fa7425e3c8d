"""The process-wide bounds of ingestion, applied from the settings in one call.

The clock-skew tolerance and retained window of events (:mod:`gateway.store.ingest.events`) and
the quarantine's
size (:mod:`gateway.store.ingest.quarantine`) are module settings of the process that ingests:
the app, the CLI and each parallel worker call :func:`configure_ingest` once.
"""

from __future__ import annotations

from gateway.settings import Settings
from gateway.store.ingest.events import set_max_clock_skew, set_raw_event_retention
from gateway.store.ingest.quarantine import set_quarantine_max_rows


def configure_ingest(settings: Settings) -> None:
    """Apply ``GATEWAY_MAX_CLOCK_SKEW_SECONDS``, ``GATEWAY_RAW_EVENT_RETENTION_DAYS`` and
    ``GATEWAY_QUARANTINE_MAX_ROWS``."""
    set_max_clock_skew(settings.max_clock_skew_seconds)
    set_raw_event_retention(settings.raw_event_retention_days)
    set_quarantine_max_rows(settings.quarantine_max_rows)
