"""Integration clients for tests: registered through the service as the organization's
administrator, and tokens taken over HTTP from /oauth/token like a real client would."""

from __future__ import annotations

import uuid

from marketplace.accounts.integrations import MANAGERS, IntegrationService, IssuedSecret
from marketplace.accounts.models import Role
from marketplace.accounts.scopes import Scope
from tests.support.world import ROLE_KIND, World

ALL_SCOPES = [s.value for s in Scope]
ADMIN_OF = {"institution": Role.tto_manager, "company": Role.company_admin}


async def register_client(
    db, world: World, settings, *, kind: str = "institution", scopes=None, name: str = "科研管理系统"
) -> IssuedSecret:
    """A client of the world's own institution (or company), registered by its administrator."""
    admin = await world.principal(db, world.emails[ADMIN_OF[kind]])
    issued = await IntegrationService(db, settings).register(admin, name, list(scopes or ALL_SCOPES))
    await db.commit()
    return issued


async def take_token(client, client_id: str, secret: str, scope: str | None = None):
    """POST /oauth/token with HTTP Basic, as `curl -u id:secret -d grant_type=client_credentials`."""
    form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
    return await client.post("/oauth/token", data=form, auth=(client_id, secret))


async def client_bearer(client, issued: IssuedSecret, scope: str | None = None) -> dict[str, str]:
    response = await take_token(client, issued.client.client_id, issued.secret, scope)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


# ----- the tenancy matrix (tests/app/test_tenancy.py) -------------------------------------------


async def matrix_client(db, world: World, role: Role, relation: str) -> dict:
    """A fresh client of the caller's own or another organization of its kind (an institution's for
    platform roles, whose own organization has none)."""
    kind = ROLE_KIND[role] if ROLE_KIND[role] != "platform" else "institution"
    email = world.emails[ADMIN_OF[kind]] if relation == "own" else f"admin@{kind}.other.test"
    admin = await world.principal(db, email)
    issued = await IntegrationService(db, world.scratch["settings"]).register(admin, f"系统{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    await db.commit()
    return {"client": issued.client.id}


def new_client_body(world: World, role: Role, relation: str) -> dict:
    return {"name": f"CRM {uuid.uuid4().hex[:8]}", "scopes": ["listings:read", "requests:read"]}


def manages_client(ok: int, *, platform: int = 403):
    """The organization's administrator on its own clients (another's: 404); the platform admin
    answers `platform` anywhere; every other role 403."""

    def expect(role: Role, relation: str) -> int:
        if role == Role.platform_admin:
            return platform
        if role in MANAGERS:
            return ok if relation == "own" else 404
        return 403

    return expect
