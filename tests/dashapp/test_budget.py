"""The point budget: pure helpers, and the dashboard thinning a big maker to fit it."""

from typing import Any

import numpy as np
import pytest
from flask import Flask
from flask.testing import FlaskClient

from dashapp.budget import DEFAULT_POINT_BUDGET, budget_note, point_budget
from models.columnar import evenly_spaced, thinning_stride
from tests.dashapp.helpers import decode_array, point_count, post_figure


@pytest.mark.parametrize(
    ("available", "budget", "stride"),
    [(48, None, 1), (48, 0, 1), (48, 48, 1), (48, 49, 1), (49, 48, 2), (116_035, 5000, 24)],
)
def test_thinning_stride(available: int, budget: int | None, stride: int) -> None:
    assert thinning_stride(available, budget) == stride


def test_evenly_spaced_keeps_both_ends_and_never_exceeds_the_budget() -> None:
    assert evenly_spaced(5, 10).tolist() == [0, 1, 2, 3, 4]
    picked = evenly_spaced(5021, 5000)
    assert len(picked) <= 5000
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


def test_budget_note_says_how_many_out_of_how_many() -> None:
    assert budget_note(48, 48) is None
    note = budget_note(5000, 116_035)
    assert note is not None
    assert note.startswith("showing a sample of 5,000 of 116,035 vehicles")
    assert "DASH_POINT_BUDGET" in note


def test_a_maker_over_budget_is_thinned_and_says_so(make_app: Any, app: Flask) -> None:
    budgeted = make_app(DASH_POINT_BUDGET=10, CACHE_TYPE="NullCache")
    figure = post_figure(budgeted.test_client(), "Ford")
    shown = point_count(figure)
    assert 1 <= shown <= 10
    assert figure["layout"]["meta"] == {"plotted": shown, "hidden": 5, "available": 49}
    subtitle = figure["layout"]["title"]["subtitle"]["text"]
    assert subtitle.startswith(f"showing a sample of {shown} of 49 vehicles")
    horsepower = decode_array(figure["data"][0]["x"])
    assert np.all(np.diff(horsepower) >= 0), "points stay in horsepower order"


def test_a_maker_within_budget_is_drawn_whole(client: FlaskClient) -> None:
    figure = post_figure(client, "Ford")
    assert point_count(figure) == 49
    assert figure["layout"]["meta"] == {"plotted": 49, "hidden": 5, "available": 49}
    assert figure["layout"]["title"]["subtitle"]["text"].startswith("49 vehicles plotted")
