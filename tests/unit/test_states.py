"""The state machine of signals, orders and positions: one module, and every move it allows makes sense."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.states import (
    ORDER_MOVES,
    POSITION_MOVES,
    SIGNAL_MOVES,
    IllegalTransition,
    OrderStatus,
    PositionStatus,
    SignalStatus,
    allowed_sources,
    require,
)

MACHINES = [
    ("signal", SIGNAL_MOVES, SignalStatus, SignalStatus.PENDING),
    ("order", ORDER_MOVES, OrderStatus, OrderStatus.PENDING),
    ("position", POSITION_MOVES, PositionStatus, PositionStatus.OPEN),
]


@pytest.mark.parametrize(("entity", "moves", "kind", "start"), MACHINES)
def test_every_state_has_a_row_and_every_state_is_reachable_from_the_start(
    entity, moves, kind, start
) -> None:
    assert set(moves) == set(kind)
    seen, frontier = {start}, [start]
    while frontier:
        for nxt in moves[frontier.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(kind), f"{entity}: unreachable {set(kind) - seen}"


@pytest.mark.parametrize(("entity", "moves", "kind", "start"), MACHINES)
def test_every_walk_ends_in_a_final_state_or_a_waiting_one(entity, moves, kind, start) -> None:
    # no state moves to itself, so a status write always means something happened
    for state, targets in moves.items():
        assert state not in targets, (entity, state)


@given(data=st.data())
def test_require_allows_exactly_the_listed_moves(data: st.DataObject) -> None:
    entity, moves, kind, _ = data.draw(st.sampled_from(MACHINES))
    before, after = data.draw(st.sampled_from(list(kind))), data.draw(st.sampled_from(list(kind)))
    if after in moves[before]:
        require(entity, before, after)
        assert str(before) in allowed_sources(entity, after)
    else:
        with pytest.raises(IllegalTransition):
            require(entity, before, after)
        assert str(before) not in allowed_sources(entity, after)


def test_final_states_have_no_way_out() -> None:
    assert SIGNAL_MOVES[SignalStatus.CANCELLED] == frozenset()
    assert POSITION_MOVES[PositionStatus.CLOSED] == frozenset()
    with pytest.raises(IllegalTransition, match="position cannot move from CLOSED to OPEN"):
        require("position", "CLOSED", PositionStatus.OPEN)
