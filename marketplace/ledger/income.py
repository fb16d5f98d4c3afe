"""Recording income: an income record and the one journal entry that splits it.

A client-supplied idempotency key makes a retry safe, as Stripe's and TigerBeetle's do: the same
key with the same body answers the first income; the same key with another body is refused (409).
The key is unique per institution in PostgreSQL, so two identical requests at once record once.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date

import msgspec
from sqlalchemy import func, select

from marketplace.accounts.models import PLATFORM_ROLES, TTO_ROLES, Role
from marketplace.audit import services as audit
from marketplace.catalog.services import CatalogService
from marketplace.db import add_unless_taken
from marketplace.errors import Conflict, DomainError, FieldError, InvalidInput, invalid
from marketplace.i18n import N_
from marketplace.ledger import schemas
from marketplace.ledger.allocation import costs_to_deduct, split
from marketplace.ledger.journal import Journal
from marketplace.ledger.models import (
    CNY,
    SHARE_ACCOUNT,
    SHARES_PREFIX,
    AccountKind,
    CostKind,
    Entry,
    EntryKind,
    Income,
    IncomeKind,
    Share,
)
from marketplace.ledger.policies import GRANTED, PolicyService, lock_institution, terms_of
from marketplace.tenancy import Principal

KEY_CONSTRAINT = "uq_ledger_incomes_idempotency_key"


def request_hash(data: schemas.IncomeCreate) -> str:
    """The body as canonical JSON (sorted keys, defaults filled in), hashed."""
    canonical = json.dumps(msgspec.to_builtins(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class IncomeRecording(Journal):
    """Mixed into LedgerService (services.py), which sets the catalogue and the policies."""

    catalog: CatalogService
    policies: PolicyService

    async def _by_key(self, institution_id: uuid.UUID, key: str) -> Income | None:
        return await self.session.scalar(
            select(Income).where(Income.institution_id == institution_id, Income.idempotency_key == key)
        )

    @staticmethod
    def _replay(existing: Income, digest: str) -> Income:
        if existing.request_hash != digest:
            raise Conflict(
                N_("This idempotency key was already used with a different request."),
                FieldError("Idempotency-Key", N_("Use a new key for a new request.")),
            )
        return existing

    async def record_income(
        self, principal: Principal, data: schemas.IncomeCreate, idempotency_key: str | None, *, ip: str | None = None
    ) -> Income:
        """The institution's TTO records income received for one of its results (the platform admin,
        who may do everything, for any institution's result); it is split at once (costs first, then
        the policy in force on the day, the team's part by inventor shares)."""
        principal.require(*TTO_ROLES, Role.platform_admin)
        if not idempotency_key:
            raise DomainError(
                N_("The request has invalid fields."),
                FieldError("Idempotency-Key", N_("Required: a key of your choosing, the same for every retry.")),
                status_code=400,
            )
        # Clinical-trial service income (bed allocations, trial engagements) is received for a
        # resource listing, the research ward or trial site; every other kind for a result.
        service = data.kind == IncomeKind.clinical_service
        if principal.role == Role.platform_admin:
            catalog = self.catalog
            institution_id = await (catalog.listing_institution if service else catalog.result_institution)(data.result_id)
        else:
            institution_id = principal.acting_organization_id
        digest = request_hash(data)
        existing = await self._by_key(institution_id, idempotency_key)
        if existing is not None:
            return self._replay(existing, digest)
        if service:
            result = await self.catalog.institution_listing(institution_id, data.result_id)
        else:
            result = await self.catalog.institution_result(institution_id, data.result_id)
        errors = []
        if data.kind == IncomeKind.equity and not data.company:
            errors.append(FieldError("company", N_("Equity income names the company whose shares were received.")))
        if data.kind != IncomeKind.equity and data.company:
            errors.append(FieldError("company", N_("Only equity income is received in a company's shares.")))
        if data.kind == IncomeKind.equity and data.costs:
            errors.append(FieldError("costs", N_("Costs in money cannot be deducted from shares.")))
        if errors:
            raise InvalidInput(*errors)
        # Policy versions wait while income is split (and the other way round).
        await lock_institution(self.session, institution_id, shared=True)
        found = await self.policies.in_force(institution_id, data.received_on, data.kind)
        if found is None:
            raise invalid("received_on", N_("No distribution policy for this kind of income is in force on this day."))
        policy, shares = found
        terms = terms_of(policy, shares)
        errors = [
            FieldError(f"costs[{i}].kind", N_("The policy in force does not deduct this kind of cost."))
            for i, cost in enumerate(data.costs)
            if cost.kind not in terms.deductible
        ]
        if errors:
            raise InvalidInput(*errors)
        costs = [(CostKind(c.kind), c.amount_fen) for c in data.costs]
        if costs_to_deduct(data.amount, costs, terms) > data.amount:
            raise invalid("costs", N_("The deductible costs exceed the income."))
        override = await self.policies.override_for(result.id) if result.ownership_model in GRANTED else None
        inventors = [(i, inventor.share_bp) for i, inventor in enumerate(result.inventors)]
        if not inventors and (shares.inventors_bp or (override and override.researchers_bp)):
            raise invalid("result_id", N_("The result names no inventors to share the income."))
        parts = split(data.amount, costs, terms, inventors, override.researchers_bp if override else None)

        income = Income(
            id=uuid.uuid4(),
            institution_id=institution_id,
            result_id=result.id,
            kind=data.kind,
            source_kind=data.source_kind,
            source_ref=data.source_ref,
            asset=f"{SHARES_PREFIX}{data.company}" if data.company else CNY,
            amount=data.amount,
            received_on=data.received_on,
            costs=[msgspec.to_builtins(c) for c in data.costs],
            costs_deducted=parts.costs_deducted,
            idempotency_key=idempotency_key,
            request_hash=digest,
            created_by_user_id=principal.user_id,
        )
        if not await add_unless_taken(self.session, income, KEY_CONSTRAINT):
            # The same key at the same moment: the other request recorded it.
            taken = await self._by_key(institution_id, idempotency_key)
            assert taken is not None, "the unique key was taken by a committed income"
            return self._replay(taken, digest)

        asset = income.asset
        account = self.account
        lines = [
            (await account(institution_id, AccountKind.income_received), asset, -data.amount),
            (await account(institution_id, AccountKind.deductible_costs), asset, parts.costs_deducted),
        ]
        for share, kind in SHARE_ACCOUNT.items():
            lines.append((await account(institution_id, kind), asset, parts.shares[share]))
        # Inventors' payables opened in holder order, whatever their order on the result.
        people = sorted(result.inventors, key=lambda inv: str(inv.user_id or f"name:{inv.name}"))
        payables = {
            id(inv): await account(institution_id, AccountKind.inventor_payable, user_id=inv.user_id, name=inv.name)
            for inv in people
        }
        for i, inventor in enumerate(result.inventors):
            lines.append((payables[id(inventor)], asset, parts.inventors.get(i, 0)))
        entry = Entry(
            id=uuid.uuid4(),
            institution_id=institution_id,
            kind=EntryKind.income,
            income_id=income.id,
            policy_id=policy.id,
            result_id=result.id,
            created_by_user_id=principal.user_id,
        )
        await self.post(entry, lines)
        await audit.record(
            self.session,
            "ledger_income_recorded",
            actor_user_id=principal.user_id,
            organization_id=institution_id,
            subject=income,
            ip=ip,
            amount=data.amount,
            asset=asset,
            policy_version=policy.version,
            entry_id=entry.id,
            costs_deducted=parts.costs_deducted,
            parts={str(s): parts.shares[s] for s in Share},
        )
        return income

    async def income_entry(self, income_id: uuid.UUID) -> Entry:
        found = await self.session.scalar(select(Entry).where(Entry.income_id == income_id))
        assert found is not None, "every income is posted in the same transaction"
        return found

    async def income_total(self, principal: Principal, start: date, end: date) -> int:
        """CNY income received between `start` and `end` (inclusive), in fen: the TTO its
        institution's; platform roles all."""
        principal.require(*TTO_ROLES, *PLATFORM_ROLES)
        stmt = select(func.coalesce(func.sum(Income.amount), 0)).where(
            Income.asset == CNY, Income.received_on >= start, Income.received_on <= end
        )
        if not principal.is_platform:
            stmt = stmt.where(Income.institution_id == principal.organization_id)
        return int(await self.session.scalar(stmt) or 0)

    async def incomes(
        self, principal: Principal, *, page: int = 1, page_size: int = 50
    ) -> tuple[list[tuple[Income, Entry]], int]:
        """Income records with their entries, newest first: the TTO its institution's; platform roles all."""
        principal.require(*TTO_ROLES, *PLATFORM_ROLES)
        stmt = select(Income, Entry).join(Entry, Entry.income_id == Income.id)
        count = select(func.count()).select_from(Income)
        if not principal.is_platform:
            stmt = stmt.where(Income.institution_id == principal.organization_id)
            count = count.where(Income.institution_id == principal.organization_id)
        total = int(await self.session.scalar(count) or 0)
        rows = await self.session.execute(
            stmt.order_by(Income.received_on.desc(), Income.created_at.desc()).offset((page - 1) * page_size).limit(page_size)
        )
        return [(income, entry) for income, entry in rows], total
