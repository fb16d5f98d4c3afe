"""The ledger pages' forms as the service's input Structs: amounts typed in yuan (exact decimal
strings, never floats) as fen, shares typed in % as basis points, and the service's field names
(``shares[1].inventors_bp``, ``costs[0].kind``) as the form's inputs, so each error shows beside
what was typed. Labels of the ledger's enumerations for the templates are here too."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation

from marketplace import forms
from marketplace.errors import DomainError, FieldError
from marketplace.i18n import N_, gettext
from marketplace.ledger.models import CNY, SHARES_PREFIX, AccountKind, CostKind, IncomeKind, PatentCostRecovery, Share
from marketplace.ledger.schemas import IncomeCreate, PayoutCreate, PolicyCreate
from marketplace.ledger.statement_files import format_fen

FEN_PER_YUAN = 100
COST_ROWS = 3  # cost lines the income form offers

KIND_LABELS = {
    IncomeKind.licence: N_("Licence or transfer"),
    IncomeKind.equity: N_("Equity contribution (shares)"),
    IncomeKind.own_implementation: N_("Own implementation"),
    IncomeKind.clinical_service: N_("Clinical-trial service"),
}
SHARE_LABELS = {
    Share.inventors: N_("Inventor team"),
    Share.tto: N_("Transfer office"),
    Share.iit_fund: N_("IIT fund"),
    Share.institution: N_("Institution"),
}
COST_LABELS = {
    CostKind.taxes_fees: N_("Taxes and fees"),
    CostKind.ip_maintenance: N_("IP maintenance (patent costs)"),
    CostKind.valuation: N_("Valuation"),
    CostKind.appraisal: N_("Appraisal"),
    CostKind.negotiation: N_("Negotiation"),
}
RECOVERY_LABELS = {
    PatentCostRecovery.all_first: N_("All first, before the split"),
    PatentCostRecovery.percentage: N_("A percentage of each payment"),
}
ACCOUNT_LABELS = {
    AccountKind.income_received: N_("Income received"),
    AccountKind.deductible_costs: N_("Deductible costs"),
    AccountKind.institution_retained: N_("Institution retained"),
    AccountKind.tto: N_("Transfer office"),
    AccountKind.iit_fund: N_("IIT fund"),
    AccountKind.inventor_payable: N_("Inventor payable"),
    AccountKind.cash_paid_out: N_("Cash paid out"),
}
ENTRY_LABELS = {"income": N_("Income"), "payout": N_("Payout"), "reversal": N_("Reversal")}
JURISDICTION_LABELS = {
    "national": N_("National"),
    "shanghai": N_("Shanghai"),
    "beijing": N_("Beijing"),
    "zhejiang": N_("Zhejiang"),
    "hangzhou": N_("Hangzhou"),
}


# More integer digits than any amount the ledger takes (MAX_FEN has 14).
MAX_DIGITS = 18


def as_list(value: str | list[str] | None) -> list[str]:
    """A form field that may be sent once, many times or not at all."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def parse_decimal(value: str, places: int) -> Decimal:
    """A non-negative decimal with at most `places` decimals; ValueError otherwise."""
    try:
        amount = Decimal(value.replace(",", "").replace("，", "").replace("¥", "").strip())
    except InvalidOperation as error:
        raise ValueError(value) from error
    exponent = amount.as_tuple().exponent  # a letter, not an int, when the amount is not finite
    if not amount.is_finite() or amount < 0 or not isinstance(exponent, int) or exponent < -places:
        raise ValueError(value)
    # "1e999999999" is a valid Decimal whose int() would build a billion digits: refuse it here;
    # the service's own bounds (MAX_FEN) answer anything merely too large.
    if amount.adjusted() > MAX_DIGITS:
        raise ValueError(value)
    return amount


def parse_yuan(value: str) -> int:
    """Yuan with up to two decimals as fen, exactly: "1,234.56" → 123456."""
    return int(parse_decimal(value, 2) * FEN_PER_YUAN)


def parse_percent(value: str) -> int:
    """A percentage with up to two decimals as basis points: "70" → 7000, "12.5" → 1250."""
    amount = parse_decimal(value, 2)
    if amount > 100:
        raise ValueError(value)
    return int(amount * 100)


def amount_text(amount: int, asset: str) -> str:
    """Money as ¥ yuan; shares of a company as units with the company's name."""
    if asset == CNY:
        return f"¥{format_fen(amount)}"
    return gettext("%(n)s shares of %(company)s", n=f"{amount:,}", company=asset.removeprefix(SHARES_PREFIX))


def percent(bp: int | None) -> str:
    if bp is None:
        return ""
    return f"{Decimal(bp) / 100:f}".rstrip("0").rstrip(".") if bp % 100 else str(bp // 100)


def _shown(errors: list[FieldError], rename, into: dict[str, str]) -> dict[str, str]:
    for error in errors:
        into.setdefault(rename(error.field), gettext(error.message, **error.params))
    return into


def refusal_errors(error: DomainError, rename) -> dict[str, str]:
    """A service's refusal by form input; its message under "__all__" when it names no field."""
    shown = _shown(error.errors, rename, {})
    if not shown or error.status_code == 409:
        shown.setdefault("__all__", gettext(error.message, **error.params))
    return shown


# ----- policies -------------------------------------------------------------------------------


def policy_rename(kinds: list[str]):
    """``shares[1].tto_bp`` → ``equity_tto``; ``shares[1]`` → ``equity_row``."""

    def rename(field: str) -> str:
        if not field.startswith("shares["):
            return field
        index, _, rest = field[len("shares[") :].partition("]")
        kind = kinds[int(index)] if index.isdigit() and int(index) < len(kinds) else ""
        rest = rest.lstrip(".")
        if not kind:
            return "shares"
        if rest.endswith("_bp"):
            return f"{kind}_{rest.removesuffix('_bp')}"
        return f"{kind}_row"

    return rename


def policy_input(form: dict[str, str], costs: list[str]) -> tuple[PolicyCreate | None, dict[str, str], list[str]]:
    """(the input or None, errors by input, the kinds in the order of the input's shares)."""
    errors: dict[str, str] = {}
    shares, kinds = [], []
    for kind in IncomeKind:
        typed = {s: form.get(f"{kind}_{s}", "").strip() for s in Share}
        if not any(typed.values()):
            continue  # a kind left blank is not part of this version
        row: dict = {"income_kind": kind.value}
        for share, value in typed.items():
            try:
                row[f"{share}_bp"] = parse_percent(value or "0")
            except ValueError:
                errors[f"{kind}_{share}"] = gettext("A percentage from 0 to 100, with at most two decimals.")
        shares.append(row)
        kinds.append(kind.value)
    if not shares:
        errors["shares"] = gettext("Give the split of at least one kind of income.")
    body: dict = {
        "effective_from": form.get("effective_from", "").strip(),
        "shares": shares,
        "deductible_costs": costs,
        "remainder_share": form.get("remainder_share", Share.institution),
        "patent_cost_recovery": form.get("patent_cost_recovery", PatentCostRecovery.all_first),
        "note": form.get("note", "").strip(),
    }
    if form.get("patent_cost_recovery_pct", "").strip():
        try:
            body["patent_cost_recovery_bp"] = parse_percent(form["patent_cost_recovery_pct"]) or None
        except ValueError:
            errors["patent_cost_recovery_bp"] = gettext("A percentage from 0 to 100, with at most two decimals.")
    data, problems = forms.try_convert(body, PolicyCreate)
    _shown(problems, policy_rename(kinds), errors)
    return (data if not errors else None), errors, kinds


# ----- income ---------------------------------------------------------------------------------

COST_FIELDS = {"kind": "cost_kind", "amount_fen": "cost_amount", "document": "cost_document"}


def income_rename(rows: list[int]):
    """``costs[0].amount_fen`` → ``cost_amount_2`` (the form's row of the first cost given)."""

    def rename(field: str) -> str:
        if field == "Idempotency-Key":
            return "__all__"
        if not field.startswith("costs["):
            return field
        index, _, rest = field[len("costs[") :].partition("]")
        name = COST_FIELDS.get(rest.lstrip("."))
        if not index.isdigit() or int(index) >= len(rows) or name is None:
            return "costs"
        return f"{name}_{rows[int(index)]}"

    return rename


def income_input(form: dict[str, str]) -> tuple[IncomeCreate | None, dict[str, str], list[int]]:
    """(the input or None, errors by input, the form's row of each cost given)."""
    errors: dict[str, str] = {}
    kind = form.get("kind", "")
    body: dict = {
        "result_id": form.get("result_id", ""),
        "kind": kind,
        "source_kind": "manual_contract",
        "source_ref": form.get("source_ref", "").strip(),
        "received_on": form.get("received_on", "").strip(),
    }
    amount = form.get("amount", "").strip()
    try:
        # Equity income is a number of shares; everything else yuan.
        body["amount"] = int(parse_decimal(amount, 0)) if kind == IncomeKind.equity else parse_yuan(amount)
    except ValueError:
        errors["amount"] = (
            gettext("A whole number of shares.")
            if kind == IncomeKind.equity
            else gettext("An amount in yuan with at most two decimals, for example 12,500.00.")
        )
    if form.get("company", "").strip():
        body["company"] = form["company"].strip()
    costs, rows = [], []
    for i in range(COST_ROWS):
        cost_kind, cost_amount, document = (form.get(f"{n}_{i}", "").strip() for n in COST_FIELDS.values())
        if not (cost_amount or document):
            continue
        try:
            fen = parse_yuan(cost_amount)
        except ValueError:
            errors[f"cost_amount_{i}"] = gettext("An amount in yuan with at most two decimals, for example 12,500.00.")
            fen = 0
        costs.append({"kind": cost_kind, "amount_fen": fen, "document": document})
        rows.append(i)
    body["costs"] = costs
    data, problems = forms.try_convert(body, IncomeCreate)
    _shown(problems, income_rename(rows), errors)
    return (data if not errors else None), errors, rows


def new_key() -> str:
    return uuid.uuid4().hex


# ----- payouts --------------------------------------------------------------------------------


def payee_value(kind: str, user_id: uuid.UUID | None, name: str, asset: str) -> str:
    """One option of the payee select: who, and in which asset."""
    who = "tto" if kind == AccountKind.tto else (f"user:{user_id}" if user_id else f"name:{name}")
    return f"{who}|{asset}"


def payout_input(form: dict[str, str]) -> tuple[PayoutCreate | None, dict[str, str]]:
    errors: dict[str, str] = {}
    who, _, asset = form.get("payee", "").partition("|")
    body: dict = {
        "payee": "tto" if who == "tto" else "inventor",
        "asset": asset or CNY,
        "paid_on": form.get("paid_on", "").strip(),
        "reference": form.get("reference", "").strip(),
    }
    if who.startswith("user:"):
        body["user_id"] = who.removeprefix("user:")
    elif who.startswith("name:"):
        body["inventor_name"] = who.removeprefix("name:")
    elif who != "tto":
        errors["payee"] = gettext("Choose who is paid.")
    amount = form.get("amount", "").strip()
    try:
        body["amount"] = parse_yuan(amount) if body["asset"] == CNY else int(parse_decimal(amount, 0))
    except ValueError:
        errors["amount"] = gettext("An amount in yuan with at most two decimals, for example 12,500.00.")
    data, problems = forms.try_convert(body, PayoutCreate)
    _shown(problems, lambda f: "payee" if f in ("user_id", "inventor_name", "asset") else f, errors)
    return (data if not errors else None), errors


def payout_refusal(error: DomainError, asset: str) -> dict[str, str]:
    """Above the balance: said in yuan, beside the amount."""
    if error.status_code == 409 and "balance" in error.params:
        message = gettext(
            "Refused: more than is outstanding. Only %(balance)s is owed to this payee; the payout asks for %(amount)s.",
            balance=amount_text(int(error.params["balance"]), asset),
            amount=amount_text(int(error.params["amount"]), asset),
        )
        return {"amount": message, "__all__": message}
    return refusal_errors(error, lambda f: "payee" if f in ("user_id", "inventor_name") else f)
