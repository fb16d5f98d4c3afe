"""One spreadsheet row ↔ a listing's fields: labels to codes and back, a column per detail field,
inventor shares in percent. Reading collects every problem of the row as field errors named by
their path (``inventors[1].share_bp``, ``details.beds``), each naming the allowed values."""

from __future__ import annotations

import json
import re
from typing import Any

from marketplace import forms
from marketplace.catalog.form_fields import ROW_LABELS, detail_fields, share_percent
from marketplace.catalog.models import ListingKind, ResourceType, ResultType
from marketplace.catalog.schemas import RESOURCE_DETAILS
from marketplace.catalog.sheet_columns import BY_KEY, LEGACY_DETAILS, LEGACY_INVENTORS, NO, YES, Vocabulary
from marketplace.catalog.validation import RESOURCE_ONLY, RESULT_ONLY, TOTAL_SHARES_BP
from marketplace.errors import FieldError
from marketplace.i18n import N_, gettext

NOT_ALLOWED = N_('"%(value)s" is not one of the allowed values: %(allowed)s.')
NOT_FOR_TYPE = N_("Not used for %(type)s: leave this cell empty.")
NOT_WHOLE = N_('"%(value)s" is not a whole number.')
NOT_NUMBER = N_('"%(value)s" is not a number.')
NOT_PERCENT = N_('"%(value)s" is not a share in percent (such as 40 or 40%%, at most two decimals).')
NAME_SHARE = N_("Write each inventor as name: share, such as 张晓华: 60.")
SHARES_SUM = N_("Inventor shares must add up to 100%% (now %(total)s%%).")
NOT_JSON = N_("Not valid JSON.")
IP_PARTS = ("number", "kind", "jurisdiction", "status", "filing_date", "expiry_date")
IP_CHOICES = {"kind": "ip_kind", "jurisdiction": "jurisdiction", "status": "ip_status"}
TYPES = {ListingKind.result: tuple(ResultType), ListingKind.resource: tuple(ResourceType)}
_PERCENT = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?[%％]?$")


def split(cell: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;；\n]", cell) if part.strip()]


def pair(item: str) -> tuple[str, str]:
    """ "name: rest" (either colon) → (name, rest)."""
    name, _sep, rest = item.replace("：", ":").partition(":")
    return name.strip(), rest.strip()


class RowReader:
    """Reads one row's cells (already unneutralised and stripped, by column key)."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.vocab = vocab
        self.errors: list[FieldError] = []

    def choice(self, name: str, path: str, text: str, codes: tuple[str, ...] | None = None) -> str | None:
        code = self.vocab.code(name, text)
        if code is None or (codes is not None and code not in codes):
            self.errors.append(FieldError(path, NOT_ALLOWED, {"value": text, "allowed": self.vocab.allowed(name, codes)}))
            return None
        return code

    def choices(self, name: str, path: str, text: str) -> list[str]:
        found = [self.choice(name, f"{path}[{i}]", item) for i, item in enumerate(split(text))]
        return [code for code in found if code is not None]

    def read(self, cells: dict[str, str]) -> tuple[dict, bool]:
        """(the API's listing shape, publish); the problems are in self.errors."""
        data: dict[str, Any] = {}
        details: dict[str, Any] = {}
        for key, text in cells.items():
            if not text or key == "publish":
                continue
            if key.startswith("details."):
                value = self.detail(key, text)
                if value is not None:
                    details[key.split(".", 1)[1]] = value
            elif key == LEGACY_DETAILS:
                try:
                    loaded = json.loads(text)
                except json.JSONDecodeError:
                    loaded = None
                if isinstance(loaded, dict):
                    details = {**loaded, **details}
                else:
                    self.errors.append(FieldError("details", NOT_JSON))
            else:
                value = self.field(key, text)
                if value is not None:
                    data["inventors" if key == LEGACY_INVENTORS else key] = value
        publish = bool(cells.get("publish")) and self.choice("publish", "publish", cells["publish"]) == YES
        if details:
            data["details"] = details
        self.fit_kind(data, {k for k, v in cells.items() if v})
        return data, publish

    def field(self, key: str, text: str) -> Any:
        column = BY_KEY.get(key)
        if key in ("therapeutic_areas", "engagement_modes"):
            return self.choices(key, key, text)
        if key == "keywords":
            return split(text)
        if key == "trl":
            code = self.choice("trl", key, re.sub(r"^trl\s*", "", text, flags=re.I))
            return int(code) if code else None
        if key == "licence_options":
            offers = []
            for i, (option, terms) in enumerate(map(pair, split(text))):
                code = self.choice("licence_options", f"licence_options[{i}].option", option)
                if code:
                    offers.append({"option": code, "terms": terms})
            return offers
        if key in ("inventors", LEGACY_INVENTORS):
            return self.inventors(text, percent=key == "inventors")
        if key == "ip_assets":
            return [self.ip_asset(i, item) for i, item in enumerate(split(text))]
        if column is not None and column.choices:
            return self.choice(column.choices, key, text)
        return text

    def inventors(self, text: str, *, percent: bool) -> list[dict] | None:
        found, total, complete = [], 0, True
        for i, (name, share) in enumerate(map(pair, split(text))):
            if not name or not share:
                self.errors.append(FieldError(f"inventors[{i}]", NAME_SHARE))
                complete = False
                continue
            bp = _basis_points(share) if percent else forms.whole_number(share)
            if bp is None:
                self.errors.append(
                    FieldError(f"inventors[{i}].share_bp", NOT_PERCENT if percent else NOT_WHOLE, {"value": share})
                )
                complete = False
                continue
            found.append({"name": name, "share_bp": bp})
            total += bp
        if complete and found and total != TOTAL_SHARES_BP:
            self.errors.append(FieldError("inventors", SHARES_SUM, {"total": share_percent(total)}))
        return found if complete else None  # part of the shares would only add a wrong sum

    def ip_asset(self, i: int, item: str) -> dict:
        asset: dict[str, str] = {}
        for part, value in zip(IP_PARTS, (p.strip() for p in item.split("|")), strict=False):
            if value and part in IP_CHOICES:
                value = self.choice(IP_CHOICES[part], f"ip_assets[{i}].{part}", value) or ""
            if value:
                asset[part] = value
        return asset

    def detail(self, key: str, text: str) -> Any:
        name = key.split(".", 1)[1]
        field = next(f for t in RESOURCE_DETAILS for f in detail_fields(t) if f.name == name)
        if field.widget == "number":
            whole = re.fullmatch(r"(-?\d+)(?:\.0+)?", text)
            if not whole:
                self.errors.append(FieldError(key, NOT_WHOLE, {"value": text}))
            return int(whole[1]) if whole else None
        if field.widget == "decimal":
            try:
                return float(text)
            except ValueError:
                self.errors.append(FieldError(key, NOT_NUMBER, {"value": text}))
                return None
        if field.widget == "checkbox":
            code = self.choice(key, key, text)
            return None if code is None else code == YES
        if field.widget == "select":
            return self.choice(key, key, text)
        if field.widget == "choices":
            return self.choices(key, key, text)
        return split(text) if field.widget == "list" else text

    def fit_kind(self, data: dict, filled: set[str]) -> None:
        """The kind from the type when left out; columns that do not apply to the row's kind and
        type are errors that name the type."""
        kind, type_ = data.get("kind"), data.get("type")
        if kind is None and type_ is not None and "kind" not in filled:
            kind = data["kind"] = next(k for k, types in TYPES.items() if type_ in types)
        if kind is None:
            return
        if type_ is not None and type_ not in TYPES[ListingKind(kind)]:
            del data["type"]
            self.errors.append(
                FieldError(
                    "type",
                    NOT_ALLOWED,
                    {"value": self.vocab.label("type", type_), "allowed": self.vocab.allowed("type", TYPES[ListingKind(kind)])},
                )
            )
            type_ = None
        misplaced = RESOURCE_ONLY if kind == ListingKind.result else RESULT_ONLY
        what = self.vocab.label("kind", kind)
        for name in misplaced:
            if (
                name in filled
                or (name == "inventors" and LEGACY_INVENTORS in filled)
                or (name == "details" and LEGACY_DETAILS in filled)
            ):
                data.pop(name, None)
                self.errors.append(FieldError(name, NOT_FOR_TYPE, {"type": what}))
        details = data.get("details")
        if kind != ListingKind.resource:
            for key in sorted(k for k in filled if k.startswith("details.")):
                self.errors.append(FieldError(key, NOT_FOR_TYPE, {"type": what}))
            data.pop("details", None)
        elif type_ in RESOURCE_DETAILS and details is not None:
            own = {f.name for f in detail_fields(type_)}
            label = self.vocab.label("type", type_)
            for key in sorted(k for k in filled if k.startswith("details.")):
                if key.split(".", 1)[1] not in own:
                    details.pop(key.split(".", 1)[1], None)
                    self.errors.append(FieldError(key, NOT_FOR_TYPE, {"type": label}))
            reported = {e.field for e in self.errors}
            self.errors += [
                e
                for e in forms.field_errors(details, RESOURCE_DETAILS[type_], prefix="details")
                if e.field.split("[")[0] not in reported
            ]


def _basis_points(share: str) -> int | None:
    match = _PERCENT.match(share.replace(" ", ""))
    if not match:
        return None
    bp = int(match[1]) * 100 + int((match[2] or "").ljust(2, "0"))
    return bp if 1 <= bp <= TOTAL_SHARES_BP else None


# ----- writing --------------------------------------------------------------------------------


def values_to_cells(values: dict, vocab: Vocabulary) -> dict[str, str]:
    """A listing in the API's shape (codes, basis points) → its cells, as the reader writes them."""
    cells: dict[str, str] = {}
    for key, value in values.items():
        if value in (None, "", [], {}):
            continue
        column = BY_KEY.get(key)
        if key in ("therapeutic_areas", "engagement_modes"):
            cells[key] = "; ".join(vocab.label(key, v) for v in value)
        elif key == "keywords":
            cells[key] = "; ".join(value)
        elif key == "licence_options":
            labels = (vocab.label(key, o["option"]) for o in value)
            cells[key] = "; ".join(
                f"{label}: {o['terms']}" if o.get("terms") else label for label, o in zip(labels, value, strict=True)
            )
        elif key == "inventors":
            cells[key] = "; ".join(f"{i['name']}: {share_percent(i['share_bp'])}" for i in value)
        elif key == "ip_assets":
            cells[key] = "; ".join(
                " | ".join(_ip_part(vocab, part, a.get(part)) for part in IP_PARTS).rstrip(" |") for a in value
            )
        elif key == "details":
            for name, item in value.items():
                cells[f"details.{name}"] = _detail_cell(vocab, f"details.{name}", item)
        elif key == "publish":
            cells[key] = vocab.label("publish", YES if value else NO)
        elif column is not None and column.choices:
            cells[key] = vocab.label(column.choices, value)
        else:
            cells[key] = str(value)
    return cells


def _ip_part(vocab: Vocabulary, part: str, value: object) -> str:
    if value in (None, ""):
        return ""
    return vocab.label(IP_CHOICES[part], value) if part in IP_CHOICES else str(value)


def _detail_cell(vocab: Vocabulary, key: str, value: object) -> str:
    if isinstance(value, bool):
        return vocab.label(key, YES if value else NO)
    if isinstance(value, list):
        return "; ".join(vocab.label(key, v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return vocab.label(key, value) if isinstance(value, str) else str(value)


def problem_column(path: str) -> str:
    """The column key a field error belongs to: ``details.beds``, ``inventors`` of ``inventors[1].name``."""
    head = re.split(r"[\[]", path, maxsplit=1)[0]
    return head if head.startswith("details.") else head.split(".", 1)[0]


def item_prefix(path: str) -> str:
    """ "Item 2, share: " for a part of a list's item, else ""."""
    match = re.fullmatch(r"\w+\[(\d+)\]\.(\w+)", path)
    if not match:
        return ""
    part = "share" if match[2] == "share_bp" else match[2]
    if part not in ROW_LABELS:  # a licence's option: the message names the value
        return gettext("Item %(n)s: ", n=int(match[1]) + 1)
    return gettext("Item %(n)s, %(part)s: ", n=int(match[1]) + 1, part=gettext(ROW_LABELS[part]))
