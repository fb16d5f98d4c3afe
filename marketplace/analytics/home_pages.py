"""The home page `/`: the landing page for visitors, the role's work queue for a signed-in person."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from marketplace.accounts.services import Accounts
from marketplace.analytics.home import Home
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import render


class HomePages(Controller):
    include_in_schema = False

    @get("/")
    async def home(self, request: Request, principal: CurrentPrincipal, accounts: Accounts, home: Home) -> Template:
        if not principal.is_authenticated:
            return render(request, "landing.html", principal)
        org = await accounts.get_organization(principal, principal.acting_organization_id)
        activity = await home.recent_activity(principal)
        return render(
            request,
            "analytics/home.html",
            principal,
            org=org,
            queue=await home.queue(principal),
            activity=activity,
            actors=await accounts.user_names({a.event.actor_user_id for a in activity if a.event.actor_user_id}),
        )
