"""The columns of the listings spreadsheet as TTO staff read them: a header in Chinese or English
(the old internal names still accepted), and for every coded field the values as people write them.

Labels come from the same tables the pages use — the message catalogue for the codes (its zh_CN and
en catalogues), form_fields for the field and detail labels, the therapeutic-area table for areas —
so a label renamed for the pages is renamed in the spreadsheet too. A cell may hold the Chinese
label, the English label or the old code; the export writes the label of the reader's language.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from marketplace.catalog.form_fields import CHOICE_LABELS, DETAIL_LABELS, FIELD_LABELS, detail_fields
from marketplace.catalog.models import (
    Availability,
    EngagementMode,
    IpKind,
    IpStatus,
    Jurisdiction,
    LicenceOption,
    ListingKind,
    OwnershipModel,
    PricingModel,
    ResourceType,
    ResultType,
    Stage,
)
from marketplace.catalog.schemas import RESOURCE_DETAILS
from marketplace.i18n import N_, current_locale, gettext, translations

YES, NO = "yes", "no"


def norm(text: str) -> str:
    """What two spellings of a header or a label share: full-width folded, case and spaces ignored."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass(frozen=True)
class Choice:
    code: str
    zh: str
    en: str

    @property
    def label(self) -> str:
        return self.zh if current_locale.get() == "zh_CN" else self.en


def _catalogued(codes: Iterable[str], msgids: dict[str, str] | None = None) -> tuple[Choice, ...]:
    """Codes whose labels are message ids (the code itself unless `msgids` names another)."""
    zh, en = translations("zh_CN"), translations("en")
    return tuple(Choice(str(c), zh.gettext((msgids or {}).get(c, c)), en.gettext((msgids or {}).get(c, c))) for c in codes)


def _detail_choices() -> dict[str, tuple[Choice, ...]]:
    found: dict[str, tuple[Choice, ...]] = {}
    for resource_type in RESOURCE_DETAILS:
        for f in detail_fields(resource_type):
            if f.choices:
                found[f"details.{f.name}"] = _catalogued(f.choices, CHOICE_LABELS)
    return found


class Vocabulary:
    """The allowed values of every coded column, and the way from a written label to its code."""

    def __init__(self, areas: Iterable[tuple[str, str, str]] | None = None) -> None:
        yes_no = _catalogued((YES, NO), {YES: N_("Yes"), NO: N_("No")})
        self.lists: dict[str, tuple[Choice, ...]] = {
            "kind": _catalogued(ListingKind),
            "type": _catalogued((*ResultType, *ResourceType)),
            "stage": _catalogued(Stage),
            "trl": tuple(Choice(str(n), str(n), str(n)) for n in range(1, 10)),
            "ownership_model": _catalogued(OwnershipModel),
            "licence_options": _catalogued(LicenceOption),
            "engagement_modes": _catalogued(EngagementMode),
            "pricing_model": _catalogued(PricingModel),
            "availability": _catalogued(Availability),
            "ip_kind": _catalogued(IpKind),
            "jurisdiction": _catalogued(Jurisdiction),
            "ip_status": _catalogued(IpStatus),
            "publish": yes_no,
            "details.mutual_recognition": yes_no,
            **_detail_choices(),
        }
        # Without the area table (a bare parse) areas stay as written; the service checks them.
        if areas is not None:
            self.lists["therapeutic_areas"] = tuple(Choice(code, zh, en) for code, zh, en in areas)
        self._codes = {
            name: {norm(text): c.code for c in choices for text in (c.code, c.zh, c.en)} for name, choices in self.lists.items()
        }
        for word in ("y", "true", "1", "✓"):
            self._codes["publish"][word] = self._codes["details.mutual_recognition"][word] = YES
        for word in ("n", "false", "0"):
            self._codes["publish"][word] = self._codes["details.mutual_recognition"][word] = NO

    def code(self, name: str, text: str) -> str | None:
        """The code a written value stands for; None when it is none of the allowed values."""
        if name not in self._codes:
            return text
        return self._codes[name].get(norm(text))

    def label(self, name: str, code: object) -> str:
        for choice in self.lists.get(name, ()):
            if choice.code == str(code):
                return choice.label
        return str(code)

    def allowed(self, name: str, codes: Iterable[str] | None = None) -> str:
        """The allowed values' labels in the reader's language, for an error that names them."""
        wanted = set(codes) if codes is not None else None
        labels = [c.label for c in self.lists.get(name, ()) if wanted is None or c.code in wanted]
        return ("、" if current_locale.get() == "zh_CN" else ", ").join(labels)


@dataclass(frozen=True)
class Column:
    key: str  # the field of the listing it fills: "type", "details.beds"
    label: str  # message id of the header
    hint: str = ""  # message id of the header's comment
    choices: str | None = None  # the Vocabulary list of its values
    multi: bool = False  # several values, separated by semicolons

    @property
    def header(self) -> str:
        return gettext(self.label)


SEPARATED = N_("Several values are separated by semicolons (;).")
LEGACY_DETAILS = "details"  # the old JSON column, still read
LEGACY_INVENTORS = "inventors_bp"  # the old "inventors" column, shares in basis points, still read as such


def _field(key: str, hint: str = "", choices: str | None = None, multi: bool = False, label: str = "") -> Column:
    return Column(key, label or FIELD_LABELS[key], hint, choices, multi)


COMMON = (
    _field("kind", N_("Result or clinical resource; may be left empty when the type says it."), "kind"),
    _field("type", N_("Required."), "type"),
    _field("title_zh", N_("Required.")),
    _field("title_en"),
    _field("summary_zh", N_("Required.")),
    _field("summary_en"),
    _field("confidential_details", N_("Shown only to the TTO, the inventors and companies whose request was accepted.")),
    _field("therapeutic_areas", choices="therapeutic_areas", multi=True),
    _field("keywords", SEPARATED, multi=True),
    _field("contact_name"),
    _field("contact_email"),
    _field("contact_phone"),
)
RESULT_COLUMNS = (
    _field("stage", N_("Results only."), "stage"),
    _field("trl", N_("Results only. 1 to 9."), "trl"),
    _field("advantages", N_("Results only.")),
    _field("ownership_model", N_("Results only."), "ownership_model"),
    _field(
        "licence_options",
        N_("Results only. option: terms, separated by semicolons, e.g. 独占许可: 入门费50万元"),
        "licence_options",
        multi=True,
        label=N_("Licence options and terms"),
    ),
    _field(
        "inventors",
        N_("Results only. name: share in percent, separated by semicolons; the shares add up to 100, e.g. 张晓华: 60; 李明: 40"),
        label=N_("Inventors and shares (%)"),
    ),
    _field(
        "ip_assets",
        N_("Results only. number | kind | jurisdiction | status | filing date | expiry date, one asset per semicolon"),
    ),
)
RESOURCE_COLUMNS = (
    _field("engagement_modes", N_("Clinical resources only."), "engagement_modes", multi=True),
    _field("pricing_model", N_("Clinical resources only."), "pricing_model"),
    _field("availability", N_("Clinical resources only."), "availability"),
)
# Detail labels that read the same in Chinese as another column's get a header of their own.
DETAIL_HEADERS = {"specialty": N_("PI's specialty")}


def _detail_columns() -> tuple[Column, ...]:
    seen: dict[str, Column] = {}
    for resource_type in RESOURCE_DETAILS:
        for f in detail_fields(resource_type):
            if f.name not in seen:
                multi = f.widget in ("list", "choices")
                choices = f"details.{f.name}" if f.choices or f.widget == "checkbox" else None
                label = DETAIL_HEADERS.get(f.name, DETAIL_LABELS.get(f.name, f.name))
                seen[f.name] = Column(f"details.{f.name}", label, SEPARATED if multi and not choices else "", choices, multi)
    return tuple(seen.values())


DETAIL_COLUMNS = _detail_columns()
PUBLISH = Column(
    "publish", N_("Publish now"), N_("Yes publishes at once (the listing must be complete); otherwise a draft."), "publish"
)
COLUMNS: tuple[Column, ...] = (*COMMON, *RESULT_COLUMNS, *RESOURCE_COLUMNS, *DETAIL_COLUMNS, PUBLISH)
BY_KEY = {c.key: c for c in COLUMNS}


def detail_types(name: str) -> tuple[str, ...]:
    """The resource types whose details have the field `name`."""
    return tuple(t for t in RESOURCE_DETAILS if any(f.name == name for f in detail_fields(t)))


def header_index() -> dict[str, str]:
    """Every accepted spelling of every header → its column key (zh, en, the old internal name)."""
    zh, en = translations("zh_CN"), translations("en")
    found: dict[str, str] = {}
    for column in COLUMNS:
        names = [column.key, zh.gettext(column.label), en.gettext(column.label)]
        if column.key.startswith("details."):
            names.append(column.key.split(".", 1)[1])
        for name in names:
            found.setdefault(norm(name), column.key)
    found[norm(LEGACY_DETAILS)] = LEGACY_DETAILS
    found[norm("inventors")] = LEGACY_INVENTORS  # the old internal name: a file of basis points
    return found


def column_header(key: str) -> str:
    """The header a problem is reported under, in the reader's language."""
    if key in BY_KEY:
        return BY_KEY[key].header
    if key == "contact":
        return gettext(FIELD_LABELS["contact"])
    return gettext(FIELD_LABELS.get(key, key))
