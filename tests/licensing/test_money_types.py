"""Money in licensing is integer fen and rates are basis points: no float in the tables, the
request and response shapes, or the OpenAPI document of the licensing routes."""

from __future__ import annotations

import inspect

import msgspec
from sqlalchemy import Float, Numeric

from marketplace.licensing import models, schemas
from marketplace.models import metadata


def _numbers(node, path: str = "") -> list[str]:
    """Where an OpenAPI fragment declares a JSON number (a float) rather than an integer."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") == "number" or (isinstance(node.get("type"), list) and "number" in node["type"]):
            found.append(path)
        for key, value in node.items():
            found += _numbers(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _numbers(value, f"{path}/{index}")
    return found


def test_no_licensing_column_is_a_float_and_money_columns_are_integers() -> None:
    tables = [table for name, table in metadata.tables.items() if name.startswith("licensing_")]
    assert len(tables) >= 8
    for table in tables:
        for column in table.columns:
            assert not isinstance(column.type, Float | Numeric), f"{table.name}.{column.name}"
            if column.name.endswith(("_fen", "_bp")):
                assert column.type.python_type is int, f"{table.name}.{column.name}"
    assert models.TOTAL_BP == 10_000


def test_no_licensing_shape_has_a_float_field() -> None:
    structs = [
        value for _name, value in inspect.getmembers(schemas) if isinstance(value, type) and issubclass(value, msgspec.Struct)
    ]
    assert len(structs) >= 10
    for struct in structs:
        info = msgspec.inspect.type_info(struct)
        assert isinstance(info, msgspec.inspect.StructType)
        for field in info.fields:
            assert "float" not in repr(field.type).lower(), f"{struct.__name__}.{field.name}"
            if field.name.endswith(("_fen", "_bp")):
                assert "IntType" in repr(field.type), f"{struct.__name__}.{field.name}: {field.type!r}"


async def test_the_openapi_document_of_licensing_declares_no_number(client) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    licensing_paths = {path: item for path, item in spec["paths"].items() if "agreement" in path or "open-licence" in path}
    assert licensing_paths, "the licensing routes are documented"
    referenced = {ref.rsplit("/", 1)[-1] for ref in _refs(licensing_paths)}
    schemas_used = {name: spec["components"]["schemas"][name] for name in _closure(referenced, spec["components"]["schemas"])}
    assert not _numbers(licensing_paths) and not _numbers(schemas_used)


def _refs(node) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if "$ref" in node else []) + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _closure(names: set[str], components: dict) -> set[str]:
    seen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in seen or name not in components:
            continue
        seen.add(name)
        todo += [ref.rsplit("/", 1)[-1] for ref in _refs(components[name])]
    return seen
