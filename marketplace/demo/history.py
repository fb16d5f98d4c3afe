"""Two years of deal history (data/history.yaml) planned by a generator with a fixed seed: which
company asks which institution when, how the institution answers, where each deal stops, and what
the agreed ones become. Pure data, no database: history_load.py makes it through the services, and
the tests read the same plan (what the database must then show).

Times are days ago (floats), counted back from the load, so the plan does not depend on the day
it is loaded; a step that would fall after the load is left out, and the request stays where it was."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from marketplace.demo.tables import table

DATA = table("history")
MONTH_DAYS = 30.4
# A step at most this many days ago is the load's own moment or later: left out.
PRESENT = 0.05
# The states a request leaves by these steps (agree: only once both sides have).
TARGETS = {
    "review": "under_review",
    "request_info": "info_requested",
    "provide_info": "submitted",
    "accept": "accepted",
    "decline": "declined",
    "start_negotiation": "negotiating",
    "close_no_deal": "closed_no_deal",
    "withdraw": "withdrawn",
}
OPEN = ("submitted", "under_review", "info_requested", "accepted", "negotiating")


@dataclass(frozen=True)
class Step:
    days_ago: float
    action: str
    side: str  # tto | company


@dataclass
class PlannedAgreement:
    kind: str
    terms: dict  # AgreementCreate's fields besides the match request and the first day
    drafted: float
    approved: float | None
    signed: float | None
    fate: str | None = None  # pay_later: in_use | converted | exited | default
    exit_at: float | None = None
    seed: int = 0  # the payments' own generator (how late each is paid)


@dataclass
class PlannedRequest:
    number: int
    institution: str
    company: str  # the company administrator's e-mail
    engagement: str
    sent: float
    steps: list[Step] = field(default_factory=list)
    late: bool = False  # answered (or unanswered) past the due day by design
    agreement: PlannedAgreement | None = None

    @property
    def end(self) -> str:
        state, consents = "submitted", 0
        for step in self.steps:
            if step.action == "agree":
                consents += 1
                state = "agreed" if consents == 2 else state
            else:
                state = TARGETS[step.action]
        return state


def plan() -> list[PlannedRequest]:
    """Every request of the history, oldest first, with its agreement when it has one."""
    rng = random.Random(DATA["seed"])
    institutions = list(DATA["institutions"])
    institution_weights = [DATA["institutions"][name]["weight"] for name in institutions]
    companies = list(DATA["companies"])
    company_weights = list(DATA["companies"].values())
    requests: list[PlannedRequest] = []
    months = DATA["months"]
    for month, count in enumerate(DATA["volume"]):
        for _ in range(count):
            sent = max((months - month) * MONTH_DAYS - rng.uniform(0, MONTH_DAYS), 0.3)
            request = PlannedRequest(
                number=len(requests),
                institution=rng.choices(institutions, institution_weights)[0],
                company=rng.choices(companies, company_weights)[0],
                engagement=rng.choices(("licence", "co_development"), (4, 1))[0],
                sent=sent,
            )
            _answer(rng, request)
            requests.append(request)
    requests.sort(key=lambda r: -r.sent)
    _agreements(rng, [r for r in requests if r.end == "agreed"])
    return requests


def _answer(rng: random.Random, request: PlannedRequest) -> None:
    """The institution's answer by its profile, then the funnel's stages (data/history.yaml)."""
    funnel = DATA["funnel"]
    profile = DATA["institutions"][request.institution]
    steps: list[Step] = []
    t = request.sent

    def step(after: tuple[float, float], action: str, side: str) -> None:
        nonlocal t
        t -= rng.uniform(*after)
        steps.append(Step(t, action, side))

    speed = rng.random()
    if rng.random() < funnel["withdraw_before_answer"]:
        step((2, 8), "withdraw", "company")
    elif speed < profile["silent"]:
        request.late = True
    else:
        request.late = speed < profile["silent"] + profile["late"]
        _answered(rng, step, funnel, late=request.late)
    request.steps = list(_until_now(steps))


def _answered(rng: random.Random, step, funnel: dict, *, late: bool) -> None:
    delay = (30, 70) if late else (1, 10)
    kind = rng.random()
    answered = funnel["answered"]
    if kind < answered["decline"]:
        step(delay, "decline", "tto")
        return
    if kind < answered["decline"] + answered["request_info"]:
        step(delay, "request_info", "tto")
        step((3, 10), "provide_info", "company")
        step((1, 8), "accept", "tto")
    elif kind < answered["decline"] + answered["request_info"] + answered["review_first"]:
        step(delay, "review", "tto")
        step((2, 10), "accept", "tto")
    else:
        step(delay, "accept", "tto")
    stage = rng.random()
    if stage < funnel["accepted"]["stall"]:
        return
    if stage < funnel["accepted"]["stall"] + funnel["accepted"]["withdraw"]:
        step((20, 60), "withdraw", "company")
        return
    step((5, 30), "start_negotiation", "company")
    stage = rng.random()
    if stage < funnel["negotiating"]["stall"]:
        return
    if stage < funnel["negotiating"]["stall"] + funnel["negotiating"]["close_no_deal"]:
        step((20, 120), "close_no_deal", "tto")
        return
    step((20, 90), "agree", "tto")
    step((1, 10), "agree", "company")


def _until_now(steps: list[Step]):
    for s in steps:
        if s.days_ago <= PRESENT:
            return
        yield s


def _agreements(rng: random.Random, agreed: list[PlannedRequest]) -> None:
    """A licence drafted from each agreed request (unless agreed too recently to draft), of a kind
    by weight, approved and signed on later days; pay-later licences meet their fates in order."""
    data = DATA["agreements"]
    kinds = list(data["kinds"])
    weights = list(data["kinds"].values())
    fates = iter(data["pay_later_fates"])
    in_use = 0
    for request in sorted(agreed, key=lambda r: -r.steps[-1].days_ago):
        agreed_at = request.steps[-1].days_ago
        drafted = agreed_at - rng.uniform(1, 5)
        if drafted <= PRESENT:
            continue
        approved = drafted - rng.uniform(3, 10)
        signed = approved - rng.uniform(3, 15)
        kind = rng.choices(kinds, weights)[0]
        agreement = PlannedAgreement(
            kind=kind,
            terms=_terms(rng, kind),
            drafted=drafted,
            approved=approved if approved > PRESENT else None,
            signed=signed if signed > PRESENT else None,
            seed=rng.randrange(1 << 30),
        )
        if kind == "pay_later" and agreement.signed is not None:
            ended = agreement.signed - agreement.terms["use_period_months"] * MONTH_DAYS
            if ended > 7:  # the use period ended more than a week before the load
                agreement.fate = next(fates, "converted")
                if agreement.fate == "default" and ended < 80:  # not yet past its due day and the grace
                    agreement.fate = "converted"
                if agreement.fate == "exited":
                    agreement.exit_at = agreement.signed - rng.uniform(150, 330)
            else:
                agreement.fate = "exited" if in_use in data["exited_early"] else "in_use"
                if agreement.fate == "exited":
                    agreement.exit_at = agreement.signed - rng.uniform(30, max(31, agreement.signed - 1))
                    agreement.exit_at = max(agreement.exit_at, 1)
                in_use += 1
        request.agreement = agreement


def _terms(rng: random.Random, kind: str) -> dict:
    data = DATA["agreements"]
    terms = data[kind]
    wan = 1_000_000  # fen in 万元

    def between(name: str) -> int:
        low, high = terms[name]
        return rng.randint(low, high)

    fields: dict = {"kind": kind, "field_of_use": rng.choice(data["field_of_use"])}
    if kind in ("exclusive", "non_exclusive"):
        fields.update(upfront_fen=between("upfront_wan") * wan, royalty_bp=between("royalty_bp"))
    elif kind == "assignment":
        fields.update(
            upfront_fen=between("upfront_wan") * wan,
            instalments=[
                {"days_from_start": days, "amount_fen": between("instalment_wan") * wan} for days in terms["instalment_days"]
            ],
        )
    elif kind == "equity":
        fields.update(equity_bp=between("equity_bp"))
    else:
        fields.update(
            licence_fee_fen=between("fee_wan") * wan,
            royalty_bp=between("royalty_bp"),
            use_period_months=rng.choice(terms["use_period_months"]),
            payment_modes=["lump_sum", "instalments"],
            max_instalments=terms["instalments"],
            grace_days=terms["grace_days"],
        )
    return fields


def history_states() -> dict[str, int]:
    """How many history requests end in each state (selected need responses not counted)."""
    ends: dict[str, int] = {}
    for request in plan():
        ends[request.end] = ends.get(request.end, 0) + 1
    return ends


def history_need_states() -> tuple[dict[str, int], dict[str, int]]:
    """How many history needs end in each state, and their responses in each state."""
    needs: dict[str, int] = {}
    responses: dict[str, int] = {}
    for item in DATA["needs"]:
        selected = item["select"] is not None
        needs["awarded" if selected else "closed"] = needs.get("awarded" if selected else "closed", 0) + 1
        for place, _name in enumerate(item["institutions"]):
            end = ("selected" if place == item["select"] else "not_selected") if selected else "submitted"
            responses[end] = responses.get(end, 0) + 1
    return needs, responses
