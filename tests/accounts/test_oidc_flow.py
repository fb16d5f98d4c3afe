"""Single sign-on against the real test provider (npm oidc-provider on loopback), headless: the
provider's redirects are followed with httpx up to our callback, whose query goes to the service."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Membership, OidcSignInState, Role, User
from marketplace.accounts.oidc_flow import SignOnFlow, SsoError
from marketplace.audit.models import AuditEvent
from marketplace.embedded.postgres import free_port
from tests.accounts.factories import seed_member
from tests.support.oidc import callback_query, configure, sign_in
from tests.support.world import PASSWORD


async def actions(db) -> list[str]:
    db.expire_all()
    return list((await db.scalars(select(AuditEvent.action).order_by(AuditEvent.id))).all())


async def users_named(db, email: str) -> int:
    return await db.scalar(select(func.count()).select_from(User).where(User.email == email))


async def test_first_sign_in_provisions_the_mapped_role_and_the_next_links(db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider)
    url, _key = await SignOnFlow(db, settings).start(org)
    params = parse_qs(urlsplit(url).query)
    assert params["code_challenge_method"] == ["S256"] and "nonce" in params and "code_verifier" not in params

    user, organization_id = await sign_in(db, settings, org)
    assert user.email == "doctor@hospital.example" and organization_id == org
    membership = (await db.scalars(select(Membership).where(Membership.user_id == user.id))).one()
    assert membership.role == Role.inventor and membership.organization_id == org
    assert {"sso_user_provisioned", "sso_member_linked", "login"} <= set(await actions(db))

    again, _ = await sign_in(db, settings, org)
    assert again.id == user.id and await users_named(db, "doctor@hospital.example") == 1


async def test_an_existing_account_is_linked_by_verified_email(db, world, settings, oidc_provider) -> None:
    """The address is already a tto_staff member: the same account signs in, its role unchanged."""
    org = await configure(db, world, settings, oidc_provider)
    member = await seed_member(
        db, world.orgs["institution/own"], email="Doctor@hospital.example", name="doctor", role=Role.tto_staff, password=PASSWORD
    )
    user_id = member.user_id
    await db.commit()
    user, _ = await sign_in(db, settings, org)
    assert user.id == user_id
    roles = (await db.scalars(select(Membership.role).where(Membership.user_id == user_id))).all()
    assert roles == [Role.tto_staff]
    assert "sso_user_provisioned" not in await actions(db)


async def test_an_organization_without_provider_has_no_sign_on(db, world, settings) -> None:
    with pytest.raises(SsoError) as refused:
        await SignOnFlow(db, settings).start(world.orgs["company/own"].id)
    assert refused.value.status_code == 404


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        ({"aud": "someone-else"}, "id_token_invalid_claim"),
        ({"exp_offset": -3600}, "id_token_expired_token"),
        ({"nonce": "not-the-nonce"}, "id_token_invalid_claim"),
        ({"sign_with": "next"}, "id_token_invalid_key_id"),
    ],
)
async def test_a_bad_id_token_is_refused_and_nothing_is_created(db, world, settings, oidc_provider, tamper, reason) -> None:
    org = await configure(db, world, settings, oidc_provider)
    oidc_provider.tamper(**tamper)
    with pytest.raises(SsoError) as refused:
        await sign_in(db, settings, org)
    assert refused.value.reason == reason
    assert await users_named(db, "doctor@hospital.example") == 0
    assert (await actions(db))[-1] == "sso_login_failed"


async def test_a_rotated_key_is_fetched_again(db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider)
    await sign_in(db, settings, org)  # the first key is now cached
    oidc_provider.rotate()
    user, _ = await sign_in(db, settings, org)
    assert user.email == "doctor@hospital.example"


async def test_a_state_works_once(db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider)
    flow = SignOnFlow(db, settings)
    url, browser_key = await flow.start(org, login_hint="doctor")
    await db.commit()
    query = callback_query(url)
    await flow.finish(query["state"], code=query["code"], browser_key=browser_key)
    await db.commit()
    with pytest.raises(SsoError) as replayed:
        await flow.finish(query["state"], code=query["code"], browser_key=browser_key)
    assert replayed.value.reason == "state_unknown_or_used"
    assert await db.scalar(select(func.count()).select_from(OidcSignInState)) == 0


@pytest.mark.parametrize(
    ("user", "changes", "reason"),
    [
        ("outsider", {}, "email_outside_domains"),
        ("unverified", {}, "email_unverified"),
        ("nobody", {}, "role_unmapped"),
    ],
)
async def test_who_the_provider_vouches_for_must_fit(db, world, settings, oidc_provider, user, changes, reason) -> None:
    org = await configure(db, world, settings, oidc_provider, **changes)
    with pytest.raises(SsoError) as refused:
        await sign_in(db, settings, org, user)
    assert refused.value.reason == reason
    assert await db.scalar(select(func.count()).select_from(User).where(User.email.like("%example"))) == 0


async def test_the_provider_down_is_a_clear_error(db, world, settings, oidc_provider) -> None:
    org = await configure(db, world, settings, oidc_provider, issuer=f"http://127.0.0.1:{free_port()}")
    with pytest.raises(SsoError) as down:
        await SignOnFlow(db, settings).start(org)
    assert down.value.status_code == 502 and down.value.reason.startswith("provider_unreachable")
    assert await db.scalar(select(func.count()).select_from(OidcSignInState)) == 0
