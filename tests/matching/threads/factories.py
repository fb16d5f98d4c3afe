"""Conversation test data: a match request whose thread the tests use, and its messages' address."""

from __future__ import annotations

from marketplace.accounts.models import Role
from tests.catalog.factories import published, result_body
from tests.matching.requests.factories import create


def messages_url(request_id) -> str:
    return f"/api/v1/match-requests/{request_id}/messages"


async def new_request(db, world):
    """The own company's request on a result of the own institution naming the world's inventor."""
    inventor = (await world.principal(db, world.emails[Role.inventor])).user_id
    body = result_body(inventors=[{"name": "本院发明人", "share_bp": 10000, "user_id": str(inventor)}])
    return await create(db, world, await published(db, world, body=body))
