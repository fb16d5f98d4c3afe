"""Sign-in throttling in PostgreSQL: a delay per account that grows, at most 100 failures per account
per hour, a cap per address that does not lock out the real user, forwarded addresses believed only
from a trusted proxy, attempts in parallel counted, and the same work for unknown accounts."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select

from marketplace.accounts import passwords
from marketplace.accounts.models import Role, SignInAttempt
from marketplace.accounts.services import AccountService
from marketplace.accounts.throttle import ThrottlePolicy
from marketplace.audit.models import AuditEvent
from marketplace.cli import server_config
from marketplace.db import utcnow
from marketplace.errors import DomainError, Throttled
from tests.support.web import login, post_form
from tests.support.world import PASSWORD


async def fail(db, email: str, times: int, *, minutes_ago: float = 0, address: str | None = None, spread: float = 0) -> None:
    """Failures already on record, the latest `minutes_ago`, spread over `spread` minutes before it."""
    now = utcnow()
    rows = [
        {"email": email, "address": address, "attempted_at": now - timedelta(minutes=minutes_ago + spread * i / max(times, 1))}
        for i in range(times)
    ]
    await db.execute(insert(SignInAttempt), rows)
    await db.commit()


async def test_after_five_failures_the_next_attempt_waits_and_the_page_says_how_long(client, db, world) -> None:
    email = world.emails[Role.company_member]
    for _ in range(5):
        assert (await post_form(client, "/login", {"email": email, "password": "wrong-password"})).status_code == 400
    blocked = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert blocked.headers["retry-after"] == "1"
    assert "尝试次数过多，请等待 1 秒后再试" in blocked.text
    assert (await db.scalar(select(func.count()).where(AuditEvent.action == "login_rate_limited"))) == 1
    # Another account from the same browser is not held back.
    assert (await login(client, world.emails[Role.tto_staff])).status_code == 302


async def test_the_delay_doubles_with_each_failure_up_to_a_minute(client, db, world) -> None:
    email = world.emails[Role.company_member]
    await fail(db, email, 10)
    blocked = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert blocked.status_code == 429 and 30 <= int(blocked.headers["retry-after"]) <= 32
    await fail(db, email, 5)
    blocked = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert int(blocked.headers["retry-after"]) == 60


async def test_once_the_delay_has_passed_the_real_user_signs_in_and_the_failures_are_forgotten(client, db, world) -> None:
    email = world.emails[Role.company_member]
    await fail(db, email, 8, minutes_ago=0.5)
    assert (await login(client, email)).status_code == 302
    assert await db.scalar(select(func.count()).select_from(SignInAttempt)) == 0


async def test_at_most_a_hundred_failures_per_account_per_hour(client, db, world) -> None:
    email = world.emails[Role.company_member]
    # The latest failure ten minutes ago: long past any delay, but the hour holds 100 failures.
    await fail(db, email, 100, minutes_ago=10, spread=40)
    blocked = await post_form(client, "/login", {"email": email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert 9 * 60 <= int(blocked.headers["retry-after"]) <= 11 * 60


async def test_a_busy_address_is_capped_but_other_addresses_are_not(db, world) -> None:
    accounts = AccountService(db)
    policy = ThrottlePolicy()
    rows = [{"email": f"guess{i}@example.test", "address": "10.9.9.9", "attempted_at": utcnow()} for i in range(100)]
    await db.execute(insert(SignInAttempt), rows)
    await db.commit()
    with pytest.raises(Throttled):
        await accounts.sign_in(world.emails[Role.inventor], PASSWORD, ip="10.9.9.9", policy=policy)
    user, _principal = await accounts.sign_in(world.emails[Role.inventor], PASSWORD, ip="10.9.9.10", policy=policy)
    assert user.email == world.emails[Role.inventor]


async def test_someone_failing_on_another_account_from_the_same_address_does_not_lock_the_user_out(db, world) -> None:
    accounts = AccountService(db)
    policy = ThrottlePolicy()
    for _ in range(6):
        with pytest.raises(DomainError):
            await accounts.sign_in(world.emails[Role.tto_staff], "wrong-password", ip="10.1.1.1", policy=policy)
    user, _principal = await accounts.sign_in(world.emails[Role.inventor], PASSWORD, ip="10.1.1.1", policy=policy)
    assert user.email == world.emails[Role.inventor]


async def test_parallel_attempts_are_all_counted(live_server, world) -> None:
    email = world.emails[Role.company_member]
    async with httpx.AsyncClient(base_url=live_server) as http:
        await http.get("/login")
        token = http.cookies["csrftoken"]

        async def attempt(i: int) -> int:
            # Each from another forwarded address: believed from no one, as no proxy is trusted.
            headers = {"x-csrftoken": token, "x-forwarded-for": f"203.0.113.{i}"}
            response = await http.post("/login", data={"email": email, "password": "wrong-password"}, headers=headers)
            return response.status_code

        answers = await asyncio.gather(*(attempt(i) for i in range(20)))
    assert sorted(answers) == [400] * 5 + [429] * 15


async def test_forwarded_addresses_are_believed_only_from_a_trusted_proxy(live_server, db, world) -> None:
    async with httpx.AsyncClient(base_url=live_server) as http:
        await http.get("/login")
        data = {"email": world.emails[Role.inventor], "password": "wrong-password"}
        await http.post(
            "/login", data=data, headers={"x-csrftoken": http.cookies["csrftoken"], "x-forwarded-for": "198.51.100.7"}
        )
    ips = (await db.scalars(select(AuditEvent.ip).where(AuditEvent.action == "login_failed"))).all()
    assert [str(ip) for ip in ips] == ["127.0.0.1"]
    trusted = server_config(object(), live_server.app.state.settings.model_copy(update={"trusted_proxies": "10.0.0.2"}))
    assert trusted.proxy_headers and trusted.forwarded_allow_ips == "10.0.0.2"
    assert not server_config(object(), live_server.app.state.settings).proxy_headers


class CountingHasher(PasswordHasher):
    verified = 0

    def verify(self, hash, password) -> bool:
        CountingHasher.verified += 1
        return super().verify(hash, password)


async def test_an_unknown_account_costs_the_same_hash_check_as_a_known_one(db, world, monkeypatch) -> None:
    monkeypatch.setattr(passwords, "_hasher", CountingHasher.from_parameters(passwords._hasher._parameters))
    monkeypatch.setattr(passwords, "_dummy_hash", None)
    accounts = AccountService(db)
    for email in ("nobody@example.test", world.emails[Role.inventor]):
        before = CountingHasher.verified
        with pytest.raises(DomainError, match=re.escape("Wrong e-mail address or password.")):
            await accounts.authenticate(email, "wrong-password")
        assert CountingHasher.verified == before + 1
