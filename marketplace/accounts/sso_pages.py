"""Pages of single sign-on: start at the organization's provider, come back to the callback.
The service (oidc_flow.py) holds every rule; a failure is its SsoError, shown by the error page."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery
from litestar.response import Redirect

from marketplace import i18n
from marketplace.accounts.oidc import STATE_LIFETIME
from marketplace.accounts.oidc_flow import BROWSER_COOKIE, STATE_GONE, SignOn, SsoError
from marketplace.accounts.throttle import ThrottlePolicy
from marketplace.i18n import N_
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import AppSettings, client_ip, render

SSO_ORG = "sso_org_id"
SSO_ID_TOKEN = "sso_id_token"


def continue_to(request: Request, principal: Principal, url: str, heading: str) -> Response:
    """A page that moves on to the provider at once (meta refresh): a redirect would be stopped by the
    browser, as the form that led here may post only to this site (CSP form-action 'self')."""
    return render(request, "sso_redirect.html", principal, url=url, heading=i18n.gettext(heading))


class SsoPages(Controller):
    include_in_schema = False

    @get("/login/sso")
    async def start(
        self,
        request: Request,
        principal: CurrentPrincipal,
        sign_on: SignOn,
        settings: AppSettings,
        org: FromQuery[str | None] = None,
        email: FromQuery[str | None] = None,
    ) -> Response:
        url, browser_key = await sign_on.begin(
            organization=org,
            email=email,
            web_session_id=principal.session_id,
            browser_key=request.cookies.get(BROWSER_COOKIE),
            ip=client_ip(request),
            policy=ThrottlePolicy.for_sso(settings),
        )
        response = continue_to(request, principal, url, N_("Taking you to your organization's sign-in page…"))
        # Binds the sign-in to this browser: sent only under /login/sso, lax so the provider's
        # redirect (a top-level GET from another site) carries it.
        response.set_cookie(
            BROWSER_COOKIE,
            browser_key,
            max_age=int(STATE_LIFETIME.total_seconds()),
            path="/login/sso",
            httponly=True,
            samesite="lax",
            secure=settings.base_url.startswith("https://"),
        )
        return response

    @get("/login/sso/callback")
    async def callback(
        self,
        request: Request,
        principal: CurrentPrincipal,
        sign_on: SignOn,
        settings: AppSettings,
        code: FromQuery[str | None] = None,
        error: FromQuery[str | None] = None,
    ) -> Response:
        state = request.query_params.get("state")  # `state` is a name Litestar keeps for the app state
        if not state:
            raise SsoError(STATE_GONE, "no_state")
        user, organization_id, id_token = await sign_on.finish(
            state,
            code=code,
            error=error,
            browser_key=request.cookies.get(BROWSER_COOKIE),
            web_session_id=principal.session_id,
            ip=client_ip(request),
            policy=ThrottlePolicy.for_sso(settings),
        )
        # As the password sign-in does: a new user in the session gets a new session id and CSRF token.
        # The session (server-side) keeps the ID token for the provider's sign-out.
        request.set_session(
            {"user_id": str(user.id), "org_id": str(organization_id), SSO_ORG: str(organization_id), SSO_ID_TOKEN: id_token}
        )
        response = Redirect("/")
        if user.locale in i18n.LOCALES:
            response.set_cookie(i18n.LANG_COOKIE, user.locale, max_age=365 * 86400, samesite="lax")
        return response
