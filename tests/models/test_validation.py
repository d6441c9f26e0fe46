"""The one set of vehicle rules the forms, the import and the API share."""

import re

import pytest

from models.validation import NOT_PLAIN, parse_field, parse_vehicle

PLAIN = re.escape(NOT_PLAIN)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("combined_mpg", "abc", "not a number"),
        ("combined_mpg", "1_000", PLAIN),
        ("combined_mpg", "١٢", PLAIN),
        ("year", "1.98e3", PLAIN),
        ("year", "\uff11\uff19\uff18\uff10", PLAIN),
        ("cylinders", " 0x4 ", "not a number"),
        ("manufacturer", "x" * 81, "is longer than 80 characters"),
        ("combined_mpg", 10**400, "not a finite number"),
        ("combined_mpg", "1e999", "not a finite number"),
        ("combined_mpg", float("nan"), "not a finite number"),
        ("combined_mpg", True, "not a number"),
        ("combined_mpg", [1], "not a number"),
        ("combined_mpg", 0, "must be greater than 0"),
        ("year", 10**30, "must be between 1886 and 2100"),
        ("cylinders", 4.5, "not a whole number"),
        ("model", 42, "must be text"),
        ("model", "x" * 121, "is longer than 120 characters"),
        ("manufacturer", "   ", "is required"),
        (
            "model",
            "a\x00b",
            r"contains a character that cannot be stored \(NUL or a lone surrogate\)",
        ),
        (
            "origin",
            "\ud800",
            r"contains a character that cannot be stored \(NUL or a lone surrogate\)",
        ),
    ],
)
def test_reasons(field: str, value: object, reason: str) -> None:
    with pytest.raises(ValueError, match=f"^{reason}$"):
        parse_field(field, value)


def test_clean_values() -> None:
    values, problems = parse_vehicle(
        {"manufacturer": " vw ", "model": "  rabbit   custom ", "year": "1977", "combined_mpg": 29}
    )
    assert problems == {}
    assert values["manufacturer"] == "Volkswagen"
    assert values["model"] == "rabbit custom"
    assert (values["year"], values["combined_mpg"], values["horsepower"]) == (1977, 29.0, None)


def test_partial_checks_only_what_is_given() -> None:
    assert parse_vehicle({"combined_mpg": "12"}, partial=True) == ({"combined_mpg": 12.0}, {})


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("year", " 1980 ", 1980),
        ("year", "+1980", 1980),
        ("year", 1.98e3, 1980),  # a JSON number stays a number
        ("combined_mpg", "12.", 12.0),
        ("combined_mpg", ".5", 0.5),
        ("manufacturer", "ß" * 80, "ß" * 80),
        ("manufacturer", "ﬁ" * 80, "ﬁ" * 80),
        ("manufacturer", "GMC", "GMC"),
        ("manufacturer", "chevy", "Chevrolet"),
    ],
)
def test_plain_values_are_accepted(field: str, value: object, expected: object) -> None:
    assert parse_field(field, value) == expected
