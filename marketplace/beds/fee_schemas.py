"""Request and response shapes of the fees received for bed allocations and trial engagements."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from msgspec import Struct

from marketplace.accounts.schemas import Input
from marketplace.ledger.schemas import Amount


class FeePaymentIn(Input, kw_only=True):
    amount_fen: Amount
    received_on: date


class FeePaymentOut(Struct):
    """Money received for a record's agreed fee, and the ledger income it became."""

    kind: Literal["allocation", "engagement"]
    record_id: uuid.UUID
    income_id: uuid.UUID
    amount_fen: int
    received_on: date
    fee_fen: int  # the agreed fee
    received_fen: int  # received for it so far, this payment included
    created_at: datetime
