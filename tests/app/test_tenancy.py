"""Every route × every role × own organization / other organization / anonymous.

A new route must be added to API_ROUTES or PAGE_ROUTES (or, if it is public by design, to PUBLIC
with the reason): test_every_route_is_in_the_matrix fails otherwise.
"""

from __future__ import annotations

import io
import re
import uuid

import msgspec
import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import select

from marketplace.accounts.models import ADMIN_ROLES, Role
from marketplace.accounts.oidc import OidcProviderInput, SingleSignOn
from marketplace.accounts.profiles import LogoUpload, ProfileInput
from marketplace.accounts.services import AccountService
from marketplace.catalog import spreadsheets
from marketplace.catalog.models import ShortlistEntry
from marketplace.catalog.schemas import ListingCreate
from marketplace.matching.needs.schemas import NeedCreate, ResponseCreate
from marketplace.matching.needs.services import NeedService
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.requests.services import MatchingService
from marketplace.matching.threads.files import IncomingFile
from marketplace.matching.threads.models import ThreadAttachment
from marketplace.matching.threads.services import ThreadService
from marketplace.notifications.services import NotificationService
from marketplace.search.saved_searches import SavedSearchService
from tests.accounts.factories import seed_application
from tests.accounts.integration_factories import manages_client, matrix_client, new_client_body
from tests.analytics.dashboard_factories import matrix_dashboard
from tests.app.matrix import Route, any_role, check_api_matrix, check_page_matrix, fresh_member, managed, only, readable
from tests.beds.factories import (
    centre_body,
    matrix_allocation,
    matrix_allocation_body,
    matrix_document_file,
    matrix_engagement,
    matrix_engagement_body,
    matrix_engagement_document,
    matrix_fee_payment,
    matrix_fresh_project,
    matrix_over_capacity,
    matrix_paid_allocation,
    matrix_paid_engagement,
    matrix_project,
    matrix_project_without_centres,
    matrix_request_form,
    matrix_review,
    matrix_ward,
    matrix_ward_body,
    project_body,
)
from tests.catalog.factories import result_body, result_form, seed_listing
from tests.events.routes import API_ROUTES as EVENT_API_ROUTES
from tests.events.routes import PAGE_ROUTES as EVENT_PAGE_ROUTES
from tests.ledger.factories import (
    BEIJING_SHARES,
    SHANGHAI_SHARES,
    idempotency_key,
    income_body,
    matrix_exception,
    matrix_income,
    matrix_income_form,
    matrix_inventor,
    matrix_payout,
    matrix_payout_form,
    matrix_result,
    matrix_result_income,
    policy_body,
    policy_form,
)
from tests.licensing.factories import (
    matrix_agreement,
    matrix_approved,
    matrix_body,
    matrix_draft,
    matrix_form,
    matrix_licence_result,
    matrix_milestone,
    matrix_open_licence,
    matrix_payment,
    matrix_record,
    matrix_report,
    matrix_result_to_declare,
    open_licence_body,
    open_licence_form,
)
from tests.matching.needs.factories import need_body, need_form, response_body
from tests.matching.requests.factories import match_body, match_form
from tests.support.files import PNG
from tests.support.world import ROLE_KIND, World

MEMBER_ROLE = {"platform": "platform_analyst", "institution": "tto_staff", "company": "company_member"}


APPROVAL_FORM = {
    "kind": "institution",
    "city": "上海",
    "grade": "3A",
    "approved_beds": "1000",
    "research_beds": "50",
    "pi_concurrent_trial_threshold": "3",
}


async def application_of(db, world: World, role: Role, relation: str) -> dict:
    """A fresh pending request for access (applications belong to no organization)."""
    return {"application": (await seed_application(db)).id}


def unique_email(world: World, role: Role, relation: str) -> str:
    return f"{uuid.uuid4().hex[:12]}@invited.test"


async def token_of(db, world: World, role: Role, relation: str) -> dict:
    """Own: a token of the caller; other: a token of somebody else in another organization."""
    accounts = AccountService(db)
    email = world.emails[role] if relation == "own" else f"admin@{ROLE_KIND[role]}.other.test"
    if relation == "other" and role in (Role.platform_admin, Role.platform_analyst):
        email = "admin@platform.other.test"
    user = await accounts.user_by_email(email)
    token, _raw = await accounts.create_token(await accounts.principal_for_user(user.id), "matrix")
    await db.commit()
    return {"token": token.id}


def sso_body(world: World, role: Role, relation: str) -> dict:
    """A provider for the caller's own or other organization, mapping to a role of its kind."""
    return {
        "issuer": "https://sso.matrix.test",
        "client_id": "marketplace",
        "client_secret": "matrix-secret",
        "allowed_domains": [f"{uuid.uuid4().hex[:12]}.sso.test"],
        "role_claim": "roles",
        "role_mapping": {"staff": MEMBER_ROLE[ROLE_KIND[role]]},
    }


def sso_form(world: World, role: Role, relation: str) -> dict:
    body = sso_body(world, role, relation)
    return {
        **{k: body[k] for k in ("issuer", "client_id", "client_secret", "role_claim")},
        "allowed_domains": body["allowed_domains"][0],
        "map_value_0": "staff",
        "map_role_0": body["role_mapping"]["staff"],
        "enabled": "on",
    }


async def sso_configured(db, world: World, role: Role, relation: str) -> dict:
    """The organization in the path has single sign-on set up (to read or remove)."""
    admin = await world.principal(db, world.emails[Role.platform_admin])
    data = OidcProviderInput(**{**sso_body(world, role, relation), "enabled": True})
    await SingleSignOn(db, world.scratch["settings"]).configure(admin, world.org_for(role, relation).id, data)
    await db.commit()
    return {}


async def draft_listing(db, world: World, role: Role, relation: str) -> dict:
    """A fresh draft in the caller's institution ("own"; institution/own for other kinds) or in another one."""
    org = world.orgs["institution/own" if relation == "own" else "institution/other"]
    listing = await seed_listing(db, org.id, msgspec.convert(result_body(), ListingCreate))
    await db.commit()
    return {"listing": listing.id}


def sees_draft(ok: int, *, edit: bool = False):
    """A draft is the owning TTO's (and the platform's); others get 404. The analyst reads but
    may not change."""

    def expect(role: Role, relation: str) -> int:
        if role == Role.platform_admin:
            return ok
        if role == Role.platform_analyst:
            return 403 if edit else ok
        return ok if relation == "own" and role in (Role.tto_manager, Role.tto_staff) else 404

    return expect


async def institution_of(db, world: World, role: Role, relation: str) -> dict:
    """Profiles are public: the own or other institution and company, whatever the caller's kind."""
    return {"institution": world.orgs[f"institution/{relation}"].id}


async def company_of(db, world: World, role: Role, relation: str) -> dict:
    return {"company": world.orgs[f"company/{relation}"].id}


async def logo_of(db, world: World, role: Role, relation: str) -> dict:
    """Logos are public like the profile: the own or other institution's, with a logo stored."""
    org_id = world.orgs[f"institution/{relation}"].id
    accounts = AccountService(db)
    admin = await accounts.principal_for_user((await accounts.user_by_email(world.emails[Role.platform_admin])).id)
    await accounts.update_organization_profile(admin, org_id, ProfileInput(), logo=LogoUpload("logo.png", io.BytesIO(PNG)))
    await db.commit()
    return {"org": org_id}


async def saved_search_of(db, world: World, role: Role, relation: str) -> dict:
    """Own: the caller's saved search (a company member's, for roles that cannot have one);
    other: one of a member of another company."""
    accounts = AccountService(db)
    if relation == "own":
        email = world.emails[role] if ROLE_KIND[role] == "company" else world.emails[Role.company_member]
    else:
        email = "target@company.other.test"
    user = await accounts.user_by_email(email)
    principal = await accounts.principal_for_user(user.id)
    saved = await SavedSearchService(db).create(principal, f"搜索{uuid.uuid4().hex[:8]}", "q=肝癌&kind=result")
    await db.commit()
    return {"saved": saved.id}


def own_saved_search(ok: int):
    """Saved searches are personal to the company member or admin who saved them: anyone else's
    answers 404; roles that have no saved searches get 403."""
    return lambda role, relation: (ok if relation == "own" else 404) if role in COMPANY else 403


async def notification_of(db, world: World, role: Role, relation: str) -> dict:
    """Own: a notification of the caller; other: one of a user of another organization."""
    email = world.emails[role] if relation == "own" else f"admin@{ROLE_KIND[role]}.other.test"
    user = await AccountService(db).user_by_email(email)
    [notification] = await NotificationService(db).notify([user.id], "test", "Not found.", link="/search")
    await db.commit()
    return {"notification": notification.id}


def new_saved_search(world: World, role: Role, relation: str) -> dict:
    return {"name": f"搜索{uuid.uuid4().hex[:8]}", "query": "q=肝癌&kind=result&sort=newest"}


async def published_listing(db, world: World, role: Role, relation: str) -> dict:
    """A fresh published result of the caller's institution ("own") or another one; the body of a
    create request finds its id in world.scratch."""
    org = world.orgs[f"institution/{relation}"]
    listing = await seed_listing(db, org.id, msgspec.convert(result_body(), ListingCreate), status="published")
    await db.commit()
    world.scratch["listing"] = listing.id
    return {"listing": listing.id}


async def shortlist_entry_of(db, world: World, role: Role, relation: str) -> dict:
    """A fresh shortlist entry: the caller's own ("own"; the own company's member's for callers who
    keep none), or another person's."""
    email = world.emails[role if role in COMPANY else Role.company_member] if relation == "own" else "admin@company.other.test"
    user_id = (await world.principal(db, email)).user_id
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    entry = ShortlistEntry(user_id=user_id, listing_id=listing.id, note="候选")
    db.add(entry)
    await db.commit()
    return {"entry": entry.id}


def keeps_own_shortlist(ok: int):
    """A shortlist is its person's: others' entries answer 404; people who keep none get 403."""
    return lambda role, relation: (ok if relation == "own" else 404) if role in COMPANY else 403


async def match_request_of(db, world: World, role: Role, relation: str) -> dict:
    """A fresh request. Own: the own company asks about a result of the own institution that names
    the world's inventor; other: the other company asks the other institution."""
    if relation == "own":
        asker, org = world.emails[Role.company_member], world.orgs["institution/own"]
        inventor = (await world.principal(db, world.emails[Role.inventor])).user_id
        body = result_body(inventors=[{"name": "本院发明人", "share_bp": 10000, "user_id": str(inventor)}])
    else:
        asker, org, body = "admin@company.other.test", world.orgs["institution/other"], result_body()
    listing = await seed_listing(db, org.id, msgspec.convert(body, ListingCreate), status="published")
    request = await MatchingService(db).create(
        await world.principal(db, asker), msgspec.convert(match_body(listing.id), MatchRequestCreate)
    )
    await db.commit()
    return {"request": request.id}


async def attachment_of(db, world: World, role: Role, relation: str) -> dict:
    """A fresh request (as match_request_of) whose thread holds a message with a file."""
    values = await match_request_of(db, world, role, relation)
    asker = world.emails[Role.company_member] if relation == "own" else "admin@company.other.test"
    message = await ThreadService(db, world.scratch["settings"]).post(
        await world.principal(db, asker),
        "match_request",
        values["request"],
        "附件",
        [IncomingFile("报告.pdf", io.BytesIO(b"%PDF-1.4\n%%EOF\n"))],
    )
    attachment = await db.scalar(select(ThreadAttachment.id).where(ThreadAttachment.message_id == message.id))
    await db.commit()
    return {**values, "attachment": attachment}


def reads_thread(ok: int):
    """A match request's conversation: its two sides (inventors named on the result included)
    and the platform admin; the analyst, who reads requests for the figures, and everyone else 404."""

    def expect(role: Role, relation: str) -> int:
        if role == Role.platform_admin:
            return ok
        if role == Role.platform_analyst or relation == "other":
            return 404
        return ok

    return expect


def writes_thread(ok: int):
    """Posting: the company's people and the institution's TTO; inventors and the platform admin
    read only (403); others 404."""

    def expect(role: Role, relation: str) -> int:
        if role == Role.platform_admin:
            return 403
        if role == Role.platform_analyst or relation == "other":
            return 404
        return 403 if role == Role.inventor else ok

    return expect


def company_acts(ok: int):
    """A company-side step: the requesting company's people; the institution's see but may not
    (403); platform roles read but never act for a party (403); everyone else 404."""

    def expect(role: Role, relation: str) -> int:
        if role in (Role.platform_admin, Role.platform_analyst):
            return 403
        if relation == "other":
            return 404
        return ok if role in COMPANY else 403

    return expect


def sets_response_days(ok: int):
    """The institution's TTO manager (and the platform admin); its other people 403; others 404."""

    def expect(role: Role, relation: str) -> int:
        if role == Role.platform_admin:
            return ok
        if role == Role.platform_analyst:
            return 403
        if ROLE_KIND[role] != "institution" or relation == "other":
            return 404
        return ok if role == Role.tto_manager else 403

    return expect


# ----- needs -------------------------------------------------------------------------------------


async def _need(db, world: World, relation: str, *, publish: bool) -> uuid.UUID:
    """A need of the own company ("own") or another one, a draft unless published."""
    email = world.emails[Role.company_member] if relation == "own" else "admin@company.other.test"
    principal = await world.principal(db, email)
    service = NeedService(db)
    need = await service.create(principal, msgspec.convert(need_body(), NeedCreate))
    if publish:
        await service.transition(principal, need.id, "publish")
    await db.commit()
    return need.id


async def draft_need_of(db, world: World, role: Role, relation: str) -> dict:
    return {"need": await _need(db, world, relation, publish=False)}


def sees_draft_need(ok: int, *, act: bool = False):
    """A draft is its company's (and the platform's, to read); acting on it is the company's."""

    def expect(role: Role, relation: str) -> int:
        if role in (Role.platform_admin, Role.platform_analyst):
            return 403 if act else ok
        return ok if relation == "own" and role in COMPANY else 404

    return expect


async def open_need_for_response(db, world: World, role: Role, relation: str) -> dict:
    """An open public need of the own or another company, and a published listing of the caller's
    own institution (the world's own institution for other kinds) for the body to propose."""
    need_id = await _need(db, world, relation, publish=True)
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    await db.commit()
    world.scratch["listing"] = listing.id
    return {"need": need_id}


async def response_of(db, world: World, role: Role, relation: str) -> dict:
    """An open need of the own (other) company with a response of the own (other) institution."""
    need_id = await _need(db, world, relation, publish=True)
    org = world.orgs[f"institution/{relation}"]
    listing = await seed_listing(db, org.id, msgspec.convert(result_body(), ListingCreate), status="published")
    tto = world.emails[Role.tto_staff] if relation == "own" else "admin@institution.other.test"
    response = await NeedService(db).respond(
        await world.principal(db, tto), need_id, msgspec.convert(response_body(listing.id), ResponseCreate)
    )
    await db.commit()
    return {"need": need_id, "response": response.id}


async def response_attachment_of(db, world: World, role: Role, relation: str) -> dict:
    """A response (as response_of) whose thread holds a message with a file from the poster."""
    values = await response_of(db, world, role, relation)
    poster = world.emails[Role.company_member] if relation == "own" else "admin@company.other.test"
    message = await ThreadService(db, world.scratch["settings"]).post(
        await world.principal(db, poster),
        "need_response",
        values["response"],
        "附件",
        [IncomingFile("需求说明.pdf", io.BytesIO(b"%PDF-1.4\n%%EOF\n"))],
    )
    attachment = await db.scalar(select(ThreadAttachment.id).where(ThreadAttachment.message_id == message.id))
    await db.commit()
    return {**values, "attachment": attachment}


def reads_response_thread(ok: int):
    """A need response's conversation: the poster company's people and the responding institution's
    TTO, and the platform admin; the institution's inventors, the analyst and everyone else 404."""

    def expect(role: Role, relation: str) -> int:
        if role == Role.platform_admin:
            return ok
        if role in (Role.platform_analyst, Role.inventor) or relation == "other":
            return 404
        return ok

    return expect


def writes_response_thread(ok: int):
    """Posting: the two sides; the platform admin reads a company's need conversations only (403)."""

    def expect(role: Role, relation: str) -> int:
        return 403 if role == Role.platform_admin else reads_response_thread(ok)(role, relation)

    return expect


def poster_decides(ok: int):
    """The posting company's people decide on responses; the responding institution sees its own
    but may not (403), platform roles never act for a party (403); others do not see it (404)."""

    def expect(role: Role, relation: str) -> int:
        if role in (Role.platform_admin, Role.platform_analyst):
            return 403
        if relation == "other":
            return 404
        return ok if role in COMPANY else 403

    return expect


TTO = (Role.tto_manager, Role.tto_staff)
PLATFORM = (Role.platform_admin, Role.platform_analyst)


def reads_statement(ok: int, *also: Role):
    """Statements: platform roles any; the TTO manager (and `also`: the inventor, their own) of
    the institution; another institution's are 404 to them; every other role 403."""
    return lambda role, relation: ok if role in PLATFORM else institution_acts(ok, Role.tto_manager, *also)(role, relation)


def admin_policy_body(world: World, role: Role, relation: str) -> dict:
    if role != Role.platform_admin:
        return policy_body()
    shares = SHANGHAI_SHARES if relation == "own" else BEIJING_SHARES
    return policy_body(institution_id=str(world.orgs[f"institution/{relation}"].id), shares=shares)


def institution_acts(ok: int, *roles: Role):
    """Only `roles` of an institution act, on their own institution's records; another
    institution's are 404 to them; every other role 403."""
    return lambda role, relation: (ok if relation == "own" else 404) if role in roles else 403


def declares_open_licence(ok: int):
    """The TTO declares on its own institution's results: another institution's is a field error
    in an API body (422), a 404 in a page's path; every other role 403."""

    def expect(role: Role, relation: str) -> int:
        if role not in TTO:
            return 403
        return ok if relation == "own" else (422 if ok == 201 else 404)

    return expect


def withdraws_open_licence(ok: int):
    """An active declaration is public: its institution's TTO withdraws it, anyone else 403."""
    return lambda role, relation: ok if role in TTO and relation == "own" else 403


COMPANY = (Role.company_admin, Role.company_member)


def reads_project(ok: int):
    """A multi-centre project: its company's people and the TTO of each centre's institution (the
    own pair's project is led by the own institution); all for the platform; else 404."""

    def expect(role: Role, relation: str) -> int:
        if role in PLATFORM:
            return ok
        if role in COMPANY or role in TTO:
            return ok if relation == "own" else 404
        return 404

    return expect


def runs_project(ok: int):
    """Only the company's people form and steer their project: those who see it and may not act
    (a centre's TTO, the platform) 403, the rest 404."""

    def expect(role: Role, relation: str) -> int:
        if role in COMPANY:
            return ok if relation == "own" else 404
        return reads_project(403)(role, relation)

    return expect


def adds_centre(ok: int):
    """A project with no centre yet: no institution sees it (404); the platform 403."""
    return lambda role, relation: 403 if role in PLATFORM else runs_project(ok)(role, relation) if role in COMPANY else 404


def reads_record(ok: int):
    """A company's performance record: its own administrator (another company's is 404), every
    institution's TTO and the platform; every other role 403."""

    def expect(role: Role, relation: str) -> int:
        if role in PLATFORM or role in TTO:
            return ok
        if role == Role.company_admin:
            return ok if relation == "own" else 404
        return 403

    return expect


def reads_agreement(ok: int):
    """An agreement is its institution's TTO's and its company's administrator's (and the platform
    roles'); anyone else gets 404."""
    return lambda role, relation: ok if role in PLATFORM or (relation == "own" and role in (*TTO, Role.company_admin)) else 404


def agreement_party_acts(ok: int):
    """The agreement's TTO or its company's administrator act on their own; others' are 404 to
    them; every other role 403."""
    return institution_acts(ok, *TTO, Role.company_admin)


INSTITUTION_PEOPLE = (Role.tto_manager, Role.tto_staff, Role.inventor)


# ----- licensing ---------------------------------------------------------------------------------

READS_LICENCES = (*TTO, Role.company_admin, *PLATFORM)


def yuan_form(body: dict, field: str, name: str) -> dict:
    """An API body as a page's form: `field` in fen becomes `name` in yuan."""
    fen = body.pop(field)
    return {**body, name: f"{fen // 100}.{fen % 100:02d}"}


def payment_form(world: World, role: Role, relation: str) -> dict:
    return yuan_form(matrix_payment(world, role, relation), "amount_fen", "amount")


def drafts_agreement(ok: int):
    """A draft's terms: its institution's TTO; another institution's 404; every other role 403."""
    return institution_acts(ok, *TTO)


def drafts_new(ok: int, refused: int):
    """A draft names a result: the TTO's own institution's (`ok`), another's is a field error."""
    return lambda role, relation: (ok if relation == "own" else refused) if role in TTO else 403


def party_acts_on_agreement(ok: int):
    """A step both sides may take (cancel a draft): the TTO and the company's administrator;
    platform roles read but never act for a party (403); everyone else 404."""

    def expect(role: Role, relation: str) -> int:
        if role in PLATFORM:
            return 403
        return ok if relation == "own" and role in (*TTO, Role.company_admin) else 404

    return expect


# ----- beds: trial engagements --------------------------------------------------------------------


def reads_engagement(ok: int):
    """An engagement is its institution's TTO's and its company's people's (and the platform
    roles'); anyone else gets 404."""
    return lambda role, relation: ok if role in PLATFORM or (relation == "own" and role in (*TTO, *COMPANY)) else 404


def party_acts_on_engagement(ok: int):
    """A step either side may take (submit a track, cancel, upload): the TTO and the company's
    people on their own; platform roles read but never act for a party (403); everyone else 404."""

    def expect(role: Role, relation: str) -> int:
        if role in PLATFORM:
            return 403
        return ok if relation == "own" and role in (*TTO, *COMPANY) else 404

    return expect


def opens_engagement(ok: int):
    """The TTO opens one directly for any known company; a company only from its match request (a
    field error without one); every other role 403."""
    return lambda role, relation: ok if role in TTO else (422 if role in COMPANY else 403)


def cancel_engagement(world: World, role: Role, relation: str) -> dict:
    return {"action": "cancel", "reason": "申办方调整计划"}


def submit_track(world: World, role: Role, relation: str) -> dict:
    return {"action": "submit"}


def new_platform_org(world: World, role: Role, relation: str) -> dict:
    return {"kind": "platform", "name_zh": f"平台{uuid.uuid4().hex[:6]}", "city": "上海"}


# ----- beds --------------------------------------------------------------------------------------


def adds_ward(ok: int):
    """The TTO adds wards to its own institution's listings (another's is a field error); every
    other role 403."""
    return lambda role, relation: (ok if relation == "own" else 422) if role in TTO else 403


def reads_allocation(ok: int):
    """An allocation is its institution's TTO's and its company's people's (and the platform
    roles'); anyone else gets 404."""
    return lambda role, relation: ok if role in PLATFORM or (relation == "own" and role in (*TTO, *COMPANY)) else 404


def party_acts_on_allocation(ok: int):
    """Cancelling: either side's people on their own; platform roles read but never act (403)."""
    return lambda role, relation: 403 if role in PLATFORM else reads_allocation(ok)(role, relation)


# ----- analytics: the dashboards' figures and the annual report ----------------------------------


def sees_dashboard(ok: int):
    """The platform's people see the platform, a TTO its own institution (whatever it names);
    anyone else has no dashboard: 404."""
    return lambda role, relation: ok if role in (*PLATFORM, *TTO) else 404


async def report_year(db, world: World, role: Role, relation: str) -> dict:
    return {"year": 2026}


ANALYTICS_FIGURES = ("summary", "funnel", "match-rates", "times", "pay-later", "income", "beds", "deals", "events")


API_ROUTES = [
    Route("GET", "/api/v1/me", any_role(200)),
    Route("GET", "/api/v1/organizations", any_role(200)),
    Route("POST", "/api/v1/organizations", only(201, Role.platform_admin), body=new_platform_org),
    Route("GET", "/api/v1/organizations/{org}", readable(200)),
    Route("GET", "/api/v1/organizations/{org}/members", readable(200)),
    Route(
        "POST",
        "/api/v1/organizations/{org}/members",
        managed(201),
        body=lambda w, role, rel: {"email": unique_email(w, role, rel), "role": MEMBER_ROLE[ROLE_KIND[role]]},
    ),
    Route(
        "PATCH",
        "/api/v1/organizations/{org}/members/{membership}",
        managed(200),
        body=lambda w, role, rel: {"role": MEMBER_ROLE[ROLE_KIND[role]]},
    ),
    Route("DELETE", "/api/v1/organizations/{org}/members/{membership}", managed(204), prepare=fresh_member),
    # Integration clients: the institution's or company's administrator registers, rotates and
    # revokes its own; the platform admin sees and revokes any but never holds a secret.
    Route("GET", "/api/v1/integrations", only(200, Role.tto_manager, Role.company_admin, Role.platform_admin)),
    Route("POST", "/api/v1/integrations", only(201, Role.tto_manager, Role.company_admin), body=new_client_body),
    Route("POST", "/api/v1/integrations/{client}/secret", manages_client(200), prepare=matrix_client),
    Route("DELETE", "/api/v1/integrations/{client}", manages_client(204, platform=204), prepare=matrix_client),
    # Single sign-on: the platform admin's alone, on any organization.
    Route("GET", "/api/v1/organizations/{org}/sso", only(200, Role.platform_admin), prepare=sso_configured),
    Route("PUT", "/api/v1/organizations/{org}/sso", only(200, Role.platform_admin), body=sso_body),
    Route("DELETE", "/api/v1/organizations/{org}/sso", only(204, Role.platform_admin), prepare=sso_configured),
    Route("GET", "/api/v1/tokens", any_role(200)),
    Route("POST", "/api/v1/tokens", any_role(201), body=lambda w, role, rel: {"name": "matrix"}),
    Route("GET", "/api/v1/listings", any_role(200), anonymous=200),
    Route("GET", "/api/v1/search", any_role(200), anonymous=200),
    Route(
        "POST",
        "/api/v1/listings",
        only(201, Role.tto_manager, Role.tto_staff, Role.inventor),
        body=lambda w, r, rel: result_body(),
    ),
    Route("GET", "/api/v1/listings/{listing}", sees_draft(200), anonymous=404, prepare=draft_listing),
    Route(
        "POST",
        "/api/v1/listings/import",
        only(200, Role.tto_manager, Role.tto_staff),
        files={"data": ("l.csv", spreadsheets.write(spreadsheets.EXAMPLES, "csv"))},
    ),
    Route("GET", "/api/v1/listings/export", only(200, Role.tto_manager, Role.tto_staff)),
    Route(
        "PATCH",
        "/api/v1/listings/{listing}",
        sees_draft(200, edit=True),
        anonymous=401,
        prepare=draft_listing,
        body=lambda w, r, rel: {"title_zh": "新标题"},
    ),
    Route(
        "POST",
        "/api/v1/listings/{listing}/transitions",
        sees_draft(200, edit=True),
        anonymous=401,
        prepare=draft_listing,
        body=lambda w, r, rel: {"action": "submit"},
    ),
    Route(
        "PATCH",
        "/api/v1/organizations/{institution}",
        sets_response_days(200),
        prepare=institution_of,
        body=lambda w, r, rel: {"response_working_days": 15},
    ),
    Route(
        "POST",
        "/api/v1/nda-versions",
        only(201, Role.platform_admin),
        body=lambda w, r, rel: {"text_zh": "保密协议新版本", "text_en": "A new version of the agreement"},
    ),
    # Matching: a company's requests are its own; an institution's TTO sees those on its listings.
    Route("GET", "/api/v1/match-requests", any_role(200)),
    Route(
        "POST",
        "/api/v1/match-requests",
        only(201, *COMPANY),
        prepare=published_listing,
        body=lambda w, r, rel: match_body(w.scratch["listing"]),
    ),
    Route("GET", "/api/v1/match-requests/{request}", readable(200), prepare=match_request_of),
    Route(
        "POST",
        "/api/v1/match-requests/{request}/transitions",
        company_acts(200),
        prepare=match_request_of,
        body=lambda w, r, rel: {"action": "withdraw"},
    ),
    # A match request's conversation and its files.
    Route("GET", "/api/v1/match-requests/{request}/messages", reads_thread(200), prepare=match_request_of),
    Route(
        "POST",
        "/api/v1/match-requests/{request}/messages",
        writes_thread(201),
        prepare=match_request_of,
        body=lambda w, r, rel: {"text": "请提供验证数据"},
    ),
    Route(
        "POST",
        "/api/v1/match-requests/{request}/messages/read",
        reads_thread(200),
        prepare=attachment_of,
        body=lambda w, r, rel: {},
    ),
    Route("GET", "/api/v1/match-requests/{request}/attachments/{attachment}", reads_thread(200), prepare=attachment_of),
    Route(
        "DELETE",
        "/api/v1/tokens/{token}",
        lambda role, relation: 204 if relation == "own" else 404,
        prepare=token_of,
    ),
    # Saved searches: personal to the company member who saved them.
    Route("GET", "/api/v1/needs", any_role(200)),
    Route("POST", "/api/v1/needs", only(201, *COMPANY, Role.platform_admin), body=lambda w, r, rel: need_body()),
    Route("GET", "/api/v1/needs/{need}", sees_draft_need(200), prepare=draft_need_of),
    Route(
        "PATCH",
        "/api/v1/needs/{need}",
        sees_draft_need(200, act=True),
        prepare=draft_need_of,
        body=lambda w, r, rel: {"title": "改过的需求"},
    ),
    Route(
        "POST",
        "/api/v1/needs/{need}/transitions",
        sees_draft_need(200, act=True),
        prepare=draft_need_of,
        body=lambda w, r, rel: {"action": "publish"},
    ),
    # An open public need: everyone may list its responses (each sees only its share: test_needs.py).
    Route("GET", "/api/v1/needs/{need}/responses", any_role(200), prepare=response_of),
    Route(
        "POST",
        "/api/v1/needs/{need}/responses",
        only(201, *TTO),
        prepare=open_need_for_response,
        body=lambda w, r, rel: response_body(w.scratch["listing"]),
    ),
    Route(
        "POST",
        "/api/v1/needs/{need}/responses/{response}/transitions",
        poster_decides(200),
        prepare=response_of,
        body=lambda w, r, rel: {"action": "shortlist"},
    ),
    # A need response's conversation and its files.
    Route("GET", "/api/v1/needs/{need}/responses/{response}/messages", reads_response_thread(200), prepare=response_of),
    Route(
        "POST",
        "/api/v1/needs/{need}/responses/{response}/messages",
        writes_response_thread(201),
        prepare=response_of,
        body=lambda w, r, rel: {"text": "请提供伦理批件"},
    ),
    Route(
        "POST",
        "/api/v1/needs/{need}/responses/{response}/messages/read",
        reads_response_thread(200),
        prepare=response_attachment_of,
        body=lambda w, r, rel: {},
    ),
    Route(
        "GET",
        "/api/v1/needs/{need}/responses/{response}/attachments/{attachment}",
        reads_response_thread(200),
        prepare=response_attachment_of,
    ),
    # Open licences (开放许可): public declarations, the TTO declares and withdraws, a company's
    # administrator takes one (any institution's, in one action).
    Route("GET", "/api/v1/open-licences", any_role(200), anonymous=200),
    Route(
        "POST",
        "/api/v1/open-licences",
        declares_open_licence(201),
        prepare=matrix_result_to_declare,
        body=lambda w, r, rel: open_licence_body(w.scratch["listing"]),
    ),
    Route("GET", "/api/v1/open-licences/{open_licence}", any_role(200), anonymous=200, prepare=matrix_open_licence),
    Route("POST", "/api/v1/open-licences/{open_licence}/withdraw", withdraws_open_licence(200), prepare=matrix_open_licence),
    Route("POST", "/api/v1/open-licences/{open_licence}/take", only(201, Role.company_admin), prepare=matrix_open_licence),
    # Multi-centre projects (beds): the company forms and steers; each centre's TTO reads.
    Route("GET", "/api/v1/projects", any_role(200)),
    Route("POST", "/api/v1/projects", only(201, *COMPANY), body=lambda w, r, rel: project_body()),
    Route("GET", "/api/v1/projects/{project}", reads_project(200), prepare=matrix_project),
    Route(
        "POST",
        "/api/v1/projects/{project}/transitions",
        runs_project(200),
        prepare=matrix_fresh_project,
        body=lambda w, r, rel: {"action": "cancel", "reason": "申办方调整研发策略"},
    ),
    Route("GET", "/api/v1/projects/{project}/centres", reads_project(200), prepare=matrix_project),
    Route(
        "POST",
        "/api/v1/projects/{project}/centres",
        adds_centre(201),
        prepare=matrix_project_without_centres,
        body=centre_body,
    ),
    Route("GET", "/api/v1/recommendations", any_role(400)),  # without ?need= or ?listing=
    Route("GET", "/api/v1/recommendations?listing={listing}", any_role(200), prepare=published_listing),
    Route("GET", "/api/v1/saved-searches", only(200, *COMPANY)),
    Route("POST", "/api/v1/saved-searches", only(201, *COMPANY), body=new_saved_search),
    Route("GET", "/api/v1/saved-searches/{saved}", own_saved_search(200), prepare=saved_search_of),
    Route(
        "PATCH",
        "/api/v1/saved-searches/{saved}",
        own_saved_search(200),
        prepare=saved_search_of,
        body=lambda w, r, rel: {"email_enabled": False},
    ),
    Route("DELETE", "/api/v1/saved-searches/{saved}", own_saved_search(204), prepare=saved_search_of),
    # Notifications: each user's own.
    Route("GET", "/api/v1/notifications", any_role(200)),
    Route(
        "POST",
        "/api/v1/notifications/{notification}/read",
        lambda role, relation: 200 if relation == "own" else 404,
        prepare=notification_of,
    ),
    Route("POST", "/api/v1/notifications/read-all", any_role(200)),
    # E-mails the worker gave up on: the platform admin's to see.
    Route("GET", "/api/v1/notifications/failed-emails", only(200, Role.platform_admin)),
    # The ledger: the TTO manager edits policies, reverses entries and records payouts; the TTO records
    # income; the platform admin records floor exceptions.
    Route("GET", "/api/v1/distribution-policies", only(200, Role.tto_manager, *PLATFORM)),
    # The platform admin names the institution (the own one in Shanghai, the other in Beijing); a
    # TTO manager's is its own.
    Route("POST", "/api/v1/distribution-policies", only(201, Role.tto_manager, Role.platform_admin), body=admin_policy_body),
    Route("POST", "/api/v1/distribution-policies/floor-exceptions", only(201, Role.platform_admin), body=matrix_exception),
    Route(
        "POST",
        "/api/v1/distribution-policies/overrides",
        institution_acts(201, Role.tto_manager),
        prepare=matrix_result,
        body=lambda w, r, rel: {"result_id": str(w.scratch["result"]), "researchers_bp": 5000, "agreement_ref": "赋权协议-1"},
    ),
    Route(
        "POST",
        "/api/v1/ledger/income",
        # The platform admin records income for any institution's result.
        lambda role, rel: 201 if role == Role.platform_admin else institution_acts(201, *TTO)(role, rel),
        prepare=matrix_result,
        body=lambda w, r, rel: income_body(w.scratch["result"]),
        headers=idempotency_key,
    ),
    Route("GET", "/api/v1/ledger/entries", only(200, *INSTITUTION_PEOPLE, *PLATFORM)),
    Route(
        "POST",
        "/api/v1/ledger/entries/{entry}/reversal",
        institution_acts(201, Role.tto_manager),
        prepare=matrix_income,
        body=lambda w, r, rel: {"reason": "金额录错"},
    ),
    Route("GET", "/api/v1/payouts", only(200, *INSTITUTION_PEOPLE, *PLATFORM)),
    Route("POST", "/api/v1/payouts", institution_acts(201, Role.tto_manager), prepare=matrix_income, body=matrix_payout),
    Route("GET", "/api/v1/statements/inventors/{inventor}", reads_statement(200, Role.inventor), prepare=matrix_inventor),
    Route("GET", "/api/v1/statements/institutions/{institution}", reads_statement(200), prepare=institution_of),
    Route(
        "GET", "/api/v1/statements/inventors/{inventor}/download", reads_statement(200, Role.inventor), prepare=matrix_inventor
    ),
    Route("GET", "/api/v1/statements/institutions/{institution}/download", reads_statement(200), prepare=institution_of),
    Route("GET", "/api/v1/statements/results/{result}", reads_statement(200, Role.inventor), prepare=matrix_result_income),
    Route(
        "GET", "/api/v1/statements/results/{result}/download", reads_statement(200, Role.inventor), prepare=matrix_result_income
    ),
    # Licensing: the TTO drafts and the TTO manager approves; both sides act; platform roles read.
    Route("GET", "/api/v1/agreements", only(200, *READS_LICENCES)),
    Route("POST", "/api/v1/agreements", drafts_new(201, 422), prepare=matrix_licence_result, body=matrix_body),
    Route("GET", "/api/v1/agreements/{agreement}", reads_agreement(200), prepare=matrix_draft),
    Route(
        "PATCH",
        "/api/v1/agreements/{agreement}",
        drafts_agreement(200),
        prepare=matrix_draft,
        body=lambda w, r, rel: {k: v for k, v in matrix_body(w, r, rel).items() if k not in ("kind", "company_id", "result_ids")},
    ),
    Route(
        "POST",
        "/api/v1/agreements/{agreement}/transitions",
        party_acts_on_agreement(200),
        prepare=matrix_draft,
        body=lambda w, r, rel: {"action": "cancel", "reason": "不再需要"},
    ),
    Route("GET", "/api/v1/agreements/{agreement}/document", reads_agreement(200), prepare=matrix_approved),
    # Licensing: a company's performance record.
    Route("GET", "/api/v1/companies/{company}/performance", reads_record(200), prepare=matrix_record),
    # An agreement's money: either side and platform roles read; the TTO records payments; the
    # licensee's administrator or the TTO reports sales and milestones.
    Route("GET", "/api/v1/agreements/{agreement}/payments", reads_agreement(200), prepare=matrix_agreement),
    Route(
        "POST",
        "/api/v1/agreements/{agreement}/payments",
        institution_acts(201, *TTO),
        prepare=matrix_agreement,
        body=matrix_payment,
        headers=idempotency_key,
    ),
    Route("GET", "/api/v1/agreements/{agreement}/royalty-reports", reads_agreement(200), prepare=matrix_agreement),
    Route(
        "POST",
        "/api/v1/agreements/{agreement}/royalty-reports",
        agreement_party_acts(201),
        prepare=matrix_agreement,
        body=matrix_report,
    ),
    Route(
        "POST",
        "/api/v1/agreements/{agreement}/milestones",
        agreement_party_acts(201),
        prepare=matrix_agreement,
        body=matrix_milestone,
    ),
    # Beds: wards are seen by every signed-in caller; the TTO adds and edits its own; a company
    # asks for beds; either side cancels.
    Route("GET", "/api/v1/wards", any_role(200)),
    Route("POST", "/api/v1/wards", adds_ward(201), prepare=matrix_ward, body=matrix_ward_body),
    Route("GET", "/api/v1/wards/{ward}", any_role(200), prepare=matrix_ward),
    Route(
        "PUT",
        "/api/v1/wards/{ward}",
        institution_acts(200, *TTO),
        prepare=matrix_ward,
        body=lambda w, r, rel: {k: v for k, v in matrix_ward_body(w, r, rel).items() if k != "listing_id"},
    ),
    Route("GET", "/api/v1/wards/{ward}/calendar", any_role(200), prepare=matrix_ward),
    Route("GET", "/api/v1/bed-allocations", only(200, *TTO, *COMPANY, *PLATFORM)),
    Route("POST", "/api/v1/bed-allocations", only(201, *COMPANY), prepare=matrix_ward, body=matrix_allocation_body),
    Route("GET", "/api/v1/bed-allocations/{allocation}", reads_allocation(200), prepare=matrix_allocation),
    Route(
        "POST",
        "/api/v1/bed-allocations/{allocation}/transitions",
        party_acts_on_allocation(200),
        prepare=matrix_allocation,
        body=lambda w, r, rel: {"action": "cancel", "reason": "试验推迟"},
    ),
    # Beds: trial engagements — either side steps and uploads, the TTO (or the company from its
    # match request) opens them, platform roles read.
    Route("GET", "/api/v1/trial-engagements", any_role(200)),
    Route("POST", "/api/v1/trial-engagements", opens_engagement(201), body=matrix_engagement_body),
    Route("GET", "/api/v1/trial-engagements/{engagement}", reads_engagement(200), prepare=matrix_engagement),
    Route(
        "POST",
        "/api/v1/trial-engagements/{engagement}/transitions",
        party_acts_on_engagement(200),
        prepare=matrix_engagement,
        body=cancel_engagement,
    ),
    Route("GET", "/api/v1/trial-engagements/{engagement}/reviews", reads_engagement(200), prepare=matrix_engagement),
    Route(
        "POST",
        "/api/v1/trial-engagements/{engagement}/reviews/{track}/transitions",
        party_acts_on_engagement(200),
        prepare=matrix_review,
        body=submit_track,
    ),
    Route("GET", "/api/v1/trial-engagements/{engagement}/documents", reads_engagement(200), prepare=matrix_engagement),
    Route(
        "POST",
        "/api/v1/trial-engagements/{engagement}/documents",
        party_acts_on_engagement(201),
        prepare=matrix_engagement,
        files=matrix_document_file(),
    ),
    Route(
        "GET",
        "/api/v1/trial-engagements/{engagement}/documents/{document}",
        reads_engagement(200),
        prepare=matrix_engagement_document,
    ),
    # Beds: fees received for an allocation or an engagement, by its institution's TTO.
    Route(
        "POST",
        "/api/v1/bed-allocations/{allocation}/payments",
        institution_acts(201, *TTO),
        prepare=matrix_paid_allocation,
        body=matrix_fee_payment,
        headers=idempotency_key,
    ),
    Route(
        "POST",
        "/api/v1/trial-engagements/{engagement}/payments",
        institution_acts(201, *TTO),
        prepare=matrix_paid_engagement,
        body=matrix_fee_payment,
        headers=idempotency_key,
    ),
    # Analytics: each figure, and the annual report's PDF.
    *(Route("GET", f"/api/v1/analytics/{name}", sees_dashboard(200)) for name in ANALYTICS_FIGURES),
    Route("GET", "/api/v1/reports/annual/{year}", sees_dashboard(200), prepare=report_year),
    *EVENT_API_ROUTES,
]


def admins_in_own_org(ok: int):
    """Pages act for the organization the user is signed in to: another one's records are 404 to
    its administrators; other roles may not manage members anywhere (403)."""
    return lambda role, relation: 403 if role not in ADMIN_ROLES else (404 if relation == "other" else ok)


def dashboard_of(ok: int):
    """The platform's people see the platform's dashboard, a TTO its own institution's (whichever
    it asks for); everyone else has none (404)."""
    return lambda role, relation: ok if role in (*PLATFORM, *TTO) else 404


def export_of(table: str):
    async def prepare(db, world: World, role, relation: str) -> dict:
        await matrix_dashboard(db, world, role, relation)
        return {"table": table}

    return prepare


PAGE_ROUTES = [
    Route("GET", "/", any_role(200), anonymous=200),
    Route("GET", "/profile", any_role(200), anonymous=302),
    Route("POST", "/profile", any_role(302), anonymous=302, body=lambda w, r, rel: {"name": "新名字"}),
    Route(
        "POST",
        "/profile/password",
        any_role(302),
        anonymous=302,
        body=lambda w, r, rel: {"current_password": "test-password-1", "new_password": "test-password-1"},
    ),
    Route("GET", "/integrations", only(200, Role.tto_manager, Role.company_admin, Role.platform_admin), anonymous=302),
    Route("POST", "/integrations", only(302, Role.tto_manager, Role.company_admin), anonymous=302, body=new_client_body),
    Route("POST", "/integrations/{client}/secret", manages_client(302), anonymous=302, prepare=matrix_client),
    Route("POST", "/integrations/{client}/revoke", manages_client(302, platform=302), anonymous=302, prepare=matrix_client),
    Route("GET", "/tokens", any_role(200), anonymous=302),
    Route("POST", "/tokens", any_role(302), anonymous=302, body=lambda w, r, rel: {"name": "page token"}),
    Route("POST", "/tokens/{token}/revoke", lambda role, rel: 302 if rel == "own" else 404, anonymous=302, prepare=token_of),
    Route("GET", "/members", only(200, *ADMIN_ROLES), anonymous=302),
    Route(
        "POST",
        "/members",
        only(302, *ADMIN_ROLES),
        anonymous=302,
        body=lambda w, role, rel: {"email": unique_email(w, role, rel), "role": MEMBER_ROLE[ROLE_KIND[role]]},
    ),
    Route(
        "POST",
        "/members/{membership}/role",
        admins_in_own_org(302),
        anonymous=302,
        body=lambda w, role, rel: {"role": MEMBER_ROLE[ROLE_KIND[role]]},
    ),
    Route("POST", "/members/{membership}/remove", admins_in_own_org(302), anonymous=302, prepare=fresh_member),
    Route("GET", "/organizations", only(200, Role.platform_admin, Role.platform_analyst), anonymous=302),
    Route(
        "POST",
        "/organizations",
        only(302, Role.platform_admin),
        anonymous=302,
        body=lambda w, r, rel: new_platform_org(w, r, rel),
    ),
    Route("GET", "/organizations/{org}/sso", only(200, Role.platform_admin), anonymous=302),
    Route("POST", "/organizations/{org}/sso", only(302, Role.platform_admin), anonymous=302, body=sso_form),
    Route("POST", "/organizations/{org}/sso/remove", only(302, Role.platform_admin), anonymous=302, prepare=sso_configured),
    # The front door: the platform admin decides requests for access.
    Route("GET", "/access-requests", only(200, Role.platform_admin), anonymous=302),
    Route(
        "POST",
        "/access-requests/{application}/approve",
        only(302, Role.platform_admin),
        anonymous=302,
        prepare=application_of,
        body=lambda w, r, rel: APPROVAL_FORM,
    ),
    Route(
        "POST",
        "/access-requests/{application}/decline",
        only(302, Role.platform_admin),
        anonymous=302,
        prepare=application_of,
        body=lambda w, r, rel: {"reason": "未能核实单位信息"},
    ),
    Route("POST", "/switch-org", any_role(302), anonymous=302, body=lambda w, r, rel: {"organization_id": ""}),
    Route("POST", "/sign-out-everywhere", any_role(302), anonymous=302),
    # The catalogue: browsing, detail and profiles are public; a draft is its institution's.
    Route("GET", "/listings", any_role(200), anonymous=200),
    Route("GET", "/search", any_role(200), anonymous=200),
    Route("GET", "/search/suggest", any_role(200), anonymous=200),
    Route("GET", "/listings/{listing}", sees_draft(200), anonymous=404, prepare=draft_listing),
    Route("GET", "/listings/{listing}/similar", sees_draft(200), anonymous=404, prepare=draft_listing),
    # A listing's reader: the one-page PDF for whoever sees the listing; a company member's shortlist.
    Route("GET", "/listings/{listing}/summary.pdf", sees_draft(200), anonymous=404, prepare=draft_listing),
    Route("GET", "/shortlist", only(200, *COMPANY), anonymous=302),
    Route(
        "POST",
        "/listings/{listing}/shortlist",
        only(302, *COMPANY),
        anonymous=302,
        prepare=published_listing,
        body=lambda w, r, rel: {"note": "候选"},
    ),
    Route(
        "POST",
        "/shortlist/{entry}/note",
        keeps_own_shortlist(302),
        anonymous=302,
        prepare=shortlist_entry_of,
        body=lambda w, r, rel: {"note": "新备注"},
    ),
    Route("POST", "/shortlist/{entry}/delete", keeps_own_shortlist(302), anonymous=302, prepare=shortlist_entry_of),
    Route("GET", "/listings/new", only(200, *INSTITUTION_PEOPLE), anonymous=302),
    Route("POST", "/listings", only(302, *INSTITUTION_PEOPLE), anonymous=302, body=lambda w, r, rel: result_form()),
    Route("GET", "/listings/{listing}/edit", sees_draft(200, edit=True), anonymous=302, prepare=draft_listing),
    Route(
        "POST",
        "/listings/{listing}",
        sees_draft(302, edit=True),
        anonymous=302,
        prepare=draft_listing,
        body=lambda w, r, rel: {"title_zh": "新标题"},
    ),
    Route(
        "POST",
        "/listings/{listing}/transitions",
        sees_draft(302, edit=True),
        anonymous=302,
        prepare=draft_listing,
        body=lambda w, r, rel: {"action": "submit"},
    ),
    # Statements: "Statements" sends the inventor and the TTO manager on to their own; platform roles choose.
    Route(
        "GET",
        "/statements",
        lambda role, rel: 302 if role in (Role.inventor, Role.tto_manager) else 200 if role in PLATFORM else 403,
        anonymous=302,
    ),
    Route("GET", "/statements/me", only(200, Role.inventor), anonymous=302),
    Route("GET", "/statements/me/download", only(200, Role.inventor), anonymous=302),
    Route("GET", "/statements/inventors/{inventor}", reads_statement(200, Role.inventor), anonymous=302, prepare=matrix_inventor),
    Route(
        "GET",
        "/statements/inventors/{inventor}/download",
        reads_statement(200, Role.inventor),
        anonymous=302,
        prepare=matrix_inventor,
    ),
    Route("GET", "/statements/institutions/{institution}", reads_statement(200), anonymous=302, prepare=institution_of),
    Route("GET", "/statements/institutions/{institution}/download", reads_statement(200), anonymous=302, prepare=institution_of),
    Route(
        "GET", "/statements/results/{result}", reads_statement(200, Role.inventor), anonymous=302, prepare=matrix_result_income
    ),
    Route(
        "GET",
        "/statements/results/{result}/download",
        reads_statement(200, Role.inventor),
        anonymous=302,
        prepare=matrix_result_income,
    ),
    Route("GET", "/review", only(200, *TTO), anonymous=302),
    Route("GET", "/listings/import", only(200, *TTO), anonymous=302),
    Route(
        "POST",
        "/listings/import",
        only(200, *TTO),
        anonymous=302,
        body=lambda w, r, rel: {"dry_run": "on"},
        files={"file": ("l.csv", spreadsheets.write(spreadsheets.EXAMPLES, "csv"))},
    ),
    Route("GET", "/listings/export", only(200, *TTO), anonymous=302),
    Route("GET", "/institutions/{institution}", any_role(200), anonymous=200, prepare=institution_of),
    Route(
        "POST",
        "/institutions/{institution}/response-days",
        sets_response_days(302),
        anonymous=302,
        prepare=institution_of,
        body=lambda w, r, rel: {"response_working_days": "15"},
    ),
    # Matching pages.
    Route("GET", "/listings/{listing}/match-request", only(200, *COMPANY), anonymous=302, prepare=published_listing),
    Route(
        "POST",
        "/listings/{listing}/match-request",
        only(302, *COMPANY),
        anonymous=302,
        prepare=published_listing,
        body=lambda w, r, rel: match_form(),
    ),
    Route("GET", "/match-requests", any_role(200), anonymous=302),
    Route("GET", "/match-requests/inbox", only(200, *TTO), anonymous=302),
    Route("GET", "/match-requests/{request}", readable(200), anonymous=302, prepare=match_request_of),
    Route(
        "POST",
        "/match-requests/{request}/transitions",
        company_acts(302),
        anonymous=302,
        prepare=match_request_of,
        body=lambda w, r, rel: {"action": "withdraw"},
    ),
    Route(
        "POST",
        "/match-requests/{request}/messages",
        writes_thread(302),
        anonymous=302,
        prepare=match_request_of,
        body=lambda w, r, rel: {"text": "请提供验证数据"},
    ),
    Route(
        "GET",
        "/match-requests/{request}/attachments/{attachment}",
        reads_thread(200),
        anonymous=302,
        prepare=attachment_of,
    ),
    Route("GET", "/companies/{company}", any_role(200), anonymous=200, prepare=company_of),
    # Profiles: the organization's administrator (or the platform admin) edits its own; the logo is public.
    Route("GET", "/organizations/{org}/profile", managed(200), anonymous=302),
    Route(
        "POST",
        "/organizations/{org}/profile",
        managed(302),
        anonymous=302,
        body=lambda w, r, rel: {"contact_name": "张三", "contact_email": "tto@example.test"},
    ),
    Route("GET", "/organizations/{org}/logo", any_role(200), anonymous=200, prepare=logo_of),
    # Needs pages.
    Route("GET", "/needs", any_role(200), anonymous=302),
    Route("GET", "/needs/mine", only(200, *COMPANY, Role.platform_admin, Role.platform_analyst), anonymous=302),
    Route("GET", "/needs/new", only(200, *COMPANY, Role.platform_admin), anonymous=302),
    Route("POST", "/needs", only(302, *COMPANY, Role.platform_admin), anonymous=302, body=lambda w, r, rel: need_form()),
    Route("GET", "/needs/{need}", sees_draft_need(200), anonymous=302, prepare=draft_need_of),
    Route("GET", "/needs/{need}/edit", sees_draft_need(200, act=True), anonymous=302, prepare=draft_need_of),
    Route(
        "POST",
        "/needs/{need}",
        sees_draft_need(302, act=True),
        anonymous=302,
        prepare=draft_need_of,
        body=lambda w, r, rel: need_form(title="改过的需求"),
    ),
    Route(
        "POST",
        "/needs/{need}/transitions",
        sees_draft_need(302, act=True),
        anonymous=302,
        prepare=draft_need_of,
        body=lambda w, r, rel: {"action": "publish"},
    ),
    Route(
        "POST",
        "/needs/{need}/responses",
        only(302, *TTO),
        anonymous=302,
        prepare=open_need_for_response,
        body=lambda w, r, rel: {"proposal": "本院可提供该技术。", "listing_ids": str(w.scratch["listing"])},
    ),
    Route(
        "POST",
        "/needs/{need}/responses/{response}/transitions",
        poster_decides(302),
        anonymous=302,
        prepare=response_of,
        body=lambda w, r, rel: {"action": "shortlist"},
    ),
    Route("GET", "/needs/{need}/responses/{response}", readable(200), anonymous=302, prepare=response_of),
    Route(
        "POST",
        "/needs/{need}/responses/{response}/messages",
        writes_response_thread(302),
        anonymous=302,
        prepare=response_of,
        body=lambda w, r, rel: {"text": "请提供伦理批件"},
    ),
    Route(
        "GET",
        "/needs/{need}/responses/{response}/attachments/{attachment}",
        reads_response_thread(200),
        anonymous=302,
        prepare=response_attachment_of,
    ),
    Route("GET", "/listings/{listing}/needs", only(200, *TTO), anonymous=302, prepare=published_listing),
    # Open licences (开放许可).
    Route("GET", "/open-licences", any_role(200), anonymous=200),
    Route(
        "GET",
        "/listings/{listing}/open-licence",
        declares_open_licence(200),
        anonymous=302,
        prepare=matrix_result_to_declare,
    ),
    Route(
        "POST",
        "/listings/{listing}/open-licence",
        declares_open_licence(302),
        anonymous=302,
        prepare=matrix_result_to_declare,
        body=lambda w, r, rel: open_licence_form(),
    ),
    Route(
        "POST",
        "/open-licences/{open_licence}/withdraw",
        withdraws_open_licence(302),
        anonymous=302,
        prepare=matrix_open_licence,
    ),
    Route(
        "POST", "/open-licences/{open_licence}/take", only(302, Role.company_admin), anonymous=302, prepare=matrix_open_licence
    ),
    # Multi-centre projects (beds).
    Route("GET", "/projects", any_role(200), anonymous=302),
    Route("GET", "/projects/new", only(200, *COMPANY), anonymous=302),
    Route("POST", "/projects", only(302, *COMPANY), anonymous=302, body=lambda w, r, rel: project_body()),
    Route("GET", "/projects/{project}", reads_project(200), anonymous=302, prepare=matrix_project),
    Route(
        "POST",
        "/projects/{project}/transitions",
        runs_project(302),
        anonymous=302,
        prepare=matrix_fresh_project,
        body=lambda w, r, rel: {"action": "cancel", "reason": "申办方调整研发策略"},
    ),
    Route(
        "POST",
        "/projects/{project}/centres",
        adds_centre(302),
        anonymous=302,
        prepare=matrix_project_without_centres,
        body=centre_body,
    ),
    Route("GET", "/saved-searches", only(200, *COMPANY), anonymous=302),
    Route("POST", "/saved-searches", only(302, *COMPANY), anonymous=302, body=new_saved_search),
    Route(
        "POST",
        "/saved-searches/{saved}",
        own_saved_search(302),
        anonymous=302,
        prepare=saved_search_of,
        body=lambda w, r, rel: {"name": f"新名字{uuid.uuid4().hex[:6]}"},
    ),
    Route("POST", "/saved-searches/{saved}/delete", own_saved_search(302), anonymous=302, prepare=saved_search_of),
    Route("GET", "/notifications", any_role(200), anonymous=302),
    Route(
        "POST",
        "/notifications/{notification}/read",
        lambda role, relation: 302 if relation == "own" else 404,
        anonymous=302,
        prepare=notification_of,
    ),
    Route("POST", "/notifications/read-all", any_role(302), anonymous=302),
    Route("GET", "/settings/notifications", any_role(200), anonymous=302),
    Route(
        "POST",
        "/settings/notifications",
        any_role(302),
        anonymous=302,
        body=lambda w, r, rel: {"kind": "match_thread_messages", "on": "match_thread_messages"},  # reaches every role
    ),
    # The ledger's pages act for the institution signed in to, as the ledger's service decides.
    Route("GET", "/ledger/policies", only(200, Role.tto_manager, *PLATFORM), anonymous=302),
    Route("POST", "/ledger/policies", only(302, Role.tto_manager), anonymous=302, body=lambda w, r, rel: policy_form()),
    Route("GET", "/ledger/income", only(200, *TTO, *PLATFORM), anonymous=302),
    Route("POST", "/ledger/income", institution_acts(302, *TTO), anonymous=302, prepare=matrix_result, body=matrix_income_form),
    Route("GET", "/ledger/entries", only(200, *INSTITUTION_PEOPLE, *PLATFORM), anonymous=302),
    # The inventor reads the entries that post to their own payable.
    Route(
        "GET",
        "/ledger/entries/{entry}",
        reads_statement(200, Role.tto_staff, Role.inventor),
        anonymous=302,
        prepare=matrix_income,
    ),
    Route(
        "POST",
        "/ledger/entries/{entry}/reversal",
        institution_acts(302, Role.tto_manager),
        anonymous=302,
        prepare=matrix_income,
        body=lambda w, r, rel: {"reason": "金额录错"},
    ),
    Route("GET", "/ledger/payouts", only(200, *TTO, *PLATFORM), anonymous=302),
    Route(
        "POST",
        "/ledger/payouts",
        institution_acts(302, Role.tto_manager),
        anonymous=302,
        prepare=matrix_income,
        body=matrix_payout_form,
    ),
    # Licensing pages: the list for the TTO, the company's administrator and platform roles.
    Route("GET", "/agreements", only(200, *READS_LICENCES), anonymous=302),
    Route("GET", "/agreements/new", only(200, *TTO), anonymous=302),
    Route("POST", "/agreements", drafts_new(302, 422), anonymous=302, prepare=matrix_licence_result, body=matrix_form),
    Route("GET", "/agreements/{agreement}", reads_agreement(200), anonymous=302, prepare=matrix_draft),
    Route("GET", "/agreements/{agreement}/edit", drafts_agreement(200), anonymous=302, prepare=matrix_draft),
    Route(
        "POST",
        "/agreements/{agreement}",
        drafts_agreement(302),
        anonymous=302,
        prepare=matrix_draft,
        body=lambda w, r, rel: {k: v for k, v in matrix_form(w, r, rel).items() if k not in ("kind", "company_id", "result_ids")},
    ),
    Route(
        "POST",
        "/agreements/{agreement}/transitions",
        party_acts_on_agreement(302),
        anonymous=302,
        prepare=matrix_draft,
        body=lambda w, r, rel: {"action": "cancel", "reason": "不再需要"},
    ),
    Route("GET", "/agreements/{agreement}/document", reads_agreement(200), anonymous=302, prepare=matrix_approved),
    # The money forms of an agreement's page: the TTO records payments; either side reports net
    # sales and milestones (the page's form fields: yuan, a key of the form for the payment).
    Route(
        "POST",
        "/agreements/{agreement}/payments",
        institution_acts(302, *TTO),
        anonymous=302,
        prepare=matrix_agreement,
        body=lambda w, r, rel: {**payment_form(w, r, rel), "idempotency_key": uuid.uuid4().hex},
    ),
    Route(
        "POST",
        "/agreements/{agreement}/royalty-reports",
        agreement_party_acts(302),
        anonymous=302,
        prepare=matrix_agreement,
        body=lambda w, r, rel: yuan_form(matrix_report(w, r, rel), "net_sales_fen", "net_sales"),
    ),
    Route(
        "POST",
        "/agreements/{agreement}/milestones",
        agreement_party_acts(302),
        anonymous=302,
        prepare=matrix_agreement,
        body=matrix_milestone,
    ),
    # Licensing: a company's performance record (its own administrator, any TTO, the platform) and the
    # institution's agreements in default (its TTO, the platform).
    Route("GET", "/companies/{company}/performance", reads_record(200), anonymous=302, prepare=matrix_record),
    Route("GET", "/agreements/defaults", only(200, *TTO, *PLATFORM), anonymous=302),
    # Beds: every signed-in caller sees the wards and their calendars; the TTO adds wards (its
    # manager acknowledges research beds over 10%); companies request beds; either side cancels.
    Route("GET", "/wards", any_role(200), anonymous=302),
    # Issue 14: the dashboard and its tables' downloads.
    Route("GET", "/analytics", dashboard_of(200), anonymous=302, prepare=matrix_dashboard),
    Route("GET", "/analytics/export/{table}", dashboard_of(200), anonymous=302, prepare=export_of("income_by_institution.xlsx")),
    Route(
        "POST",
        "/wards",
        adds_ward(302),
        anonymous=302,
        prepare=matrix_ward,
        body=lambda w, r, rel: {k: str(v) for k, v in matrix_ward_body(w, r, rel).items()},
    ),
    Route(
        "POST",
        "/wards/research-beds/acknowledgement",
        only(302, Role.tto_manager),
        anonymous=302,
        prepare=matrix_over_capacity,
        body=lambda w, r, rel: {"reason": "承接国家重点项目"},
    ),
    Route("GET", "/wards/{ward}", any_role(200), anonymous=302, prepare=matrix_ward),
    Route("GET", "/wards/{ward}/request", only(200, *COMPANY), anonymous=302, prepare=matrix_ward),
    Route("POST", "/wards/{ward}/request", only(302, *COMPANY), anonymous=302, prepare=matrix_ward, body=matrix_request_form),
    Route("GET", "/bed-allocations", only(200, *TTO, *COMPANY, *PLATFORM), anonymous=302),
    Route("GET", "/bed-allocations/{allocation}", reads_allocation(200), anonymous=302, prepare=matrix_allocation),
    Route(
        "POST",
        "/bed-allocations/{allocation}/transitions",
        party_acts_on_allocation(302),
        anonymous=302,
        prepare=matrix_allocation,
        body=lambda w, r, rel: {"action": "cancel", "reason": "试验推迟"},
    ),
    # Beds: trial engagements' pages and the PI page.
    Route("GET", "/trial-engagements", any_role(200), anonymous=302),
    Route("GET", "/trial-engagements/{engagement}", reads_engagement(200), anonymous=302, prepare=matrix_engagement),
    Route(
        "POST",
        "/trial-engagements/{engagement}/transitions",
        party_acts_on_engagement(302),
        anonymous=302,
        prepare=matrix_engagement,
        body=cancel_engagement,
    ),
    Route(
        "POST",
        "/trial-engagements/{engagement}/reviews/{track}/transitions",
        party_acts_on_engagement(302),
        anonymous=302,
        prepare=matrix_review,
        body=submit_track,
    ),
    Route(
        "POST",
        "/trial-engagements/{engagement}/documents",
        party_acts_on_engagement(302),
        anonymous=302,
        prepare=matrix_engagement,
        files=matrix_document_file(),
    ),
    Route(
        "GET",
        "/trial-engagements/{engagement}/documents/{document}",
        reads_engagement(200),
        anonymous=302,
        prepare=matrix_engagement_document,
    ),
    Route("GET", "/institutions/{institution}/pis", any_role(200), anonymous=302, prepare=institution_of),
    # Analytics: the annual report's download from the pages.
    Route("GET", "/analytics/annual/{year}/report.pdf", sees_dashboard(200), anonymous=302, prepare=report_year),
    *EVENT_PAGE_ROUTES,
]

# Public by design, each with the reason.
PUBLIC = {
    ("GET", "/health"): "operations probe; reports only up/down",
    ("GET", "/ready"): "operations probe; reports only up/down of database, search and migrations",
    ("GET", "/metrics"): "Prometheus scrape; loopback or METRICS_TOKEN only (tests/app/test_observability.py)",
    ("GET", "/api/v1/listings/template"): "an empty import template with example rows",
    ("GET", "/api/v1/nda-versions/current"): "the confidentiality agreement every company accepts; not secret",
    ("GET", "/login"): "sign-in form",
    (
        "POST",
        "/oauth/token",
    ): "OAuth 2 token endpoint: the client id and secret are the credential, throttled (tests/accounts/test_integrations.py)",
    ("POST", "/login"): "sign-in",
    ("POST", "/logout"): "ends whatever session the cookie holds",
    ("GET", "/login/sso"): "starts a single sign-on at an organization's provider (tests/accounts/test_oidc_pages.py)",
    (
        "GET",
        "/login/sso/callback",
    ): "the provider's answer; the single-use state is the credential (tests/accounts/test_oidc_pages.py)",
    ("GET", "/forgot-password"): "forgotten-password form",
    ("POST", "/forgot-password"): "the same answer for any address, throttled (tests/accounts/test_front_door.py)",
    ("GET", "/reset-password/{}"): "the one-time secret in the link is the credential (tests/accounts/test_front_door.py)",
    ("POST", "/reset-password/{}"): "the one-time secret in the link is the credential (tests/accounts/test_front_door.py)",
    ("GET", "/request-access"): "the public application form for organizations",
    ("POST", "/request-access"): "an organization applies; the platform admin decides (tests/accounts/test_front_door.py)",
    ("POST", "/lang"): "language cookie for anyone",
    ("GET", "/invitations/{}"): "the one-time secret in the link is the credential (tests/accounts/test_accounts.py)",
    ("POST", "/invitations/{}"): "the one-time secret in the link is the credential (tests/accounts/test_accounts.py)",
    (
        "GET",
        "/unsubscribe/{}",
    ): "an e-mail's unsubscribe link: its random token is the credential (tests/notifications/test_notifications.py)",
    ("POST", "/unsubscribe/{}"): "RFC 8058 one-click unsubscribe, token in the path (tests/notifications/test_notifications.py)",
    (
        "GET",
        "/saved-searches/unsubscribe/{}",
    ): "a digest's per-search link: its token is the credential (tests/search/test_saved_searches.py)",
    (
        "POST",
        "/saved-searches/unsubscribe/{}",
    ): "a digest's per-search link: its token is the credential (tests/search/test_saved_searches.py)",
}
NOT_ROUTES = ("/static", "/assets", "/schema")


def normalize(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_every_route_is_in_the_matrix(app) -> None:
    covered = {(r.method, normalize(r.path)) for r in API_ROUTES + PAGE_ROUTES} | set(PUBLIC)
    missing = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(NOT_ROUTES):
            continue
        for method in route.methods - {"HEAD", "OPTIONS"}:
            if (method, normalize(route.path)) not in covered:
                missing.append(f"{method} {route.path}")
    assert not missing, "routes without a tenancy matrix entry: " + ", ".join(sorted(missing))


@pytest.mark.parametrize("route", API_ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_api_route_matrix(client, db, world, settings, route: Route) -> None:
    world.scratch["settings"] = settings
    await check_api_matrix(client, db, world, route)


@pytest.mark.parametrize("route", PAGE_ROUTES, ids=lambda r: f"{r.method} {r.path}")
async def test_page_route_matrix(client, db, world, settings, route: Route) -> None:
    world.scratch["settings"] = settings
    await check_page_matrix(client, db, world, route)
