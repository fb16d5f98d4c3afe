"""Integration clients (OAuth 2 client credentials): an institution's system takes a token with its
client id and secret and publishes a listing through /api/v1 with it; wrong secrets, revoked
clients, rotated secrets, expired tokens and missing scopes are refused; each issue is audited."""

from __future__ import annotations

import uuid
from datetime import timedelta

import msgspec
import pytest
from sqlalchemy import select, update

from marketplace.accounts.integration_models import IntegrationClient, IntegrationToken
from marketplace.accounts.integrations import IntegrationService, purge_expired_tokens
from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.catalog.models import Listing
from marketplace.catalog.schemas import ListingCreate
from marketplace.catalog.services import CatalogService
from marketplace.db import utcnow
from marketplace.errors import Forbidden
from tests.accounts.integration_factories import client_bearer, register_client, take_token
from tests.catalog.factories import result_body


async def test_an_institution_system_publishes_a_listing_with_a_client_credentials_token(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings, scopes=["listings:write", "listings:read"])
    response = await take_token(client, issued.client.client_id, issued.secret, "listings:write")
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["token_type"] == "Bearer" and token["scope"] == "listings:write"
    assert token["expires_in"] == settings.integration_token_minutes * 60
    assert response.headers["cache-control"] == "no-store"
    bearer = {"Authorization": f"Bearer {token['access_token']}"}

    created = await client.post("/api/v1/listings", json=result_body(), headers=bearer)
    assert created.status_code == 201, created.text
    listing_id = created.json()["id"]
    published = await client.post(f"/api/v1/listings/{listing_id}/transitions", json={"action": "publish"}, headers=bearer)
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published"

    listing = await db.get(Listing, uuid.UUID(listing_id))
    assert listing.institution_id == world.orgs["institution/own"].id
    # Anyone reads it now, as any published listing.
    assert (await client.get(f"/api/v1/listings/{listing_id}")).status_code == 200
    # The audit trail names the integration as the one who acted.
    events = (await db.execute(select(AuditEvent).where(AuditEvent.subject_id == listing_id))).scalars().all()
    assert [e.action for e in events] == ["listing_created", "listing_publish"]
    assert {e.actor_user_id for e in events} == {issued.client.user_id}


async def test_the_secret_is_shown_once_and_only_its_digest_is_kept(client, db, world, settings) -> None:
    admin = {**world.bearer(Role.tto_manager)}
    response = await client.post("/api/v1/integrations", json={"name": "CRM", "scopes": ["requests:read"]}, headers=admin)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["client_secret"].startswith("mks_") and len(body["client_secret"]) > 40
    row = await db.scalar(select(IntegrationClient).where(IntegrationClient.client_id == body["client_id"]))
    assert row.secret_hash != body["client_secret"] and body["client_secret"] not in str(vars(row))
    listed = (await client.get("/api/v1/integrations", headers=admin)).json()
    assert [c["client_id"] for c in listed] == [body["client_id"]]
    assert "client_secret" not in listed[0] and body["client_secret"] not in str(listed)
    audit = await db.scalar(select(AuditEvent).where(AuditEvent.action == "integration_registered"))
    assert audit.data["scopes"] == ["requests:read"] and body["client_secret"] not in str(audit.data)


async def test_a_wrong_secret_is_invalid_client(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings)
    response = await take_token(client, issued.client.client_id, issued.secret + "x")
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"
    assert "basic" in response.headers["www-authenticate"].lower()
    unknown = await take_token(client, "mkc_nobody", issued.secret)
    assert unknown.status_code == 401 and unknown.json()["error"] == "invalid_client"
    refused = (await db.scalars(select(AuditEvent.data).where(AuditEvent.action == "integration_token_refused"))).all()
    assert [d["error"] for d in refused] == ["invalid_client", "invalid_client"]


async def test_client_secret_post_works_too(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings)
    form = {
        "grant_type": "client_credentials",
        "client_id": issued.client.client_id,
        "client_secret": issued.secret,
        "scope": "listings:read payments:read",
    }
    response = await client.post("/oauth/token", data=form)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "listings:read payments:read"


async def test_scopes_unknown_or_not_granted_are_invalid_scope(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings, scopes=["listings:read"])
    for scope in ("listings:admin", "listings:read payments:write"):
        response = await take_token(client, issued.client.client_id, issued.secret, scope)
        assert response.status_code == 400 and response.json()["error"] == "invalid_scope", scope
    other_grant = await client.post(
        "/oauth/token",
        data={"grant_type": "password", "username": "x", "password": "y"},
        auth=(issued.client.client_id, issued.secret),
    )
    assert other_grant.json()["error"] == "unsupported_grant_type"
    no_scope = await take_token(client, issued.client.client_id, issued.secret)
    assert no_scope.json()["scope"] == "listings:read"


async def test_a_revoked_client_and_its_live_tokens_stop_at_once(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings)
    bearer = await client_bearer(client, issued)
    assert (await client.get("/api/v1/listings", headers=bearer)).status_code == 200
    revoked = await client.delete(f"/api/v1/integrations/{issued.client.id}", headers=world.bearer(Role.tto_manager))
    assert revoked.status_code == 204
    assert (await client.get("/api/v1/listings", headers=bearer)).status_code == 401
    again = await take_token(client, issued.client.client_id, issued.secret)
    assert again.status_code == 401 and again.json()["error"] == "invalid_client"
    assert await db.scalar(select(AuditEvent.action).where(AuditEvent.action == "integration_revoked"))


async def test_a_rotated_secret_replaces_the_old_one(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings)
    rotated = await client.post(f"/api/v1/integrations/{issued.client.id}/secret", headers=world.bearer(Role.tto_manager))
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["client_secret"]
    assert new_secret != issued.secret
    assert (await take_token(client, issued.client.client_id, issued.secret)).status_code == 401
    assert (await take_token(client, issued.client.client_id, new_secret)).status_code == 200
    assert await db.scalar(select(AuditEvent.action).where(AuditEvent.action == "integration_secret_rotated"))


async def test_an_expired_token_is_401_and_the_housekeeping_purges_it(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings)
    bearer = await client_bearer(client, issued)
    past = utcnow() - timedelta(minutes=1)
    await db.execute(update(IntegrationToken).values(created_at=past - timedelta(minutes=15), expires_at=past))
    await db.commit()
    response = await client.get("/api/v1/listings", headers=bearer)
    assert response.status_code == 401
    assert await purge_expired_tokens(db) == 1
    await db.commit()
    assert await db.scalar(select(IntegrationToken.id)) is None


async def test_a_missing_scope_answers_403_naming_it(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings, scopes=["listings:read"])
    bearer = await client_bearer(client, issued)
    response = await client.post("/api/v1/listings", json=result_body(), headers=bearer)
    assert response.status_code == 403
    body = response.json()
    assert "listings:write" in body["detail"]
    assert body["errors"][0]["field"] == "scope" and "listings:write" in body["errors"][0]["message"]
    # An operation no scope covers is for people only.
    me = await client.get("/api/v1/me", headers=bearer)
    assert me.status_code == 403 and me.json()["errors"] == []
    assert (await client.get("/api/v1/integrations", headers=bearer)).status_code == 403
    # Pages never take it.
    assert (await client.get("/integrations", headers=bearer)).status_code == 403


async def test_a_client_acts_for_its_own_organization_only(client, db, world, settings) -> None:
    theirs = await register_client(db, world, settings, name="他院系统")
    # A draft of another institution is out of scope: 404, as for that institution's people.
    other_admin = await world.principal(db, "admin@institution.other.test")
    draft = await CatalogService(db).create(other_admin, msgspec.convert(result_body(), ListingCreate))
    await db.commit()
    bearer = await client_bearer(client, theirs)
    assert (await client.get(f"/api/v1/listings/{draft.id}", headers=bearer)).status_code == 404
    patched = await client.patch(f"/api/v1/listings/{draft.id}", json={"title_zh": "改"}, headers=bearer)
    assert patched.status_code == 404


async def test_each_issue_is_audited_with_the_integration_as_actor(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings)
    await client_bearer(client, issued, "listings:read")
    event = await db.scalar(select(AuditEvent).where(AuditEvent.action == "integration_token_issued"))
    assert event.actor_user_id == issued.client.user_id
    assert event.organization_id == world.orgs["institution/own"].id
    assert event.data["scopes"] == ["listings:read"] and event.data["name"] == "科研管理系统"
    stored = await db.scalar(select(IntegrationToken))
    assert stored.scopes == ["listings:read"] and len(stored.token_hash) == 64


async def test_the_token_endpoint_is_throttled_per_client(client, db, world, settings) -> None:
    issued = await register_client(db, world, settings)
    statuses = [
        (await take_token(client, issued.client.client_id, "wrong")).status_code for _ in range(settings.login_free_failures + 2)
    ]
    assert statuses[: settings.login_free_failures] == [401] * settings.login_free_failures
    assert statuses[-1] == 429
    assert (await take_token(client, issued.client.client_id, "wrong")).headers.get("retry-after")


async def test_registration_refuses_bad_input_field_by_field(client, db, world, settings) -> None:
    admin = world.bearer(Role.tto_manager)
    cases = [
        ({"name": "CRM", "scopes": ["listings:admin"]}, "scopes"),
        ({"name": "CRM", "scopes": []}, "scopes"),
        ({"name": "x" * 81, "scopes": ["listings:read"]}, "name"),
        ({"name": "CRM\u0000", "scopes": ["listings:read"]}, "name"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/integrations", json=body, headers=admin)
        assert response.status_code in (400, 422), (body, response.text)
        assert any(field in e["field"] for e in response.json()["errors"]), response.text
    first = await client.post("/api/v1/integrations", json={"name": "CRM", "scopes": ["listings:read"]}, headers=admin)
    assert first.status_code == 201
    twice = await client.post("/api/v1/integrations", json={"name": "CRM", "scopes": ["listings:read"]}, headers=admin)
    assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "name"
    assert await db.scalar(select(IntegrationClient.name)) == "CRM"


async def test_platform_roles_never_hold_a_secret(db, world, settings) -> None:
    service = IntegrationService(db, settings)
    issued = await register_client(db, world, settings)
    admin = await world.principal(db, world.emails[Role.platform_admin])
    assert [c.id for c in await service.list_clients(admin)] == [issued.client.id]
    with pytest.raises(Forbidden):
        await service.register(admin, "平台", ["listings:read"])
    with pytest.raises(Forbidden):
        await service.rotate_secret(admin, issued.client.id)
    await service.revoke(admin, issued.client.id)
