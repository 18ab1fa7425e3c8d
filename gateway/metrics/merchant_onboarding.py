"""Merchant onboarding of a workspace: new and cumulative onboarded merchants, by type.

A merchant counts from its ``onboardedAt`` on (merchants never onboarded do not count). "New"
over a range = onboarded on one of its days; "total" = onboarded by its last day (before the
next day, 00:00 UTC).

Example:
    >>> from datetime import UTC
    >>> utc = lambda d: datetime(2026, 11, d, 9, tzinfo=UTC)
    >>> history = OnboardingHistory([(MerchantType.TECHNICAL, utc(2)),
    ...                              (MerchantType.NON_TECHNICAL, utc(3))])
    >>> [(p.date.day, p.new_technical, p.cumulative_technical, p.cumulative_non_technical)
    ...  for p in history.daily(DateRange(date(2026, 11, 2), date(2026, 11, 3)))]
    [(2, 1, 1, 0), (3, 0, 1, 1)]
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from gateway.domain import MerchantType
from gateway.metrics.catalog_counts import CountMetric, CumulativeCounter
from gateway.metrics.timerange import DateRange


@dataclass(frozen=True, slots=True)
class OnboardingPoint:
    """One day of the onboarding series.

    Attributes:
        date: The UTC day.
        new_technical: Technical merchants onboarded that day.
        cumulative_technical: Technical merchants onboarded by the end of that day.
        new_non_technical: Non-technical merchants onboarded that day.
        cumulative_non_technical: Non-technical merchants onboarded by the end of that day.
    """

    date: date
    new_technical: int
    cumulative_technical: int
    new_non_technical: int
    cumulative_non_technical: int


class OnboardingHistory:
    """The onboarding instants of one workspace's merchants, per merchant type.

    Args:
        onboardings: ``(merchant type, onboardedAt)`` of every onboarded merchant (aware UTC).
    """

    def __init__(self, onboardings: Iterable[tuple[MerchantType, datetime]]) -> None:
        pairs = list(onboardings)
        self._counters: dict[MerchantType | None, CumulativeCounter] = {
            None: CumulativeCounter(at for _, at in pairs),
            **{
                kind: CumulativeCounter(at for t, at in pairs if t is kind) for kind in MerchantType
            },
        }

    def counter(self, merchant_type: MerchantType | None = None) -> CumulativeCounter:
        """The onboarding instants of one type (None = every type)."""
        return self._counters[merchant_type]

    def new(self, span: DateRange, merchant_type: MerchantType | None = None) -> CountMetric:
        """Merchants onboarded within ``span`` (series: onboarded within each bucket)."""
        return CountMetric(self.counter(merchant_type), span, cumulative=False)

    def total(self, span: DateRange, merchant_type: MerchantType | None = None) -> CountMetric:
        """Merchants onboarded by ``span``'s last day (series: as of each bucket's last day)."""
        return CountMetric(self.counter(merchant_type), span, cumulative=True)

    def daily(self, span: DateRange) -> list[OnboardingPoint]:
        """One point per day of ``span``: new and cumulative counts of both types."""
        technical = self.counter(MerchantType.TECHNICAL)
        other = self.counter(MerchantType.NON_TECHNICAL)
        return [
            OnboardingPoint(
                date=day,
                new_technical=technical.within(DateRange(day, day)),
                cumulative_technical=technical.by_day(day),
                new_non_technical=other.within(DateRange(day, day)),
                cumulative_non_technical=other.by_day(day),
            )
            for day in span.each_day()
        ]
