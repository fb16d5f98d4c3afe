"""Request and response shapes of open licences (开放许可): a declaration's terms, as the TTO
declares them and anyone reads them, and what taking one gives the company. Money is integer fen,
rates basis points."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from litestar.params import QueryParameter
from msgspec import Meta, Struct

from marketplace.accounts.schemas import Input
from marketplace.licensing.models import OpenLicenceState, PaymentMode, State
from marketplace.licensing.schemas import Bp, Fen, Line


class OpenLicenceIn(Input, kw_only=True):
    """The fee standard (in words, as the declaration publishes it), what it comes to in figures,
    the payment method and the term (Patent Law art. 50)."""

    listing_id: uuid.UUID
    fee_standard: Annotated[str, Meta(min_length=1, max_length=2000)]
    upfront_fen: Fen = 0
    royalty_bp: Bp | None = None
    payment_mode: PaymentMode = PaymentMode.lump_sum
    term_months: Annotated[int, Meta(ge=1, le=600)] = 36
    territory: Line = "中国大陆"


# `state` is a name Litestar keeps for the app state, so the query parameter gets another one.
OpenLicenceStateQuery = Annotated[Literal["active", "withdrawn"], QueryParameter(name="state")]


class OpenLicenceOut(Struct, kw_only=True):
    id: uuid.UUID
    state: OpenLicenceState
    listing_id: uuid.UUID
    listing_title: str
    institution_id: uuid.UUID
    institution_name: str
    fee_standard: str
    currency: str
    upfront_fen: int
    royalty_bp: int | None
    payment_mode: PaymentMode
    term_months: int
    territory: str
    created_at: datetime
    withdrawn_at: datetime | None
    taken: int  # agreements taken on it so far (live or not)


class OpenLicencePage(Struct):
    items: list[OpenLicenceOut]
    total: int


class OpenLicenceTaken(Struct, kw_only=True):
    """The signed ordinary licence the company got at once."""

    agreement_id: uuid.UUID
    open_licence_id: uuid.UUID
    state: State
    document_sha256: str | None
