"""The platform admin sets up an organization's single sign-on: the page on the organization and
/api/v1/organizations/{id}/sso. The client secret is write-only: never in a page or an answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.accounts.models import OidcProvider, Role
from marketplace.accounts.oidc import OidcProviderInput, SingleSignOn, decrypt_secret
from marketplace.audit.models import AuditEvent
from tests.support.web import error_of, login, post_form

SECRET = "s3cret-never-shown"


def form(**changes: str) -> dict[str, str]:
    data = {
        "issuer": "https://sso.hospital.example/realms/staff",
        "client_id": "marketplace",
        "client_secret": SECRET,
        "allowed_domains": "hospital.example\nstaff.hospital.example",
        "role_claim": "groups",
        "map_value_0": "researchers",
        "map_role_0": "inventor",
        "map_value_1": "tto",
        "map_role_1": "tto_staff",
        "enabled": "on",
        "end_provider_session": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def body(**changes) -> dict:
    data = {
        "issuer": "https://sso.hospital.example",
        "client_id": "marketplace",
        "client_secret": SECRET,
        "allowed_domains": ["hospital.example"],
        "role_claim": "roles",
        "role_mapping": {"researcher": "inventor"},
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


async def stored(db, org_id) -> OidcProvider | None:
    db.expire_all()
    return await db.get(OidcProvider, org_id)


async def secret_of(db, settings, org_id) -> str:
    encrypted = await db.scalar(select(OidcProvider.client_secret_encrypted).where(OidcProvider.organization_id == org_id))
    return decrypt_secret(settings, encrypted)


async def test_the_platform_admin_sets_up_an_institution_on_its_page(client, db, world, settings) -> None:
    org_id = world.orgs["institution/own"].id
    await login(client, world.emails[Role.platform_admin])
    listing = await client.get("/organizations")
    assert f'href="/organizations/{org_id}/sso"' in listing.text

    empty = await client.get(f"/organizations/{org_id}/sso")
    assert empty.status_code == 200 and "未配置" in empty.text
    assert "http://testserver.local/login/sso/callback" in empty.text  # what to register at the provider

    saved = await post_form(client, f"/organizations/{org_id}/sso", form())
    assert saved.status_code == 302 and saved.headers["location"] == f"/organizations/{org_id}/sso"
    provider = await stored(db, org_id)
    assert provider is not None and provider.role_mapping == {"researchers": "inventor", "tto": "tto_staff"}
    assert provider.end_provider_session and not provider.password_sign_in_disabled
    assert await secret_of(db, settings, org_id) == SECRET

    page = await client.get(f"/organizations/{org_id}/sso")
    assert "统一身份认证配置已保存" in page.text and "已设置" in page.text
    assert SECRET not in page.text and 'value="researchers"' in page.text and "staff.hospital.example" in page.text

    # A blank secret keeps the stored one; the mapping and the options are replaced.
    again = form(client_secret="", map_value_1="", map_role_1="", password_sign_in_disabled="on")
    assert (await post_form(client, f"/organizations/{org_id}/sso", again)).status_code == 302
    provider = await stored(db, org_id)
    assert provider is not None and provider.role_mapping == {"researchers": "inventor"}
    assert provider.password_sign_in_disabled
    assert await secret_of(db, settings, org_id) == SECRET

    audit = (await db.scalars(select(AuditEvent).where(AuditEvent.action == "oidc_provider_configured"))).all()
    assert len(audit) == 2 and all(SECRET not in str(a.data) for a in audit)

    removed = await post_form(client, f"/organizations/{org_id}/sso/remove", {})
    assert removed.status_code == 302 and await stored(db, org_id) is None
    assert "统一身份认证配置已删除" in (await client.get(f"/organizations/{org_id}/sso")).text
    assert await db.scalar(select(AuditEvent.action).where(AuditEvent.action == "oidc_provider_removed"))


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"issuer": "http://sso.hospital.example"}, "issuer", "签发者须为 https 网址。"),
        ({"issuer": "https://sso.hospital.example\n/x"}, "issuer", "签发者网址不能带查询参数或片段"),
        ({"issuer": "https://" + "a" * 20_000 + ".example"}, "issuer", "签发者网址不能带查询参数或片段"),
        ({"client_secret": ""}, "client_secret", "必填。"),
        ({"allowed_domains": "not a domain!"}, "allowed_domains", "不是有效的邮箱域名"),
        ({"map_role_0": "company_admin"}, "role_mapping", "不是本机构可用的角色：company_admin"),
        ({"map_role_0": "platform_admin"}, "role_mapping", "不是本机构可用的角色"),
        ({"map_role_0": "", "map_role_1": ""}, "role_mapping", "请为每个声明值选择角色。"),
        ({"role_claim": "x" * 5000}, "role_claim", "请填写携带角色的声明名称"),
        ({"enabled": "", "password_sign_in_disabled": "on"}, "password_sign_in_disabled", "统一身份认证"),
    ],
)
async def test_bad_input_is_a_field_error_in_chinese(client, db, world, changes, field, message) -> None:
    org_id = world.orgs["institution/own"].id
    await login(client, world.emails[Role.platform_admin])
    refused = await post_form(client, f"/organizations/{org_id}/sso", form(**changes))
    assert refused.status_code == 422, refused.text[-800:]
    assert message in error_of(refused.text, field)
    assert 'aria-invalid="true"' in refused.text
    assert SECRET not in refused.text  # not even the one just typed
    assert await stored(db, org_id) is None


async def test_a_domain_is_one_organizations_only(client, db, world) -> None:
    await login(client, world.emails[Role.platform_admin])
    first, second = world.orgs["institution/own"].id, world.orgs["institution/other"].id
    assert (await post_form(client, f"/organizations/{first}/sso", form())).status_code == 302
    taken = await post_form(client, f"/organizations/{second}/sso", form(allowed_domains="hospital.example"))
    assert taken.status_code == 409 and "hospital.example" in error_of(taken.text, "allowed_domains")


async def test_only_the_platform_admin_reaches_the_page(client, db, world) -> None:
    org_id = world.orgs["institution/own"].id
    await login(client, world.emails[Role.tto_manager])
    assert (await client.get(f"/organizations/{org_id}/sso")).status_code == 403
    assert (await post_form(client, f"/organizations/{org_id}/sso", form())).status_code == 403
    await login(client, world.emails[Role.platform_analyst])
    assert (await client.get(f"/organizations/{org_id}/sso")).status_code == 403
    assert "/sso" not in (await client.get("/organizations")).text
    assert await stored(db, org_id) is None


async def test_the_api_sets_reads_and_removes_without_ever_showing_the_secret(client, db, world, settings) -> None:
    org_id = world.orgs["institution/own"].id
    admin = world.bearer(Role.platform_admin)
    url = f"/api/v1/organizations/{org_id}/sso"
    assert (await client.get(url, headers=admin)).status_code == 404

    created = await client.put(url, json=body(), headers=admin)
    assert created.status_code == 200, created.text
    out = created.json()
    assert out["client_secret_set"] is True and "client_secret" not in out and SECRET not in created.text
    assert out["redirect_uri"] == "http://testserver.local/login/sso/callback"
    assert out["role_mapping"] == {"researcher": "inventor"} and out["enabled"] is True

    kept = await client.put(url, json=body(client_secret=None, role_claim="groups"), headers=admin)
    assert kept.status_code == 200 and kept.json()["role_claim"] == "groups"
    provider = await stored(db, org_id)
    assert provider is not None and await secret_of(db, settings, org_id) == SECRET
    read = await client.get(url, headers=admin)
    assert read.json()["client_secret_set"] is True and SECRET not in read.text

    assert (await client.delete(url, headers=admin)).status_code == 204
    assert (await client.get(url, headers=admin)).status_code == 404
    assert (await client.delete(url, headers=admin)).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"issuer": "http://sso.hospital.example"}, "issuer"),
        ({"issuer": "https://[not-an-address"}, "issuer"),
        ({"issuer": "https://sso.hospital.example:port"}, "issuer"),
        ({"allowed_domains": ["bad domain"]}, "allowed_domains"),
        ({"role_mapping": {"x": "company_admin"}}, "role_mapping"),
        ({"role_mapping": {"x" * 300: "inventor"}}, "role_mapping"),
        ({"client_secret": None}, "client_secret"),
    ],
)
async def test_the_api_answers_bad_input_by_field(client, db, world, changes, field) -> None:
    org_id = world.orgs["institution/own"].id
    refused = await client.put(
        f"/api/v1/organizations/{org_id}/sso", json=body(**changes), headers=world.bearer(Role.platform_admin)
    )
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]]


async def test_others_may_not_use_the_api(client, db, world, settings) -> None:
    org_id = world.orgs["institution/own"].id
    admin = await world.principal(db, world.emails[Role.platform_admin])
    await SingleSignOn(db, settings).configure(admin, org_id, _input())
    await db.commit()
    url = f"/api/v1/organizations/{org_id}/sso"
    for role in (Role.tto_manager, Role.platform_analyst, Role.company_admin):
        assert (await client.get(url, headers=world.bearer(role))).status_code == 403
        assert (await client.put(url, json=body(), headers=world.bearer(role))).status_code == 403
        assert (await client.delete(url, headers=world.bearer(role))).status_code == 403
    assert (await client.get(url)).status_code == 401
    assert await stored(db, org_id) is not None


def _input() -> OidcProviderInput:
    return OidcProviderInput(
        issuer="https://sso.hospital.example",
        client_id="marketplace",
        client_secret=SECRET,
        allowed_domains=["hospital.example"],
        role_claim="roles",
        role_mapping={"researcher": "inventor"},
    )
