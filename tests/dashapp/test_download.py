"""The dashboard's "Download these vehicles as CSV" link follows the units switch (issue 14,
defect 7): under L/100 km its fuel columns are named and given in L/100 km."""

import csv
import io

from flask.testing import FlaskClient

from tests.dashapp.helpers import post_view


def download(client: FlaskClient, units: str) -> list[dict[str, str]]:
    """The rows the download link of BMW's view gives, in ``units``."""
    link = post_view(client, ["BMW"], units=units)["layout"]["meta"]["view"]["csv"]
    response = client.get(link)
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_the_csv_is_in_litres_per_100_km_under_that_unit(client: FlaskClient) -> None:
    rows = download(client, "l100km")
    header = list(rows[0])
    assert "combined_l_per_100km" in header and "city_l_per_100km" in header
    assert not [name for name in header if "mpg" in name]
    by_model = {row["model"]: row for row in rows}
    # The sample's BMW 2002 does 26 mpg and the 320i 21.5: 235.215 / mpg.
    assert by_model["2002"]["combined_l_per_100km"] == "9.05"
    assert by_model["320i"]["combined_l_per_100km"] == "10.94"
    assert by_model["2002"]["city_l_per_100km"] == ""  # unknown stays unknown


def test_the_csv_stays_in_mpg_by_default(client: FlaskClient) -> None:
    rows = download(client, "mpg")
    assert {row["model"]: row["combined_mpg"] for row in rows} == {"2002": "26.0", "320i": "21.5"}
    assert "combined_l_per_100km" not in rows[0]
