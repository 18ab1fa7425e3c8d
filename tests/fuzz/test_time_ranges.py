"""Random time ranges and granularities on the live gateway: every answer is either a valid
one (no errors, a value for every metric) or a refusal as ``BAD_USER_INPUT`` (or a variable
the schema's types reject); never an internal error, never a 5xx.

The API has no time-zone argument (SPEC §3: ranges are UTC days), so dates carrying an
offset or a time are among the random inputs instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import EXAMPLES, Live

QUERY = """
query Ranges($range: TimeRangeInput!, $granularity: Granularity) {
  workspace(id: "ws-1") {
    activeUsers(timeRange: $range) { value previousValue change changeRate
      series(granularity: $granularity) { date value } }
    estimatedAdRevenue(timeRange: $range) { value series(granularity: $granularity) { value } }
  }
  targetApp(id: "app-1") {
    launches(timeRange: $range) { value series(granularity: $granularity) { date value } }
  }
  miniProgram(id: "mp-1") { pageViews(timeRange: $range) { value } }
}
"""
METRICS = (("workspace", "activeUsers"), ("targetApp", "launches"), ("miniProgram", "pageViews"))
TODAY = dt.datetime.now(dt.UTC).date()

DATES = st.one_of(
    st.dates(min_value=TODAY - dt.timedelta(days=200), max_value=TODAY + dt.timedelta(days=3)).map(
        dt.date.isoformat
    ),
    st.dates().map(dt.date.isoformat),
    st.sampled_from(
        ["2024-02-30", "2024-03-01T00:00:00+08:00", "2024-03-01+14:00", "", "0000-00-00"]
    ),
    st.sampled_from(["2024-3-1", "+2024-03-01", "20240301", "2024-W10", "today", "\x00"]),
    # The edges of the calendar: a range or its previous period must never step past date.min.
    st.sampled_from(["0001-01-01", "0001-01-02", "0001-03-31", "1969-12-31", "1970-01-01"]),
    st.sampled_from(["1970-04-01", "9999-12-31", "10000-01-01"]),
    st.text(max_size=20),
    st.integers(min_value=-(2**63), max_value=2**63),
    st.none(),
)
RANGES = st.fixed_dictionaries(
    {},
    optional={
        "preset": st.sampled_from(
            ["TODAY", "YESTERDAY", "LAST_7_DAYS", "LAST_15_DAYS", "LAST_30_DAYS", "NEXT_WEEK"]
        ),
        "days": st.one_of(
            st.integers(-10, 400),
            st.integers(),
            st.floats(allow_nan=False, allow_infinity=False),
            st.text(max_size=5),
        ),
        "endDate": DATES,
        "from": DATES,
        "to": DATES,
    },
)
GRANULARITIES = st.one_of(st.sampled_from(["DAY", "WEEK", "MONTH", "YEAR", "day"]), st.none())


def _check(body: dict[str, Any]) -> None:
    errors = body.get("errors") or []
    codes = {(e.get("extensions") or {}).get("code") for e in errors}
    assert "INTERNAL_SERVER_ERROR" not in codes, body
    if not errors:  # a valid answer: every metric has a value
        for entity, metric in METRICS:
            assert isinstance(body["data"][entity][metric]["value"], int | float), body
        return
    for error in errors:
        code = (error.get("extensions") or {}).get("code")
        # Refused by the resolver (a path) as bad input, or by the variables' types (no path).
        assert code == "BAD_USER_INPUT" or ("path" not in error and code is None), body


@settings(max_examples=EXAMPLES * 3, deadline=None, suppress_health_check=list(HealthCheck))
@given(time_range=RANGES, granularity=GRANULARITIES)
def test_random_time_ranges_answer_or_are_refused_as_bad_input(
    live: Live, time_range: dict[str, Any], granularity: str | None
) -> None:
    variables = {"range": time_range, "granularity": granularity}
    with httpx.Client(base_url=live.url, headers=live.admin, timeout=30) as client:
        response = client.post("/graphql", json={"query": QUERY, "variables": variables})
    assert response.status_code == 200, response.text[:500]
    _check(response.json())
