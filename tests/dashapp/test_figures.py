"""The pure figure builders, without a database or a server."""

import numpy as np

from dashapp.figures import empty_figure, typed_array
from tests.dashapp.helpers import decode_array


def test_empty_figure_hides_axes() -> None:
    figure = empty_figure("nothing here")
    assert figure["layout"]["xaxis"]["visible"] is False
    assert figure["layout"]["annotations"][0]["text"] == "nothing here"


def test_typed_array_round_trips() -> None:
    values = np.array([1.5, -2.25, 130.0], dtype=np.float32)
    spec = typed_array(values)
    assert spec["dtype"] == "f4"
    assert decode_array(spec).tolist() == [1.5, -2.25, 130.0]
    big_endian = values.astype(">f4")
    assert decode_array(typed_array(big_endian)).tolist() == [1.5, -2.25, 130.0]
