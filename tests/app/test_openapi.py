"""The OpenAPI document tells the truth: bodies that refuse unknown fields say so, fixed sets are
enums, uploads are multipart, downloads are files, and no answer is documented as "anything"."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from marketplace.accounts.models import Role
from marketplace.accounts.scopes import SCOPE_OPT, Scope

METHODS = {"get", "post", "put", "patch", "delete"}
SPREADSHEETS = {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv"}


@pytest.fixture
async def spec(client) -> dict:
    return (await client.get("/schema/openapi.json")).json()


def operations(spec: dict):
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def component(spec: dict, ref: str) -> dict:
    return spec["components"]["schemas"][ref.removeprefix("#/components/schemas/")]


def refs_in(schema: object):
    """Every $ref under a schema (properties, items, unions)."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            yield schema["$ref"]
        for value in schema.values():
            yield from refs_in(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from refs_in(value)


def schemas_in(node: object, where: str = ""):
    """Every schema-like dict in the document with where it is."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from schemas_in(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from schemas_in(value, f"{where}/{index}")


async def test_every_json_body_refuses_unknown_fields_nested_too(spec) -> None:
    checked = set()
    for method, path, operation in operations(spec):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if not body:
            continue
        todo = list(refs_in(body["schema"]))
        assert todo or body["schema"].get("additionalProperties") is False, (method, path)
        while todo:
            ref = todo.pop()
            if ref in checked:
                continue
            checked.add(ref)
            schema = component(spec, ref)
            if schema.get("type") == "object":
                assert schema.get("additionalProperties") is False, (method, path, ref)
                todo += refs_in(schema)
    # The listing body and what it holds (licence offers, inventors, IP assets) are among them.
    assert {f"#/components/schemas/{name}" for name in ("ListingCreate", "LicenceOffer", "InventorIn", "IpAssetIn")} <= checked
    # Answers are not held to it: a client should accept fields added later.
    assert "additionalProperties" not in spec["components"]["schemas"]["ListingOut"]


async def test_fixed_sets_are_enums(spec) -> None:
    for path in ("/api/v1/listings/export", "/api/v1/listings/template"):
        (fmt,) = [p for p in spec["paths"][path]["get"]["parameters"] if p["name"] == "format"]
        assert fmt["schema"]["enum"] == ["xlsx", "csv"]
    listing_filters = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/listings"]["get"]["parameters"]}
    assert component(spec, listing_filters["kind"]["$ref"])["enum"] == ["result", "resource"]
    assert "patent" in listing_filters["type"]["enum"] and "biobank" in listing_filters["type"]["enum"]
    assert "published" in component(spec, listing_filters["status"]["$ref"])["enum"]
    (org_kind,) = [p["schema"] for p in spec["paths"]["/api/v1/organizations"]["get"]["parameters"] if p["name"] == "kind"]
    assert set(component(spec, org_kind["$ref"])["enum"] if "$ref" in org_kind else org_kind["enum"]) == {
        "institution",
        "company",
        "platform",
    }
    search = {p["name"]: p["schema"] for p in spec["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert search["sort"]["enum"] == ["confirmed", "newest", "relevance"]
    assert search["licence"]["type"] == "array" and "pay_later" in search["licence"]["items"]["enum"]
    # Answers too: a listing's status, a need's state, a match request's state are their sets.
    answers = spec["components"]["schemas"]
    for name, field in (("ListingOut", "status"), ("ListingOut", "type"), ("NeedOut", "state"), ("MatchRequestOut", "state")):
        prop = answers[name]["properties"][field]
        assert component(spec, prop["$ref"])["enum"] if "$ref" in prop else prop["enum"], (name, field)


async def test_no_query_parameter_is_documented_as_null(spec) -> None:
    for method, path, operation in operations(spec):
        for parameter in operation.get("parameters", []):
            text = str(parameter["schema"])
            assert "'null'" not in text and "None" not in text, (method, path, parameter)


async def test_uploads_are_multipart_with_a_binary_file(spec) -> None:
    body = spec["paths"]["/api/v1/listings/import"]["post"]["requestBody"]["content"]
    assert set(body) == {"multipart/form-data"}
    form = body["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"} and form["required"] == ["file"]
    for path in ("/api/v1/match-requests/{request_id}/messages", "/api/v1/needs/{need_id}/responses/{response_id}/messages"):
        message = spec["paths"][path]["post"]["requestBody"]["content"]
        assert message["multipart/form-data"]["schema"]["properties"]["files"]["items"]["format"] == "binary"
        assert message["application/json"]["schema"]["additionalProperties"] is False


async def test_downloads_are_files_and_no_answer_is_anything(spec) -> None:
    for path in ("/api/v1/listings/export", "/api/v1/listings/template"):
        assert set(spec["paths"][path]["get"]["responses"]["200"]["content"]) == SPREADSHEETS
    attachment = spec["paths"]["/api/v1/match-requests/{request_id}/attachments/{attachment_id}"]["get"]["responses"]["200"]
    assert "application/pdf" in attachment["content"] and "" not in attachment["content"]
    # `X | Response` once documented `oneOf [X, {}]`; a bare Response, `{}`.
    for where, node in schemas_in(spec["paths"]):
        for union in ("oneOf", "anyOf"):
            assert {} not in node.get(union, []), where
        if where.endswith("/content") or "/content/" in where:
            assert node.get("schema", True) != {}, where
    report = spec["paths"]["/api/v1/listings/import"]["post"]["responses"]
    assert report["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ImportReport"}
    assert len(report["422"]["content"]["application/json"]["schema"]["oneOf"]) == 2
    assert spec["paths"]["/api/v1/search"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert set(spec["paths"]["/ready"]["get"]["responses"]) == {"200", "503"}


async def test_error_answers_document_their_headers_and_only_where_they_happen(spec) -> None:
    for method, path, operation in operations(spec):
        responses = operation["responses"]
        if path.startswith("/api/"):
            assert responses["401"]["headers"]["WWW-Authenticate"]["required"] is True, (method, path)
        if "503" in responses and path.startswith("/api/"):
            assert responses["503"]["headers"]["Retry-After"]["required"] is True, (method, path)
        uploads = "multipart/form-data" in operation.get("requestBody", {}).get("content", {})
        assert ("415" in responses) == uploads, (method, path)
    assert "503" in spec["paths"]["/api/v1/search"]["get"]["responses"]
    assert "503" not in spec["paths"]["/api/v1/needs"]["post"]["responses"]


async def test_a_bad_enum_value_is_still_a_400_field_error(client, world) -> None:
    template = await client.get("/api/v1/listings/template", params={"format": "pdf"})
    assert template.status_code == 400, template.text
    assert [e["field"] for e in template.json()["errors"]] == ["format"]
    assert template.json()["errors"][0]["message"] == "不是允许的取值。"
    listed = await client.get("/api/v1/listings", params={"kind": "poem"}, headers=world.bearer(Role.tto_manager))
    assert listed.status_code == 400 and [e["field"] for e in listed.json()["errors"]] == ["kind"]
    assert (await client.get("/api/v1/listings", params={"type": "patent"})).status_code == 200


async def test_the_token_is_declared_where_it_is_needed(spec) -> None:
    assert spec["components"]["securitySchemes"]["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A personal API token from /tokens.",
    }
    public = {(m, p) for m, p, op in operations(spec) if {} in op.get("security", [])}
    assert public == {
        ("get", "/api/v1/listings"),
        ("get", "/api/v1/listings/{listing_id}"),
        ("get", "/api/v1/listings/template"),
        ("get", "/api/v1/nda-versions/current"),
        ("get", "/api/v1/search"),
        # Open licences (开放许可) are public declarations: anyone may read their terms.
        ("get", "/api/v1/open-licences"),
        ("get", "/api/v1/open-licences/{open_licence_id}"),
    }
    for method, path, operation in operations(spec):
        if not path.startswith("/api/"):
            continue
        people = [r for r in operation["security"] if "oauth2" not in r]
        assert people == ([{"bearer": []}, {}] if (method, path) in public else [{"bearer": []}]), (method, path)


async def test_the_client_credentials_flow_and_each_operations_scope_are_declared(spec, app) -> None:
    scheme = spec["components"]["securitySchemes"]["oauth2"]
    assert scheme["type"] == "oauth2"
    flow = scheme["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert (
        set(flow["scopes"])
        == {s.value for s in Scope}
        >= {
            "listings:read",
            "listings:write",
            "requests:read",
            "payments:read",
            "payments:write",
        }
    )
    assert all(len(text) > 20 for text in flow["scopes"].values())
    declared = {}
    for method, path, operation in operations(spec):
        scopes = [r["oauth2"] for r in operation.get("security", []) if "oauth2" in r]
        if scopes:
            [[declared[(method, path)]]] = scopes
    assert declared[("post", "/api/v1/listings")] == "listings:write"
    assert declared[("post", "/api/v1/listings/{listing_id}/transitions")] == "listings:write"
    assert declared[("get", "/api/v1/match-requests")] == "requests:read"
    assert declared[("post", "/api/v1/agreements/{agreement_id}/payments")] == "payments:write"
    assert declared[("get", "/api/v1/agreements/{agreement_id}/payments")] == "payments:read"
    # What the document says is what the API enforces: the scope in each handler's opt.
    enforced = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute) and route.path.startswith("/api/"):
            for handler in route.route_handlers:
                if handler.opt.get(SCOPE_OPT):
                    for method in handler.http_methods - {"OPTIONS"}:
                        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
                        enforced[(method.lower(), path)] = handler.opt[SCOPE_OPT]
    assert enforced == declared
    # Managing clients, the own profile and the rest are for people only.
    for path in ("/api/v1/integrations", "/api/v1/me", "/api/v1/tokens"):
        assert ("get", path) not in declared
