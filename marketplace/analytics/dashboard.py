"""What the dashboard page and its exports read: the filter form's query as a DashboardQuery (every
bad field named, through the shared forms mechanism), its choices, and every figure for the filter
the service scoped. The service decides who sees what; nothing here checks a role."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

from marketplace import forms
from marketplace.analytics import schemas
from marketplace.analytics.filters import DashboardFilter
from marketplace.analytics.services import MAX_DEALS_PAGE, AnalyticsService
from marketplace.analytics.tables import DEAL_SORTS
from marketplace.catalog.models import ListingKind
from marketplace.catalog.services import CatalogService
from marketplace.i18n import N_, current_locale, gettext
from marketplace.tenancy import Principal

FILTER_FIELDS = ("year", "quarter", "start", "end", "city", "institution", "area", "kind")
DEALS_PER_PAGE = 25
KIND_NAMES = {ListingKind.result.value: N_("Research results"), ListingKind.resource.value: N_("Clinical resources")}


def query_of(params: Mapping[str, str]) -> schemas.DashboardQuery:
    """The form's non-blank fields as a query; raises InvalidInput naming every bad one (a blank
    select is no filter; unknown parameters such as the deals' sort are not the filter's)."""
    data = {name: params[name].strip() for name in FILTER_FIELDS if (params.get(name) or "").strip()}
    return forms.convert(data, schemas.DashboardQuery, strict=False)


@dataclass
class Choices:
    """The filter form's selects."""

    cities: list[str]
    institutions: list[tuple[uuid.UUID, str]]  # empty for an institution's own dashboard
    areas: list[tuple[str, str, str]]  # code, Chinese, English
    kinds: list[str] = field(default_factory=lambda: [k.value for k in ListingKind])


@dataclass
class Dashboard:
    where: DashboardFilter
    platform: bool  # the platform's dashboard (else an institution's own)
    institution_name: str
    summary: schemas.Summary
    funnel: schemas.Funnel
    rates: schemas.MatchRates
    times: schemas.Times
    pay_later: schemas.PayLater
    income: schemas.Income
    beds: schemas.Beds
    deals: schemas.Deals
    sort: str
    page: int
    events: schemas.EventFigures | None = None
    freshness: schemas.Freshness | None = None
    inbox: schemas.Inbox | None = None

    @property
    def worst_stall(self) -> schemas.Stall | None:
        """The stage where most of the period's requests stopped (open there or lost there)."""
        stalls = [s for s in self.funnel.stalls if s.open + s.lost]
        return max(stalls, key=lambda s: s.open + s.lost) if stalls else None

    @property
    def pages(self) -> int:
        return max(1, -(-self.deals.total // DEALS_PER_PAGE))


class DashboardReader:
    def __init__(self, analytics: AnalyticsService) -> None:
        self.analytics = analytics

    def default_scope(self, principal: Principal) -> DashboardFilter:
        """The filter with nothing asked: the service refuses (404) who has no dashboard, before any
        field of the form is looked at; a visitor not signed in is sent to sign in (401) first."""
        principal.require()
        return self.analytics.scope(principal, schemas.DashboardQuery())

    async def scope(self, principal: Principal, params: Mapping[str, str]) -> DashboardFilter:
        """The filter the form asks for, as the service scopes it (a TTO's own institution, whatever
        the form says); InvalidInput names every bad field."""
        return self.analytics.scope(principal, query_of(params))

    async def choices(self, principal: Principal) -> Choices:
        institutions = await self.analytics.accounts.directory("institution")
        areas = await CatalogService(self.analytics.session).areas()
        platform = self.analytics.sees_platform(principal)
        return Choices(
            cities=sorted({org.city for org in institutions if org.city}),
            institutions=[(org.id, org.name_zh) for org in institutions] if platform else [],
            areas=[(a.code, a.name_zh, a.name_en) for a in areas],
        )

    async def load(self, principal: Principal, where: DashboardFilter, *, sort: str = "signed", page: int = 1) -> Dashboard:
        analytics = self.analytics
        figures = analytics.figures(where)
        platform = analytics.sees_platform(principal)
        sort = sort if sort in DEAL_SORTS else "signed"
        deals = await analytics.deals(figures, sort=sort, page=page, per_page=DEALS_PER_PAGE)
        dashboard = Dashboard(
            where=where,
            platform=platform,
            institution_name=await self._institution_name(where),
            summary=await analytics.summary(figures),
            funnel=await figures.funnel(),
            rates=await figures.match_rates(),
            times=await figures.times(),
            pay_later=await figures.pay_later(),
            income=await analytics.income(figures),
            beds=await analytics.beds(figures),
            deals=deals,
            sort=sort,
            page=page,
            events=await figures.events(),
        )
        if not platform:
            dashboard.freshness = await figures.freshness()
            dashboard.inbox = await figures.inbox(dashboard.times, dashboard.rates)
        return dashboard

    async def all_deals(self, where: DashboardFilter, sort: str = "signed") -> list[schemas.Deal]:
        """Every deal of the filter, a page of the service's largest at a time (for the exports)."""
        figures = self.analytics.figures(where)
        rows: list[schemas.Deal] = []
        page = 1
        while True:
            found = await self.analytics.deals(figures, sort=sort, page=page, per_page=MAX_DEALS_PAGE)
            rows += found.rows
            if len(rows) >= found.total or not found.rows:
                return rows
            page += 1

    async def describe(self, where: DashboardFilter, choices: Choices) -> str:
        """The filters in words, for the head of an export."""
        parts = [gettext("Period: %(start)s to %(end)s", start=where.start.isoformat(), end=where.end.isoformat())]
        if where.city:
            parts.append(gettext("City: %(city)s", city=where.city))
        if where.institution_id:
            parts.append(gettext("Institution: %(name)s", name=await self._institution_name(where)))
        if where.area:
            names = {code: (en if current_locale.get() == "en" else zh) for code, zh, en in choices.areas}
            parts.append(gettext("Therapeutic area: %(area)s", area=names.get(where.area, where.area)))
        if where.kind:
            parts.append(gettext("Listing kind: %(kind)s", kind=gettext(KIND_NAMES.get(where.kind, where.kind))))
        return " · ".join(parts)

    async def _institution_name(self, where: DashboardFilter) -> str:
        if where.institution_id is None:
            return ""
        orgs = await self.analytics.accounts.public_organizations({where.institution_id})
        org = orgs.get(where.institution_id)
        return org.display_name(current_locale.get()) if org else ""
