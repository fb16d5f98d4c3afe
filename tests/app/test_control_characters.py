"""Control characters (NUL among them) in any text are a 400 naming the field, never a 500: every
route's query, path and body text through the one check at the edge (web.refuse_control_characters),
the attacks found (sign-in, unsubscribe links, profile, tokens, saved searches, needs, listings,
search) replayed as the roles that reach them, over-deep JSON on every route that takes a body,
and the walker itself (marketplace.forms)."""

from __future__ import annotations

import re
import uuid
from urllib.parse import quote

import msgspec
import pytest
from litestar.routes import HTTPRoute
from litestar.testing import RequestFactory
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from marketplace import forms
from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEvent
from marketplace.catalog.schemas import ListingCreate
from marketplace.error_answers import unstorable_text_handler
from marketplace.matching.requests.schemas import MatchRequestCreate
from marketplace.matching.requests.services import MatchingService
from marketplace.web import API_PREFIXES, KEEPS_FORM
from tests.catalog.factories import result_body, result_form, seed_listing
from tests.matching.needs.factories import need_body, need_form
from tests.matching.requests.factories import match_body
from tests.support.web import login, post_form

NUL = "x\x00y"
MESSAGE = "含有不允许的控制字符（如 NUL）。"
NOT_ROUTES = ("/static", "/assets", "/schema")
# Signature names that are not the client's query parameters.
NOT_QUERY = {"request", "state", "scope", "headers", "cookies", "query", "socket", "body", "data"}


def test_the_walker_names_every_bad_text_by_its_path() -> None:
    value = {
        "name": "ok\t\r\n\u2028 multi-line text is fine",
        "title": "a\x00b",
        "inventors": [{"name": "fine"}, {"name": "\x7f"}],
        "tags": ["\x85", "ok", "\x1b[31m"],
        "k\x01": "value",
        "n": 3,
        "lone": "\ud800",
    }
    fields = [e.field for e in forms.control_character_errors(value)]
    assert fields == ["title", "inventors[1].name", "tags[0]", "tags[2]", "k\\u0001", "lone"]
    assert forms.control_character_errors(["\x00"], "body") == [forms.FieldError("body[0]", forms.CONTROL_CHARACTER)]


def routes(app) -> list[tuple[str, str, object]]:
    """Every (method, path, handler) of the app but static files and the schema."""
    found = []
    for route in app.routes:
        if isinstance(route, HTTPRoute) and not route.path.startswith(NOT_ROUTES):
            for handler in route.route_handlers:
                found += [(m, route.path, handler) for m in sorted(handler.http_methods - {"HEAD", "OPTIONS"})]
    return found


def query_names(path: str, handler) -> list[str]:
    """The query parameters the handler declares, by their alias (search and needs read the raw
    query themselves: they are asked for `q`)."""
    dependencies = set(handler.resolve_dependencies())
    names = []
    for name, field in handler.parsed_fn_signature.parameters.items():
        if name in NOT_QUERY or name in dependencies or f"{{{name}:" in path:
            continue
        names.append(getattr(field.kwarg_definition, "query", None) or name)
    return names


def body_names(handler) -> list[str]:
    """The body fields the handler's Struct declares; `text` for a form or a body it reads itself."""
    data = handler.parsed_data_field
    annotation = data.annotation if data else None
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return [f.encode_name for f in msgspec.structs.fields(annotation)]
    return ["text"]


def fill_path(path: str) -> tuple[str, list[str]]:
    """Ids as fresh UUIDs (the check comes before any lookup), numbers as a year, text parameters (tokens) poisoned."""
    poisoned = re.findall(r"\{(\w+):str\}", path)
    path = re.sub(r"\{\w+:uuid\}", lambda _: str(uuid.uuid4()), path)
    path = re.sub(r"\{\w+:int\}", "2026", path)  # a year (the annual report)
    return re.sub(r"\{\w+:str\}", quote(NUL), path), poisoned


def shown_fields(response, is_api: bool) -> set[str]:
    if is_api:
        return {e["field"] for e in response.json()["errors"]}
    [detail] = re.findall(r"<h1>([^<]*)</h1>", response.text)
    return set(detail.split("：", 1)[1].rstrip("。").split(", "))


async def test_every_route_refuses_control_characters_in_its_query_path_and_body(client, app, world) -> None:
    """One request per route with every text it takes poisoned; the answer names each field."""
    await login(client, world.emails[Role.platform_admin])
    bearer = world.bearer(Role.platform_admin)
    checked, kept = 0, set()
    for method, template, handler in routes(app):
        is_api = template.startswith(API_PREFIXES)
        path, expected = fill_path(template)
        names = query_names(template, handler) or (["q"] if method == "GET" else [])
        params = dict.fromkeys(names, NUL)
        expected += names
        kwargs: dict = {"params": params, "follow_redirects": False}
        if method != "GET":
            fields = body_names(handler)
            expected += fields
            if is_api:
                kwargs["json"] = dict.fromkeys(fields, NUL)
            else:
                kwargs["data"] = dict.fromkeys(fields, NUL)
        if is_api or method == "GET":
            response = await client.request(method, path, headers=bearer if is_api else {}, **kwargs)
        else:
            response = await post_form(client, path, **kwargs)
        if handler.opt.get(KEEPS_FORM):
            # Refused beside the form on its subject's page, so first the subject must exist
            # (test_a_page_form_refuses_control_characters_beside_the_form): fresh ids are 404.
            assert response.status_code == 404, (method, template, response.status_code)
            kept.add(template)
            continue
        assert response.status_code == 400, (method, template, response.status_code, response.text[:300])
        assert shown_fields(response, is_api) == set(expected), (method, template, response.text[:300])
        checked += 1
    assert checked > 100
    assert kept == {
        "/match-requests/{request_id:uuid}/transitions",
        "/match-requests/{request_id:uuid}/messages",
        "/needs/{need_id:uuid}/responses/{response_id:uuid}/messages",
    }


async def count(db, model=AuditEvent) -> int:
    return await db.scalar(select(func.count()).select_from(model))


def assert_refused(response, field: str) -> None:
    assert response.status_code == 400, response.text[:300]
    if response.headers["content-type"].startswith("application/json"):
        assert {"field": field, "message": MESSAGE} in response.json()["errors"], response.text
    else:
        assert field in shown_fields(response, is_api=False), response.text[:300]


# (role that reaches the route or None, method, path, form or JSON body, query, the poisoned field)
FOUND = [
    (None, "POST", "/login", {"email": "a\x00@own.test", "password": "x"}, None, "email"),
    (None, "GET", "/unsubscribe/" + quote("tok\x00en"), None, None, "token"),
    (None, "POST", "/unsubscribe/" + quote("tok\x00en"), None, None, "token"),
    (None, "GET", "/saved-searches/unsubscribe/" + quote("\x00"), None, None, "token"),
    (None, "POST", "/saved-searches/unsubscribe/" + quote("\x00"), None, None, "token"),
    (None, "GET", "/search", None, {"q": "肝癌\x00"}, "q"),
    (None, "GET", "/api/v1/search", None, {"q": "肝癌\x00"}, "q"),
    (None, "GET", "/listings", None, {"q": "\x00"}, "q"),
    (None, "GET", "/api/v1/listings", None, {"q": "\x00"}, "q"),
    (Role.company_member, "GET", "/needs", None, {"q": "\x00"}, "q"),
    (Role.company_member, "GET", "/api/v1/needs", None, {"q": "\x00"}, "q"),
    (Role.inventor, "POST", "/profile", {"name": "新\x00名字"}, None, "name"),
    (Role.inventor, "POST", "/tokens", {"name": "\x00"}, None, "name"),
    (Role.inventor, "POST", "/api/v1/tokens", {"name": "\x00"}, None, "name"),
    (Role.company_member, "POST", "/saved-searches", {"name": "肝癌\x00", "query": "q=肝癌"}, None, "name"),
    (Role.company_member, "POST", "/api/v1/saved-searches", {"name": "肝癌", "query": "q=\x00"}, None, "query"),
    (Role.company_member, "POST", "/needs", need_form(title="需求\x00"), None, "title"),
    (Role.company_member, "POST", "/api/v1/needs", need_body(description="\x0c说明"), None, "description"),
    (Role.tto_staff, "POST", "/listings", result_form(title_zh="成果\x00"), None, "title_zh"),
    (
        Role.tto_staff,
        "POST",
        "/api/v1/listings",
        result_body(inventors=[{"name": "\x9b", "share_bp": 10000}]),
        None,
        "inventors[0].name",
    ),
]


@pytest.mark.parametrize(("role", "method", "path", "body", "query", "field"), FOUND, ids=[f"{c[1]} {c[2]}" for c in FOUND])
async def test_the_found_attacks_are_field_errors_and_write_nothing(
    client, db, world, role, method, path, body, query, field
) -> None:
    if role and not path.startswith("/api/"):
        await login(client, world.emails[role])  # signing in is audited: counted from here
    before = await count(db)
    if path.startswith("/api/"):
        headers = world.bearer(role) if role else {}
        response = await client.request(method, path, json=body, params=query, headers=headers)
    else:
        if method == "GET":
            response = await client.get(path, params=query)
        else:
            response = await post_form(client, path, body)
    assert_refused(response, field)
    assert await count(db) == before


async def test_uploads_are_checked_by_their_fields_and_file_names_not_their_contents(client, db, world, settings) -> None:
    """Multipart: a message's text and a file's name are refused; a binary file's NULs are its own."""
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    company = await world.principal(db, world.emails[Role.company_member])
    request = await MatchingService(db).create(company, msgspec.convert(match_body(listing.id), MatchRequestCreate))
    await db.commit()
    pdf = b"%PDF-1.4\n\x00\x00\n%%EOF\n"
    await login(client, world.emails[Role.company_member])
    path = f"/match-requests/{request.id}/messages"
    # Written by hand: HTTP clients escape a control character in a file name, an attacker need not.
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="text"\r\n\r\n\xe9\x99\x84\xe4\xbb\xb6\r\n'
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="r\x00.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n" + pdf + b"\r\n--b--\r\n"
    )
    headers = {"Content-Type": "multipart/form-data; boundary=b", "x-csrftoken": client.cookies["csrftoken"]}
    named = await client.post(path, content=raw, headers=headers)
    assert_refused_beside_the_form(named, "files")
    said = await post_form(client, path, {"text": "说明\x00"}, files=[("files", ("报告.pdf", pdf, "application/pdf"))])
    assert_refused_beside_the_form(said, "text")
    assert ">说明</textarea>" in said.text  # what was typed, but the control character
    api = await client.post(
        f"/api/v1{path}",
        data={"text": "\x1f"},
        files=[("files", ("报告.pdf", pdf, "application/pdf"))],
        headers=world.bearer(Role.company_member),
    )
    assert_refused(api, "text")
    sent = await post_form(client, path, {"text": "附件"}, files=[("files", ("报告.pdf", pdf, "application/pdf"))])
    assert sent.status_code == 302, sent.text[:300]


def assert_refused_beside_the_form(response, field: str) -> None:
    """A page form's refusal: 400, the page with its form again, the error beside the field."""
    assert response.status_code == 400, response.text[:300]
    assert 'id="thread-form"' in response.text
    assert f'id="thread-{field}-error">{MESSAGE}' in response.text, response.text


async def test_a_page_form_refuses_control_characters_beside_the_form(client, db, world) -> None:
    """The request's step form: the page again with the reason kept and its error beside it."""
    listing = await seed_listing(
        db, world.orgs["institution/own"].id, msgspec.convert(result_body(), ListingCreate), status="published"
    )
    company = await world.principal(db, world.emails[Role.company_member])
    request = await MatchingService(db).create(company, msgspec.convert(match_body(listing.id), MatchRequestCreate))
    await db.commit()
    await login(client, world.emails[Role.tto_staff])
    before = await count(db)
    response = await post_form(
        client, f"/match-requests/{request.id}/transitions", {"action": "request_info", "reason": "请说明\x00资质"}
    )
    assert response.status_code == 400, response.text[:300]
    assert f'id="step-reason-error">{MESSAGE}' in response.text
    assert ">请说明资质</textarea>" in response.text
    assert 'id="thread-form"' in response.text
    assert await count(db) == before


async def test_multi_line_text_is_kept(client, db, world) -> None:
    """Tab, line feed and carriage return are text, and so are U+2028/U+2029."""
    response = await client.post("/api/v1/tokens", json={"name": "第一行\r\n第二行\t\u2028"}, headers=world.bearer(Role.inventor))
    assert response.status_code == 201, response.text


def body_routes(app) -> list[tuple[str, str]]:
    return [(m, p) for m, p, _ in routes(app) if m in {"POST", "PATCH", "PUT", "DELETE"}]


async def test_over_deep_json_is_refused_on_every_route_that_takes_a_body(client, app, world) -> None:
    """Past msgspec's nesting limit (but under the smallest body limit, 64 KiB)."""
    body = b'{"text": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
    await login(client, world.emails[Role.platform_admin])
    checked = 0
    for method, template in body_routes(app):
        path, _ = fill_path(template)
        path = path.replace(quote(NUL), "token")
        headers = {"Content-Type": "application/json", "Accept-Language": "en"}
        if path.startswith("/api/"):
            headers |= world.bearer(Role.platform_admin)
        else:
            headers["x-csrftoken"] = client.cookies["csrftoken"]
        response = await client.request(method, path, content=body, headers=headers, follow_redirects=False)
        assert response.status_code == 400, (method, template, response.status_code, response.text[:300])
        if path.startswith("/api/"):
            assert {"field": "body", "message": "The body is nested too deeply."} in response.json()["errors"]
        else:
            assert "The body is nested too deeply." in response.text
        checked += 1
    assert checked > 50


def test_the_database_refusing_a_character_stays_a_400_behind_the_check() -> None:
    """The backstop for text that reaches PostgreSQL another way: its refusal is the client's 400."""

    class Refusal(Exception):
        pgcode = "22021"  # character_not_in_repertoire

    request = RequestFactory().get("/api/v1/tokens")
    answer = unstorable_text_handler(request, DBAPIError("insert", {}, Refusal()))
    assert answer.status_code == 400
    other = type("Other", (Exception,), {"pgcode": "23505"})
    assert unstorable_text_handler(request, DBAPIError("insert", {}, other())).status_code == 500
