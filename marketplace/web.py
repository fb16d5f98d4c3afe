"""Page helpers shared by every domain's pages.py: rendering with the layout's context, the
navigation by role, and error pages."""

from __future__ import annotations

import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qsl

from litestar import Request, Response
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.exceptions import SerializationException
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from marketplace import forms, i18n
from marketplace.accounts.models import ADMIN_ROLES, COMPANY_ROLES, INSTITUTION_ROLES, PLATFORM_ROLES, TTO_ROLES, Role
from marketplace.config import Settings
from marketplace.errors import DomainError, Duplicate, FieldError
from marketplace.i18n import N_
from marketplace.tenancy import ANONYMOUS, Principal

AppSettings = NamedDependency[Settings]

API_PREFIXES = ("/api/", "/oauth/", "/health", "/ready", "/metrics", "/schema")

# One bound for every list's page and page size: past these an OFFSET overflows PostgreSQL's bigint
# (a 500), and no person pages that far. The API refuses with a field error; pages clamp.
MAX_PAGE = 10_000
MAX_PAGE_SIZE = 100
Page = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE)]
PageSize = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE_SIZE)]


def page_number(page: int) -> int:
    """A page's ?page= within 1..MAX_PAGE: pages drop odd values rather than refuse them."""
    return min(max(page, 1), MAX_PAGE)


def client_ip(request: Request) -> str | None:
    """The peer's address for the audit trail, or None when it is not an IP (test clients, odd proxies)."""
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIXES)


@dataclass(frozen=True)
class NavItem:
    label: str  # message id, translated in the template
    href: str
    roles: frozenset[Role] | None = None  # None: every signed-in user
    public: bool = False  # also shown to visitors who are not signed in


NAVIGATION = (
    NavItem("Dashboard", "/"),
    NavItem("Catalogue", "/listings", public=True),
    NavItem("Search", "/search", public=True),
    NavItem("Saved searches", "/saved-searches", COMPANY_ROLES),
    NavItem("My shortlist", "/shortlist", COMPANY_ROLES),
    # The TTO lands on its inbox (by deadline); everyone else on the list of requests they may see.
    NavItem("Matches", "/match-requests/inbox", TTO_ROLES),
    NavItem(
        "Matches",
        "/match-requests",
        COMPANY_ROLES | PLATFORM_ROLES | {Role.inventor},
    ),
    # A company lands on its own needs; everyone else on the open needs and challenges.
    NavItem("Needs", "/needs/mine", COMPANY_ROLES),
    NavItem(
        "Needs",
        "/needs",
        INSTITUTION_ROLES | PLATFORM_ROLES,
    ),
    NavItem("Review", "/review", TTO_ROLES),
    # Each lands on the statement that is theirs: the inventor's own, the institution's (/statements redirects).
    NavItem("Statements", "/statements", frozenset({Role.inventor, Role.tto_manager}) | PLATFORM_ROLES),
    NavItem("Import", "/listings/import", TTO_ROLES),
    NavItem("Ledger", "/ledger/income", TTO_ROLES),
    # The TTO's agreements by next due day; a company's administrator's own licences.
    NavItem("Licences", "/agreements", TTO_ROLES | {Role.company_admin}),
    # Research wards (研究型病房): the TTO manages its own and answers requests; companies book beds.
    NavItem("Research wards", "/wards", TTO_ROLES | COMPANY_ROLES),
    # Matchmaking events (对接会): read by every signed-in caller.
    NavItem("Events", "/events"),
    # The platform's dashboard for its people; a TTO's is its own institution's.
    NavItem("Analytics", "/analytics", PLATFORM_ROLES | TTO_ROLES),
    NavItem("Organizations", "/organizations", PLATFORM_ROLES),
    NavItem("Access requests", "/access-requests", frozenset({Role.platform_admin})),
    NavItem("Members", "/members", ADMIN_ROLES),
    # Integration clients (OAuth 2): an institution's or company's own systems calling the API.
    NavItem("Integrations", "/integrations", frozenset({Role.tto_manager, Role.company_admin, Role.platform_admin})),
    # API tokens, the profile and e-mail settings sit under the person's menu (templates/base.html).
)


def navigation(principal: Principal) -> list[NavItem]:
    if not principal.is_authenticated:
        return [item for item in NAVIGATION if item.public]
    return [item for item in NAVIGATION if item.roles is None or principal.role in item.roles]


def render(request: Request, template: str, principal: Principal, status_code: int = 200, **context) -> Template:
    flash = request.session.pop("flash", None) if "session" in request.scope else None
    return Template(
        template_name=template,
        context={
            "principal": principal,
            "nav": navigation(principal),
            "path": request.url.path,
            "flash": flash,
            "unread_notifications": request.state.get("unread_notifications", 0) if principal.is_authenticated else 0,
            **context,
        },
        status_code=status_code,
    )


def safe_next(target: str | None) -> str:
    """Only same-site paths, so a crafted link cannot bounce a fresh login elsewhere."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/"


T = TypeVar("T")

# Refusals a page does not show beside its form: the sign-in page, the error page (not found).
NOT_FOR_THE_FORM = frozenset({401, 403, 404})


async def attempt(step: Awaitable[T]) -> tuple[T | None, DomainError | None]:
    """A page's service call: (its result, None), or (None, the refusal) when the service refused
    the input or the step, for the page to show beside its form with the refusal's status (so the
    request's transaction rolls back). Not signed in, not allowed and not found propagate."""
    try:
        return await step, None
    except DomainError as error:
        if error.status_code in NOT_FOR_THE_FORM:
            raise
        return None, error


def field_errors(error: DomainError) -> dict[str, str]:
    """A refusal's field errors by field, translated; its message under "__all__" when it names none."""
    errors = {e.field: i18n.gettext(e.message, **e.params) for e in error.errors}
    if not errors:
        errors["__all__"] = i18n.gettext(error.message, **error.params)
    return errors


def refusal_errors(refusal: DomainError, rename: Mapping[str, str] | None = None) -> dict[str, str]:
    """A refusal beside a form: its field errors by form input (forms.by_input), else its message
    under "__all__"."""
    return forms.by_input(refusal.errors, rename) or {"__all__": i18n.gettext(refusal.message, **refusal.params)}


def to_existing(request: Request, refusal: DomainError | None, url: Callable[[object], str]) -> Redirect | None:
    """A form sent twice (a double click, two tabs): the record the first one made, with the
    refusal as a notice, rather than an error on a form already done."""
    if isinstance(refusal, Duplicate) and refusal.existing is not None:
        flash(request, refusal.message, "warning")
        return Redirect(url(refusal.existing))
    return None


def area_names(areas) -> dict[str, str]:
    """Therapeutic areas' names by code, in the request's language (the catalogue's and search's pages)."""
    english = i18n.current_locale.get() == "en"
    return {a.code: (a.name_en if english else a.name_zh) for a in areas}


def flash(request: Request, message: str, kind: str = "success") -> None:
    """A one-time notice shown on the next page (message id; translated when shown)."""
    request.session["flash"] = {"message": message, "kind": kind}


def render_error(request: Request, status_code: int, detail: str) -> Response:
    principal = getattr(request.state, "principal", ANONYMOUS)
    return render(request, "error.html", principal, status_code=status_code, status=status_code, detail=detail)


def request_locale(request: Request) -> str:
    """The language for answers made before the locale middleware ran (the router's own 404)."""
    return i18n.pick_locale(request.cookies.get(i18n.LANG_COOKIE), request.headers.get("accept-language"))


URL_ENCODED = "application/x-www-form-urlencoded"
MULTIPART = "multipart/form-data"


# A page route's `opt` key: its handler refuses control characters in its form itself, beside the
# form it shows again (control_character_refusal), instead of the edge's error page.
KEEPS_FORM = "refuses_control_characters_on_its_form"


async def refuse_control_characters(request: Request) -> Response | None:
    """before_request for every route: text holding a control character (a NUL, which PostgreSQL
    cannot store, among them) is refused here, once, with a 400 naming each field, before any
    handler reads it. Litestar keeps the parsed body in the request's scope, so the handler gets
    the same body without reading it again. A page route marked KEEPS_FORM checks its form itself
    (any other body is checked here)."""
    form_body = request.content_type[0] in (URL_ENCODED, MULTIPART)
    if request.route_handler.opt.get(KEEPS_FORM) and form_body and not is_api(request):
        errors = _pairs_errors(request.query_params.multi_items())
        errors += forms.control_character_errors({k: v for k, v in request.path_params.items() if isinstance(v, str)})
        return render_error(request, 400, _control_detail(errors)) if errors else None
    errors = _pairs_errors(request.query_params.multi_items())
    errors += forms.control_character_errors({k: v for k, v in request.path_params.items() if isinstance(v, str)})
    errors += await _body_errors(request)
    if not errors:
        return None
    errors = list({e.field: e for e in errors}.values())  # a repeated field once
    detail = _control_detail(errors)
    if not is_api(request):
        return render_error(request, 400, detail)
    shown = [{"field": e.field, "message": i18n.gettext(e.message, **e.params)} for e in errors]
    return Response({"status_code": 400, "detail": detail, "errors": shown}, status_code=400)


def _control_detail(errors: list[FieldError]) -> str:
    fields = ", ".join(dict.fromkeys(e.field for e in errors))
    return i18n.gettext(
        "These fields contain a control character (such as NUL), which is not allowed: %(fields)s.", fields=fields
    )


async def control_character_refusal(request: Request) -> DomainError | None:
    """For a KEEPS_FORM page: its form's text (and file names) holding a control character, as a
    400 naming each field for the page to show beside the form."""
    errors = await _body_errors(request)
    if not errors:
        return None
    errors = list({e.field: e for e in errors}.values())
    fields = ", ".join(e.field for e in errors)
    message = N_("These fields contain a control character (such as NUL), which is not allowed: %(fields)s.")
    return DomainError(message, *errors, status_code=400, fields=fields)


async def _body_errors(request: Request) -> list[FieldError]:
    """The body as its handler reads it: a form's fields (uploads by their file name, not their
    contents), else JSON, else url-encoded pairs (a form route parses its body whatever the type)."""
    content_type = request.content_type[0]
    if content_type == MULTIPART:
        return _pairs_errors((await request.form()).multi_items())
    body = await request.body()
    if not body:
        return []
    errors: list[FieldError] = []
    try:
        errors += forms.control_character_errors(await request.json())
        is_json = True
    except SerializationException:  # not JSON: a JSON route answers that itself
        is_json = False
    if content_type == URL_ENCODED or not is_json:
        errors += _pairs_errors(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    return errors


def _pairs_errors(pairs: Iterable[tuple[str, Any]]) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, value in pairs:
        text = value.filename if isinstance(value, UploadFile) else value
        errors += forms.control_character_errors({name: text})
    return errors
