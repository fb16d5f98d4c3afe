"""What the annual report shows: its data (gathered by report.AnnualReports) and the labels and
definitions of its figures, as message ids (translated when drawn)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from marketplace.analytics import schemas
from marketplace.i18n import N_


@dataclass(frozen=True)
class ReportData:
    """Everything the document shows, already scoped and named: drawing needs no database."""

    year: int
    institution: str | None  # None: platform-wide
    generated_at: datetime
    summary: schemas.Summary
    funnel: schemas.Funnel
    match_rates: schemas.MatchRates
    times: schemas.Times
    pay_later: schemas.PayLater
    income: schemas.Income
    beds: schemas.Beds
    events: schemas.EventFigures
    deals: schemas.Deals

    @property
    def empty(self) -> bool:
        """Nothing happened in the year: no request, agreement, payment or trial centre."""
        s = self.summary
        return not (s.projects or s.agreements_signed or s.income_fen or s.project_centres)


HEADLINES = (
    ("companies", N_("Companies")),
    ("projects", N_("Projects (match requests)")),
    ("hospitals", N_("Hospitals")),
    ("project_centres", N_("Project centres")),
    ("listings_published", N_("Listings published")),
    ("agreements_signed", N_("Agreements signed")),
    ("income", N_("Income received (CNY)")),
)
STEP_LABELS = {
    "viewed": N_("Listings viewed"),
    "requested": N_("Match requests"),
    "accepted": N_("Accepted"),
    "negotiating": N_("Negotiating"),
    "agreement": N_("Agreement signed"),
    "first_payment": N_("First payment received"),
}
STAGE_LABELS = {
    "requested": N_("Requested, not accepted"),
    "accepted": N_("Accepted"),
    "negotiating": N_("Negotiating"),
    "agreed": N_("Agreed, not signed"),
}
TIME_LABELS = {
    "first_response": N_("Days to the first response"),
    "acceptance": N_("Days to acceptance"),
    "agreement": N_("Days to a signed agreement"),
    "trial_startup": N_("Trial start-up (days)"),
}
PAY_LATER_LABELS = (
    ("signed", N_("Signed in the year")),
    ("in_use", N_("In use")),
    ("converted", N_("Converted to a paid licence")),
    ("exited", N_("Exited")),
    ("terminated", N_("Terminated")),
    ("defaulted", N_("In default")),
)
CATEGORY_LABELS = {
    "inventors": N_("Inventors"),
    "tto": N_("Technology transfer office"),
    "iit_fund": N_("Investigator-initiated trial fund"),
    "institution": N_("Institution"),
    "costs": N_("Costs"),
}
BAND_LABELS = {
    "lt_100w": N_("Under ¥1 million"),
    "100w_500w": N_("¥1 million to ¥5 million"),
    "500w_1000w": N_("¥5 million to ¥10 million"),
    "1000w_1y": N_("¥10 million to ¥100 million"),
    "ge_1y": N_("¥100 million and over"),
}
DEFINITIONS = {
    "headline": N_(
        "HI-CLIP's definitions: companies that made a match request or signed an agreement in the year; projects are "
        "the match requests submitted; hospitals are the institutions those requests went to; project centres are the "
        "trial centres opened."
    ),
    "funnel": N_(
        "A request belongs to the year it was submitted in; the funnel follows those requests to the furthest stage "
        "they reached. The first step counts the listings viewed."
    ),
    "institutions": N_(
        "Institution match rate (对接率, HI-CLIP): of the institutions with a published listing, the share that had a "
        "match request accepted in the year."
    ),
    "needs": N_("Needs with a selected response: of the needs opened in the year, the share where a response was selected."),
    "answered_in_time": N_(
        "Answered in time: of the requests whose answer was due in the year, the share answered on or before the due day."
    ),
    "times": N_("Counted from a request's submission; trial start-up from a trial centre's opening to its first consent."),
    "pay_later": N_("Use-first-pay-later licences signed in the year, by their state when the report was made."),
    "per_100": N_("Income per 100 health technicians: the assessment measure of 国办发〔2019〕4号."),
    "bands": N_("Agreements signed in the year in CNY, by contract value, as in China's annual transfer report."),
    "beds": N_("Bed-days held by approved allocations of the open bed-days of research wards; the line is 10% of approved beds."),
}
