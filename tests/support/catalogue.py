"""What the message catalogue must cover: every message id the code and templates use, and the
machine values pages translate by value (shared by the catalogue tests and the English pages test)."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

import marketplace
from marketplace import states
from marketplace.accounts.models import CompanySegment, HospitalGrade, OrgKind, Role
from marketplace.beds.lifecycle import ALLOCATION
from marketplace.catalog import models as catalog
from marketplace.catalog.lifecycle import LIFECYCLE
from marketplace.licensing.lifecycle import LIFECYCLE as AGREEMENT
from marketplace.matching.requests.lifecycle import LIFECYCLE as MATCH_REQUEST

ROOT = Path(__file__).resolve().parents[2]
# Must match KEYWORDS in the Makefile's `messages` target.
KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "N_": None,
    "FieldError": (2,),
    "invalid": (2,),
    "DomainError": (1,),
    "Conflict": (1,),
    "flash": (2,),
    "NavItem": (1,),
}


def extracted_ids() -> set[str]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(ROOT, method_map, options_map, KEYWORDS):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def machine_values() -> set[str]:
    """Values the pages translate by value: roles, kinds, grades, segments, audit actions."""
    enums = (
        Role,
        OrgKind,
        CompanySegment,
        catalog.ListingKind,
        catalog.ResultType,
        catalog.ResourceType,
        catalog.Status,
        catalog.Stage,
        catalog.OwnershipModel,
        catalog.LicenceOption,
        catalog.EngagementMode,
        catalog.PricingModel,
        catalog.Availability,
        catalog.IpKind,
        catalog.IpStatus,
    )
    values = {str(v) for enum in enums for v in enum}
    values |= {f"grade {g}" for g in HospitalGrade}
    source = "\n".join(p.read_text() for p in (ROOT / "marketplace").rglob("*.py"))
    values |= set(re.findall(r'audit\.record\(\s*[\w.]+,\s*"(\w+)"', source))
    # Every machine's audit actions: the home pages' recent activity and the timelines show them.
    for machine in every_machine():
        values |= machine.audit_actions()
    values |= {"match_request_created"}
    return values


def every_machine() -> list[states.Machine]:
    found: dict[str, states.Machine] = {}
    for module in pkgutil.walk_packages(marketplace.__path__, "marketplace."):
        for value in vars(importlib.import_module(module.name)).values():
            if isinstance(value, states.Machine):
                found[value.name] = value
    assert {LIFECYCLE.name, MATCH_REQUEST.name, AGREEMENT.name, ALLOCATION.name} <= set(found)
    return list(found.values())
