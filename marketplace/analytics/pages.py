"""The dashboard page (/analytics) and its tables as CSV and XLSX. The platform's people see the
platform; a TTO its own institution (the service scopes the filter); anyone else a 404. A bad
filter shows the form again with each field's problem (400), never a 500."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from marketplace.analytics import exports
from marketplace.analytics import page_tables as pt
from marketplace.analytics.dashboard import FILTER_FIELDS, KIND_NAMES, DashboardReader
from marketplace.analytics.figures import STUCK_DAYS
from marketplace.analytics.services import Analytics
from marketplace.analytics.tables import DEAL_SORTS
from marketplace.catalog.spreadsheets import spreadsheet_response
from marketplace.errors import NotFound
from marketplace.i18n import gettext
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import attempt, field_errors, page_number, render

# The deals table's sortable columns (DEAL_COLUMNS' index → the service's sort key).
DEAL_SORT_COLUMNS = {5: "signed", 6: "value", 7: "paid", 4: "state", 3: "kind"}


def _filters(request: Request) -> dict[str, str]:
    return {name: value for name in FILTER_FIELDS if (value := request.query_params.get(name) or "")}


def _helpers(filters: dict[str, str]) -> dict[str, Any]:
    """What the templates use to show cells and build links that keep the filters."""

    def link(path: str, **extra: Any) -> str:
        query = urlencode({**filters, **{k: v for k, v in extra.items() if v is not None}})
        return f"{path}?{query}" if query else path

    return {
        "cell": exports.cell_text,
        "header": lambda item: gettext(getattr(item, "label", None) or item.title),
        "link": link,
        "kind_names": KIND_NAMES,
        "deal_sort_columns": DEAL_SORT_COLUMNS,
        "deal_sorts": DEAL_SORTS,
        "stuck_days": STUCK_DAYS,
        "numeric": (pt.COUNT, pt.MONEY, pt.RATE, pt.DAYS),
        "percent": exports.percent_text,
        "step_labels": pt.STEP_LABELS,
    }


class DashboardPages(Controller):
    include_in_schema = False

    @get("/analytics")
    async def dashboard(
        self,
        request: Request,
        principal: CurrentPrincipal,
        analytics: Analytics,
        sort: FromQuery[str] = "signed",
        page: FromQuery[int] = 1,
    ) -> Template:
        """The dashboard for the filter in the query (the last twelve months by default)."""
        reader = DashboardReader(analytics)
        reader.default_scope(principal)
        filters = _filters(request)
        choices = await reader.choices(principal)
        context: dict[str, Any] = {"form": filters, "choices": choices, "platform": analytics.sees_platform(principal)}
        where, refusal = await attempt(reader.scope(principal, filters))
        if where is None:
            assert refusal is not None
            return render(
                request,
                "analytics/dashboard.html",
                principal,
                status_code=400,
                errors=field_errors(refusal),
                d=None,
                **context,
                **_helpers(filters),
            )
        d = await reader.load(principal, where, sort=sort, page=page_number(page))
        return render(
            request,
            "analytics/dashboard.html",
            principal,
            errors={},
            d=d,
            t=pt.tables_of(d),
            **context,
            **_helpers(where.query_string() if filters else {}),
        )

    @get("/analytics/export/{filename:str}")
    async def export(
        self,
        request: Request,
        principal: CurrentPrincipal,
        analytics: Analytics,
        filename: FromPath[str],
        sort: FromQuery[str] = "signed",
    ) -> Response:
        """One table of the dashboard as `<table>.csv` or `<table>.xlsx`, with the query's filters."""
        reader = DashboardReader(analytics)
        reader.default_scope(principal)
        key, _dot, fmt = filename.rpartition(".")
        # An unknown name answers before any figure is computed.
        if fmt not in exports.FORMATS or key not in pt.table_keys(analytics.sees_platform(principal)):
            raise NotFound()
        where = await reader.scope(principal, _filters(request))
        d = await reader.load(principal, where)
        tables = pt.tables_of(d)
        table = (
            pt.deals(d, await reader.all_deals(where, sort if sort in DEAL_SORTS else "signed"))
            if key == "deals"
            else tables[key]
        )
        if fmt == "csv":
            content = await asyncio.to_thread(exports.table_csv, table)
        else:
            described = await reader.describe(where, await reader.choices(principal))
            content = await asyncio.to_thread(exports.table_xlsx, table, described)
        return spreadsheet_response(content, fmt, f"{key}-{where.start.isoformat()}-{where.end.isoformat()}")
