"""Distribution policies (收益分配办法): versions per institution, checked against the floors of the
law for the institution's jurisdiction, with the platform admin's recorded exceptions, and the
per-result overrides of 赋权 results. The only code that writes these tables.

An institution's jurisdiction comes from its city (organizations.city), by JURISDICTIONS_BY_CITY:
Shanghai → national + shanghai; Beijing → national + beijing; Hangzhou → national + zhejiang +
hangzhou; another city of Zhejiang → national + zhejiang; anywhere else → national. Every floor of
each of them applies.

A policy version and income recording exclude each other per institution (an advisory lock), and
a new version may not start on or before the date of income already recorded: the split of
recorded income never changes behind its entry.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from marketplace.accounts.models import Role
from marketplace.accounts.services import AccountService
from marketplace.audit import services as audit
from marketplace.catalog.models import OwnershipModel
from marketplace.catalog.services import CatalogService
from marketplace.errors import Conflict, FieldError, InvalidInput, NotFound, invalid
from marketplace.i18n import N_
from marketplace.ledger import schemas
from marketplace.ledger.allocation import Terms
from marketplace.ledger.models import (
    TOTAL_BP,
    CostKind,
    DistributionFloor,
    DistributionPolicy,
    FloorException,
    Income,
    IncomeKind,
    Jurisdiction,
    PatentCostRecovery,
    PolicyShares,
    ResultOverride,
    Share,
)
from marketplace.tenancy import Principal

ZHEJIANG_CITIES = ("浙江", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水", "Zhejiang", "Ningbo")
JURISDICTIONS_BY_CITY: tuple[tuple[tuple[str, ...], tuple[Jurisdiction, ...]], ...] = (
    (("上海", "Shanghai"), (Jurisdiction.shanghai,)),
    (("北京", "Beijing"), (Jurisdiction.beijing,)),
    (("杭州", "Hangzhou"), (Jurisdiction.zhejiang, Jurisdiction.hangzhou)),
    (ZHEJIANG_CITIES, (Jurisdiction.zhejiang,)),
)
# 赋权 results: the researchers own (a share of) the result.
GRANTED = (OwnershipModel.researchers_ownership, OwnershipModel.joint)


def jurisdictions_of(city: str) -> list[Jurisdiction]:
    for names, local in JURISDICTIONS_BY_CITY:
        if any(name.lower() in city.lower() for name in names):
            return [Jurisdiction.national, *local]
    return [Jurisdiction.national]


async def lock_institution(session: AsyncSession, institution_id: uuid.UUID, *, shared: bool) -> None:
    """Policy changes take this exclusively, income shared: income is split by a policy that stays."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    await session.execute(text(f"SELECT {function}(hashtextextended(:key, 0))"), {"key": f"ledger-policy:{institution_id}"})


def terms_of(policy: DistributionPolicy, shares: PolicyShares) -> Terms:
    return Terms(
        shares={s: shares.bp(s) for s in Share},
        remainder=Share(policy.remainder_share),
        deductible=frozenset(CostKind(c) for c in policy.deductible_costs),
        recovery=PatentCostRecovery(policy.patent_cost_recovery),
        recovery_bp=policy.patent_cost_recovery_bp,
    )


class PolicyService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.accounts = AccountService(session)
        self.catalog = CatalogService(session)

    @staticmethod
    def require_manager(principal: Principal) -> Principal:
        """Only an institution's TTO manager edits its policies."""
        return principal.require(Role.tto_manager)

    async def policy_institution(self, principal: Principal, institution_id: uuid.UUID | None) -> uuid.UUID:
        """The institution a new version is for: the TTO manager's own (another one is out of
        scope, 404); the platform admin, who may do everything, names it."""
        principal.require(Role.tto_manager, Role.platform_admin)
        if principal.role == Role.tto_manager:
            if institution_id is not None and institution_id != principal.acting_organization_id:
                raise NotFound()
            return principal.acting_organization_id
        if institution_id is None:
            raise invalid("institution_id", N_("Name the institution whose policy this is."))
        return (await self.accounts.public_organization(institution_id, "institution")).id

    @staticmethod
    def require_reader(principal: Principal) -> Principal:
        return principal.require(Role.tto_manager, Role.platform_admin, Role.platform_analyst)

    # ----- floors -----------------------------------------------------------------------------

    async def floors_for(self, institution_id: uuid.UUID) -> list[DistributionFloor]:
        org = await self.accounts.public_organization(institution_id, "institution")
        stmt = select(DistributionFloor).where(DistributionFloor.jurisdiction.in_(jurisdictions_of(org.city)))
        return list((await self.session.scalars(stmt.order_by(DistributionFloor.code))).all())

    async def exceptions_for(self, institution_id: uuid.UUID) -> dict[str, FloorException]:
        rows = await self.session.scalars(select(FloorException).where(FloorException.institution_id == institution_id))
        return {e.floor_code: e for e in rows}

    async def floor_checks(
        self, institution_id: uuid.UUID, shares: Iterable[PolicyShares | schemas.SharesIn]
    ) -> list[schemas.FloorCheck]:
        """Each applicable floor against the policy's shares (a kind the policy leaves out is unmet)."""
        by_kind = {str(s.income_kind): s for s in shares}
        exceptions = await self.exceptions_for(institution_id)
        checks = []
        for floor in await self.floors_for(institution_id):
            found = by_kind.get(floor.income_kind)
            value = int(getattr(found, f"{floor.share}_bp")) if found is not None else None
            exception = exceptions.get(floor.code)
            checks.append(
                schemas.FloorCheck(
                    code=floor.code,
                    jurisdiction=floor.jurisdiction,
                    income_kind=IncomeKind(floor.income_kind),
                    share=Share(floor.share),
                    min_bp=floor.min_bp,
                    source=floor.source,
                    policy_bp=value,
                    met=value is not None and value >= floor.min_bp,
                    exception_reason=exception.reason if exception else None,
                )
            )
        return checks

    # ----- versions ---------------------------------------------------------------------------

    def _validate(self, data: schemas.PolicyCreate) -> list[FieldError]:
        errors = []
        seen: set[str] = set()
        for i, item in enumerate(data.shares):
            total = item.inventors_bp + item.tto_bp + item.iit_fund_bp + item.institution_bp
            if total != TOTAL_BP:
                errors.append(
                    FieldError(f"shares[{i}]", N_("Shares must sum to 10,000 basis points (now %(total)d)."), {"total": total})
                )
            if item.income_kind in seen:
                errors.append(FieldError(f"shares[{i}].income_kind", N_("This kind of income is given twice.")))
            seen.add(item.income_kind)
        if (data.patent_cost_recovery == PatentCostRecovery.percentage) != (data.patent_cost_recovery_bp is not None):
            errors.append(
                FieldError(
                    "patent_cost_recovery_bp", N_("Give a percentage exactly when patent costs are recovered by percentage.")
                )
            )
        return errors

    async def create(self, principal: Principal, data: schemas.PolicyCreate, *, ip: str | None = None) -> DistributionPolicy:
        """A new version of the caller's institution's policy; refused below a floor of its
        jurisdiction (the field names the rule) unless the platform admin recorded an exception."""
        institution_id = await self.policy_institution(principal, data.institution_id)
        errors = self._validate(data)
        if errors:
            raise InvalidInput(*errors)
        await lock_institution(self.session, institution_id, shared=False)
        index = {str(s.income_kind): i for i, s in enumerate(data.shares)}
        for check in await self.floor_checks(institution_id, data.shares):
            if check.met or check.exception_reason is not None or check.income_kind not in index:
                continue
            errors.append(
                FieldError(
                    f"shares[{index[check.income_kind]}].{check.share}_bp",
                    N_("Below the floor of %(min_bp)d basis points set by %(source)s (rule %(code)s)."),
                    {"min_bp": check.min_bp, "source": check.source, "code": check.code},
                )
            )
        if errors:
            raise InvalidInput(*errors)
        last_income = await self.session.scalar(
            select(func.max(Income.received_on)).where(Income.institution_id == institution_id)
        )
        if last_income is not None and data.effective_from <= last_income:
            raise invalid(
                "effective_from",
                N_("Income is already recorded up to %(day)s: a new version must start after it."),
                day=last_income.isoformat(),
            )
        latest = await self.session.scalar(
            select(DistributionPolicy)
            .where(DistributionPolicy.institution_id == institution_id)
            .order_by(DistributionPolicy.version.desc())
            .limit(1)
        )
        if latest is not None and data.effective_from < latest.effective_from:
            raise invalid("effective_from", N_("A new version cannot start before the version it follows."))
        policy = DistributionPolicy(
            id=uuid.uuid4(),
            institution_id=institution_id,
            version=(latest.version if latest else 0) + 1,
            effective_from=data.effective_from,
            deductible_costs=sorted(str(c) for c in set(data.deductible_costs)),
            remainder_share=data.remainder_share,
            patent_cost_recovery=data.patent_cost_recovery,
            patent_cost_recovery_bp=data.patent_cost_recovery_bp,
            note=data.note,
            created_by_user_id=principal.user_id,
        )
        self.session.add(policy)
        await self.session.flush()
        for item in data.shares:
            self.session.add(
                PolicyShares(
                    policy_id=policy.id,
                    income_kind=item.income_kind,
                    inventors_bp=item.inventors_bp,
                    tto_bp=item.tto_bp,
                    iit_fund_bp=item.iit_fund_bp,
                    institution_bp=item.institution_bp,
                )
            )
        await self.session.flush()
        await audit.record(
            self.session,
            "distribution_policy_created",
            actor_user_id=principal.user_id,
            organization_id=institution_id,
            subject=policy,
            ip=ip,
            version=policy.version,
            effective_from=policy.effective_from.isoformat(),
        )
        return policy

    async def list_policies(self, principal: Principal, institution_id: uuid.UUID | None = None) -> list[DistributionPolicy]:
        """The caller's institution's versions (platform roles: every institution's, or one's), newest first."""
        self.require_reader(principal)
        stmt = select(DistributionPolicy).order_by(DistributionPolicy.institution_id, DistributionPolicy.version.desc())
        if not principal.is_platform:
            stmt = stmt.where(DistributionPolicy.institution_id == principal.organization_id)
        elif institution_id is not None:
            stmt = stmt.where(DistributionPolicy.institution_id == institution_id)
        return list((await self.session.scalars(stmt)).all())

    async def shares_of(self, policy_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[PolicyShares]]:
        found: dict[uuid.UUID, list[PolicyShares]] = {i: [] for i in policy_ids}
        rows = await self.session.scalars(
            select(PolicyShares).where(PolicyShares.policy_id.in_(policy_ids)).order_by(PolicyShares.income_kind)
        )
        for row in rows:
            found[row.policy_id].append(row)
        return found

    async def in_force(self, institution_id: uuid.UUID, on: date, kind: str) -> tuple[DistributionPolicy, PolicyShares] | None:
        """The version in force on the day (latest start on or before it), with its split of `kind`."""
        policy = await self.session.scalar(
            select(DistributionPolicy)
            .where(DistributionPolicy.institution_id == institution_id, DistributionPolicy.effective_from <= on)
            .order_by(DistributionPolicy.effective_from.desc(), DistributionPolicy.version.desc())
            .limit(1)
        )
        if policy is None:
            return None
        shares = await self.session.get(PolicyShares, (policy.id, kind))
        return (policy, shares) if shares is not None else None

    # ----- exceptions and overrides -----------------------------------------------------------

    async def record_exception(
        self, principal: Principal, data: schemas.FloorExceptionCreate, *, ip: str | None = None
    ) -> FloorException:
        """The platform admin lets one institution go below one floor, with the reason."""
        principal.require(Role.platform_admin)
        await self.accounts.public_organization(data.institution_id, "institution")
        floors = {f.code for f in await self.floors_for(data.institution_id)}
        if data.floor_code not in floors:
            raise invalid("floor_code", N_("No such floor applies to this institution."))
        if data.floor_code in await self.exceptions_for(data.institution_id):
            raise Conflict(N_("An exception to this floor is already recorded."))
        exception = FloorException(
            id=uuid.uuid4(),
            institution_id=data.institution_id,
            floor_code=data.floor_code,
            reason=data.reason,
            recorded_by_user_id=principal.user_id,
        )
        self.session.add(exception)
        await self.session.flush()
        await audit.record(
            self.session,
            "distribution_floor_exception_recorded",
            actor_user_id=principal.user_id,
            organization_id=data.institution_id,
            subject=exception,
            ip=ip,
            floor=data.floor_code,
            reason=data.reason,
        )
        return exception

    async def create_override(
        self, principal: Principal, data: schemas.OverrideCreate, *, ip: str | None = None
    ) -> ResultOverride:
        """赋权: only for a result of the caller's institution whose ownership is granted to researchers."""
        self.require_manager(principal)
        institution_id = principal.acting_organization_id
        result = await self.catalog.institution_result(institution_id, data.result_id)
        if result.ownership_model not in GRANTED:
            raise invalid("result_id", N_("Only a result whose ownership is granted to researchers (赋权) takes an override."))
        override = ResultOverride(
            id=uuid.uuid4(),
            institution_id=institution_id,
            result_id=result.id,
            researchers_bp=data.researchers_bp,
            agreement_ref=data.agreement_ref,
            created_by_user_id=principal.user_id,
        )
        self.session.add(override)
        await self.session.flush()
        await audit.record(
            self.session,
            "distribution_override_recorded",
            actor_user_id=principal.user_id,
            organization_id=institution_id,
            subject=override,
            ip=ip,
            result_id=result.id,
            researchers_bp=data.researchers_bp,
        )
        return override

    async def override_for(self, result_id: uuid.UUID) -> ResultOverride | None:
        return await self.session.scalar(
            select(ResultOverride)
            .where(ResultOverride.result_id == result_id)
            .order_by(ResultOverride.created_at.desc(), ResultOverride.id)
            .limit(1)
        )
