"""The pure arithmetic of a split, exact to the fen (or share unit): no database, no rounding
surprises, so the property tests can run it thousands of times.

The rule for remainders (as Formance's allotments): each part is rounded down; the fen left over
are handed out one at a time, in a fixed order, to the parts that have a weight. For the split of
net income the order starts at the policy's remainder share, then follows SHARE_ORDER; among
inventors it is the order of the result's inventor list. Parts always sum to the whole.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from marketplace.ledger.models import TOTAL_BP, CostKind, PatentCostRecovery, Share

K = TypeVar("K", bound=Hashable)

SHARE_ORDER = (Share.inventors, Share.tto, Share.iit_fund, Share.institution)


def allot(total: int, weights: Sequence[tuple[K, int]]) -> dict[K, int]:
    """`total` split by `weights` (any positive sum): each part rounded down, then the leftover
    one unit at a time to the weighted keys in the order given."""
    if total < 0:
        raise ValueError("a negative total cannot be allotted")
    denominator = sum(w for _k, w in weights)
    if any(w < 0 for _k, w in weights) or denominator <= 0:
        raise ValueError("weights must be non-negative with a positive sum")
    parts = {key: total * weight // denominator for key, weight in weights}
    leftover = total - sum(parts.values())
    receivers = [key for key, weight in weights if weight > 0]
    # Each part lost less than one unit, so the leftover is below the number of receivers.
    for i in range(leftover):
        parts[receivers[i % len(receivers)]] += 1
    return parts


@dataclass(frozen=True)
class Terms:
    """What a split needs of a policy version, for one kind of income."""

    shares: Mapping[Share, int]  # basis points summing to 10,000
    remainder: Share = Share.institution
    deductible: frozenset[CostKind] = frozenset(CostKind)
    recovery: PatentCostRecovery = PatentCostRecovery.all_first
    recovery_bp: int | None = None


@dataclass
class Split:
    amount: int
    costs_deducted: int
    net: int
    shares: dict[Share, int]
    inventors: dict = field(default_factory=dict)  # inventor key → part
    researchers: int = 0  # 赋权: the researchers' own part (also in `inventors`)


def costs_to_deduct(amount: int, costs: Sequence[tuple[CostKind, int]], terms: Terms) -> int:
    """What comes off before the split: the deductible costs, patent costs limited to the policy's
    percentage of this payment when it recovers them so. May exceed `amount` (the caller refuses)."""
    patent = sum(a for kind, a in costs if kind == CostKind.ip_maintenance and kind in terms.deductible)
    other = sum(a for kind, a in costs if kind != CostKind.ip_maintenance and kind in terms.deductible)
    if terms.recovery == PatentCostRecovery.percentage:
        patent = min(patent, amount * (terms.recovery_bp or 0) // TOTAL_BP)
    return patent + other


def order_from(first: Share) -> list[Share]:
    return [first, *(s for s in SHARE_ORDER if s != first)]


def split(
    amount: int,
    costs: Sequence[tuple[CostKind, int]],
    terms: Terms,
    inventors: Sequence[tuple[object, int]],
    researchers_bp: int | None = None,
) -> Split:
    """Costs first, then the split of the net by the policy's shares, the team's part by the
    inventors' basis points. With `researchers_bp` (赋权), the researchers' own part of the net goes
    to the inventors and the rest is split without an inventors' share (it goes to the institution)."""
    deducted = costs_to_deduct(amount, costs, terms)
    if deducted > amount:
        raise ValueError("costs exceed the amount")
    net = amount - deducted
    shares = dict(terms.shares)
    researchers = 0
    if researchers_bp is not None:
        researchers = net * researchers_bp // TOTAL_BP
        shares[Share.institution] = shares.get(Share.institution, 0) + shares.get(Share.inventors, 0)
        shares[Share.inventors] = 0
    parts = allot(net - researchers, [(s, shares.get(s, 0)) for s in order_from(terms.remainder)])
    team = parts[Share.inventors] + researchers
    by_inventor = allot(team, list(inventors)) if team else {key: 0 for key, _w in inventors}
    return Split(amount, deducted, net, parts, by_inventor, researchers)
