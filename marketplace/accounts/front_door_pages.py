"""Pages of the front door that belong to accounts: "forgot password" and its one-time link, the
public "request access" form, and the platform admin's page of applications to approve or decline.
Controllers only: the rules are in recovery.py and access_requests.py."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace.accounts.access_requests import Application
from marketplace.accounts.models import CompanySegment, HospitalGrade, Role
from marketplace.accounts.pages import organization_input
from marketplace.accounts.services import Accounts
from marketplace.accounts.throttle import ThrottlePolicy
from marketplace.errors import DomainError, FieldError, InvalidInput, Throttled
from marketplace.i18n import N_
from marketplace.tenancy import CurrentPrincipal
from marketplace.web import NOT_FOR_THE_FORM, AppSettings, client_ip, field_errors, flash, render

Form = URLEncodedBody[dict[str, str]]
APPLICATION_FIELDS = tuple(Application.__dataclass_fields__)


class FrontDoorPages(Controller):
    include_in_schema = False

    # ----- forgot password --------------------------------------------------------------------

    @get("/forgot-password")
    async def forgot_form(self, request: Request, principal: CurrentPrincipal) -> Template:
        return render(request, "forgot_password.html", principal, errors={}, email="", sent=False)

    @post("/forgot-password")
    async def forgot(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, settings: AppSettings, data: Form
    ) -> Response:
        email = data.get("email", "").strip()[:254]
        try:
            by_password = await accounts.request_password_reset(
                email, settings, ip=client_ip(request), policy=ThrottlePolicy.of(settings)
            )
        except DomainError as error:
            response: Response = render(
                request, "forgot_password.html", principal, error.status_code, errors=field_errors(error), email=email, sent=False
            )
            if isinstance(error, Throttled):
                response.headers["Retry-After"] = str(error.retry_after)
            return response
        # The same answer whether or not the address has an account (by its domain only, see recovery.py).
        return render(request, "forgot_password.html", principal, errors={}, email=email, sent=True, sso=not by_password)

    @get("/reset-password/{token:str}")
    async def reset_form(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, token: FromPath[str]
    ) -> Template:
        _, user = await accounts.open_password_reset(token)
        return render(request, "reset_password.html", principal, email=user.email, errors={})

    @post("/reset-password/{token:str}")
    async def reset(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, token: FromPath[str], data: Form
    ) -> Response:
        _, user = await accounts.open_password_reset(token)
        try:
            if data.get("password", "") != data.get("password_confirm", ""):
                raise InvalidInput(FieldError("password_confirm", "The two passwords differ."))
            await accounts.reset_password(token, data.get("password", ""), ip=client_ip(request))
        except DomainError as error:
            return render(
                request, "reset_password.html", principal, error.status_code, email=user.email, errors=field_errors(error)
            )
        # Whatever session this browser had ended with the others: sign in afresh.
        request.set_session({"flash": {"message": N_("Your new password is set. Sign in with it."), "kind": "success"}})
        return Redirect("/login")

    # ----- request access ---------------------------------------------------------------------

    @get("/request-access")
    async def access_form(self, request: Request, principal: CurrentPrincipal) -> Template:
        return render(request, "request_access.html", principal, errors={}, form={"kind": "institution"}, sent=False)

    @post("/request-access")
    async def request_access(self, request: Request, principal: CurrentPrincipal, accounts: Accounts, data: Form) -> Response:
        form = {name: data.get(name, "") for name in APPLICATION_FIELDS}
        try:
            await accounts.apply_for_access(Application(**form), ip=client_ip(request))
        except DomainError as error:
            return render(request, "request_access.html", principal, error.status_code, errors=field_errors(error), form=form)
        return render(request, "request_access.html", principal, errors={}, form=form, sent=True)

    # ----- the platform admin's decisions -------------------------------------------------------

    async def _applications(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, status: int = 200, **ctx
    ) -> Template:
        ctx.setdefault("errors", {})
        ctx.setdefault("form", {})
        ctx.setdefault("failed", None)
        return render(
            request,
            "access_requests.html",
            principal,
            status_code=status,
            pending=await accounts.access_requests(principal, pending=True),
            decided=await accounts.access_requests(principal, pending=False),
            grades=list(HospitalGrade),
            segments=list(CompanySegment),
            **ctx,
        )

    @get("/access-requests")
    async def applications(self, request: Request, principal: CurrentPrincipal, accounts: Accounts) -> Template:
        principal.require(Role.platform_admin)
        return await self._applications(request, principal, accounts)

    @post("/access-requests/{request_id:uuid}/approve")
    async def approve(
        self,
        request: Request,
        principal: CurrentPrincipal,
        accounts: Accounts,
        settings: AppSettings,
        request_id: FromPath[uuid.UUID],
        data: Form,
    ) -> Response:
        try:
            details = organization_input(data)
            await accounts.approve_access(principal, request_id, details, settings, ip=client_ip(request))
        except DomainError as error:
            if error.status_code in NOT_FOR_THE_FORM:
                raise
            return await self._applications(
                request, principal, accounts, error.status_code, errors=field_errors(error), form=data, failed=request_id
            )
        flash(request, "Approved: the organization exists and its contact has been invited.")
        return Redirect("/access-requests")

    @post("/access-requests/{request_id:uuid}/decline")
    async def decline(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, request_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        try:
            await accounts.decline_access(principal, request_id, data.get("reason", ""), ip=client_ip(request))
        except DomainError as error:
            if error.status_code in NOT_FOR_THE_FORM:
                raise
            return await self._applications(
                request, principal, accounts, error.status_code, errors=field_errors(error), form=data, failed=request_id
            )
        flash(request, "Declined: the applicant has been told why.")
        return Redirect("/access-requests")
