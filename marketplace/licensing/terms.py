"""The rules an agreement's terms must meet for its kind, as field errors (all at once), and the
arithmetic of its dates. Pure: no database."""

from __future__ import annotations

from datetime import date

from dateutil.relativedelta import relativedelta

from marketplace.errors import FieldError
from marketplace.i18n import N_
from marketplace.licensing.models import Kind, PaymentMode
from marketplace.licensing.schemas import AgreementTerms

# The days an agreement may start on: a term from a later one would run past the calendar's end.
FIRST_START, LAST_START = date(2000, 1, 1), date(2100, 12, 31)


def add_months(day: date, months: int) -> date:
    return day + relativedelta(months=months)


def term_errors(kind: Kind, terms: AgreementTerms) -> list[FieldError]:
    """What is wrong with the terms for this kind of agreement."""
    errors: list[FieldError] = []
    if not FIRST_START <= terms.starts_on <= LAST_START:
        params = {"first": FIRST_START.isoformat(), "last": LAST_START.isoformat()}
        return [FieldError("starts_on", N_("Must fall between %(first)s and %(last)s."), params)]
    if not terms.field_of_use.strip():
        errors.append(FieldError("field_of_use", N_("Required.")))
    if not terms.territory.strip():
        errors.append(FieldError("territory", N_("Required.")))
    if kind == Kind.pay_later:
        if terms.use_period_months is None:
            errors.append(FieldError("use_period_months", N_("A pay-later licence needs its use period.")))
        if terms.upfront_fen:
            errors.append(FieldError("upfront_fen", N_("A pay-later licence has no entry fee (零门槛).")))
        if not terms.payment_modes:
            errors.append(FieldError("payment_modes", N_("Name the payment modes the licensee may choose on conversion.")))
        if PaymentMode.revenue_share in terms.payment_modes and terms.royalty_bp is None:
            errors.append(FieldError("royalty_bp", N_("A revenue share needs its rate.")))
        if set(terms.payment_modes) - {PaymentMode.revenue_share} and not terms.licence_fee_fen:
            errors.append(FieldError("licence_fee_fen", N_("Say the licence fee owed on conversion.")))
        if terms.instalments:
            errors.append(FieldError("instalments", N_("A pay-later licence's instalments are set when it converts.")))
        if terms.milestones:
            errors.append(FieldError("milestones", N_("A pay-later licence owes nothing before it converts.")))
    else:
        if terms.use_period_months is not None:
            errors.append(FieldError("use_period_months", N_("Only a pay-later licence has a use period.")))
        if terms.conversion_milestone:
            errors.append(FieldError("conversion_milestone", N_("Only a pay-later licence converts.")))
        if terms.payment_modes:
            errors.append(FieldError("payment_modes", N_("Only a pay-later licence chooses its payment mode later.")))
        if terms.licence_fee_fen:
            errors.append(FieldError("licence_fee_fen", N_("Use the upfront fee, instalments or milestones.")))
    if kind == Kind.equity and terms.equity_bp is None:
        errors.append(FieldError("equity_bp", N_("An equity contribution needs the share of the company it is worth.")))
    if kind != Kind.equity and terms.equity_bp is not None:
        errors.append(FieldError("equity_bp", N_("Only an equity contribution has an equity share.")))
    if terms.annual_minimum_fen is not None and terms.royalty_bp is None:
        errors.append(FieldError("annual_minimum_fen", N_("An annual minimum needs a royalty rate.")))
    ends_on = add_months(terms.starts_on, terms.term_months)
    for index, instalment in enumerate(terms.instalments):
        if not terms.starts_on <= instalment.due_on <= ends_on:
            errors.append(FieldError(f"instalments[{index}].due_on", N_("Must fall within the agreement's term.")))
    if kind == Kind.pay_later and terms.use_period_months is not None and terms.use_period_months >= terms.term_months:
        errors.append(FieldError("use_period_months", N_("The use period must end before the term does.")))
    return errors
