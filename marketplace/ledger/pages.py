"""The transfer office's pages of the ledger (收益分配), under /ledger: the distribution policy's
versions and the form for a new one, incomes and the form to record one by hand, the journal's
entries with reversals, and payables with the payout form. A form the service refused is shown
again with its status (so the transaction rolls back and nothing is written) and what was typed."""

from __future__ import annotations

import math
import uuid
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect, Template

from marketplace import forms
from marketplace.db import china_day, utcnow
from marketplace.errors import DomainError, InvalidInput
from marketplace.i18n import N_
from marketplace.ledger import page_forms as pf
from marketplace.ledger.models import CNY, AccountKind, CostKind, Entry, IncomeKind, PatentCostRecovery, Share
from marketplace.ledger.schemas import ReversalCreate
from marketplace.ledger.services import Ledger, LedgerService
from marketplace.tenancy import CurrentPrincipal, Principal
from marketplace.web import Page, attempt, client_ip, flash, page_number, render

Form = URLEncodedBody[dict[str, str]]
# The policy form's deductible costs are checkboxes: a repeated field.
ListForm = URLEncodedBody[dict[str, str | list[str]]]
PAGE_SIZE = 30

LABELS: dict[str, Any] = {
    "kind_labels": pf.KIND_LABELS,
    "share_labels": pf.SHARE_LABELS,
    "cost_labels": pf.COST_LABELS,
    "recovery_labels": pf.RECOVERY_LABELS,
    "account_labels": pf.ACCOUNT_LABELS,
    "entry_labels": pf.ENTRY_LABELS,
    "jurisdiction_labels": pf.JURISDICTION_LABELS,
    "kinds": list(IncomeKind),
    "shares": list(Share),
    "cost_kinds": list(CostKind),
    "recoveries": list(PatentCostRecovery),
    "money": pf.amount_text,
    "percent": pf.percent,
}


def ledger_render(request: Request, template: str, principal: Principal, ledger: LedgerService, **context) -> Template:
    return render(request, template, principal, rights=ledger.rights(principal), tab=request.url.path, **LABELS, **context)


class LedgerPages(Controller):
    path = "/ledger"
    include_in_schema = False

    # ----- policies ---------------------------------------------------------------------------

    async def _policies(
        self, request: Request, principal: Principal, ledger: LedgerService, *, form=None, errors=None, status_code=200
    ) -> Template:
        policies = await ledger.policies.list_policies(principal)
        order = list(IncomeKind)
        shares = {
            pid: sorted(rows, key=lambda r: order.index(IncomeKind(r.income_kind)))
            for pid, rows in (await ledger.policies.shares_of([p.id for p in policies])).items()
        }
        floors = {p.id: await ledger.policies.floor_checks(p.institution_id, shares[p.id]) for p in policies}
        rights = ledger.rights(principal)
        applicable = await ledger.policies.floor_checks(principal.acting_organization_id, []) if rights.edits_policies else []
        return ledger_render(
            request,
            "ledger/policies.html",
            principal,
            ledger,
            status_code=status_code,
            policies=policies,
            policy_shares=shares,
            floors=floors,
            applicable=applicable,
            form=form or {},
            costs_checked=(form or {}).get("__costs__", [c.value for c in CostKind if c != CostKind.negotiation]),
            errors=errors or {},
        )

    @get("/policies")
    async def policies(self, request: Request, principal: CurrentPrincipal, ledger: Ledger) -> Template:
        """Every version of the institution's policy with the floors that apply and whether it meets them."""
        return await self._policies(request, principal, ledger, form={"effective_from": china_day(utcnow()).isoformat()})

    @post("/policies")
    async def create_policy(self, request: Request, principal: CurrentPrincipal, ledger: Ledger, data: ListForm) -> Response:
        ledger.require_right(principal, "edits_policies")
        costs = [str(c) for c in pf.as_list(data.get("deductible_costs"))]
        form = {k: (pf.as_list(v) or [""])[0] for k, v in data.items() if k != "deductible_costs"}
        body, errors, kinds = pf.policy_input(form, costs)
        status_code = 422
        if body is not None:
            created, refusal = await attempt(ledger.policies.create(principal, body, ip=client_ip(request)))
            if refusal is None and created is not None:
                flash(request, N_("The new version of the distribution policy is saved."))
                return Redirect("/ledger/policies")
            assert refusal is not None
            status_code, errors = refusal.status_code, pf.refusal_errors(refusal, pf.policy_rename(kinds))
        return await self._policies(
            request, principal, ledger, form={**form, "__costs__": costs}, errors=errors, status_code=status_code
        )

    # ----- income -----------------------------------------------------------------------------

    async def _income(
        self,
        request: Request,
        principal: Principal,
        ledger: LedgerService,
        *,
        page: int = 1,
        form: dict | None = None,
        errors: dict | None = None,
        status_code: int = 200,
    ) -> Template:
        items, total = await ledger.incomes(principal, page=page, page_size=PAGE_SIZE)
        results: list = []
        if ledger.rights(principal).records_income:
            results, _ = await ledger.catalog.search(
                principal, kind="result", institution_id=principal.acting_organization_id, page_size=200
            )
        titles = await ledger.catalog.listing_refs({i.result_id for i, _ in items})
        today = china_day(utcnow()).isoformat()
        return ledger_render(
            request,
            "ledger/income.html",
            principal,
            ledger,
            status_code=status_code,
            items=items,
            total=total,
            page=page,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
            titles=titles,
            results=results,
            form=form or {"received_on": today, "kind": IncomeKind.licence.value, "idempotency_key": pf.new_key()},
            errors=errors or {},
            cost_rows=range(pf.COST_ROWS),
        )

    @get("/income")
    async def income(self, request: Request, principal: CurrentPrincipal, ledger: Ledger, page: Page = 1) -> Template:
        """Recorded incomes, newest first, and the form to record one by hand (the TTO)."""
        return await self._income(request, principal, ledger, page=page_number(page))

    @post("/income")
    async def record_income(self, request: Request, principal: CurrentPrincipal, ledger: Ledger, data: Form) -> Response:
        """The form's hidden key makes a second submit of the same form answer the first income."""
        ledger.require_right(principal, "records_income")
        body, errors, rows = pf.income_input(data)
        status_code = 422
        if body is not None:
            income, refusal = await attempt(
                ledger.record_income(principal, body, data.get("idempotency_key", ""), ip=client_ip(request))
            )
            if refusal is None and income is not None:
                flash(request, N_("The income is recorded and split: see its entry in the journal."))
                return Redirect(f"/ledger/income#income-{income.id}")
            assert refusal is not None
            status_code, errors = refusal.status_code, pf.refusal_errors(refusal, pf.income_rename(rows))
            if status_code == 409:  # the key was used for another body: this form needs its own
                data = {**data, "idempotency_key": pf.new_key()}
        return await self._income(request, principal, ledger, form=data, errors=errors, status_code=status_code)

    # ----- entries ----------------------------------------------------------------------------

    async def _entries_page(
        self,
        request: Request,
        principal: Principal,
        ledger: LedgerService,
        items: list[Entry],
        *,
        single: Entry | None = None,
        page: int = 1,
        total: int = 0,
        errors: dict | None = None,
        form: dict | None = None,
        status_code: int = 200,
    ) -> Template:
        ids = [e.id for e in items]
        accounts = list(pf.ACCOUNT_LABELS)
        postings = {
            eid: sorted(rows, key=lambda pa: (accounts.index(AccountKind(pa[1].kind)), pa[1].holder_name))
            for eid, rows in (await ledger.postings_of(ids)).items()
        }
        reversed_by = await ledger.reversed_by(ids)
        linked = {e.reverses_entry_id for e in items if e.reverses_entry_id} | set(reversed_by.values())
        sequences = {e.id: e.sequence for e in await ledger.entries_by_id(principal, linked)}
        titles = await ledger.catalog.listing_refs({e.result_id for e in items if e.result_id})
        return ledger_render(
            request,
            "ledger/entries.html",
            principal,
            ledger,
            status_code=status_code,
            items=items,
            single=single,
            postings=postings,
            reversed_by=reversed_by,
            sequences=sequences,
            titles=titles,
            page=page,
            total=total,
            pages=max(1, math.ceil(total / PAGE_SIZE)),
            errors=errors or {},
            form=form or {},
        )

    @get("/entries")
    async def entries(self, request: Request, principal: CurrentPrincipal, ledger: Ledger, page: Page = 1) -> Template:
        """The journal, newest first, each entry with its postings."""
        page = page_number(page)
        items, total = await ledger.entries(principal, page=page, page_size=PAGE_SIZE)
        return await self._entries_page(request, principal, ledger, items, page=page, total=total)

    @get("/entries/{entry_id:uuid}")
    async def entry(
        self, request: Request, principal: CurrentPrincipal, ledger: Ledger, entry_id: FromPath[uuid.UUID]
    ) -> Template:
        found = await ledger.entry(principal, entry_id)
        return await self._entries_page(request, principal, ledger, [found], single=found, total=1)

    @post("/entries/{entry_id:uuid}/reversal")
    async def reverse(
        self, request: Request, principal: CurrentPrincipal, ledger: Ledger, entry_id: FromPath[uuid.UUID], data: Form
    ) -> Response:
        """A correction: the reversing entry, with the reason (record the right income afterwards)."""
        ledger.require_right(principal, "reverses")
        reason = data.get("reason", "").strip()
        refusal: DomainError | None
        body, problems = forms.try_convert({"reason": reason}, ReversalCreate)
        if body is not None:
            reversal, refusal = await attempt(ledger.reverse(principal, entry_id, body.reason, ip=client_ip(request)))
            if refusal is None and reversal is not None:
                flash(request, N_("The entry is reversed. Record the right income again if one is due."))
                return Redirect(f"/ledger/entries/{reversal.id}")
        else:
            refusal = InvalidInput(*problems)
        assert refusal is not None
        found = await ledger.entry(principal, entry_id)
        errors = pf.refusal_errors(refusal, lambda f: f)
        return await self._entries_page(
            request, principal, ledger, [found], single=found, total=1, errors=errors, form=data, status_code=refusal.status_code
        )

    # ----- payouts ----------------------------------------------------------------------------

    async def _payouts(
        self, request: Request, principal: Principal, ledger: LedgerService, *, form=None, errors=None, status_code=200
    ) -> Template:
        payables = await ledger.payables(principal)
        return ledger_render(
            request,
            "ledger/payouts.html",
            principal,
            ledger,
            status_code=status_code,
            payables=payables,
            payee_value=pf.payee_value,
            payouts=await ledger.payouts(principal),
            orgs=await ledger.accounts.public_organizations({a.institution_id for a, _, _ in payables}),
            form=form or {"paid_on": china_day(utcnow()).isoformat()},
            errors=errors or {},
        )

    @get("/payouts")
    async def payouts(self, request: Request, principal: CurrentPrincipal, ledger: Ledger) -> Template:
        """What is owed to inventors and the TTO, the payouts made, and the payout form (TTO manager)."""
        return await self._payouts(request, principal, ledger)

    @post("/payouts")
    async def pay(self, request: Request, principal: CurrentPrincipal, ledger: Ledger, data: Form) -> Response:
        ledger.require_right(principal, "pays")
        body, errors = pf.payout_input(data)
        status_code = 422
        if body is not None:
            paid, refusal = await attempt(ledger.pay(principal, body, ip=client_ip(request)))
            if refusal is None and paid is not None:
                flash(request, N_("The payout is recorded."))
                return Redirect("/ledger/payouts")
            assert refusal is not None
            status_code, errors = refusal.status_code, pf.payout_refusal(refusal, body.asset if body else CNY)
        return await self._payouts(request, principal, ledger, form=data, errors=errors, status_code=status_code)
