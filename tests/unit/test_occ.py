"""OCC / OSI option symbols: built unpadded for brokers, read in either the padded or unpadded form; roots
from tickers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from optionflow.pricing.occ import OccContract, occ_root, occ_symbol, parse_occ_symbol


def test_spy_december_500_call_symbol_matches_the_domain_example():
    assert occ_symbol("SPY", date(2026, 12, 18), "CALL", Decimal(500)) == "SPY261218C00500000"


def test_fractional_strike_uses_thousandths():
    assert occ_symbol("SPXW", date(2026, 11, 24), "PUT", Decimal("5712.5")) == "SPXW261124P05712500"
    assert occ_symbol("F", date(2027, 1, 15), "CALL", Decimal("12.125")) == "F270115C00012125"


def test_padded_and_unpadded_symbols_parse_alike():
    expected = OccContract("AAPL", date(2026, 9, 18), "CALL", Decimal(260))
    assert parse_occ_symbol("AAPL  260918C00260000") == expected
    assert parse_occ_symbol("AAPL260918C00260000") == expected


def test_parsed_strike_is_an_exact_decimal():
    assert parse_occ_symbol("SPXW261124P05712500").strike == Decimal("5712.5")
    assert parse_occ_symbol("SPY261218P00000500").strike == Decimal("0.5")


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("", "too short"),
        ("SPY", "too short"),
        ("SPY261318C00500000", "not a calendar date"),
        ("SPY261231X00500000", "type letter"),
        ("SPY2612A8C00500000", "expiry"),
        ("SPY261218C0050000X", "strike"),
        ("SPY261218C00000000", "strike is zero"),
        ("TOOLONGROOT261218C00500000", "root"),
        ("spy261218C00500000", "root"),
        ("SPY 261218C00500000", "exactly 21 characters"),
        ("SP Y  261218C00500000", "root"),
    ],
)
def test_malformed_symbols_are_refused_naming_the_problem(bad, problem):
    with pytest.raises(ValueError, match=problem):
        parse_occ_symbol(bad)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("spy", date(2026, 12, 18), "CALL", Decimal(500)), "root"),
        (("BRK.B", date(2026, 12, 18), "CALL", Decimal(500)), "root"),
        (("SPY", date(2026, 12, 18), "C", Decimal(500)), "option_type"),
        (("SPY", date(2026, 12, 18), "CALL", Decimal("500.0001")), "3 decimals"),
        (("SPY", date(2026, 12, 18), "CALL", Decimal(0)), "positive"),
        (("SPY", date(2026, 12, 18), "CALL", Decimal(100000)), "below 100000"),
        (("SPY", date(2126, 12, 18), "CALL", Decimal(500)), "2000-2099"),
    ],
)
def test_bad_contract_parts_are_refused_naming_the_part(args, problem):
    with pytest.raises(ValueError, match=problem):
        occ_symbol(*args)


@given(
    root=st.from_regex(r"[A-Z][A-Z0-9]{0,5}", fullmatch=True),
    expiry=st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)),
    kind=st.sampled_from(["CALL", "PUT"]),
    thousandths=st.integers(1, 99_999_999),
)
def test_symbols_round_trip_in_both_forms(root, expiry, kind, thousandths):
    strike = Decimal(thousandths) / 1000
    symbol = occ_symbol(root, expiry, kind, strike)
    contract = OccContract(root, expiry, kind, strike)
    assert parse_occ_symbol(symbol) == contract
    assert parse_occ_symbol(root.ljust(6) + symbol[len(root) :]) == contract
    assert len(symbol) == len(root) + 15


def test_class_shares_map_to_their_root_without_the_dot():
    assert occ_root("BRK.B") == "BRKB"
    assert occ_root("BF.B") == "BFB"
    assert occ_root("SPY") == "SPY"


def test_a_class_share_root_builds_the_option_symbol():
    assert occ_symbol(occ_root("BRK.B"), date(2026, 12, 18), "PUT", Decimal(470)) == "BRKB261218P00470000"


@pytest.mark.parametrize(
    ("ticker", "why"),
    [
        ("brk.b", "upper-case"),
        ("BRK..B", "dot before a share class"),
        ("BRK.", "dot before a share class"),
        ("", "upper-case"),
        ("ABCDEFG", "at most 6 characters"),
        ("ABCDE.FG", "'ABCDEFG' has 7"),
    ],
)
def test_tickers_without_a_standard_root_are_refused_saying_why(ticker, why):
    with pytest.raises(ValueError, match=why):
        occ_root(ticker)
