"""The message catalogue: every message id the code and templates use has its Chinese."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

import marketplace
from marketplace import i18n, states
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


def test_every_message_has_a_chinese_translation() -> None:
    catalogue = i18n.translations("zh_CN")
    wanted = extracted_ids() | machine_values()
    assert len(wanted) > 150
    missing = sorted(m for m in wanted if catalogue.gettext(m) == m)
    assert not missing, "add these to marketplace/locale/zh_CN/LC_MESSAGES/messages.po:\n" + "\n".join(missing)


def test_machine_values_have_english_labels() -> None:
    catalogue = i18n.translations("en")
    missing = sorted(v for v in machine_values() if catalogue.gettext(v) == v)
    assert not missing, missing


def test_translations_keep_their_placeholders() -> None:
    catalogue = i18n.translations("zh_CN")
    for message in extracted_ids():
        wanted = sorted(re.findall(r"%\(\w+\)[sd]", message))
        assert sorted(re.findall(r"%\(\w+\)[sd]", catalogue.gettext(message))) == wanted, message


def test_locale_negotiation() -> None:
    assert i18n.pick_locale(None, None) == "zh_CN"
    assert i18n.pick_locale(None, "en-GB,en;q=0.8") == "en"
    assert i18n.pick_locale(None, "zh-TW,zh;q=0.9,en;q=0.5") == "zh_CN"
    assert i18n.pick_locale("en", "zh-CN") == "en"
    assert i18n.pick_locale("fr", "fr-FR") == "zh_CN"


def test_every_catalogue_is_well_formed() -> None:
    """Babel reads a catalogue leniently: a msgstr left without its msgid by a merge, or a message
    defined twice, would silently give some message the wrong translation. Each entry must be one
    msgid followed by one msgstr, and each msgid (with its context) defined once."""
    for path in sorted((ROOT / "marketplace" / "locale").glob("*/LC_MESSAGES/messages.po")):
        keys: list[str] = []
        last = None  # the keyword of the last line that opened a string
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            keyword = line.split(" ", 1)[0]
            if keyword in ("msgctxt", "msgid", "msgid_plural", "msgstr") or keyword.startswith("msgstr["):
                assert not (keyword == last and keyword in ("msgid", "msgstr")), (
                    f"{path.relative_to(ROOT)}:{number}: a second {keyword} in one entry"
                )
                if keyword in ("msgctxt", "msgid") and last not in ("msgctxt",):
                    keys.append("")
                if keyword in ("msgctxt", "msgid"):
                    keys[-1] += line
                last = keyword
            elif line.startswith('"') and last in ("msgctxt", "msgid"):
                keys[-1] += line
        repeated = sorted(k for k in set(keys) if keys.count(k) > 1)
        assert not repeated, f"{path.relative_to(ROOT)}: defined twice: {repeated[:5]}"
