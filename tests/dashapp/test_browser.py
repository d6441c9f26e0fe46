"""End to end in real headless Chromium: draw, compare, share a view, drill down."""

import csv
import io
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from dashapp.state import parse_query, to_query
from models import load_sample
from tests.dashapp.helpers import add_epa_vehicles

pytestmark = pytest.mark.browser

GRAPH = "#fuel-efficiency-vs-horsepower-graph"


def drawn_points(page: Any) -> int:
    """Points plotly.js has drawn in marker traces (works for SVG and WebGL traces)."""
    return page.evaluate(
        """(selector) => {
            const gd = document.querySelector(selector + ' .js-plotly-plot');
            if (!gd || !gd._fullData) return -1;
            return gd._fullData.filter((t) => t.mode === 'markers')
                .reduce((n, trace) => n + (trace._length || 0), 0);
        }""",
        GRAPH,
    )


def wait_for_points(page: Any, count: int) -> None:
    page.wait_for_function(
        """([selector, count]) => {
            const gd = document.querySelector(selector + ' .js-plotly-plot');
            return !!gd && !!gd._fullData && gd._fullData.filter((t) => t.mode === 'markers')
                .reduce((n, t) => n + (t._length || 0), 0) === count;
        }""",
        arg=[GRAPH, count],
        timeout=20_000,
    )


def query_of(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_dashboard_draws_compares_and_goes_back(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)  # Toyota, the default
    assert page.locator(f"{GRAPH} .gtitle").text_content().startswith("Toyota")
    assert page.locator(f"{GRAPH} .scatterlayer .point").count() == 26
    assert "14 of 406 vehicles lack horsepower or mpg" in page.locator("#store-notice").inner_text()

    page.locator("#manufacturer-dropdown").click()
    page.get_by_role("option", name="Honda (13)").click()
    wait_for_points(page, 39)
    assert page.locator(f"{GRAPH} .legend .traces").count() >= 2
    page.wait_for_function("() => location.search.includes('Honda')")
    assert query_of(page)["manufacturer"] == ["Toyota", "Honda"]

    page.go_back()
    wait_for_points(page, 26)
    page.go_forward()
    wait_for_points(page, 39)


def update_requests(page: Any) -> list[str]:
    """The bodies of the callback requests the page sends to the server from now on."""
    bodies: list[str] = []
    page.on(
        "request",
        lambda r: bodies.append(r.post_data or "") if "_dash-update-component" in r.url else None,
    )
    return bodies


def test_a_change_of_control_is_one_server_request(page: Any, live_url: str) -> None:
    bodies = update_requests(page)
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)
    page.wait_for_load_state("networkidle")
    assert len(bodies) == 1  # the first figure; the plain address needs no reading
    bodies.clear()

    page.locator("#x-axis").click()
    page.get_by_role("option", name="Weight (lb)").click()
    page.wait_for_function("() => location.search.includes('x=weight')")
    page.wait_for_function(
        "(s) => document.querySelector(s + ' .xtitle').textContent === 'Weight (lb)'", arg=GRAPH
    )
    page.wait_for_load_state("networkidle")
    assert len(bodies) == 1
    assert '"fuel-efficiency-vs-horsepower-graph.figure"' in bodies[0]
    # The address the browser wrote reads back, on the server, as the view it shows.
    assert query_of(page) == {"manufacturer": ["Toyota"], "x": ["weight"]}
    assert to_query(parse_query(urlparse(page.url).query)) == "?" + urlparse(page.url).query


def test_opening_a_link_keeps_its_address(page: Any, live_url: str) -> None:
    link = f"{live_url}/dash/?x=weight&manufacturer=Honda&manufacturer=Toyota&year_min=1970"
    page.goto(link)
    wait_for_points(page, 39)
    page.wait_for_load_state("networkidle")
    # Restoring a link pushes no new history entry, even where it is not written the way
    # the page would write it.
    assert page.url == link
    assert page.evaluate("() => history.length") == 2  # about:blank, then the link


def test_shared_url_restores_the_view(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=Toyota&manufacturer=Honda&x=weight")
    wait_for_points(page, 39)
    assert drawn_points(page) == 39
    assert page.locator(f"{GRAPH} .xtitle").text_content() == "Weight (lb)"
    assert page.locator("#summary-cards .card .value").first.inner_text() == "39"
    assert page.locator("#url-notice").inner_text() == ""


def test_invalid_url_values_fall_back_with_a_notice(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=Honda&x=colour&year_min=soon")
    wait_for_points(page, 13)
    notice = page.locator("#url-notice").inner_text()
    assert "x must be one of" in notice and "year_min must be a whole year" in notice
    assert page.locator(f"{GRAPH} .xtitle").text_content() == "Horsepower (hp)"


def click_point(page: Any, index: int = 0) -> None:
    """Click a drawn point where it is: plotly.js listens on its drag layer above the points."""
    point = page.locator(f"{GRAPH} .scatterlayer .point").nth(index)
    point.scroll_into_view_if_needed()
    where = point.bounding_box()
    assert where is not None
    x, y = where["x"] + where["width"] / 2, where["y"] + where["height"] / 2
    page.mouse.move(x, y)
    page.mouse.click(x, y)


def test_clicking_a_point_shows_its_details(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=BMW")
    wait_for_points(page, 2)
    click_point(page)
    details = page.locator("#vehicle-details")
    details.locator("#vehicle-api-link").wait_for(timeout=10_000)
    text = details.inner_text()
    assert "BMW" in text and "horsepower" in text
    assert details.locator("#similar-vehicles li").count() == 5
    href = details.locator("#vehicle-api-link").get_attribute("href")
    assert href is not None and href.startswith("/api/v1/vehicles/")


def open_table(page: Any) -> None:
    """Ask for the table, whose script is not part of the first page load."""
    page.get_by_role("button", name="Show the plotted vehicles as a table").click()
    page.locator("#vehicle-table .ag-row").first.wait_for(timeout=15_000)


TABLE_IDS = """() => {
    const ids = [];
    window.dash_ag_grid.getApi('vehicle-table').forEachNode((node) => ids.push(node.data.id));
    return ids;
}"""


def table_ids(page: Any) -> list[int]:
    """Every row id the grid holds (it renders only the rows in view)."""
    return sorted(page.evaluate(TABLE_IDS))


def test_the_table_loads_on_demand_and_follows_the_figure(page: Any, live_url: str) -> None:
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(r.url) if ".js" in r.url else None)
    page.goto(f"{live_url}/dash/?manufacturer=Toyota&manufacturer=Honda")
    wait_for_points(page, 39)
    assert not [url for url in scripts if "dash_ag_grid" in url]
    assert page.locator("#summary-cards .card .value").all_inner_texts()[0] == "39"

    open_table(page)
    assert [url for url in scripts if "dash_ag_grid" in url]
    assert table_ids(page) == sorted(plotted_ids(page))
    assert len(table_ids(page)) == 39
    first = page.locator("#vehicle-table .ag-row").first.inner_text()
    assert "Toyota" in first or "Honda" in first

    # A new selection redraws the open table from the new figure.
    page.locator("#manufacturer-dropdown").click()
    page.get_by_role("option", name="BMW (2)").click()
    wait_for_points(page, 41)
    page.wait_for_function(f"() => ({TABLE_IDS})().length === 41")
    assert table_ids(page) == sorted(plotted_ids(page))


def test_a_slow_table_script_still_lists_the_figure_shown_when_it_arrives(
    page: Any, live_url: str
) -> None:
    held: list[Any] = []
    page.route("**/dash_ag_grid/dash_ag_grid*.js*", lambda route: held.append(route))
    page.goto(f"{live_url}/dash/?manufacturer=Toyota&manufacturer=Honda")
    wait_for_points(page, 39)
    page.get_by_role("button", name="Show the plotted vehicles as a table").click()
    page.wait_for_function("() => true")  # let Playwright hand over the held request
    while not held:
        page.wait_for_timeout(50)
    # The selection changes while the grid's script is still on its way.
    page.locator("#manufacturer-dropdown").click()
    page.get_by_role("option", name="BMW (2)").click()
    wait_for_points(page, 41)
    held[0].continue_()
    page.wait_for_function(  # getApi throws until the grid has initialized
        f"() => {{ try {{ return ({TABLE_IDS})().length === 41; }} catch (e) {{ return false; }} }}"
    )
    assert table_ids(page) == sorted(plotted_ids(page))


def test_first_load_javascript_with_async_chunks_is_under_800_kb(page: Any, live_url: str) -> None:
    sizes: dict[str, int] = {}

    def record(request: Any) -> None:
        if ".js" in request.url:
            sizes[request.url] = request.sizes()["responseBodySize"]

    page.on("requestfinished", record)
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)
    page.wait_for_load_state("networkidle")
    assert any("async-dropdown" in url for url in sizes)  # chunks fetched while rendering
    assert not [url for url in sizes if "dash_ag_grid" in url]
    assert 500_000 < sum(sizes.values()) <= 800_000, sizes


def test_selecting_a_table_row_highlights_its_point(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=BMW")
    wait_for_points(page, 2)
    open_table(page)
    # A click anywhere on the row selects it.
    page.locator("#vehicle-table .ag-row", has_text="2002 (1970)").click()
    page.wait_for_function(
        """(selector) => {
            const gd = document.querySelector(selector + ' .js-plotly-plot');
            return !!gd && gd.data.some((t) => Array.isArray(t.selectedpoints)
                && t.selectedpoints.length === 1);
        }""",
        arg=GRAPH,
        timeout=10_000,
    )
    page.locator("#vehicle-api-link").wait_for(timeout=10_000)
    assert page.locator("#vehicle-details h2").inner_text() == "1970 BMW 2002"


def plotted_ids(page: Any) -> list[int]:
    return page.evaluate(
        """(selector) => {
            const gd = document.querySelector(selector + ' .js-plotly-plot');
            return gd._fullData.filter((t) => t.mode === 'markers')
                .flatMap((t) => Array.from(t.customdata));
        }""",
        GRAPH,
    )


def test_csv_download_holds_exactly_the_plotted_rows(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=Toyota&manufacturer=Honda&year_min=1972")
    cars = [
        c
        for c in load_sample()
        if c.manufacturer in {"Toyota", "Honda"}
        and c.horsepower is not None
        and c.combined_mpg is not None
        and c.year >= 1972
    ]
    wait_for_points(page, len(cars))
    with page.expect_download() as download_info:
        page.locator("#csv-download").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == len(cars)
    assert sorted(int(r["fueldash_id"]) for r in rows) == sorted(plotted_ids(page))
    assert {r["manufacturer"] for r in rows} == {"Toyota", "Honda"}


VISIBLE_TREND_LINES = """(selector) => {
    const gd = document.querySelector(selector + ' .js-plotly-plot');
    return gd.data.filter((t) => t.meta && t.meta.trend && t.visible === true).length;
}"""


def visible_trend_lines(page: Any) -> int:
    return page.evaluate(VISIBLE_TREND_LINES, GRAPH)


def test_trend_toggle_restyles_in_the_browser(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=Toyota&manufacturer=Honda")
    wait_for_points(page, 39)
    assert visible_trend_lines(page) == 0
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url) if "_dash-update" in r.url else None)
    page.get_by_label("Trend lines").check()
    page.wait_for_function("() => location.search.includes('trend=1')")
    # The restyle and the address are separate callbacks; wait for the restyle too.
    page.wait_for_function(f"(s) => ({VISIBLE_TREND_LINES})(s) === 2", arg=GRAPH)
    assert visible_trend_lines(page) == 2
    assert "mpg per hp" in page.locator(f"{GRAPH} .legend").text_content()
    page.wait_for_load_state("networkidle")
    # The restyle and the address are both done in the browser.
    assert requests == []


def test_a_filter_change_redraws_once_and_keeps_the_trend_lines(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=Toyota&manufacturer=Honda&trend=1")
    wait_for_points(page, 39)
    page.wait_for_function(f"(s) => ({VISIBLE_TREND_LINES})(s) === 2", arg=GRAPH)
    bodies: list[str] = []
    page.on(
        "request",
        lambda r: bodies.append(r.post_data or "") if "_dash-update" in r.url else None,
    )
    page.locator("#x-axis").click()
    page.get_by_role("option", name="Weight (lb)").click()
    page.wait_for_function(
        "(s) => document.querySelector(s + ' .xtitle').textContent === 'Weight (lb)'", arg=GRAPH
    )
    wait_for_points(page, 39)
    page.wait_for_function("() => location.search.includes('x=weight')")
    # The trend toggle is read when the figure is drawn, so the new figure keeps it on.
    page.wait_for_function(f"(s) => ({VISIBLE_TREND_LINES})(s) === 2", arg=GRAPH)
    figure_requests = [b for b in bodies if '"fuel-efficiency-vs-horsepower-graph.figure"' in b]
    assert len(figure_requests) == 1


def test_phone_width_and_dark_theme(browser: Any, live_url: str) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800}, color_scheme="dark")
    page = context.new_page()
    try:
        page.goto(f"{live_url}/dash/")
        wait_for_points(page, 26)
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 375
        # Bootstrap's dark theme, as every page of the site has it.
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(33, 37, 41)"
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 80)")
        assert focused and "body" not in focused
    finally:
        context.close()


def test_switching_to_the_epa_dataset_draws_chevrolet_against_displacement(
    page: Any, live_url: str, app: Any
) -> None:
    add_epa_vehicles(app)
    page.goto(f"{live_url}/dash/?manufacturer=Chevrolet")
    wait_for_points(page, 47)
    page.locator("#dataset-select").click()
    page.get_by_role("option", name="EPA fuel economy, 1984-2015 (3,461)").click()
    wait_for_points(page, 3458)
    assert page.locator(f"{GRAPH} .xtitle").text_content() == "Displacement (litres)"
    assert query_of(page) == {"dataset": ["epa-1984-2015"], "manufacturer": ["Chevrolet"]}
    # The manufacturer dropdown now counts Chevrolet's EPA vehicles.
    page.locator("#manufacturer-dropdown").click()
    assert page.get_by_role("option", name="Chevrolet (3458)").count() == 1
