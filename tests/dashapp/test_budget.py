"""The point budget: how it is shared between series, and the dashboard keeping to it."""

from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.budget import DEFAULT_POINT_BUDGET, point_budget
from models.explore import evenly_spaced, share_budget
from tests.dashapp.helpers import decode_array, marker_traces, point_count, post_figure


@pytest.mark.parametrize(
    ("available", "budget", "shares"),
    [
        ([49, 47, 13], None, [49, 47, 13]),
        ([49, 47, 13], 109, [49, 47, 13]),
        # 20 x 49/109 = 8.99, 20 x 47/109 = 8.62, 20 x 13/109 = 2.39: the two largest
        # remainders take the two points the whole parts leave over.
        ([49, 47, 13], 20, [9, 9, 2]),
        ([116_035, 67_045, 3025], 5000, [3118, 1801, 81]),
        # BMW's 5 x 2/98 rounds to 0; it keeps one point, taken from the largest share.
        ([49, 47, 2], 5, [2, 2, 1]),
        ([10, 0], 5, [5, 0]),
        # Fewer points than series: each series still keeps one.
        ([3, 3, 3], 2, [1, 1, 1]),
    ],
)
def test_shares_are_proportional_and_never_zero(
    available: list[int], budget: int | None, shares: list[int]
) -> None:
    assert share_budget(available, budget) == shares


def test_shares_sum_to_the_budget() -> None:
    rng = np.random.default_rng(7)
    for _ in range(200):
        available = rng.integers(1, 5000, size=int(rng.integers(1, 12))).tolist()
        budget = int(rng.integers(len(available), sum(available) + 1))
        shares = share_budget(available, budget)
        assert sum(shares) == budget
        assert all(1 <= share <= count for share, count in zip(shares, available, strict=True))


def test_evenly_spaced_keeps_both_ends_and_exactly_the_picks() -> None:
    assert list(evenly_spaced(5, 10)) == [0, 1, 2, 3, 4]
    assert list(evenly_spaced(10, 1)) == [5]
    assert list(evenly_spaced(9, 3)) == [0, 4, 8]
    picked = evenly_spaced(5021, 5000)
    assert len(picked) == 5000
    assert picked[0] == 0 and picked[-1] == 5020
    assert np.all(np.diff(picked) > 0)


@pytest.mark.parametrize(
    ("raw", "budget"),
    [
        (None, DEFAULT_POINT_BUDGET),
        ("250", 250),
        (250, 250),
        ("0", None),
        (-3, None),
        ("lots", DEFAULT_POINT_BUDGET),
    ],
)
def test_point_budget_from_config(raw: object, budget: int | None) -> None:
    config = {} if raw is None else {"DASH_POINT_BUDGET": raw}
    assert point_budget(config) == budget


def test_a_maker_over_budget_is_thinned_and_says_so(make_app: Any, app: Flask) -> None:
    budgeted = make_app(DASH_POINT_BUDGET=10, CACHE_TYPE="NullCache")
    figure = post_figure(budgeted.test_client(), "Ford")
    assert point_count(figure) == 10
    assert figure["layout"]["meta"] == {"plotted": 10, "hidden": 5, "available": 49}
    subtitle = figure["layout"]["title"]["subtitle"]["text"]
    assert subtitle.startswith("showing a sample of 10 of 49 vehicles")
    horsepower = decode_array(figure["data"][0]["x"])
    assert np.all(np.diff(horsepower) >= 0), "points stay in horsepower order"


def test_compared_makers_share_the_budget_in_proportion(make_app: Any, app: Flask) -> None:
    budgeted = make_app(DASH_POINT_BUDGET=20, CACHE_TYPE="NullCache")
    client = budgeted.test_client()
    figure = post_figure(client, ["Ford", "Chevrolet", "Honda"])
    traces = marker_traces(figure)
    assert [t["name"] for t in traces] == ["Ford", "Chevrolet", "Honda"]
    assert [len(decode_array(t["x"])) for t in traces] == [9, 9, 2]
    assert figure["layout"]["meta"]["available"] == 49 + 47 + 13
    # The smallest maker stays on the chart however tight the budget.
    tight = make_app(DASH_POINT_BUDGET=3, CACHE_TYPE="NullCache").test_client()
    traces = marker_traces(post_figure(tight, ["Ford", "Chevrolet", "BMW"]))
    assert [(t["name"], len(decode_array(t["x"]))) for t in traces] == [
        ("Ford", 1),
        ("Chevrolet", 1),
        ("BMW", 1),
    ]


def test_a_maker_within_budget_is_drawn_whole(client: FlaskClient) -> None:
    figure = post_figure(client, "Ford")
    assert point_count(figure) == 49
    assert figure["layout"]["meta"] == {"plotted": 49, "hidden": 5, "available": 49}
    assert figure["layout"]["title"]["subtitle"]["text"].startswith("49 vehicles plotted")
