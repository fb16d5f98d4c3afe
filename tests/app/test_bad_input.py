"""Bad input gets a 4xx with field-level messages in the response's language, and writes nothing."""

from __future__ import annotations

import pytest
from litestar.routes import HTTPRoute
from sqlalchemy import func, select

from marketplace.accounts.models import Invitation, Organization, Role, User
from marketplace.audit.models import AuditEvent
from tests.support.web import login, post_form

INSTITUTION = {
    "kind": "institution",
    "name_zh": "新医院",
    "city": "北京",
    "grade": "3A",
    "approved_beds": 800,
    "research_beds": 80,
    "pi_concurrent_trial_threshold": 4,
}
COMPANY = {"kind": "company", "name_zh": "新企业", "city": "上海", "segment": "device", "credit_code": "91350100M000100Y43"}


async def counts(db) -> tuple[int, int, int, int]:
    return tuple([await db.scalar(select(func.count()).select_from(t)) for t in (Organization, User, Invitation, AuditEvent)])


CASES = [
    # (name, body as bytes or JSON, status, field, message in Chinese, message in English)
    ("malformed JSON", b'{"kind": "platform", ', 400, "body", "请求体不是有效的 JSON。", "The body is not valid JSON."),
    (
        "wrong type",
        {**INSTITUTION, "approved_beds": "many"},
        400,
        "approved_beds",
        "类型错误：应为整数，实际为文本。",
        "Wrong type: expected integer, got text.",
    ),
    (
        "unknown field",
        {**INSTITUTION, "beds": 3},
        400,
        "beds",
        "未知字段：不属于此请求。",
        "Unknown field: not part of this request.",
    ),
    ("missing field", {"kind": "platform", "name_zh": "平台"}, 400, "city", "必填。", "Required."),
    ("wrong enum", {**INSTITUTION, "grade": "5S"}, 400, "grade", "不是允许的取值。", "Not one of the allowed values."),
    (
        "bad credit code",
        {**COMPANY, "credit_code": "91350100M000100Y44"},
        422,
        "credit_code",
        "不是有效的统一社会信用代码（GB 32100-2015 校验位不符）。",
        "Not a valid unified social credit code (GB 32100-2015 check character).",
    ),
    (
        "fields of the kind missing",
        {"kind": "company", "name_zh": "缺字段企业", "city": "上海"},
        422,
        "credit_code",
        "此类机构必填。",
        "Required for this kind of organization.",
    ),
]


@pytest.mark.parametrize("language", ["zh", "en"])
@pytest.mark.parametrize(("name", "body", "status", "field", "zh", "en"), CASES, ids=[c[0] for c in CASES])
async def test_bad_organization_input(client, db, world, language, name, body, status, field, zh, en) -> None:
    before = await counts(db)
    headers = {**world.bearer(Role.platform_admin), "Accept-Language": "en" if language == "en" else "zh-CN"}
    if isinstance(body, bytes):
        response = await client.post(
            "/api/v1/organizations", content=body, headers={**headers, "Content-Type": "application/json"}
        )
    else:
        response = await client.post("/api/v1/organizations", json=body, headers=headers)
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert {"field": field, "message": zh if language == "zh" else en} in errors, errors
    assert response.headers["content-language"] == ("en" if language == "en" else "zh-CN")
    assert await counts(db) == before


async def test_an_oversized_body_is_refused(client, db, world) -> None:
    before = await counts(db)
    body = {**INSTITUTION, "name_en": "x" * 2_000_000}
    response = await client.post("/api/v1/organizations", json=body, headers=world.bearer(Role.platform_admin))
    assert response.status_code == 413
    assert response.json()["detail"] == "请求体过大。"
    assert await counts(db) == before


async def test_a_duplicate_credit_code_is_a_conflict_on_its_field(client, db, world) -> None:
    headers = world.bearer(Role.platform_admin)
    assert (await client.post("/api/v1/organizations", json=COMPANY, headers=headers)).status_code == 201
    before = await counts(db)
    again = await client.post("/api/v1/organizations", json={**COMPANY, "name_zh": "另一家"}, headers=headers)
    assert again.status_code == 409
    assert again.json()["errors"] == [{"field": "credit_code", "message": "该统一社会信用代码已注册。"}]
    assert await counts(db) == before


async def test_a_duplicate_email_is_refused_whatever_its_case(client, db, world) -> None:
    org = world.orgs["company/own"]
    before = await counts(db)
    response = await client.post(
        f"/api/v1/organizations/{org.id}/members",
        json={"email": "Company_Member@OWN.test", "role": "company_member"},
        headers={**world.bearer(Role.company_admin), "Accept-Language": "en"},
    )
    assert response.status_code == 409
    assert response.json()["errors"] == [{"field": "email", "message": "This person is already a member."}]
    assert await counts(db) == before


async def test_an_invalid_email_is_a_field_error(client, db, world) -> None:
    org = world.orgs["company/own"]
    response = await client.post(
        f"/api/v1/organizations/{org.id}/members",
        json={"email": "not-an-address", "role": "company_member"},
        headers=world.bearer(Role.company_admin),
    )
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": "email", "message": "格式不正确。"}]


async def test_the_organization_form_shows_errors_by_field_and_keeps_the_input(client, db, world) -> None:
    await login(client, world.emails[Role.platform_admin])
    before = await counts(db)
    form = {
        "kind": "institution",
        "name_zh": "表单医院",
        "city": "上海",
        "grade": "3A",
        "approved_beds": "500",
        "research_beds": "80",
        "pi_concurrent_trial_threshold": "abc",
    }
    response = await post_form(client, "/organizations", form)
    assert response.status_code == 422
    assert "请输入整数" in response.text and 'value="表单医院"' in response.text
    db.expire_all()
    assert await counts(db) == before
    form["pi_concurrent_trial_threshold"] = "3"
    response = await post_form(client, "/organizations", form)
    assert response.status_code == 422
    assert "研究型床位不得超过核定床位的 10%（50 张）" in response.text


async def test_a_form_without_its_csrf_token_is_refused(client, world) -> None:
    await login(client, world.emails[Role.inventor])
    response = await client.post("/tokens", data={"name": "x"}, follow_redirects=False)
    assert response.status_code == 403


def get_paths(app) -> list[str]:
    """Every GET route without path parameters, from the app: some read ?page= from their signature,
    others (search, needs) parse the raw query, so all of them are asked."""
    paths = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "GET" in handler.http_methods and "{" not in route.path:
                paths.add(route.path)
    return sorted(paths)


def paging_paths(app) -> set[str]:
    """Every route whose handler declares ?page= or ?page_size=, whatever its method and path."""
    return {
        route.path
        for route in app.routes
        if isinstance(route, HTTPRoute)
        for handler in route.route_handlers
        if {"page", "page_size"} & set(handler.parsed_fn_signature.parameters)
    }


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
async def test_huge_page_numbers_and_sizes_are_never_a_server_error(client, app, world, signed_in) -> None:
    paths = get_paths(app)
    assert {"/api/v1/listings", "/api/v1/match-requests", "/listings", "/match-requests", "/search"} <= set(paths), paths
    assert paging_paths(app) <= set(paths), "a paged route with path parameters: ask it here too"
    if signed_in:
        await login(client, world.emails[Role.platform_admin])
    headers = world.bearer(Role.platform_admin) if signed_in else {}
    for path in paths:
        for query in ({"page": "99999999999999999999"}, {"page_size": str(10**30)}, {"page": "0", "page_size": "-1"}):
            response = await client.get(path, params=query, headers=headers if path.startswith("/api/") else {})
            assert response.status_code < 500, (path, query, response.text[:300])


@pytest.mark.parametrize("path", ["/api/v1/listings", "/api/v1/match-requests"])
async def test_api_page_bounds_are_field_errors(client, world, path) -> None:
    headers = world.bearer(Role.company_member)
    for field, value in (("page", "99999999999999999999"), ("page", "0"), ("page_size", "101"), ("page_size", str(10**30))):
        response = await client.get(path, params={field: value}, headers=headers)
        assert response.status_code == 400, (field, value, response.text)
        assert [e["field"] for e in response.json()["errors"]] == [field]
    ok = await client.get(path, params={"page": "2", "page_size": "100"}, headers=headers)
    assert ok.status_code == 200, ok.text


async def test_over_deep_json_is_a_field_error(client, db, world) -> None:
    before = await counts(db)
    body = b'{"kind": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = await client.post(
        "/api/v1/organizations",
        content=body,
        headers={**world.bearer(Role.platform_admin), "Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert response.status_code == 400, response.text[:300]
    assert {"field": "body", "message": "The body is nested too deeply."} in response.json()["errors"]
    assert await counts(db) == before


async def test_a_saved_search_keeps_no_page_past_the_bounds(client, world) -> None:
    """A saved search's query is a search URL: its page is dropped, not stored and replayed."""
    headers = world.bearer(Role.company_member)
    query = "q=肝癌&page=99999999999999999999&page_size=" + "9" * 30
    saved = await client.post("/api/v1/saved-searches", json={"name": "翻页", "query": query}, headers=headers)
    assert saved.status_code == 201, saved.text
    assert saved.json()["query"] == "q=%E8%82%9D%E7%99%8C"
    shown = await client.get(f"/api/v1/saved-searches/{saved.json()['id']}", headers=headers)
    assert shown.status_code == 200, shown.text
