"""Page helpers the matching pages (requests, needs, threads) share: amounts in 万元, a refused
step as the page's problem box, and what the thread's form needs."""

from __future__ import annotations

from decimal import Decimal

from marketplace.errors import DomainError
from marketplace.i18n import gettext
from marketplace.matching.threads.files import human_size
from marketplace.matching.threads.models import ALLOWED_EXTENSIONS
from marketplace.matching.threads.services import ThreadService

FEN_PER_WAN = 1_000_000  # 1 万元 = 10,000 yuan = 1,000,000 fen


def wan(fen: int | None) -> str:
    """Fen as 万元 for people: 50, 12.5, 0.35."""
    if fen is None:
        return ""
    return f"{Decimal(fen) / FEN_PER_WAN:f}".rstrip("0").rstrip(".") if fen % FEN_PER_WAN else f"{fen // FEN_PER_WAN:,}"


def budget_text(request) -> str:
    """A match request's or a need's budget in 万元, as people say it."""
    low, high = request.budget_min_fen, request.budget_max_fen
    if low is None and high is None:
        return gettext("Not given")
    if low is not None and high is not None:
        return gettext("%(low)s–%(high)s (10,000 yuan)", low=wan(low), high=wan(high))
    if low is not None:
        return gettext("From %(low)s (10,000 yuan)", low=wan(low))
    return gettext("Up to %(high)s (10,000 yuan)", high=wan(high))


def parse_wan(value: str) -> int:
    """An amount in 万元 (up to two decimals) as fen; ValueError if it is not one."""
    amount = Decimal(value.replace(",", "").replace("，", "").strip())
    exponent = amount.as_tuple().exponent  # a letter, not an int, when the amount is not finite
    if not amount.is_finite() or amount < 0 or not isinstance(exponent, int) or exponent < -2:
        raise ValueError(value)
    return int(amount * FEN_PER_WAN)


def problem_of(error: DomainError) -> dict:
    params = {k: gettext(v) if isinstance(v, str) else v for k, v in error.params.items()}
    return {
        "message": gettext(error.message, **params),
        "fields": {e.field: gettext(e.message, **e.params) for e in error.errors if e.field != "action"},
    }


def thread_form_context(threads: ThreadService) -> dict:
    """What the thread's template needs besides the thread: the upload limits and helpers."""
    settings = threads.settings
    return {
        "attachment_limits": {"mb": settings.attachment_max_bytes // (1024 * 1024), "files": settings.attachment_max_files},
        "accepted_types": ",".join(f".{ext}" for ext in (*ALLOWED_EXTENSIONS, "jpeg")),
        "file_size": human_size,
    }
