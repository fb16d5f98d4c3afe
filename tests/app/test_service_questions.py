"""Permission questions and sign-in are the services' (issue 9): pages ask them, never decide."""

from __future__ import annotations

import uuid

import pytest

from marketplace.accounts.models import Role
from marketplace.accounts.services import AccountService
from marketplace.accounts.throttle import ThrottlePolicy
from marketplace.audit import services as audit
from marketplace.catalog.models import Listing, ListingKind, Status
from marketplace.catalog.services import CatalogService
from marketplace.errors import DomainError, Forbidden, NotAuthenticated
from marketplace.matching.needs.models import Need
from marketplace.matching.needs.services import NeedService
from marketplace.matching.requests.services import MatchingService
from marketplace.matching.threads.services import ThreadService
from marketplace.search.saved_searches import SavedSearchService
from marketplace.tenancy import Principal

OWN, OTHER = uuid.uuid4(), uuid.uuid4()


def principal(role: Role, organization_id: uuid.UUID = OWN) -> Principal:
    return Principal(user_id=uuid.uuid4(), organization_id=organization_id, role=role)


def test_the_catalogue_answers_who_may_create_and_request_a_match() -> None:
    published, draft = Listing(status=Status.published), Listing(status=Status.draft)
    assert CatalogService.may_request_match(principal(Role.company_member), published)
    assert not CatalogService.may_request_match(principal(Role.company_member), draft)
    assert not CatalogService.may_request_match(principal(Role.tto_staff), published)
    assert CatalogService.may_create(principal(Role.tto_staff), ListingKind.resource)
    assert CatalogService.may_create(principal(Role.inventor), ListingKind.result)
    assert not CatalogService.may_create(principal(Role.inventor), ListingKind.resource)
    assert not CatalogService.may_create(principal(Role.company_admin))
    assert CatalogService.default_contact(principal(Role.tto_manager)).keys() == {"contact_name", "contact_email"}
    assert CatalogService.default_contact(principal(Role.inventor)) == {}


def test_services_answer_the_role_questions_pages_ask() -> None:
    tto, company, admin, analyst = (
        principal(r) for r in (Role.tto_staff, Role.company_member, Role.platform_admin, Role.platform_analyst)
    )
    assert CatalogService.require_tto(tto) is tto
    for require, allowed, refused in [
        (CatalogService.require_tto, tto, company),
        (SavedSearchService.require_saver, company, tto),
        (MatchingService.require_requester, company, admin),
        (NeedService.require_poster_role, admin, tto),
        (NeedService.require_responder, tto, company),
    ]:
        assert require(allowed) is allowed
        with pytest.raises(Forbidden):
            require(refused)
        with pytest.raises(NotAuthenticated):
            require(Principal())
    assert SavedSearchService.may_save(company) and not SavedSearchService.may_save(analyst)
    assert ThreadService.reads_conversations(admin) and not ThreadService.reads_conversations(analyst)
    assert NeedService.may_post(company) and NeedService.may_post(admin) and not NeedService.may_post(analyst)
    assert NeedService.posts_challenges(admin) and not NeedService.posts_challenges(company)
    need = Need(organization_id=OTHER, on_behalf_of_id=None)
    assert NeedService.reads_responses(analyst, need) and not NeedService.reads_responses(company, need)


def test_accounts_answer_who_sets_the_response_time() -> None:
    assert AccountService.may_set_response_working_days(principal(Role.tto_manager), OWN)
    assert not AccountService.may_set_response_working_days(principal(Role.tto_manager), OTHER)
    assert not AccountService.may_set_response_working_days(principal(Role.tto_staff), OWN)
    assert AccountService.may_set_response_working_days(principal(Role.platform_admin, OTHER), OWN)


async def test_a_refused_sign_in_keeps_its_audit_line_when_the_request_rolls_back(db, world) -> None:
    accounts = AccountService(db)
    limits = {"ip": "10.0.0.1", "policy": ThrottlePolicy(free_failures=1)}
    email = world.emails[Role.tto_staff]
    with pytest.raises(DomainError) as wrong:
        await accounts.sign_in(email, "not the password", **limits)
    assert wrong.value.status_code == 400
    with pytest.raises(DomainError) as throttled:
        await accounts.sign_in(email, "not the password", **limits)
    assert throttled.value.status_code == 429
    await db.rollback()  # what the request's transaction does with a 4xx answer
    actions = [e.action for e in await audit.events(db, limit=5)]
    assert "login_failed" in actions and "login_rate_limited" in actions
