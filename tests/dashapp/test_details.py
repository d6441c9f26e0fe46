"""The details panel through Dash's HTTP endpoint, on stores the sample does not cover."""

from flask import Flask

from tests.dashapp.helpers import UPDATE_URL
from tests.dashapp.test_explore_callbacks import details_payload
from tests.models.test_explore import store_one_vehicle_without_mpg


def test_details_of_the_only_vehicle_without_mpg(empty_app: Flask) -> None:
    # No vehicle has horsepower, weight and mpg all set, so none is "similar".
    vehicle_id = store_one_vehicle_without_mpg(empty_app)
    response = empty_app.test_client().post(UPDATE_URL, json=details_payload(vehicle_id))
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Lonely One" in text and "similar-vehicles" in text  # the model title-cased
