"""The dashboard layout's pure parts."""

import pytest

from dashapp.layout import year_marks


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        # Both shipped datasets together: every fifth year, not 23 overlapping labels.
        (1970, 2015, [1970, 1975, 1980, 1985, 1990, 1995, 2000, 2005, 2010, 2015]),
        (1970, 1982, [1970, 1972, 1974, 1976, 1978, 1980, 1982]),
        (1971, 1974, [1971, 1972, 1973, 1974]),
        (2000, 2000, [2000]),
    ],
)
def test_year_marks_are_at_most_eleven_round_years(
    low: int, high: int, expected: list[int]
) -> None:
    marks = year_marks(low, high)
    assert list(marks) == expected
    assert marks[expected[0]] == f"'{expected[0] % 100:02d}"


def test_a_span_of_centuries_labels_whole_years() -> None:
    assert year_marks(1886, 2100) == {year: str(year) for year in range(1900, 2101, 50)}
