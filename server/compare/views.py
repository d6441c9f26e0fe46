"""``GET /compare``: 2-4 vehicles side by side, with each one's yearly fuel cost and CO2.

Everything the page shows comes from ``models.compare``, as the API's ``/api/v1/compare``
does, so the two cannot disagree. The page is plain HTML driven by GET forms, so a
comparison is a URL that can be shared (``?ids=1,2&miles=12000&price_regular=3.50``) and
it works without JavaScript: a search box lists matching vehicles with an "Add" link each.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from dashapp.layout import model_name
from models.compare import (
    CO2_SOURCE,
    COMPARE_FIELDS,
    FUEL_FIGURES,
    FUELS,
    MAX_VEHICLES,
    PRICE_SOURCE,
    CompareError,
    Comparison,
    UnknownVehicles,
    compare_vehicles,
    find_vehicles,
    parse_compare_args,
    search_vehicles,
)
from models.db import db
from models.validation import MAX_TEXT, is_stored_id

bp = Blueprint("compare", __name__)
# Model names as the dashboard writes them ("Chevelle Malibu", not "chevelle malibu").
bp.add_app_template_filter(model_name, "model_name")

#: Decimals shown per field; fields not named are shown as stored.
DECIMALS = {
    "horsepower": 0,
    "displacement": 1,
    "weight": 0,
    "acceleration": 1,
    "electric_range_miles": 0,
    "co2_g_per_mile": 1,
    "annual_fuel_cost_usd": 0,
    "kwh_per_100_miles": 1,
}


@bp.before_request
def private_needs_sign_in() -> ResponseReturnValue | None:
    """With FUELDASH_PRIVATE the page shows stored data, so it needs a signed-in user."""
    if current_app.config.get("FUELDASH_PRIVATE") and not current_user.is_authenticated:
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    return None


def shown(value: Any, name: str = "") -> str:
    """A stored value as the page prints it: thousands separated, "—" when unknown."""
    if value is None or value == "":
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if name == "year" or name == "id":
        return str(value)
    decimals = DECIMALS.get(name, 0 if float(value).is_integer() else 1)
    return f"{value:,.{decimals}f}"


def picked_ids(text: str | None) -> list[int]:
    """The ids in ``text`` that could name vehicles, for the add and remove links; the
    comparison itself reads ids strictly (``parse_ids``)."""
    parts = [part.strip() for part in (text or "").split(",")]
    numbers = [int(part) for part in parts if part.isascii() and part.isdigit() and len(part) <= 10]
    return list(dict.fromkeys(n for n in numbers if is_stored_id(n)))[:MAX_VEHICLES]


def compare_url(ids: list[int], settings: Mapping[str, str]) -> str:
    """This page for ``ids``, keeping the distance and prices asked for."""
    query = {"ids": ",".join(str(vehicle_id) for vehicle_id in ids), **settings}
    return f"{url_for('compare.compare_page')}?{urlencode(query)}"


@bp.get("/compare")
def compare_page() -> ResponseReturnValue:
    """The comparison of ``ids``; without ``ids``, a search to pick vehicles from.

    Bad, unknown or too many ids, or an unusable distance or price, answer 400 (404 for
    unknown ids) with the reason on the page and the search box still working.
    """
    args = request.args
    ids_given = "ids" in args
    picked = picked_ids(args.get("ids"))
    settings = {
        key: value
        for key, value in args.items()
        if (key == "miles" or key.removeprefix("price_") in FUELS) and value.strip()
    }
    comparison: Comparison | None = None
    errors: dict[str, str] = {}
    status = 200
    if ids_given:
        try:
            wanted = parse_compare_args(args)
            with db.engine.connect() as conn:
                comparison = compare_vehicles(
                    conn, wanted.ids, wanted.miles_per_year, wanted.fuel_prices
                )
        except UnknownVehicles as error:
            errors, status = error.errors, 404
            picked = [vehicle_id for vehicle_id in picked if vehicle_id not in error.ids]
        except CompareError as error:
            errors, status = error.errors, 400
    settings = {key: value for key, value in settings.items() if key not in errors}
    query = args.get("q", "").strip()[:MAX_TEXT]
    with db.engine.connect() as conn:
        matches = search_vehicles(conn, query) if query else []
        # What is picked so far, named, when there is no comparison to show them in.
        named = find_vehicles(conn, picked) if comparison is None else []
    page = render_template(
        "compare.html",
        comparison=comparison,
        errors=errors,
        picked=picked,
        named=named,
        settings=settings,
        query=query,
        matches=matches,
        fields=COMPARE_FIELDS,
        fuel_figures=FUEL_FIGURES,
        fuels=FUELS,
        max_vehicles=MAX_VEHICLES,
        price_source=PRICE_SOURCE,
        co2_source=CO2_SOURCE,
        shown=shown,
        compare_url=compare_url,
    )
    return page, status
