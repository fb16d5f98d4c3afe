"""Where an item of the schedule stands on a day: late once its due day has passed unpaid; in
default once the agreement's grace period has passed too (or the default job has marked it)."""

from __future__ import annotations

from datetime import date, timedelta

from marketplace.licensing.models import Agreement, Obligation, ObligationState


def is_late(obligation: Obligation, today: date) -> bool:
    return obligation.state == ObligationState.due and obligation.due_on is not None and obligation.due_on < today


def in_default(obligation: Obligation, agreement: Agreement, today: date) -> bool:
    if not is_late(obligation, today):
        return False
    assert obligation.due_on is not None
    return obligation.defaulted_at is not None or today > obligation.due_on + timedelta(days=agreement.grace_days)


def outstanding(obligation: Obligation) -> int:
    return obligation.amount_fen - obligation.paid_fen if obligation.state == ObligationState.due else 0
