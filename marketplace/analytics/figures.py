"""The dashboards' figures, each one SQL aggregate over the reporting views (migration 0016) or a
small live table, filtered by a DashboardFilter. Nothing here loads rows to count them in Python.

Definitions (the dashboard page shows them too):
- a request belongs to the period it was submitted in; the funnel follows those requests to the
  furthest stage they reached (accepted, negotiating, a signed agreement, its first payment);
- 对接率 (HI-CLIP's hospital match rate): of the institutions with a published listing, the share
  that had a request accepted in the period;
- answered in time: requests due in the period (and already due) answered on or before their day;
- pay-later: the pay-later licences signed in the period, by their state now.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from marketplace.analytics.events_figures import EventQueries
from marketplace.analytics.queries import days_between, duration, percentiles, rate
from marketplace.analytics.schemas import (
    Band,
    Duration,
    Funnel,
    Inbox,
    Income,
    InstitutionIncome,
    KeyAmount,
    MatchRates,
    MonthAmount,
    PayLater,
    Rate,
    Stall,
    Step,
    StuckState,
    Summary,
    Times,
)
from marketplace.analytics.tables import TableFigures

STUCK_DAYS = 30  # an open request without a move for this long is stuck
OPEN_STATES = ["submitted", "under_review", "info_requested", "accepted", "negotiating"]
WAITING_FOR_INSTITUTION = ["submitted", "under_review"]
LOST_STATES = ["declined", "withdrawn", "closed_no_deal"]
# Contract value bands of China's annual transfer report, in fen (万元 × 1,000,000).
WAN = 1_000_000
BANDS = (("lt_100w", 0, 100 * WAN), ("100w_500w", 100 * WAN, 500 * WAN), ("500w_1000w", 500 * WAN, 1000 * WAN),
         ("1000w_1y", 1000 * WAN, 10000 * WAN), ("ge_1y", 10000 * WAN, None))  # fmt: skip
CATEGORIES = ("inventors", "tto", "iit_fund", "institution", "costs")


class Figures(TableFigures, EventQueries):
    """The figures for one filter (the row tables are in tables.py)."""

    # ----- headline -------------------------------------------------------------------------------

    async def summary(self, refreshed_at: datetime | None = None) -> Summary:
        dims, params = self.where.dimensions("f")
        params |= self._period()
        requests = await self._one(
            "SELECT count(*), count(DISTINCT f.institution_id) FROM analytics_requests f "
            f"WHERE f.submitted_at >= :since AND f.submitted_at < :until{dims}",
            **params,
        )
        companies = await self._one(
            "SELECT count(DISTINCT company_id) FROM ("
            f" SELECT f.company_id FROM analytics_requests f WHERE f.submitted_at >= :since AND f.submitted_at < :until{dims}"
            f" UNION SELECT f.company_id FROM analytics_agreements f WHERE f.signed_at >= :since AND f.signed_at < :until{dims}"
            ") c",
            **params,
        )
        signed = await self._one(
            f"SELECT count(*) FROM analytics_agreements f WHERE f.signed_at >= :since AND f.signed_at < :until{dims}", **params
        )
        published = await self._one(
            f"SELECT count(*) FROM analytics_listings f WHERE f.status = 'published'{dims}", **self.where.dimensions("f")[1]
        )
        income = await self._one(
            f"SELECT coalesce(sum(f.amount_fen), 0) FROM analytics_income_days f WHERE f.received_on BETWEEN :start AND :end{dims}",
            **params,
        )
        return Summary(
            period=self.where.period,
            companies=companies[0],
            projects=requests[0],
            hospitals=requests[1],
            project_centres=await self._project_centres(),
            listings_published=published[0],
            agreements_signed=signed[0],
            income_fen=int(income[0]),
            refreshed_at=refreshed_at,
        )

    async def _project_centres(self) -> int:
        """Trial centres (engagements) opened in the period: a live table, small."""
        dims, params = self.where.dimensions("d", institution="e.institution_id", city="o.city")
        row = await self._one(
            "SELECT count(*) FROM trial_engagements e JOIN organizations o ON o.id = e.institution_id "
            "LEFT JOIN analytics_listing_dims d ON d.listing_id = e.listing_id "
            f"WHERE e.created_at >= :since AND e.created_at < :until{dims}",
            **params,
            **self._period(),
        )
        return row[0]

    # ----- the funnel -----------------------------------------------------------------------------

    async def funnel(self) -> Funnel:
        dims, params = self.where.dimensions("f")
        params |= self._period()
        # Listings viewed and their views, as two scans: the distinct count reads only the key
        # (listing_id, day), in its order, without a sort; the listings' view is joined only when a
        # dimension is set (a year is 100,000s of view-days).
        only = f" AND v.listing_id IN (SELECT f.listing_id FROM analytics_listings f WHERE true{dims})" if dims else ""
        viewed = f"FROM listing_view_days v WHERE v.day BETWEEN :start AND :end{only}"
        listings_viewed = await self._one(f"SELECT count(DISTINCT v.listing_id) {viewed}", **params)
        views = await self._one(f"SELECT coalesce(sum(v.views), 0) {viewed}", **params)
        # The first conversion compares listings with listings: of those viewed, the share that
        # received a request in the period; the later ones follow the requests.
        *cohort, asked_about = await self._one(
            "SELECT count(*), count(f.accepted_at), count(f.negotiating_at), count(f.signed_at), count(f.first_payment_on),"
            " count(DISTINCT f.listing_id) FILTER (WHERE EXISTS (SELECT 1 FROM listing_view_days v"
            "  WHERE v.listing_id = f.listing_id AND v.day BETWEEN :start AND :end))"
            f" FROM analytics_requests f WHERE f.submitted_at >= :since AND f.submitted_at < :until{dims}",
            **params,
        )
        names = ("viewed", "requested", "accepted", "negotiating", "agreement", "first_payment")
        counts = [listings_viewed[0], *cohort]
        conversions = [
            None,
            rate(asked_about, counts[0]).rate_bp,
            *(rate(n, counts[i]).rate_bp for i, n in enumerate(counts[2:], 1)),
        ]
        steps = [
            Step(step=name, count=count, conversion_bp=conversion)
            for name, count, conversion in zip(names, counts, conversions, strict=True)
        ]
        stalls = await self._all(
            "SELECT stage, count(*) FILTER (WHERE state = ANY(:open)), count(*) FILTER (WHERE state = ANY(:lost)) FROM ("
            " SELECT f.state, CASE WHEN f.signed_at IS NOT NULL THEN 'agreement'"
            "  WHEN f.agreed_at IS NOT NULL THEN 'agreed' WHEN f.negotiating_at IS NOT NULL THEN 'negotiating'"
            "  WHEN f.accepted_at IS NOT NULL THEN 'accepted' ELSE 'requested' END AS stage"
            f" FROM analytics_requests f WHERE f.submitted_at >= :since AND f.submitted_at < :until{dims}"
            ") s WHERE stage <> 'agreement' GROUP BY stage",
            **params,
            open=OPEN_STATES,
            lost=LOST_STATES,
        )
        by_stage = {stage: (n_open, n_lost) for stage, n_open, n_lost in stalls}
        stuck = await self._all(
            "SELECT f.state, count(*) FROM analytics_requests f "
            f"WHERE f.state = ANY(:open) AND f.state_changed_at < now() - make_interval(days => :days){dims} GROUP BY f.state",
            **self.where.dimensions("f")[1],
            open=OPEN_STATES,
            days=STUCK_DAYS,
        )
        stuck_by_state = dict(stuck)
        return Funnel(
            period=self.where.period,
            listing_views=int(views[0]),
            steps=steps,
            stalls=[
                Stall(stage=stage, open=by_stage.get(stage, (0, 0))[0], lost=by_stage.get(stage, (0, 0))[1])
                for stage in ("requested", "accepted", "negotiating", "agreed")
            ],
            stuck=[StuckState(state=state, count=stuck_by_state.get(state, 0)) for state in OPEN_STATES],
            stuck_days=STUCK_DAYS,
        )

    # ----- match rates and times ------------------------------------------------------------------

    async def match_rates(self) -> MatchRates:
        dims, params = self.where.dimensions("f")
        params |= self._period()
        institutions = await self._one(
            "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM analytics_requests r"
            f" WHERE r.institution_id = l.id AND r.accepted_at >= :since AND r.accepted_at < :until"
            f"{self.where.dimensions('r')[0]}))"
            # Institutions (a small table) probing for a published listing, not a pass over all listings.
            " FROM organizations l WHERE l.kind = 'institution' AND EXISTS (SELECT 1 FROM analytics_listings f"
            f" WHERE f.institution_id = l.id AND f.status = 'published'{dims})",
            **params,
        )
        answered = await self._one(
            "SELECT count(*), count(*) FILTER (WHERE f.first_answered_at IS NOT NULL"
            " AND (f.first_answered_at AT TIME ZONE 'Asia/Shanghai')::date <= f.due_on)"
            " FROM analytics_requests f WHERE f.due_on BETWEEN :start AND :end"
            f" AND (f.due_on < :today OR f.first_answered_at IS NOT NULL){dims}",
            **params,
            today=self.today,
        )

        needs = await self._needs()
        return MatchRates(
            period=self.where.period,
            institutions=rate(institutions[1], institutions[0]),
            needs=needs,
            answered_in_time=rate(answered[1], answered[0]),
        )

    async def _needs(self) -> Rate:
        """Needs opened in the period, and those with a selected response; with an institution or
        city filter, the needs answered by those institutions and their own responses selected."""
        conditions, params = [], self._period()
        if self.where.area is not None:
            conditions.append(":area = ANY(n.areas)")
            params["area"] = self.where.area
        responders = ""
        if self.where.institution_id is not None or self.where.city is not None:
            responders = " AND r.institution_id = :institution_id" if self.where.institution_id else ""
            responders += " AND o.city = :city" if self.where.city else ""
            params |= {k: v for k, v in (("institution_id", self.where.institution_id), ("city", self.where.city)) if v}
            conditions.append(
                "EXISTS (SELECT 1 FROM need_responses r JOIN organizations o ON o.id = r.institution_id"
                f" WHERE r.need_id = n.id{responders})"
            )
        selected = (
            "EXISTS (SELECT 1 FROM need_responses r JOIN organizations o ON o.id = r.institution_id"
            f" WHERE r.need_id = n.id AND r.state = 'selected'{responders})"
        )
        row = await self._one(
            f"SELECT count(*), count(*) FILTER (WHERE {selected}) FROM needs n"
            " WHERE n.opened_at >= :since AND n.opened_at < :until" + "".join(f" AND {c}" for c in conditions),
            **params,
        )
        return rate(row[1], row[0])

    async def times(self) -> Times:
        dims, params = self.where.dimensions("f")
        params |= self._period()
        cohort = f"FROM analytics_requests f WHERE f.submitted_at >= :since AND f.submitted_at < :until{dims}"
        # The three durations in one pass over the period's requests.
        stages = ("f.first_answered_at", "f.accepted_at", "f.signed_at")
        row = await self._one(
            f"SELECT {', '.join(percentiles(days_between(s, 'f.submitted_at')) for s in stages)} {cohort}", **params
        )
        first, accepted, signed = row[0:3], row[3:6], row[6:9]
        return Times(
            period=self.where.period,
            first_response=duration(first),
            acceptance=duration(accepted),
            agreement=duration(signed),
            trial_startup=await self._trial_startup(),
            overdue_now=await self.overdue_now(),
        )

    async def _trial_startup(self) -> Duration:
        """The start-up clock of beds/startup.py — from a centre's last review approval to its first
        consent — for the centres whose first consent fell in the period."""
        dims, params = self.where.dimensions("d", institution="e.institution_id", city="o.city")
        days = "(e.first_consent_on - e.reviews_approved_on)"
        row = await self._one(
            f"SELECT {percentiles(days)} FROM trial_engagements e JOIN organizations o ON o.id = e.institution_id "
            "LEFT JOIN analytics_listing_dims d ON d.listing_id = e.listing_id "
            f"WHERE e.first_consent_on BETWEEN :start AND :end AND e.reviews_approved_on IS NOT NULL{dims}",
            **params,
            **self._period(),
        )
        return duration(row)

    async def overdue_now(self) -> int:
        dims, params = self.where.dimensions("f")
        row = await self._one(
            "SELECT count(*) FROM analytics_requests f WHERE f.state = ANY(:waiting) AND f.first_answered_at IS NULL"
            f" AND f.response_due_on < :today{dims}",
            **params,
            waiting=WAITING_FOR_INSTITUTION,
            today=self.today,
        )
        return row[0]

    # ----- licences and money ---------------------------------------------------------------------

    async def pay_later(self) -> PayLater:
        dims, params = self.where.dimensions("f")
        row = await self._one(
            "SELECT count(*), count(*) FILTER (WHERE f.state = 'in_use'), count(*) FILTER (WHERE f.state = 'converted'),"
            " count(*) FILTER (WHERE f.state = 'exited'), count(*) FILTER (WHERE f.state = 'terminated'),"
            " count(*) FILTER (WHERE f.defaulted) FROM analytics_agreements f"
            f" WHERE f.kind = 'pay_later' AND f.signed_at >= :since AND f.signed_at < :until{dims}",
            **params,
            **self._period(),
        )
        signed, in_use, converted, exited, terminated, defaulted = row
        return PayLater(
            period=self.where.period,
            signed=signed,
            in_use=in_use,
            converted=converted,
            exited=exited,
            terminated=terminated,
            defaulted=defaulted,
            conversion_bp=rate(converted, converted + exited).rate_bp,
        )

    async def income(self, names: dict[uuid.UUID, tuple[str, int | None]]) -> Income:
        """`names`: each institution's name and health-technician count (accounts' data, read by
        the service)."""
        dims, params = self.where.dimensions("f")
        params |= self._period()
        # One pass over the period's daily sums for every breakdown (GROUPING's bits: 3 month, 5
        # institution, 6 deal kind, 7 the whole period).
        month = "to_char(f.received_on, 'YYYY-MM')"
        rows = await self._all(
            f"SELECT GROUPING({month}, f.institution_id, f.deal_kind), {month}, f.institution_id, f.deal_kind, sum(f.amount_fen), "
            + ", ".join(f"sum(f.{c}_fen)" for c in CATEGORIES)
            + f" FROM analytics_income_days f WHERE f.received_on BETWEEN :start AND :end{dims}"
            f" GROUP BY GROUPING SETS (({month}), (f.institution_id), (f.deal_kind), ())",
            **params,
        )
        months = sorted((r[1], int(r[4])) for r in rows if r[0] == 3)
        institutions = sorted(((r[2], int(r[4])) for r in rows if r[0] == 5), key=lambda i: (-i[1], str(i[0])))
        kinds = sorted(((r[3], int(r[4])) for r in rows if r[0] == 6), key=lambda k: (-k[1], k[0]))
        whole = next((r for r in rows if r[0] == 7 and r[4] is not None), None)
        parts = [int(v or 0) for v in whole[5:]] if whole else [0] * len(CATEGORIES)
        return Income(
            period=self.where.period,
            total_fen=sum(int(total) for _id, total in institutions),
            by_month=[MonthAmount(month=m, amount_fen=int(a)) for m, a in months],
            by_institution=[self._per_institution(i, int(total), names) for i, total in institutions],
            by_deal_kind=[KeyAmount(key=k, amount_fen=int(a)) for k, a in kinds],
            by_category=[KeyAmount(key=c, amount_fen=int(a)) for c, a in zip(CATEGORIES, parts, strict=True)],
            value_bands=await self.value_bands(),
        )

    @staticmethod
    def _per_institution(
        institution_id: uuid.UUID, total: int, names: dict[uuid.UUID, tuple[str, int | None]]
    ) -> InstitutionIncome:
        name, technicians = names.get(institution_id, ("", None))
        return InstitutionIncome(
            institution_id=institution_id,
            name=name,
            amount_fen=total,
            health_technicians=technicians,
            per_100_technicians_fen=total * 100 // technicians if technicians else None,
        )

    async def value_bands(self) -> list[Band]:
        """Agreements signed in the period by contract value (CNY)."""
        dims, params = self.where.dimensions("f")
        cases = " ".join(
            f"WHEN f.value_fen >= {low}{f' AND f.value_fen < {high}' if high else ''} THEN '{name}'" for name, low, high in BANDS
        )
        rows = await self._all(
            f"SELECT CASE {cases} END AS band, count(*), coalesce(sum(f.value_fen), 0) FROM analytics_agreements f"
            f" WHERE f.currency = 'CNY' AND f.signed_at >= :since AND f.signed_at < :until{dims} GROUP BY band",
            **params,
            **self._period(),
        )
        found = {band: (count, int(value)) for band, count, value in rows}
        return [Band(band=name, count=found.get(name, (0, 0))[0], value_fen=found.get(name, (0, 0))[1]) for name, _l, _h in BANDS]

    # ----- an institution's own -----------------------------------------------------------------

    async def inbox(self, times: Times | None = None, rates: MatchRates | None = None) -> Inbox:
        """The institution's requests now (open, overdue) and in the period (first answers). The
        dashboard passes the times and rates it already loaded for this filter, so its page does not
        run both sets of queries twice for two of their numbers."""
        dims, params = self.where.dimensions("f")
        waiting = await self._one(
            f"SELECT count(*) FROM analytics_requests f WHERE f.state = ANY(:waiting){dims}",
            **params,
            waiting=WAITING_FOR_INSTITUTION,
        )
        times = times if times is not None else await self.times()
        rates = rates if rates is not None else await self.match_rates()
        return Inbox(
            open=waiting[0],
            overdue=times.overdue_now,
            first_response=times.first_response,
            answered_in_time=rates.answered_in_time,
        )
