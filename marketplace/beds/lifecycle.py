"""The state machines of beds and trials (declared for marketplace/states.py): a bed allocation's,
a review track's, a trial engagement's and a multi-centre project's. Hooks that need the database
(capacity, the lead site's ethics approval, the three approvals before the first consent) are the
services'; the declarations name who may take each step."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from marketplace import states
from marketplace.accounts.models import COMPANY_ROLES, TTO_ROLES
from marketplace.beds.models import AllocationState, EngagementState, ProjectState, ReviewState
from marketplace.i18n import N_
from marketplace.tenancy import Principal


class Side:
    institution = "institution"
    company = "company"


def side_of(principal: Principal, record: Any) -> str | None:
    """The institution's TTO or the company's people, for any record with those two columns."""
    institution_id = getattr(record, "institution_id", None)
    if principal.role in TTO_ROLES and institution_id is not None and institution_id == principal.organization_id:
        return Side.institution
    if principal.role in COMPANY_ROLES and record.company_id == principal.organization_id:
        return Side.company
    return None


def _sides(principal: Principal, record: Any, context: Any):
    """A review's sides are its engagement's (the context)."""
    return filter(None, [side_of(principal, context if context is not None else record)])


INSTITUTION = (states.Party(Side.institution, TTO_ROLES),)
COMPANY = (states.Party(Side.company, COMPANY_ROLES),)
EITHER = INSTITUTION + COMPANY


def _machine(name: str, table: str, state: Iterable[str], initial: str, actions: list, **texts: Any) -> states.Machine:
    """The four machines share their state column, their sides (_sides) and their enter hook."""
    return states.Machine(
        name=name,
        table=table,
        column="state",
        states=tuple(state),
        initial=frozenset({initial}),
        actions=dict(actions),
        sides=_sides,
        enter=states.enter_stamped,
        **texts,
    )


A = AllocationState
# The company (or a clinical-trial match request's company) asks; the institution's TTO approves,
# waitlists or declines; approval holds the beds day by day (PostgreSQL refuses a day over the
# ward's beds); a waitlisted request is approved by the system when beds free up; either side
# cancels before the beds are in use.
ALLOCATION = _machine(
    "bed_allocation",
    "bed_allocations",
    A,
    A.requested,
    [
        states.action("approve", {A.requested, A.waitlisted}, A.approved, INSTITUTION),
        states.action("waitlist", {A.requested}, A.waitlisted, INSTITUTION),
        states.action("decline", {A.requested, A.waitlisted}, A.declined, INSTITUTION, reason_required=True),
        states.action("promote", {A.waitlisted}, A.approved, ()),
        states.action("start", {A.approved}, A.active, INSTITUTION),
        states.action("complete", {A.active}, A.completed, INSTITUTION),
        states.action("cancel", {A.requested, A.waitlisted, A.approved}, A.cancelled, EITHER, reason_required=True),
    ],
    refusal=N_("A bed allocation that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=N_("Not allowed from the allocation's current state."),
    state_labels={
        A.requested: N_("Requested"),
        A.approved: N_("Approved"),
        A.declined: N_("Declined"),
        A.waitlisted: N_("Waitlisted"),
        A.active: N_("In use"),
        A.completed: N_("Completed"),
        A.cancelled: N_("Cancelled"),
    },
    action_labels={
        "approve": N_("Approve the beds"),
        "waitlist": N_("Put on the waiting list"),
        "decline": N_("Decline the request"),
        "start": N_("Beds in use"),
        "complete": N_("Complete"),
        "cancel": N_("Cancel the allocation"),
    },
)

R = ReviewState
# Each track (project approval, ethics, contract) runs on its own: submitted by either side (one
# set of materials serves all three), reviewed and approved or returned by the institution; ethics
# may be approved by recognising the lead site's approval (伦理互认). The context is the engagement.
REVIEW = _machine(
    "trial_review",
    "trial_reviews",
    R,
    R.not_started,
    [
        states.action("submit", {R.not_started, R.returned}, R.submitted, EITHER),
        states.action("start_review", {R.submitted}, R.in_review, INSTITUTION),
        states.action("approve", {R.in_review}, R.approved, INSTITUTION),
        states.action("return", {R.submitted, R.in_review}, R.returned, INSTITUTION, reason_required=True),
        states.action(
            "recognise",
            {R.not_started, R.submitted, R.in_review, R.returned},
            R.approved,
            INSTITUTION,
            # Only a participating centre's ethics (the service checks the lead's approval).
            offered=lambda principal, record, context: (
                record.track == "ethics" and context is not None and context.centre_role == "participating"
            ),
        ),
    ],
    refusal=N_("A review that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=N_("Not allowed from the review's current state."),
    state_labels={
        R.not_started: N_("Not started"),
        R.submitted: N_("Submitted"),
        R.in_review: N_("In review"),
        R.approved: N_("Approved"),
        R.returned: N_("Returned for changes"),
    },
    action_labels={
        "submit": N_("Submit the materials"),
        "start_review": N_("Start the review"),
        "approve": N_("Approve"),
        "return": N_("Return for changes"),
        "recognise": N_("Recognise the lead site's ethics approval"),
    },
)

E = EngagementState
# The start-up clock runs from the last of the three approvals to the first consent, which the
# institution records; then the trial runs until completed; either side may cancel.
ENGAGEMENT = _machine(
    "trial_engagement",
    "trial_engagements",
    E,
    E.starting,
    [
        # Offered once all three reviews are approved (the service refuses it before, too).
        states.action(
            "record_first_consent",
            {E.starting},
            E.active,
            INSTITUTION,
            offered=lambda principal, record, context: record.reviews_approved_on is not None,
        ),
        states.action("complete", {E.active}, E.completed, INSTITUTION),
        states.action("cancel", {E.starting, E.active}, E.cancelled, EITHER, reason_required=True),
    ],
    refusal=N_("A trial engagement that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=N_("Not allowed from the engagement's current state."),
    state_labels={
        E.starting: N_("Starting up"),
        E.active: N_("Enrolling"),
        E.completed: N_("Completed"),
        E.cancelled: N_("Cancelled"),
    },
    action_labels={
        "record_first_consent": N_("Record the first consent"),
        "complete": N_("Complete the trial"),
        "cancel": N_("Cancel the engagement"),
    },
)

P = ProjectState
# The company forms its project (chooses the centres, one of them the lead site), runs it, and
# completes or cancels it.
PROJECT = _machine(
    "trial_project",
    "trial_projects",
    P,
    P.forming,
    [
        states.action("start", {P.forming}, P.running, COMPANY),
        states.action("complete", {P.running}, P.completed, COMPANY),
        states.action("cancel", {P.forming, P.running}, P.cancelled, COMPANY, reason_required=True),
    ],
    refusal=N_("A project that is “%(state)s” cannot take the step “%(action)s”."),
    refusal_field=N_("Not allowed from the project's current state."),
    state_labels={
        P.forming: N_("Forming"),
        P.running: N_("Running"),
        P.completed: N_("Completed"),
        P.cancelled: N_("Cancelled"),
    },
    action_labels={
        "start": N_("Start the project"),
        "complete": N_("Complete the project"),
        "cancel": N_("Cancel the project"),
    },
)

MACHINES = (ALLOCATION, REVIEW, ENGAGEMENT, PROJECT)
