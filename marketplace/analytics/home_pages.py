"""The home page `/`: the landing page for visitors, the role's work queue for a signed-in person."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from marketplace.accounts.services import Accounts
from marketplace.analytics.front_door import FrontDoor
from marketplace.analytics.home import Home
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import area_names, render


class HomePages(Controller):
    include_in_schema = False

    @get("/")
    async def home(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, home: Home, front_door: FrontDoor
    ) -> Template:
        if not principal.is_authenticated:
            showcase = await front_door.showcase()
            return render(request, "landing.html", principal, showcase=showcase, area_names=area_names(showcase.areas))
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
