"""The API's shared error answers: documented on every operation, and given as documented
(what tests/app/test_api_fuzz.py found first)."""

from __future__ import annotations

from litestar.testing import AsyncTestClient

from marketplace.accounts.models import Role
from marketplace.app import create_app
from marketplace.embedded.postgres import free_port
from marketplace.search.engine import SearchEngine

ERROR_REF = "#/components/schemas/ErrorOut"


async def test_every_api_operation_documents_the_shared_errors(client) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    operations = [
        (method, path, op)
        for path, item in spec["paths"].items()
        if path.startswith("/api/")
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]
    assert len(operations) > 40
    for method, path, op in operations:
        responses = op["responses"]
        for status in ("400", "401", "403", "404", "409", "422"):
            schema = responses[status]["content"]["application/json"]["schema"]
            # Or one of its shapes (an import's 422 is also its row report).
            assert {"$ref": ERROR_REF} in (schema, *schema.get("oneOf", [])), (method, path, status)
        assert ("413" in responses) == (method in {"post", "put", "patch"}), (method, path)
    assert set(spec["components"]["schemas"]["ErrorOut"]["required"]) == {"status_code", "detail", "errors"}
    assert "503" in spec["paths"]["/api/v1/needs"]["get"]["responses"]
    # A `Model | Response` annotation documented `oneOf: [Model, {}]`, which every body matched twice.
    for path in ("/api/v1/needs", "/api/v1/recommendations"):
        assert spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"].get("$ref")


async def test_a_nul_character_is_a_400_not_a_500(client, world) -> None:
    response = await client.get("/api/v1/organizations?kind=a%00b", headers=world.bearer(Role.platform_admin))
    assert response.status_code == 400, response.text
    assert response.json()["errors"] == [{"field": "kind", "message": "含有不允许的控制字符（如 NUL）。"}]
    created = await client.post(
        "/api/v1/saved-searches", json={"name": "a\u0000b", "query": "q=x"}, headers=world.bearer(Role.company_member)
    )
    assert created.status_code == 400, created.text
    assert [e["field"] for e in created.json()["errors"]] == ["name"]


async def test_needs_search_answers_503_with_retry_after_when_search_is_down(client, app, world) -> None:
    real = app.state.search
    app.state.search = SearchEngine(f"http://127.0.0.1:{free_port()}", "key")
    try:
        found = await client.get("/api/v1/needs?q=肝癌", headers=world.bearer(Role.company_admin))
    finally:
        app.state.search = real
    assert found.status_code == 503 and found.headers["retry-after"].isdigit()
    assert found.json()["detail"] == "检索服务暂时不可用，请稍后再试。"


async def test_a_process_out_of_database_connections_answers_503_with_retry_after(settings, world) -> None:
    """Overload, not a fault: every connection of the process's pool stays taken past
    DB_POOL_TIMEOUT_SECONDS, and the request answers 503 with Retry-After instead of a 500."""
    busy = create_app(settings.model_copy(update={"db_pool_timeout_seconds": 0.2, "run_worker_in_app": False}))
    async with AsyncTestClient(app=busy, base_url="http://testserver.local") as client:
        engine = busy.state.engine  # lives on the client's own event loop, in its portal's thread

        async def take_all() -> list:
            return [await engine.connect() for _ in range(engine.pool.size() + engine.pool._max_overflow)]

        async def give_back(connections: list) -> None:
            for connection in connections:
                await connection.close()

        held = client.blocking_portal.call(take_all)
        try:
            answer = await client.get("/api/v1/listings", headers=world.bearer(Role.company_admin))
            page = await client.get("/listings")
        finally:
            client.blocking_portal.call(give_back, held)
        again = await client.get("/api/v1/listings", headers=world.bearer(Role.company_admin))
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5", answer.text
    assert answer.json()["detail"] == "服务繁忙，请几秒钟后再试。"
    assert page.status_code == 503 and "服务繁忙" in page.text and page.headers["retry-after"] == "5"
    assert again.status_code == 200
