"""``MerchantOnboarding``: a workspace's new and total onboarded merchants, by type."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import strawberry

from gateway.metrics.catalog_counts import CountMetric
from gateway.metrics.merchant_onboarding import OnboardingHistory
from gateway.metrics.timerange import DateRange
from gateway.schema.catalog_metrics import count_metric
from gateway.schema.enums import MerchantType
from gateway.schema.metric import Metric


@strawberry.type(
    description="Merchant counts (number of merchants) of one kind: every merchant, and "
    "split by merchant type. Each is a Metric compared with the previous period."
)
class MerchantCounts:
    """``all``, ``technical`` and ``nonTechnical`` metrics of one kind of count."""

    all: Metric = strawberry.field(description="Merchants of both types.")
    technical: Metric = strawberry.field(description="TECHNICAL merchants.")
    non_technical: Metric = strawberry.field(description="NON_TECHNICAL merchants.")

    @classmethod
    def of(cls, make: Callable[[MerchantType | None], CountMetric]) -> MerchantCounts:
        """The three metrics ``make`` builds for no type, TECHNICAL and NON_TECHNICAL."""
        return cls(
            all=count_metric(make(None)),
            technical=count_metric(make(MerchantType.TECHNICAL)),
            non_technical=count_metric(make(MerchantType.NON_TECHNICAL)),
        )


@strawberry.type(description="One UTC day of merchant onboarding, per merchant type.")
class MerchantOnboardingPoint:
    """A day of the onboarding series."""

    date: dt.date = strawberry.field(description="The UTC day.")
    new_technical: int = strawberry.field(
        description="TECHNICAL merchants onboarded that day (onboardedAt on that UTC day)."
    )
    cumulative_technical: int = strawberry.field(
        description="TECHNICAL merchants onboarded by the end of that day (UTC), ever."
    )
    new_non_technical: int = strawberry.field(
        description="NON_TECHNICAL merchants onboarded that day."
    )
    cumulative_non_technical: int = strawberry.field(
        description="NON_TECHNICAL merchants onboarded by the end of that day (UTC), ever."
    )


@strawberry.type(
    description="Merchant onboarding of a workspace over the range R. A merchant counts from "
    "its onboardedAt (merchants not onboarded never count); the previous period is the range "
    "of equal length ending the day before R starts."
)
class MerchantOnboarding:
    """New and total onboarded merchants, and the daily series."""

    new_merchants: MerchantCounts = strawberry.field(
        description="Merchants onboarded on a day of R (previous value: in the previous "
        "period; series: onboarded within each bucket, so points sum to the value)."
    )
    total_merchants: MerchantCounts = strawberry.field(
        description="Merchants onboarded by R's last day, i.e. before the next day 00:00 UTC "
        "(previous value: by the previous period's last day; series: as of each bucket's "
        "last day)."
    )
    series: list[MerchantOnboardingPoint] = strawberry.field(
        description="One point per UTC day of R, in date order."
    )

    @classmethod
    def of(cls, history: OnboardingHistory, span: DateRange) -> MerchantOnboarding:
        """The GraphQL object of a workspace's onboarding history over ``span``."""
        return cls(
            new_merchants=MerchantCounts.of(lambda kind: history.new(span, kind)),
            total_merchants=MerchantCounts.of(lambda kind: history.total(span, kind)),
            series=[
                MerchantOnboardingPoint(
                    date=p.date,
                    new_technical=p.new_technical,
                    cumulative_technical=p.cumulative_technical,
                    new_non_technical=p.new_non_technical,
                    cumulative_non_technical=p.cumulative_non_technical,
                )
                for p in history.daily(span)
            ],
        )
