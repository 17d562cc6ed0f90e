"""untrusted_json: the limits on request bodies hold exactly at their boundaries, and name where they broke."""

from __future__ import annotations

import json

import pytest
from optionflow.models.untrusted_json import (
    MAX_BODY_BYTES,
    MAX_DEPTH,
    MAX_NUMBER_CHARS,
    TOO_DEEP,
    UNREADABLE,
    RefusedJson,
    loads,
    read_stored,
    within_depth,
)


def refusal(raw: str | bytes) -> RefusedJson:
    with pytest.raises(RefusedJson) as error:
        loads(raw)
    return error.value


def nested(levels: int) -> str:
    return "[" * levels + "]" * levels


def test_nesting_is_accepted_up_to_the_limit_and_refused_one_level_past_it():
    assert loads(nested(MAX_DEPTH)) is not None
    error = refusal(nested(MAX_DEPTH + 1))
    assert (error.status, error.field) == (400, "[0]" * MAX_DEPTH)


def test_nesting_past_the_parsers_own_limit_is_the_same_400_naming_the_body():
    error = refusal(nested(5000))
    assert (error.status, error.field) == (400, "body")


def test_a_number_is_accepted_up_to_its_character_limit_and_refused_past_it():
    assert loads("9" * MAX_NUMBER_CHARS) == int("9" * MAX_NUMBER_CHARS)
    assert loads('{"a":[' + "0." + "1" * (MAX_NUMBER_CHARS - 2) + "]}") == {"a": [pytest.approx(1 / 9)]}
    error = refusal('{"a":[' + "9" * (MAX_NUMBER_CHARS + 1) + "]}")
    assert (error.status, error.field) == (422, "a[0]")
    assert refusal("1." + "0" * MAX_NUMBER_CHARS).field == "body"


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e309", "-1e999"])
def test_numbers_json_cannot_carry_are_refused(literal):
    error = refusal('{"x":{"y":' + literal + "}}")
    assert (error.status, error.field) == (422, "x.y")


def test_a_tiny_number_is_accepted_as_the_float_it_rounds_to():
    assert loads('{"t":1e-400}') == {"t": 0.0}


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ('{"s":"\\ud800"}', "s"),
        ('{"s":"\\udc00 trailing"}', "s"),
        ('{"s":["ok","\\ud83d"]}', "s[1]"),
        ('{"\\ud800":1}', "\\ud800"),
        ('{"k":{"nul\\u0000key":1}}', "k.nul\\u0000key"),
        ('{"s":"a\\u0000b"}', "s"),
    ],
)
def test_text_postgres_cannot_store_is_refused_naming_where(raw, field):
    error = refusal(raw)
    assert (error.status, error.field) == (422, field)
    json.dumps(str(error)).encode("utf-8")  # the refusal itself can be answered and logged


def test_paired_surrogates_and_odd_unicode_are_text():
    assert loads('{"s":"\\ud83d\\ude00 \\u202e \\ufeff \\uffff"}') == {"s": "\U0001f600 \u202e \ufeff \uffff"}


def test_size_is_counted_in_bytes_and_refused_with_413():
    assert refusal(b'"' + b"x" * MAX_BODY_BYTES + b'"').status == 413
    assert refusal('"' + "\u00e9" * (MAX_BODY_BYTES // 2) + '"').status == 413


@pytest.mark.parametrize("raw", [b"\xff\xfe\x00", b"{", b"", b"{'a': 1}"])
def test_what_is_not_json_is_a_400_naming_the_body(raw):
    error = refusal(raw)
    assert (error.status, error.field) == (400, "body")


def test_a_hostile_key_is_named_in_a_bounded_path():
    error = refusal('{"' + "k" * 5000 + '":NaN}')
    assert len(error.field) <= 200


def test_stored_json_too_deep_to_parse_reads_as_a_note():
    assert UNREADABLE in read_stored('{"x":' + nested(5000) + "}")
    assert read_stored('{"x":[1]}') == {"x": [1]}


def test_stored_values_deeper_than_the_limit_are_cut_to_a_note():
    value = json.loads(nested(300))
    cut = within_depth({"x": value})
    level = cut["x"]
    for _ in range(MAX_DEPTH - 2):
        (level,) = level
    assert level == [TOO_DEEP]
    assert within_depth({"a": [1, {"b": "c"}]}) == {"a": [1, {"b": "c"}]}


def test_a_refused_key_says_what_it_contains():
    assert refusal('{"\\ud800":1}').message.startswith("the key contains an unpaired surrogate")


@pytest.mark.parametrize(
    ("raw", "field", "key"),
    [
        ('{"action":"BUY","action":"SELL"}', "body", "action"),
        ('{"extra":{"levels":[1],"levels":[' + "9" * 4301 + "]}}", "extra", "levels"),
        ('{"extra":[{"a":1,"b":2,"a":3}]}', "extra[0]", "a"),
    ],
)
def test_a_key_repeated_in_one_object_is_refused_since_parsers_disagree_on_which_value_wins(raw, field, key):
    with pytest.raises(RefusedJson) as refused:
        loads(raw)
    assert (refused.value.status, refused.value.field) == (422, field)
    assert f"the key '{key}' appears more than once" in refused.value.message
