"""The agreement pages' forms as the service's input Structs: money typed in yuan (exact decimal
strings, never floats) as fen, rates typed in % as basis points, the milestone and instalment rows
as lists; and the service's field names (``milestones[1].amount_fen``) as the form's inputs, so
each error shows beside what was typed."""

from __future__ import annotations

from datetime import date

from marketplace import forms
from marketplace.errors import DomainError, FieldError
from marketplace.i18n import gettext
from marketplace.ledger.page_forms import new_key as new_key  # re-exported for the pages
from marketplace.ledger.page_forms import parse_percent, parse_yuan
from marketplace.ledger.statement_files import format_fen
from marketplace.licensing.models import Agreement, Obligation, ObligationKind
from marketplace.licensing.schemas import AgreementCreate, AgreementTerms, MilestoneReachedIn, PaymentIn, RoyaltyReportIn

MILESTONE_ROWS = 3
INSTALMENT_ROWS = 4
YUAN_ERROR = "An amount in yuan with at most two decimals, for example 12,500.00."
PERCENT_ERROR = "A percentage from 0 to 100, with at most two decimals."

# Service field → the form's input, where they differ (yuan and % inputs).
MONEY = {"upfront_fen": "upfront", "licence_fee_fen": "licence_fee", "annual_minimum_fen": "annual_minimum"}
RATES = {"royalty_bp": "royalty", "equity_bp": "equity"}
INTEGERS = ("term_months", "use_period_months", "max_instalments", "deferral_months", "grace_days", "report_due_days")
TEXTS = ("title", "territory", "field_of_use", "default_liability", "notes")
ROW_FIELDS = {
    "milestones": {"event": "milestone_event", "amount_fen": "milestone_amount", "due_days_after_event": "milestone_days"},
    "instalments": {"due_on": "instalment_due_on", "amount_fen": "instalment_amount"},
}


def yuan(fen: int | None) -> str:
    """Fen as the yuan a form shows: 123456 → "1,234.56"."""
    return "" if fen is None else format_fen(fen)


def percent_text(bp: int | None) -> str:
    if bp is None:
        return ""
    whole, part = divmod(bp, 100)
    return f"{whole}.{part:02d}".rstrip("0").rstrip(".")


def as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def first(value: str | list[str] | None) -> str:
    return (as_list(value) or [""])[0]


def renamer(rows: dict[str, list[int]]):
    """``milestones[0].amount_fen`` → ``milestone_amount_2`` (the form row of the first milestone given)."""

    def rename(name: str) -> str:
        for group, fields in ROW_FIELDS.items():
            if name.startswith(f"{group}["):
                index, _, rest = name[len(group) + 1 :].partition("]")
                field = fields.get(rest.lstrip("."))
                if not index.isdigit() or int(index) >= len(rows[group]) or field is None:
                    return group
                return f"{field}_{rows[group][int(index)]}"
        base = name.split("[", 1)[0]
        return MONEY.get(base) or RATES.get(base) or base

    return rename


def shown(errors: list[FieldError], rename, into: dict[str, str]) -> dict[str, str]:
    for error in errors:
        into.setdefault(rename(error.field), gettext(error.message, **error.params))
    return into


def refusal_errors(error: DomainError, rows: dict[str, list[int]] | None = None, rename=None) -> dict[str, str]:
    """A service's refusal by form input; its message under "__all__" as well."""
    names = rename if rename is not None else renamer(rows or {"milestones": [], "instalments": []})
    found = shown(error.errors, lambda field: names.get(field, "__all__") if isinstance(names, dict) else names(field), {})
    found.setdefault("__all__", gettext(error.message, **error.params))
    return found


def terms_body(form: dict[str, str | list[str]], errors: dict[str, str]) -> tuple[dict, dict[str, list[int]]]:
    """The terms as a JSON-like body, and the form row of each milestone and instalment given."""
    body: dict = {name: first(form.get(name)).strip() for name in TEXTS}
    body["starts_on"] = first(form.get("starts_on")).strip()
    for name in INTEGERS:
        value = first(form.get(name)).strip()
        if value:
            body[name] = value if (number := forms.whole_number(value, 6)) is None else number
    for field, name in MONEY.items():
        value = first(form.get(name)).strip()
        if value:
            try:
                body[field] = parse_yuan(value)
            except ValueError:
                errors[name] = gettext(YUAN_ERROR)
    for field, name in RATES.items():
        value = first(form.get(name)).strip()
        if value:
            try:
                body[field] = parse_percent(value)
            except ValueError:
                errors[name] = gettext(PERCENT_ERROR)
    for name in ("conversion_milestone", "insurance_ref"):
        if first(form.get(name)).strip():
            body[name] = first(form.get(name)).strip()
    if first(form.get("guarantor")):
        body["guarantor"] = first(form.get("guarantor"))
    body["language"] = first(form.get("language")) or "zh"
    body["payment_modes"] = as_list(form.get("payment_modes"))
    rows: dict[str, list[int]] = {"milestones": [], "instalments": []}
    body["milestones"], body["instalments"] = [], []
    for i in range(MILESTONE_ROWS):
        event, amount, days = (first(form.get(f"{n}_{i}")).strip() for n in ROW_FIELDS["milestones"].values())
        if not (event or amount):
            continue
        row: dict = {"event": event}
        try:
            row["amount_fen"] = parse_yuan(amount)
        except ValueError:
            errors[f"milestone_amount_{i}"] = gettext(YUAN_ERROR)
            row["amount_fen"] = 1
        if days:
            row["due_days_after_event"] = days if (number := forms.whole_number(days, 6)) is None else number
        body["milestones"].append(row)
        rows["milestones"].append(i)
    for i in range(INSTALMENT_ROWS):
        due_on, amount = (first(form.get(f"{n}_{i}")).strip() for n in ROW_FIELDS["instalments"].values())
        if not (due_on or amount):
            continue
        row = {"due_on": due_on}
        try:
            row["amount_fen"] = parse_yuan(amount)
        except ValueError:
            errors[f"instalment_amount_{i}"] = gettext(YUAN_ERROR)
            row["amount_fen"] = 1
        body["instalments"].append(row)
        rows["instalments"].append(i)
    return body, rows


def create_input(form: dict[str, str | list[str]]) -> tuple[AgreementCreate | None, dict[str, str], dict[str, list[int]]]:
    """The draft form as the service's input, or the errors by input."""
    errors: dict[str, str] = {}
    body, rows = terms_body(form, errors)
    body["kind"] = first(form.get("kind"))
    if first(form.get("match_request_id")):
        body["match_request_id"] = first(form.get("match_request_id"))
    if first(form.get("company_id")):
        body["company_id"] = first(form.get("company_id"))
    body["result_ids"] = [value for value in as_list(form.get("result_ids")) if value]
    data, problems = forms.try_convert(body, AgreementCreate, strict=False)
    shown(problems, renamer(rows), errors)
    return (data if not errors else None), errors, rows


def terms_input(form: dict[str, str | list[str]]) -> tuple[AgreementTerms | None, dict[str, str], dict[str, list[int]]]:
    errors: dict[str, str] = {}
    body, rows = terms_body(form, errors)
    data, problems = forms.try_convert(body, AgreementTerms, strict=False)
    shown(problems, renamer(rows), errors)
    return (data if not errors else None), errors, rows


def form_of(agreement: Agreement, obligations: list[Obligation]) -> dict[str, str | list[str]]:
    """A draft as its edit form shows it."""
    form: dict[str, str | list[str]] = {name: getattr(agreement, name) or "" for name in TEXTS}
    form["starts_on"] = agreement.starts_on.isoformat()
    for name in INTEGERS:
        value = getattr(agreement, name)
        form[name] = "" if value is None else str(value)
    for field, name in MONEY.items():
        value = getattr(agreement, field)
        form[name] = yuan(value) if value else ""
    for field, name in RATES.items():
        form[name] = percent_text(getattr(agreement, field))
    form["conversion_milestone"] = agreement.conversion_milestone or ""
    form["insurance_ref"] = agreement.insurance_ref or ""
    form["guarantor"] = agreement.guarantor or ""
    form["language"] = agreement.language
    form["kind"] = agreement.kind
    form["payment_modes"] = list(agreement.payment_modes)
    milestones = [o for o in obligations if o.kind == ObligationKind.milestone]
    instalments = [o for o in obligations if o.kind == ObligationKind.instalment]
    for i, o in enumerate(milestones[:MILESTONE_ROWS]):
        form[f"milestone_event_{i}"] = o.milestone_event or ""
        form[f"milestone_amount_{i}"] = yuan(o.amount_fen)
        form[f"milestone_days_{i}"] = str(o.due_days_after_event or 0)
    for i, o in enumerate(instalments[:INSTALMENT_ROWS]):
        form[f"instalment_due_on_{i}"] = o.due_on.isoformat() if o.due_on else ""
        form[f"instalment_amount_{i}"] = yuan(o.amount_fen)
    return form


def blank_form(today: date) -> dict[str, str | list[str]]:
    return {"starts_on": today.isoformat(), "term_months": "60", "territory": "中国大陆", "language": "zh", "kind": "pay_later"}


# ----- payments, royalty reports, milestones ----------------------------------------------------

# The service's fields by the form's inputs (anything else shows above the form).
PAYMENT_FIELDS = {"amount_fen": "amount", "received_on": "received_on", "reference": "reference"}
ROYALTY_FIELDS = {"period_start": "period_start", "period_end": "period_end", "net_sales_fen": "net_sales"}
MILESTONE_FIELDS = {"reached_on": "reached_on"}


def _money_input(form: dict[str, str], name: str, body: dict, errors: dict[str, str], field: str) -> None:
    try:
        body[field] = parse_yuan(form.get(name, "").strip())
    except ValueError:
        errors[name] = gettext(YUAN_ERROR)


def payment_input(form: dict[str, str]) -> tuple[PaymentIn | None, dict[str, str]]:
    errors: dict[str, str] = {}
    body: dict = {
        "obligation_id": form.get("obligation_id", ""),
        "received_on": form.get("received_on", "").strip(),
        "reference": form.get("reference", "").strip(),
    }
    _money_input(form, "amount", body, errors, "amount_fen")
    data, problems = forms.try_convert(body, PaymentIn)
    shown(problems, lambda f: PAYMENT_FIELDS.get(f, "__all__"), errors)
    return (data if not errors else None), errors


def royalty_input(form: dict[str, str]) -> tuple[RoyaltyReportIn | None, dict[str, str]]:
    errors: dict[str, str] = {}
    body: dict = {"period_start": form.get("period_start", "").strip(), "period_end": form.get("period_end", "").strip()}
    _money_input(form, "net_sales", body, errors, "net_sales_fen")
    data, problems = forms.try_convert(body, RoyaltyReportIn)
    shown(problems, lambda f: ROYALTY_FIELDS.get(f, "__all__"), errors)
    return (data if not errors else None), errors


def milestone_input(form: dict[str, str]) -> tuple[MilestoneReachedIn | None, dict[str, str]]:
    errors: dict[str, str] = {}
    body: dict = {"reached_on": form.get("reached_on", "").strip()}
    if form.get("obligation_id"):
        body["obligation_id"] = form["obligation_id"]
    data, problems = forms.try_convert(body, MilestoneReachedIn)
    shown(problems, lambda f: MILESTONE_FIELDS.get(f, "__all__"), errors)
    return (data if not errors else None), errors
