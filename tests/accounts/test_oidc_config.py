"""Single sign-on configuration: the platform admin sets an organization's provider; field-level
checks; the client secret is stored encrypted and never shown; a domain leads to one organization."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from marketplace.accounts.models import OidcProvider, Role
from marketplace.accounts.oidc import OidcProviderInput, SingleSignOn
from marketplace.audit.models import AuditEvent
from marketplace.errors import Conflict, Forbidden, InvalidInput, NotFound


def hospital_provider(**changes) -> OidcProviderInput:
    data = OidcProviderInput(
        issuer="https://sso.hospital.example/",
        client_id="marketplace",
        client_secret="s3cret-value",
        allowed_domains=["Hospital.Example", "@hospital.example", "staff.hospital.example"],
        role_claim="roles",
        role_mapping={"researcher": "inventor", "tto": "tto_staff"},
        password_sign_in_disabled=True,
        end_provider_session=True,
    )
    return dataclasses.replace(data, **changes)


async def test_platform_admin_configures_and_the_secret_stays_encrypted(db, world, settings) -> None:
    admin = await world.principal(db, world.emails[Role.platform_admin])
    org = world.orgs["institution/own"]
    sso = SingleSignOn(db, settings)
    assert await sso.get_provider(admin, org.id) is None

    view = await sso.configure(admin, org.id, hospital_provider())
    await db.commit()
    assert view.issuer == "https://sso.hospital.example"
    assert view.allowed_domains == ["hospital.example", "staff.hospital.example"]
    assert view.client_secret_set and "s3cret" not in repr(view)

    stored = await db.get(OidcProvider, org.id)
    assert b"s3cret-value" not in stored.client_secret_encrypted
    assert sso.client_secret(stored) == "s3cret-value"
    audit = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "oidc_provider_configured"))).one()
    assert "s3cret" not in str(audit.data) and audit.organization_id == org.id

    # An edit without a secret keeps the stored one.
    await sso.configure(admin, org.id, hospital_provider(client_secret=None, client_id="marketplace-2"))
    await db.commit()
    await db.refresh(stored)
    assert stored.client_id == "marketplace-2" and sso.client_secret(stored) == "s3cret-value"

    assert (await sso.provider_for_email("Doctor@STAFF.hospital.example")).organization_id == org.id
    assert await sso.provider_for_email("someone@elsewhere.example") is None
    assert not await sso.password_sign_in_allowed("doctor@hospital.example")
    assert await sso.password_sign_in_allowed("someone@elsewhere.example")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issuer": "not a url"}, "issuer"),
        ({"issuer": "http://sso.hospital.example"}, "issuer"),
        ({"issuer": "https://sso.hospital.example/?tenant=1"}, "issuer"),
        ({"client_id": " "}, "client_id"),
        ({"client_secret": ""}, "client_secret"),
        ({"allowed_domains": []}, "allowed_domains"),
        ({"allowed_domains": ["not_a_domain"]}, "allowed_domains"),
        ({"role_claim": ""}, "role_claim"),
        ({"role_mapping": {}}, "role_mapping"),
        ({"role_mapping": {"x": "company_admin"}}, "role_mapping"),
        ({"password_sign_in_disabled": True, "enabled": False}, "password_sign_in_disabled"),
    ],
)
async def test_bad_fields_are_named(db, world, settings, changes, field) -> None:
    admin = await world.principal(db, world.emails[Role.platform_admin])
    with pytest.raises(InvalidInput) as refused:
        await SingleSignOn(db, settings).configure(admin, world.orgs["institution/own"].id, hospital_provider(**changes))
    assert [error.field for error in refused.value.errors] == [field]


async def test_a_new_configuration_needs_a_secret_and_loopback_http_is_allowed(db, world, settings) -> None:
    admin = await world.principal(db, world.emails[Role.platform_admin])
    sso = SingleSignOn(db, settings)
    with pytest.raises(InvalidInput):
        await sso.configure(admin, world.orgs["company/own"].id, hospital_provider(client_secret=None))
    view = await sso.configure(
        admin,
        world.orgs["company/own"].id,
        hospital_provider(issuer="http://127.0.0.1:5000", role_mapping={"staff": "company_member"}),
    )
    assert view.issuer == "http://127.0.0.1:5000"


async def test_no_provider_makes_a_platform_admin(db, world, settings) -> None:
    admin = await world.principal(db, world.emails[Role.platform_admin])
    with pytest.raises(InvalidInput):
        await SingleSignOn(db, settings).configure(
            admin, world.orgs["platform/other"].id, hospital_provider(role_mapping={"ops": "platform_admin"})
        )


async def test_a_domain_belongs_to_one_organization(db, world, settings) -> None:
    admin = await world.principal(db, world.emails[Role.platform_admin])
    sso = SingleSignOn(db, settings)
    await sso.configure(admin, world.orgs["institution/own"].id, hospital_provider())
    with pytest.raises(Conflict):
        await sso.configure(admin, world.orgs["institution/other"].id, hospital_provider(allowed_domains=["hospital.example"]))


@pytest.mark.parametrize("role", [Role.tto_manager, Role.company_admin, Role.platform_analyst])
async def test_only_the_platform_admin_configures(db, world, settings, role) -> None:
    someone = await world.principal(db, world.emails[role])
    sso = SingleSignOn(db, settings)
    with pytest.raises(Forbidden):
        await sso.configure(someone, world.orgs["institution/own"].id, hospital_provider())
    with pytest.raises(Forbidden):
        await sso.get_provider(someone, world.orgs["institution/own"].id)


async def test_removal_takes_the_domains_and_is_audited(db, world, settings) -> None:
    admin = await world.principal(db, world.emails[Role.platform_admin])
    sso = SingleSignOn(db, settings)
    org = world.orgs["institution/own"]
    await sso.configure(admin, org.id, hospital_provider())
    await sso.remove(admin, org.id)
    await db.flush()
    assert await sso.provider_for_email("doctor@hospital.example") is None
    with pytest.raises(NotFound):
        await sso.remove(admin, org.id)
