"""The listing form: which inputs a kind and type has, and how a submitted form becomes the
service's ListingCreate / ListingUpdate with each problem named by the input it belongs to.

Inputs are named like the service's field paths (``inventors[2].name``, ``ip_assets[0].number``,
``details.beds``), so the service's FieldErrors land next to the input that caused them. Rows are
plain repeated inputs; blank rows are skipped and the row numbers of the form are kept.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from marketplace import forms
from marketplace.catalog.form_fields import detail_fields, share_percent
from marketplace.catalog.models import (
    Listing,
    ListingKind,
    ResourceType,
    ResultType,
)
from marketplace.catalog.schemas import ListingCreate, ListingUpdate
from marketplace.errors import FieldError
from marketplace.i18n import N_, gettext

LIST_SEPARATORS = re.compile(r"[;；,，、\n]+")
TEXT_FIELDS = (
    "title_zh",
    "title_en",
    "summary_zh",
    "summary_en",
    "confidential_details",
    "contact_name",
    "contact_email",
    "contact_phone",
)
REQUIRED_TEXT = ("title_zh", "summary_zh")
NOT_CLEARABLE = ("contact_email",)  # "" is not a valid e-mail; an empty input leaves it unchanged
MIN_INVENTOR_ROWS = 4
MIN_IP_ROWS = 3
EXTRA_ROWS = 2


def split_list(text: str) -> list[str]:
    return [part.strip() for part in LIST_SEPARATORS.split(text) if part.strip()]


def valid_type(kind: str | None, type_: str | None) -> bool:
    if kind == ListingKind.result:
        return type_ in set(ResultType)
    if kind == ListingKind.resource:
        return type_ in set(ResourceType)
    return False


class FormData:
    """A submitted (or prefilled) form: single values, lists for checkbox groups, row counts."""

    def __init__(self, raw: dict[str, str | list[str]] | None = None) -> None:
        self.raw = dict(raw or {})

    def __contains__(self, name: str) -> bool:
        return name in self.raw

    def get(self, name: str, default: str = "") -> str:
        value = self.raw.get(name, default)
        if isinstance(value, list):
            value = next((v for v in reversed(value) if v), "")
        return value

    def getlist(self, name: str) -> list[str]:
        value = self.raw.get(name, [])
        return [v for v in ([value] if isinstance(value, str) else value) if v]

    def checked(self, name: str, value: str) -> bool:
        return value in self.getlist(name)

    def row_count(self, group: str) -> int:
        indexes = [int(m.group(1)) for key in self.raw if (m := re.match(rf"{group}\[(\d+)\]", key))]
        return max(indexes) + 1 if indexes else 0

    def rows(self, group: str, minimum: int) -> range:
        """Rows to show: the submitted ones, or existing ones plus blank rows, at least `minimum`."""
        count = self.row_count(group)
        return range(max(count + (0 if self.raw.get("_submitted") else EXTRA_ROWS), minimum))


def new_form(kind: str, type_: str, *, contact_name: str = "", contact_email: str = "") -> FormData:
    return FormData({"kind": kind, "type": type_, "contact_name": contact_name, "contact_email": contact_email})


def listing_form(listing: Listing) -> FormData:
    """The edit form, filled from the listing."""
    raw: dict[str, str | list[str]] = {"kind": listing.kind, "type": listing.type}
    for name in (*TEXT_FIELDS, "advantages", "stage", "ownership_model", "pricing_model", "availability"):
        raw[name] = getattr(listing, name) or ""
    raw["trl"] = str(listing.trl or "")
    raw["keywords"] = "; ".join(listing.keywords)
    raw["therapeutic_areas"] = [a.area_code for a in listing.areas]
    raw["engagement_modes"] = list(listing.engagement_modes)
    raw["licence_options"] = list(listing.licence_options)
    for option in listing.licence_options:
        raw[f"licence_terms.{option}"] = listing.licence_terms.get(option, "")
    for i, inv in enumerate(listing.inventors):
        raw[f"inventors[{i}].name"] = inv.name
        raw[f"inventors[{i}].share"] = share_percent(inv.share_bp)
        raw[f"inventors[{i}].user_id"] = str(inv.user_id or "")
    for i, asset in enumerate(listing.ip_assets):
        for part in ("number", "kind", "jurisdiction", "status"):
            raw[f"ip_assets[{i}].{part}"] = getattr(asset, part)
        for part in ("filing_date", "expiry_date"):
            raw[f"ip_assets[{i}].{part}"] = (getattr(asset, part) or "") and getattr(asset, part).isoformat()
    for f in detail_fields(listing.type) if listing.kind == ListingKind.resource else ():
        value = (listing.details or {}).get(f.name)
        if f.widget == "choices":
            raw[f.input] = list(value or [])
        elif f.widget == "list":
            raw[f.input] = "; ".join(value or [])
        elif f.widget == "checkbox":
            raw[f.input] = "on" if value else ""
        else:
            raw[f.input] = "" if value is None else str(value)
    return FormData(raw)


@dataclass
class ParsedForm:
    payload: dict = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # input name → message in the page's language
    # payload index → form row, to put the service's "inventors[1].name" on the right row
    rows: dict[str, list] = field(default_factory=lambda: {"inventors": [], "ip_assets": [], "licence_options": []})

    def error(self, name: str, message: str, **params) -> None:
        self.errors.setdefault(name, gettext(message, **params))


def parse_listing_form(form: FormData, kind: str, type_: str, *, partial: bool) -> ParsedForm:
    """The form as the service's input. With `partial` (editing), inputs absent from the form are
    left unchanged; every input the edit page shows is always present (checkbox groups carry a
    blank hidden input), so emptying an input clears it."""
    parsed = ParsedForm()
    payload = parsed.payload

    def present(name: str) -> bool:
        return not partial or name in form

    for name in (*TEXT_FIELDS, *(("advantages",) if kind == ListingKind.result else ())):
        if not present(name):
            continue
        value = form.get(name).strip()
        if name in REQUIRED_TEXT and not value:
            parsed.error(name, N_("Required."))
        elif value or (partial and name not in NOT_CLEARABLE and name not in REQUIRED_TEXT):
            payload[name] = value
    for name, values in (
        ("keywords", split_list(form.get("keywords"))),
        ("therapeutic_areas", form.getlist("therapeutic_areas")),
    ):
        if present(name) and (values or partial):
            payload[name] = values

    if kind == ListingKind.result:
        _parse_result(form, parsed, partial)
    else:
        _parse_resource(form, type_, parsed, partial)
    return parsed


def _choice(form: FormData, payload: dict, name: str) -> None:
    if value := form.get(name).strip():
        payload[name] = value


def _parse_result(form: FormData, parsed: ParsedForm, partial: bool) -> None:
    payload = parsed.payload
    _choice(form, payload, "stage")
    _choice(form, payload, "ownership_model")
    if trl := form.get("trl").strip():
        if (level := forms.whole_number(trl, 9)) is not None:
            payload["trl"] = level
        else:
            parsed.error("trl", N_("Enter a whole number."))
    if "licence_options" in form or not partial:
        options = form.getlist("licence_options")
        if options or partial:
            payload["licence_options"] = [{"option": o, "terms": form.get(f"licence_terms.{o}").strip()} for o in options]
            parsed.rows["licence_options"] = options
    if any(key.startswith("inventors[") for key in form.raw) or "inventors" in form:
        inventors, complete = [], True
        for row in range(form.row_count("inventors")):
            prefix = f"inventors[{row}]"
            name = form.get(f"{prefix}.name").strip()
            share = form.get(f"{prefix}.share").strip().rstrip("%").strip()
            user = form.get(f"{prefix}.user_id").strip()
            if not name and not share:
                continue
            item: dict = {"name": name}
            if not name:
                parsed.error(f"{prefix}.name", N_("Required."))
                complete = False
            try:
                basis_points = Decimal(share.replace(",", ".")) * 100
                if basis_points != basis_points.to_integral_value():
                    parsed.error(f"{prefix}.share", N_("Use at most two decimal places."))
                    complete = False
                    continue
                item["share_bp"] = int(basis_points)
            except InvalidOperation:
                parsed.error(f"{prefix}.share", N_("Required.") if not share else N_("Enter a number."))
                complete = False
                continue
            if user:
                try:
                    item["user_id"] = str(uuid.UUID(user))
                except ValueError:
                    parsed.error(f"{prefix}.user_id", N_("Not one of the allowed values."))
                    complete = False
            inventors.append(item)
            parsed.rows["inventors"].append(row)
        if complete and inventors:
            total = sum(item["share_bp"] for item in inventors if "share_bp" in item)
            if total != 10_000:
                parsed.error("inventors", N_("The shares must add up to 100%% (now %(total)s%%)."), total=share_percent(total))
        if inventors or partial:
            payload["inventors"] = inventors
    if any(key.startswith("ip_assets[") for key in form.raw) or "ip_assets" in form:
        assets = []
        for row in range(form.row_count("ip_assets")):
            prefix = f"ip_assets[{row}]"
            number = form.get(f"{prefix}.number").strip()
            dates = {part: form.get(f"{prefix}.{part}").strip() for part in ("filing_date", "expiry_date")}
            if not number and not any(dates.values()):
                continue
            asset: dict = {"number": number}
            if not number:
                parsed.error(f"{prefix}.number", N_("Required."))
            for part in ("kind", "jurisdiction", "status"):
                asset[part] = form.get(f"{prefix}.{part}").strip()
            for part, value in dates.items():
                if not value:
                    continue
                try:
                    asset[part] = date.fromisoformat(value).isoformat()
                except ValueError:
                    parsed.error(f"{prefix}.{part}", N_("Enter a date as YYYY-MM-DD."))
            assets.append(asset)
            parsed.rows["ip_assets"].append(row)
        if assets or partial:
            payload["ip_assets"] = assets


def _parse_resource(form: FormData, type_: str, parsed: ParsedForm, partial: bool) -> None:
    payload = parsed.payload
    if "engagement_modes" in form or not partial:
        modes = form.getlist("engagement_modes")
        if modes or partial:
            payload["engagement_modes"] = modes
    _choice(form, payload, "pricing_model")
    _choice(form, payload, "availability")
    fields = detail_fields(type_)
    if partial and "details" not in form and not any(f.input in form for f in fields):
        return
    details: dict = {}
    filled = False
    for f in fields:
        raw = form.get(f.input).strip()
        if f.widget == "checkbox":
            details[f.name] = bool(raw)
            filled = filled or bool(raw)
        elif f.widget == "choices":
            details[f.name] = form.getlist(f.input)
            filled = filled or bool(details[f.name])
        elif f.widget == "list":
            details[f.name] = split_list(raw)
            filled = filled or bool(details[f.name])
        elif not raw:
            continue
        elif f.widget == "number":
            filled = True
            try:
                details[f.name] = int(raw)
            except ValueError:
                parsed.error(f.input, N_("Enter a whole number."))
        elif f.widget == "decimal":
            filled = True
            try:
                details[f.name] = float(raw.replace(",", "."))
            except ValueError:
                parsed.error(f.input, N_("Enter a number."))
        else:
            filled = True
            details[f.name] = raw
    if filled:
        payload["details"] = details


# ----- errors back onto the form ----------------------------------------------------------------


def input_name(field_path: str, rows: dict[str, list]) -> str:
    """A service field path → the input that shows its error."""
    match = re.fullmatch(r"(inventors|ip_assets)\[(\d+)\]\.?(\w*)", field_path)
    if match:
        group, index, part = match.group(1), int(match.group(2)), match.group(3)
        form_rows = rows.get(group, [])
        row = form_rows[index] if index < len(form_rows) else index
        part = "share" if part == "share_bp" else part
        return f"{group}[{row}].{part}" if part else group
    match = re.fullmatch(r"licence_options\[(\d+)\]\.terms", field_path)
    if match and int(match.group(1)) < len(rows.get("licence_options", [])):
        return f"licence_terms.{rows['licence_options'][int(match.group(1))]}"
    match = re.match(r"details\.(\w+)", field_path)
    if match:
        return f"details.{match.group(1)}"
    return re.split(r"[\[.]", field_path, maxsplit=1)[0]


def to_struct(parsed: ParsedForm, struct: type[ListingCreate] | type[ListingUpdate]):
    """The payload as the struct, or None with every problem added to the form by its input."""
    data, errors = forms.try_convert(parsed.payload, struct)
    add_service_errors(parsed, errors)
    return data


def add_service_errors(parsed: ParsedForm, errors: list[FieldError]) -> None:
    for error in errors:
        parsed.errors.setdefault(input_name(error.field, parsed.rows) or "__all__", gettext(error.message, **error.params))
