"""The demo's data files (marketplace/demo/data/*.yaml), read once."""

from __future__ import annotations

from functools import cache
from importlib.resources import files
from typing import Any

import yaml


@cache
def table(name: str) -> dict[str, Any]:
    """The parsed `data/<name>.yaml`; mappings keep the file's order (the generator depends on it)."""
    return yaml.safe_load((files("marketplace.demo") / "data" / f"{name}.yaml").read_text(encoding="utf-8"))


def pairs(rows: list[list[str]]) -> list[tuple[str, str]]:
    """[Chinese, English] rows as tuples."""
    return [(zh, en) for zh, en in rows]
