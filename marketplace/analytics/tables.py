"""The figures that are tables of rows: bed use by institution and ward, the deals, and an
institution's listings by status."""

from __future__ import annotations

import uuid

from marketplace.analytics.queries import Queries, rate
from marketplace.analytics.schemas import Beds, Deal, Deals, Freshness, InstitutionBeds, KeyCount, WardUse

# The deals table's sort keys (a column of analytics_agreements each, newest or largest first).
DEAL_SORTS = {
    "signed": "f.signed_at DESC NULLS LAST",
    "value": "f.value_fen DESC",
    "paid": "f.paid_fen DESC",
    "state": "f.state",
    "kind": "f.kind",
    "created": "f.created_at DESC",
}
Names = dict[uuid.UUID, str]


class TableFigures(Queries):
    async def beds(self, names: Names, approved_beds: dict[uuid.UUID, int | None]) -> Beds:
        """Utilisation in the period: bed-days held by approved and active allocations (the capacity
        trigger's ward_day_usage) over the bed-days the wards were open. `names` and `approved_beds`
        come from accounts through the service."""
        dims, params = self.where.dimensions("d", institution="w.institution_id", city="o.city")
        rows = await self._all(
            "SELECT w.id, w.institution_id, w.name, w.beds,"
            " w.beds * greatest(0, least(coalesce(w.closes_on, :end), :end) - greatest(w.opens_on, :start) + 1) AS capacity,"
            " coalesce((SELECT sum(u.held) FROM ward_day_usage u WHERE u.ward_id = w.id AND u.day BETWEEN :start AND :end), 0),"
            " (w.opens_on <= :end AND (w.closes_on IS NULL OR w.closes_on >= :end)) AS open_at_end"
            " FROM wards w JOIN organizations o ON o.id = w.institution_id"
            f" LEFT JOIN analytics_listing_dims d ON d.listing_id = w.listing_id WHERE true{dims}"
            " ORDER BY o.name_zh, w.name",
            **params,
            start=self.where.start,
            end=self.where.end,
        )
        wards = [
            WardUse(
                ward_id=ward_id,
                institution_id=institution_id,
                name=name,
                beds=beds,
                capacity_bed_days=int(capacity),
                held_bed_days=int(held),
                utilisation_bp=rate(int(held), int(capacity)).rate_bp,
            )
            for ward_id, institution_id, name, beds, capacity, held, _open in rows
        ]
        institutions: dict[uuid.UUID, InstitutionBeds] = {}
        for (_w, institution_id, _n, beds, _c, _h, open_at_end), ward in zip(rows, wards, strict=True):
            total = institutions.setdefault(
                institution_id,
                InstitutionBeds(
                    institution_id=institution_id,
                    name=names.get(institution_id, ""),
                    approved_beds=approved_beds.get(institution_id),
                    ward_beds=0,
                    capacity_bed_days=0,
                    held_bed_days=0,
                    utilisation_bp=None,
                    over_line=False,
                ),
            )
            total.ward_beds += beds if open_at_end else 0
            total.capacity_bed_days += ward.capacity_bed_days
            total.held_bed_days += ward.held_bed_days
        for total in institutions.values():
            total.utilisation_bp = rate(total.held_bed_days, total.capacity_bed_days).rate_bp
            total.over_line = total.approved_beds is not None and total.ward_beds * 10 > total.approved_beds
        return Beds(period=self.where.period, institutions=list(institutions.values()), wards=wards)

    async def deals(self, *, sort: str = "signed", limit: int = 50, offset: int = 0) -> Deals:
        """Agreements signed in the period, or drafted in it and not signed yet (the parties' names
        are filled in by the service, from accounts)."""
        dims, params = self.where.dimensions("f")
        scope = (
            "FROM analytics_agreements f WHERE coalesce(f.signed_at, f.created_at) >= :since"
            f" AND coalesce(f.signed_at, f.created_at) < :until{dims}"
        )
        params |= self._period()
        total = (await self._one(f"SELECT count(*) {scope}", **params))[0]
        rows = await self._all(
            "SELECT f.agreement_id, f.title, f.institution_id, f.company_id, f.kind, f.state, f.signed_at, f.value_fen,"
            f" f.paid_fen, f.match_request_id {scope} ORDER BY {DEAL_SORTS[sort]}, f.agreement_id LIMIT :limit OFFSET :offset",
            **params,
            limit=limit,
            offset=offset,
        )
        return Deals(
            period=self.where.period,
            total=total,
            rows=[
                Deal(
                    agreement_id=agreement_id,
                    title=title,
                    institution_id=institution_id,
                    institution="",
                    company_id=company_id,
                    company="",
                    kind=kind,
                    state=state,
                    signed_at=signed_at,
                    value_fen=int(value),
                    paid_fen=int(paid),
                    match_request_id=request_id,
                )
                for agreement_id, title, institution_id, company_id, kind, state, signed_at, value, paid, request_id in rows
            ],
        )

    async def freshness(self) -> Freshness:
        """The filter's listings now, by status, and the stale ones among the published."""
        dims, params = self.where.dimensions("f")
        rows = await self._all(
            f"SELECT f.status, count(*) FROM analytics_listings f WHERE true{dims} GROUP BY f.status ORDER BY f.status", **params
        )
        stale = await self._one(
            f"SELECT count(*) FROM analytics_listings f WHERE f.status = 'published' AND f.is_stale{dims}", **params
        )
        return Freshness(by_status=[KeyCount(key=status, count=count) for status, count in rows], stale=stale[0])
