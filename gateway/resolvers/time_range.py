"""A caller's ``TimeRangeInput`` -> a :class:`DateRange`, against the request's today."""

from __future__ import annotations

from gateway.context import Context
from gateway.metrics.timerange import DateRange, TimeRangeSpec, resolve_time_range


def date_range(context: Context, spec: TimeRangeSpec) -> DateRange:
    """Resolve ``spec`` with the request's UTC date and the configured longest range.

    Raises:
        BadUserInputError: the input is not one valid form (the message says what to fix).
    """
    return resolve_time_range(spec, today=context.today, max_days=context.settings.max_range_days)
