"""Pages of accounts: sign-in, organization and language switch, profile, API tokens,
members and invitations. Form handlers re-render with field errors and change nothing on error."""

from __future__ import annotations

import uuid

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import i18n
from marketplace.accounts.models import ROLES_BY_KIND, CompanySegment, HospitalGrade, OrgKind, Role
from marketplace.accounts.oidc import SsoConfig
from marketplace.accounts.oidc_flow import SignOn
from marketplace.accounts.organizations import OrganizationInput
from marketplace.accounts.services import Accounts
from marketplace.accounts.sso_pages import SSO_ID_TOKEN, SSO_ORG, continue_to
from marketplace.accounts.throttle import ThrottlePolicy
from marketplace.errors import DomainError, FieldError, Forbidden, InvalidInput, Throttled
from marketplace.i18n import N_
from marketplace.tenancy import ANONYMOUS, CurrentPrincipal
from marketplace.web import AppSettings, client_ip, field_errors, flash, render, safe_next

Form = URLEncodedBody[dict[str, str]]


def _int_or_none(form: dict[str, str], name: str, errors: list[FieldError]) -> int | None:
    value = form.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        errors.append(FieldError(name, "Enter a whole number."))
        return None


def organization_input(form: dict[str, str]) -> OrganizationInput:
    errors: list[FieldError] = []
    kind = form.get("kind", "")
    if kind not in set(OrgKind):
        raise InvalidInput(FieldError("kind", "Not one of the allowed values."))
    data = OrganizationInput(
        kind=kind,
        name_zh=form.get("name_zh", "").strip(),
        name_en=form.get("name_en", "").strip() or None,
        city=form.get("city", "").strip(),
        district=form.get("district", "").strip() or None,
    )
    if not data.city:
        errors.append(FieldError("city", "Required."))
    if kind == OrgKind.institution:
        data.grade = form.get("grade") or None
        if data.grade and data.grade not in set(HospitalGrade):
            errors.append(FieldError("grade", "Not one of the allowed values."))
        data.approved_beds = _int_or_none(form, "approved_beds", errors)
        data.research_beds = _int_or_none(form, "research_beds", errors)
        data.health_technicians = _int_or_none(form, "health_technicians", errors)
        data.pi_concurrent_trial_threshold = _int_or_none(form, "pi_concurrent_trial_threshold", errors)
        data.gcp_certified = form.get("gcp_certified") == "on"
        data.ethics_alliance_member = form.get("ethics_alliance_member") == "on"
    elif kind == OrgKind.company:
        data.credit_code = form.get("credit_code", "").strip().upper() or None
        data.segment = form.get("segment") or None
        if data.segment and data.segment not in set(CompanySegment):
            errors.append(FieldError("segment", "Not one of the allowed values."))
    if errors:
        raise InvalidInput(*errors)
    return data


class AccountPages(Controller):
    include_in_schema = False

    # ----- sign-in, switches ------------------------------------------------------------

    @get("/login")
    async def login_form(self, request: Request, principal: CurrentPrincipal, next: FromQuery[str | None] = None) -> Response:
        if principal.is_authenticated:
            return Redirect(safe_next(next))
        return render(request, "login.html", principal, next=safe_next(next), errors={}, email="")

    @post("/login")
    async def login(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, settings: AppSettings, data: Form
    ) -> Response:
        email = data.get("email", "").strip()
        target = safe_next(data.get("next"))
        try:
            user, found = await accounts.sign_in(
                email, data.get("password", ""), ip=client_ip(request), policy=ThrottlePolicy.of(settings)
            )
        except DomainError as error:
            response: Response = render(
                request,
                "login.html",
                principal,
                status_code=error.status_code,
                next=target,
                errors=field_errors(error),
                email=email,
            )
            if isinstance(error, Throttled):
                response.headers["Retry-After"] = str(error.retry_after)
            return response
        # A new user in the session: the session middleware gives it a new id and CSRF token.
        request.set_session({"user_id": str(user.id), "org_id": str(found.organization_id)})
        response = Redirect(target)
        if user.locale in i18n.LOCALES:
            response.set_cookie(i18n.LANG_COOKIE, user.locale, max_age=365 * 86400, samesite="lax")
        return response

    @post("/logout")
    async def logout(self, request: Request, principal: CurrentPrincipal, accounts: Accounts, sign_on: SignOn) -> Response:
        await accounts.sign_out(principal, ip=client_ip(request))
        session = request.session if "session" in request.scope else {}
        provider_logout = await sign_on.end_session_url(session.get(SSO_ORG), session.get(SSO_ID_TOKEN))
        response: Response = Redirect("/login")
        if provider_logout:  # drawn before the session is cleared: the page takes its flash message from it
            response = continue_to(
                request, ANONYMOUS, provider_logout, N_("Signing you out at your organization's identity provider…")
            )
        request.clear_session()
        return response

    @post("/sign-out-everywhere")
    async def sign_out_everywhere(self, request: Request, principal: CurrentPrincipal, accounts: Accounts) -> Redirect:
        await accounts.sign_out_everywhere(principal, ip=client_ip(request))
        request.clear_session()
        return Redirect("/login")

    @post("/switch-org")
    async def switch_org(self, request: Request, principal: CurrentPrincipal, data: Form) -> Redirect:
        principal.require()
        wanted = data.get("organization_id", "")
        if wanted not in {str(m.organization_id) for m in principal.memberships}:
            flash(request, "You are not a member of that organization.", "error")
        else:
            # Another organization in the session: the session middleware gives it a new id.
            request.session["org_id"] = wanted
        return Redirect("/")

    @post("/lang")
    async def switch_language(self, request: Request, principal: CurrentPrincipal, accounts: Accounts, data: Form) -> Redirect:
        locale = data.get("locale", "")
        response = Redirect(safe_next(data.get("next")))
        if locale in i18n.LOCALES:
            response.set_cookie(i18n.LANG_COOKIE, locale, max_age=365 * 86400, samesite="lax")
            if principal.is_authenticated:
                await accounts.update_profile(principal, locale=locale)
        return response

    # ----- profile ----------------------------------------------------------------------------

    async def _profile(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, settings: AppSettings, status: int = 200, **ctx
    ) -> Template:
        user = await accounts.get_user(principal)
        ctx.setdefault("errors", {})
        sessions = await accounts.my_sessions(principal, settings)
        return render(request, "profile.html", principal, status_code=status, user=user, sessions=sessions, **ctx)

    @get("/profile")
    async def profile(self, request: Request, principal: CurrentPrincipal, accounts: Accounts, settings: AppSettings) -> Template:
        principal.require()
        return await self._profile(request, principal, accounts, settings)

    @post("/profile")
    async def update_profile(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, settings: AppSettings, data: Form
    ) -> Response:
        principal.require()
        try:
            await accounts.update_profile(principal, name=data.get("name", ""))
        except DomainError as error:
            return await self._profile(request, principal, accounts, settings, 400, errors=field_errors(error))
        flash(request, "Saved.")
        return Redirect("/profile")

    @post("/profile/password")
    async def change_password(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, settings: AppSettings, data: Form
    ) -> Response:
        principal.require()
        try:
            await accounts.change_password(principal, data.get("current_password", ""), data.get("new_password", ""))
        except DomainError as error:
            return await self._profile(request, principal, accounts, settings, 400, errors=field_errors(error))
        flash(request, "Your password has been changed.")
        return Redirect("/profile")

    # ----- API tokens -------------------------------------------------------------------------

    @get("/tokens")
    async def tokens(self, request: Request, principal: CurrentPrincipal, accounts: Accounts) -> Template:
        principal.require()
        created = request.session.pop("new_token", None)
        return render(request, "tokens.html", principal, tokens=await accounts.list_tokens(principal), created=created, errors={})

    @post("/tokens")
    async def create_token(self, request: Request, principal: CurrentPrincipal, accounts: Accounts, data: Form) -> Response:
        principal.require()
        try:
            _token, raw = await accounts.create_token(principal, data.get("name", ""), ip=client_ip(request))
        except DomainError as error:
            tokens = await accounts.list_tokens(principal)
            return render(request, "tokens.html", principal, 400, tokens=tokens, created=None, errors=field_errors(error))
        # Shown once on the next page, then gone from the session.
        request.session["new_token"] = raw
        return Redirect("/tokens")

    @post("/tokens/{token_id:uuid}/revoke")
    async def revoke_token(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, token_id: FromPath[uuid.UUID]
    ) -> Redirect:
        await accounts.revoke_token(principal, token_id)
        flash(request, "The token has been revoked.")
        return Redirect("/tokens")

    # ----- members ----------------------------------------------------------------------------

    async def _members(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, status: int = 200, **ctx
    ) -> Template:
        if not principal.is_org_admin:
            raise Forbidden()
        org_id = principal.acting_organization_id
        ctx.setdefault("errors", {})
        ctx.setdefault("form", {})
        return render(
            request,
            "members.html",
            principal,
            status_code=status,
            members=await accounts.list_members(principal, org_id),
            invitations=await accounts.pending_invitations(principal, org_id),
            roles=ROLES_BY_KIND[OrgKind(principal.acting_org_kind)],
            **ctx,
        )

    @get("/members")
    async def members(self, request: Request, principal: CurrentPrincipal, accounts: Accounts) -> Template:
        principal.require()
        return await self._members(request, principal, accounts)

    @post("/members")
    async def invite(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, settings: AppSettings, data: Form
    ) -> Response:
        principal.require()
        email = data.get("email", "").strip()
        try:
            await accounts.invite_and_send(
                principal,
                principal.acting_organization_id,
                settings,
                email=email,
                name=data.get("name", ""),
                role=data.get("role", ""),
                ip=client_ip(request),
            )
        except DomainError as error:
            return await self._members(request, principal, accounts, 400, errors=field_errors(error), form=data)
        flash(request, "Invitation sent.")
        return Redirect("/members")

    @post("/members/{membership_id:uuid}/role")
    async def change_role(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, membership_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        principal.require()
        try:
            await accounts.change_role(principal, principal.acting_organization_id, membership_id, data.get("role", ""))
        except DomainError as error:
            if error.status_code == 404:
                raise
            return await self._members(request, principal, accounts, error.status_code, errors=field_errors(error))
        flash(request, "The role has been changed.")
        return Redirect("/members")

    @post("/members/{membership_id:uuid}/remove")
    async def remove_member(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, membership_id: FromPath[uuid.UUID]
    ) -> Response:
        principal.require()
        try:
            await accounts.remove_member(principal, principal.acting_organization_id, membership_id)
        except DomainError as error:
            if error.status_code == 404:
                raise
            return await self._members(request, principal, accounts, error.status_code, errors=field_errors(error))
        flash(request, "The member has been removed.")
        return Redirect("/members")

    # ----- invitations ------------------------------------------------------------------------

    @get("/invitations/{token:str}")
    async def invitation(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, token: FromPath[str]
    ) -> Template:
        invitation, user, org = await accounts.open_invitation(token)
        return render(request, "invitation.html", principal, invitation=invitation, user=user, org=org, errors={})

    @post("/invitations/{token:str}")
    async def accept_invitation(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, token: FromPath[str], data: Form
    ) -> Response:
        invitation, user, org = await accounts.open_invitation(token)
        password = data.get("password") if user.password_hash is None else None
        try:
            if password is not None and password != data.get("password_confirm"):
                raise InvalidInput(FieldError("password_confirm", "The two passwords differ."))
            await accounts.accept_invitation(token, password=password, name=data.get("name"))
        except DomainError as error:
            return render(
                request, "invitation.html", principal, 400, invitation=invitation, user=user, org=org, errors=field_errors(error)
            )
        request.set_session({"user_id": str(user.id), "org_id": str(org.id)})
        flash(request, "Welcome! Your account is ready.")
        return Redirect("/")

    # ----- organizations (platform) -----------------------------------------------------------

    async def _organizations(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, sso: SsoConfig, status: int = 200, **ctx
    ) -> Template:
        principal.require(Role.platform_admin, Role.platform_analyst)
        ctx["sso"] = await sso.statuses(principal)  # None: no single sign-on column (the analyst)
        ctx.setdefault("errors", {})
        ctx.setdefault("form", {})
        return render(
            request,
            "organizations.html",
            principal,
            status_code=status,
            organizations=await accounts.list_organizations(principal),
            grades=list(HospitalGrade),
            segments=list(CompanySegment),
            **ctx,
        )

    @get("/organizations")
    async def organizations(self, request: Request, principal: CurrentPrincipal, accounts: Accounts, sso: SsoConfig) -> Template:
        return await self._organizations(request, principal, accounts, sso)

    @post("/organizations")
    async def create_organization(
        self, request: Request, principal: CurrentPrincipal, accounts: Accounts, sso: SsoConfig, data: Form
    ) -> Response:
        principal.require(Role.platform_admin)
        try:
            await accounts.create_organization(principal, organization_input(data))
        except DomainError as error:
            return await self._organizations(
                request, principal, accounts, sso, error.status_code, errors=field_errors(error), form=data
            )
        flash(request, "The organization has been created.")
        return Redirect("/organizations")
