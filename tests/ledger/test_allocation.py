"""The pure split, thousands of times: parts always sum to the whole, exact to the fen, each part
within one fen of its exact share, leftover fen in the documented order."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.ledger.allocation import SHARE_ORDER, Terms, allot, costs_to_deduct, split
from marketplace.ledger.models import CostKind, PatentCostRecovery, Share

AMOUNTS = st.integers(min_value=0, max_value=10_000_000_000_000)


@st.composite
def basis_points(draw, n: int) -> list[int]:
    """n non-negative basis points summing to 10,000."""
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), min_size=n - 1, max_size=n - 1)))
    points = [0, *cuts, 10_000]
    return [b - a for a, b in itertools.pairwise(points)]


@st.composite
def terms(draw) -> Terms:
    bp = draw(basis_points(4))
    recovery = draw(st.sampled_from(PatentCostRecovery))
    return Terms(
        shares=dict(zip(SHARE_ORDER, bp, strict=True)),
        remainder=draw(st.sampled_from(Share)),
        deductible=frozenset(draw(st.sets(st.sampled_from(CostKind)))),
        recovery=recovery,
        recovery_bp=draw(st.integers(1, 10_000)) if recovery == PatentCostRecovery.percentage else None,
    )


@settings(max_examples=2000, deadline=None)
@given(total=AMOUNTS, weights=st.lists(st.integers(0, 10_000), min_size=1, max_size=12).filter(lambda w: sum(w) > 0))
def test_allot_sums_to_the_whole_each_part_within_one_unit(total: int, weights: list[int]) -> None:
    keyed = list(enumerate(weights))
    parts = allot(total, keyed)
    assert sum(parts.values()) == total
    denominator = sum(weights)
    for key, weight in keyed:
        exact_floor = total * weight // denominator
        assert exact_floor <= parts[key] <= exact_floor + (1 if weight else 0)
    # The leftover goes one unit at a time in the order given: earlier receivers first.
    extra = [parts[k] - total * w // denominator for k, w in keyed if w]
    assert extra == sorted(extra, reverse=True)
    assert allot(total, keyed) == parts


@settings(max_examples=2000, deadline=None)
@given(
    amount=st.integers(1, 10_000_000_000_000),
    policy=terms(),
    inventor_bp=st.lists(st.integers(1, 10_000), min_size=1, max_size=6),
    costs=st.lists(st.tuples(st.sampled_from(CostKind), st.integers(1, 10_000_000)), max_size=5),
    researchers_bp=st.none() | st.integers(0, 10_000),
)
def test_split_parts_sum_to_the_whole(amount, policy, inventor_bp, costs, researchers_bp) -> None:
    if costs_to_deduct(amount, costs, policy) > amount:
        return
    inventors = [(f"inventor-{i}", bp) for i, bp in enumerate(inventor_bp)]
    parts = split(amount, costs, policy, inventors, researchers_bp)
    assert parts.costs_deducted + parts.net == amount
    assert parts.researchers + sum(parts.shares.values()) == parts.net
    assert sum(parts.inventors.values()) == parts.shares[Share.inventors] + parts.researchers
    assert all(v >= 0 for v in [*parts.shares.values(), *parts.inventors.values()])
    if researchers_bp is not None:
        assert parts.shares[Share.inventors] == 0
    if researchers_bp is None:
        for share in Share:
            # Rounded down, plus at most one leftover fen.
            rounded_down = parts.net * policy.shares[share] // 10_000
            assert rounded_down <= parts.shares[share] <= rounded_down + 1


def test_leftover_fen_go_to_the_remainder_share_first() -> None:
    policy = Terms(
        shares={Share.inventors: 3333, Share.tto: 3333, Share.iit_fund: 3334, Share.institution: 0}, remainder=Share.tto
    )
    parts = split(100, [], policy, [("a", 5000), ("b", 5000)])
    # 33.33 + 33.33 + 33.34 rounded down is 99: the one fen left goes to the TTO.
    assert parts.shares == {Share.tto: 34, Share.inventors: 33, Share.iit_fund: 33, Share.institution: 0}
    # The team's 33 fen: 16 each, the leftover fen to the first inventor on the result.
    assert parts.inventors == {"a": 17, "b": 16}


def test_patent_costs_recovered_by_percentage_take_at_most_that_part() -> None:
    policy = Terms(shares={Share.institution: 10_000}, recovery=PatentCostRecovery.percentage, recovery_bp=1000)
    assert costs_to_deduct(10_000, [(CostKind.ip_maintenance, 5000), (CostKind.taxes_fees, 100)], policy) == 1100
    excluded = Terms(shares={Share.institution: 10_000}, deductible=frozenset({CostKind.taxes_fees}))
    assert costs_to_deduct(10_000, [(CostKind.ip_maintenance, 5000)], excluded) == 0
