"""What the licensee will owe, as obligations: from a draft's terms (upfront fee, instalments,
milestones — all pending until the agreement takes effect) and from a pay-later licence's
conversion in the chosen mode. Pure: builds rows, the service adds them."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from marketplace.licensing.models import Agreement, Obligation, ObligationKind, ObligationState, PaymentMode
from marketplace.licensing.schemas import AgreementTerms
from marketplace.licensing.terms import add_months


def split_evenly(total: int, parts: int) -> list[int]:
    """`total` fen in `parts` parts that sum to it exactly; the leftover fen go to the first parts."""
    base, leftover = divmod(total, parts)
    return [base + (1 if index < leftover else 0) for index in range(parts)]


def from_terms(agreement_id: uuid.UUID, terms: AgreementTerms) -> list[Obligation]:
    """A draft's schedule: nothing is due before the agreement takes effect (take_effect)."""
    rows: list[Obligation] = []

    def add(kind: ObligationKind, amount: int, **fields) -> None:
        rows.append(
            Obligation(
                id=uuid.uuid4(),
                agreement_id=agreement_id,
                sequence=len(rows) + 1,
                kind=kind,
                state=ObligationState.pending,
                amount_fen=amount,
                **fields,
            )
        )

    if terms.upfront_fen:
        add(ObligationKind.upfront, terms.upfront_fen, due_on=terms.starts_on)
    for instalment in sorted(terms.instalments, key=lambda item: item.due_on):
        add(ObligationKind.instalment, instalment.amount_fen, due_on=instalment.due_on)
    for milestone in terms.milestones:
        add(
            ObligationKind.milestone,
            milestone.amount_fen,
            milestone_event=milestone.event,
            due_days_after_event=milestone.due_days_after_event,
        )
    return rows


def on_conversion(
    agreement: Agreement, mode: PaymentMode, instalments: int | None, today: date, *, after: int = 0
) -> list[Obligation]:
    """A converted pay-later licence's schedule in the chosen mode, due from `today`: the whole
    fee within the reporting days (lump sum), after the deferral (deferred), in monthly
    instalments, or nothing now for a revenue share (royalty reports create what is due).
    Sequence numbers follow `after`, the agreement's last one."""
    fee = agreement.licence_fee_fen

    def row(sequence: int, kind: ObligationKind, amount: int, due_on: date) -> Obligation:
        return Obligation(
            id=uuid.uuid4(),
            agreement_id=agreement.id,
            sequence=after + sequence,
            kind=kind,
            state=ObligationState.due,
            amount_fen=amount,
            due_on=due_on,
        )

    if mode == PaymentMode.revenue_share or fee == 0:
        return []
    if mode == PaymentMode.lump_sum:
        return [row(1, ObligationKind.lump_sum, fee, today + timedelta(days=agreement.report_due_days))]
    if mode == PaymentMode.deferred:
        return [row(1, ObligationKind.lump_sum, fee, add_months(today, agreement.deferral_months))]
    count = instalments or agreement.max_instalments
    parts = split_evenly(fee, count)
    return [
        row(number, ObligationKind.instalment, amount, add_months(today, number))
        for number, amount in enumerate(parts, start=1)
        if amount > 0
    ]
