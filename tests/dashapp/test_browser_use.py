"""The dashboard as a new user meets it (issue 14), in real headless Chromium: colours,
shared links, the manufacturer cap, units, the modebar, details, phone and keyboard."""

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import select

from dashapp.figures import PALETTE
from models import Vehicle
from models.db import db
from tests.dashapp.test_browser import (
    GRAPH,
    click_point,
    open_table,
    wait_for_points,
)

pytestmark = pytest.mark.browser

PHONE = {"width": 375, "height": 812}


@pytest.fixture
def phone(browser: Any) -> Iterator[Any]:
    """A page the size of a phone's screen."""
    context = browser.new_context(viewport=PHONE, has_touch=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, errors


def trace_colours(page: Any) -> dict[str, str]:
    """Each manufacturer's marker colour as plotly drew it."""
    return page.evaluate(
        """(selector) => Object.fromEntries(
            document.querySelector(selector + ' .js-plotly-plot')._fullData
                .filter((t) => t.mode === 'markers')
                .map((t) => [t.name, t.marker.color]))""",
        GRAPH,
    )


def box(page: Any, selector: str) -> dict[str, float]:
    found = page.locator(selector).first.bounding_box()
    assert found is not None, selector
    return found


def test_a_manufacturer_keeps_its_colour_in_every_selection(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=Toyota")
    wait_for_points(page, 26)
    alone = trace_colours(page)
    page.goto(f"{live_url}/dash/?manufacturer=Honda&manufacturer=Datsun&manufacturer=Toyota")
    wait_for_points(page, 62)
    together = trace_colours(page)
    assert together["Toyota"] == alone["Toyota"]
    assert together["Honda"] != together["Datsun"]
    assert set(together.values()) <= set(PALETTE)
    # The table marks each row with its manufacturer's colour.
    open_table(page)
    row = page.locator("#vehicle-table .ag-row", has_text="Honda").first
    cell = row.locator("[col-id=manufacturer]")
    border = cell.evaluate("(el) => getComputedStyle(el).borderLeftColor")
    red, green, blue = (int(together["Honda"][i : i + 2], 16) for i in (1, 3, 5))
    assert border == f"rgb({red}, {green}, {blue})"


def test_a_shared_link_matches_names_and_says_what_it_dropped(page: Any, live_url: str) -> None:
    link = f"{live_url}/dash/?manufacturer=honda&manufacturer=Hondaa&manufacturer=chevy"
    page.goto(link)
    wait_for_points(page, 13 + 47)  # Honda and Chevrolet
    notice = page.locator("#url-notice")
    notice.wait_for()
    text = notice.inner_text()
    assert "“Hondaa”" in text and "left out" in text
    assert "“chevy” is shown as Chevrolet" in text
    assert set(trace_colours(page)) == {"Honda", "Chevrolet"}
    page.wait_for_load_state("networkidle")
    assert page.url == link  # the address is the one that was shared


def test_a_link_naming_no_known_maker_keeps_its_address(page: Any, live_url: str) -> None:
    link = f"{live_url}/dash/?manufacturer=Nobody&x=weight"
    page.goto(link)
    wait_for_points(page, 26)  # the default, Toyota
    assert "“Nobody”" in page.locator("#url-notice").inner_text()
    page.wait_for_load_state("networkidle")
    assert page.url == link


def test_select_all_says_that_a_chart_plots_twelve(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)
    page.locator("#manufacturer-dropdown").click()
    page.get_by_text("Select all (plots the first 12)").click()
    page.keyboard.press("Escape")
    notice = page.locator("#manufacturer-cap-notice")
    notice.wait_for()
    # Citroen, offered disabled (nothing to plot), is left out and named; the first twelve
    # of the others are plotted.
    assert "Citroen has nothing to plot, so it is left out." in notice.inner_text()
    assert "29 manufacturers are picked; a chart plots at most 12" in notice.inner_text()
    page.wait_for_function(
        """(s) => document.querySelector(s + ' .js-plotly-plot')._fullData
            .filter((t) => t.mode === 'markers').length === 12""",
        arg=GRAPH,
    )
    legend = page.locator(f"{GRAPH} .legend").text_content()
    assert "Ford" in legend and "Citroen" not in legend


def test_a_link_to_a_maker_with_nothing_to_plot_says_why(page: Any, live_url: str) -> None:
    link = f"{live_url}/dash/?manufacturer=Citroen"
    page.goto(link)
    page.wait_for_function(
        "(s) => document.querySelector(s + ' .js-plotly-plot .annotation') !== null", arg=GRAPH
    )
    assert "horsepower and mpg" in page.locator(f"{GRAPH} .annotation").text_content()
    page.wait_for_load_state("networkidle")
    assert page.url == link


def test_a_maker_with_nothing_to_plot_is_offered_disabled(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)
    page.locator("#manufacturer-dropdown").click()
    citroen = page.get_by_role("option", name="Citroen (0: none has both horsepower and mpg)")
    assert citroen.count() == 1
    assert citroen.get_attribute("aria-disabled") == "true" or citroen.is_disabled()


def test_options_are_compact(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)
    page.locator("#manufacturer-dropdown").click()
    options = page.get_by_role("option")
    options.nth(3).wait_for()
    heights = [options.nth(i).bounding_box()["height"] for i in range(3)]
    # Was 48 px: bold, two lines, the checkbox above the text. Now 8 or more fit the menu.
    assert max(heights) <= 40, heights
    menu = page.get_by_role("listbox").first.bounding_box()
    assert menu["height"] / max(heights) >= 8
    weight = options.nth(1).evaluate("(el) => getComputedStyle(el).fontWeight")
    assert weight == "400"


def test_litres_per_100_km_reach_every_part_of_the_page(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=BMW&trend=1")
    wait_for_points(page, 2)
    page.get_by_label("L/100 km").check()
    page.wait_for_function(
        "(s) => document.querySelector(s + ' .ytitle').textContent.includes('L/100 km')", arg=GRAPH
    )
    assert page.locator("#y-axis").inner_text() == "Combined fuel consumption (L/100 km)"
    assert "L/100 km per hp" in page.locator(f"{GRAPH} .legend").text_content()
    page.get_by_label("Trend lines").uncheck()  # so a click lands on a point, not a line
    click_point(page)
    page.locator("#vehicle-api-link").wait_for()
    terms = page.locator("#vehicle-details dt").all_inner_texts()
    combined = page.locator("#vehicle-details dd").nth(terms.index("Combined fuel economy"))
    assert "L/100 km" in combined.inner_text() and "mpg" not in combined.inner_text()
    similar = page.locator("#similar-vehicles li").first.inner_text()
    assert "L/100 km" in similar and " mpg" not in similar


def test_the_modebar_keeps_the_png_download_and_no_share_button(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)
    page.locator(f"{GRAPH} .nsewdrag").hover()
    titles = page.locator(f"{GRAPH} .modebar-btn").evaluate_all(
        "(buttons) => buttons.map((b) => b.getAttribute('data-title'))"
    )
    assert "Download plot as a PNG" in titles
    assert len(titles) <= 4, titles  # fewer stops for the keyboard too
    assert not [t for t in titles if "Cloud" in t or "Chart Studio" in t]


def test_no_manufacturer_no_download_link(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)
    assert page.locator("#csv-download").is_visible()
    page.locator("#manufacturer-dropdown").click()
    page.get_by_role("button", name="Deselect All").click()
    page.keyboard.press("Escape")
    wait_for_points(page, 0)
    page.wait_for_function("() => document.getElementById('csv-download').hidden")
    assert not page.locator("#csv-download").is_visible()


def contrast(page: Any) -> float:
    """The contrast ratio of the hover label's text against its background."""
    return page.evaluate(
        """() => {
            const label = document.querySelector('.hoverlayer .hovertext');
            const rgb = (el, prop) => getComputedStyle(el)[prop].match(/[\\d.]+/g).slice(0, 3)
                .map(Number);
            const lum = ([r, g, b]) => {
                const f = (c) => { c /= 255; return c <= 0.03928 ? c / 12.92
                    : Math.pow((c + 0.055) / 1.055, 2.4); };
                return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
            };
            const text = lum(rgb(label.querySelector('text'), 'fill'));
            const back = lum(rgb(label.querySelector('path'), 'fill'));
            return (Math.max(text, back) + 0.05) / (Math.min(text, back) + 0.05);
        }"""
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_hover_labels_are_readable(browser: Any, live_url: str, scheme: str) -> None:
    context = browser.new_context(viewport={"width": 1200, "height": 900}, color_scheme=scheme)
    page = context.new_page()
    try:
        page.goto(f"{live_url}/dash/?manufacturer=BMW")
        wait_for_points(page, 2)
        page.locator(f"{GRAPH} .scatterlayer .point").first.scroll_into_view_if_needed()
        point = page.locator(f"{GRAPH} .scatterlayer .point").first.bounding_box()
        page.mouse.move(point["x"] - 20, point["y"] - 20)
        page.mouse.move(point["x"] + point["width"] / 2, point["y"] + point["height"] / 2, steps=4)
        page.locator(".hoverlayer .hovertext").wait_for()
        assert contrast(page) >= 4.5
    finally:
        context.close()


def test_a_clicked_point_is_marked_linked_and_detailed_beside_the_chart(
    page: Any, live_url: str
) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=BMW")
    wait_for_points(page, 2)
    click_point(page)
    page.locator("#vehicle-api-link").wait_for()
    vehicle = parse_qs(urlparse(page.url).query)["vehicle"]
    assert page.locator("#vehicle-api-link").get_attribute("href") == (
        f"/api/v1/vehicles/{vehicle[0]}"
    )
    # Beside the chart, not below it.
    chart, details = box(page, GRAPH), box(page, "#vehicle-details")
    assert details["x"] >= chart["x"] + chart["width"] - 1
    assert details["y"] < chart["y"] + chart["height"] / 2
    page.wait_for_function(
        """(s) => document.querySelector(s + ' .js-plotly-plot').data
            .some((t) => Array.isArray(t.selectedpoints) && t.selectedpoints.length === 1)""",
        arg=GRAPH,
    )
    # The link opens on the same vehicle, marked.
    page.goto(page.url)
    page.locator("#vehicle-api-link").wait_for()
    assert page.locator("#vehicle-api-link").get_attribute("href").endswith(vehicle[0])
    page.wait_for_function(
        """(s) => document.querySelector(s + ' .js-plotly-plot').data
            .some((t) => Array.isArray(t.selectedpoints) && t.selectedpoints.length === 1)""",
        arg=GRAPH,
    )


def test_details_read_as_text_not_raw_data(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=Toyota")
    wait_for_points(page, 26)
    click_point(page, 3)
    page.locator("#vehicle-api-link").wait_for()
    fields = dict(
        zip(
            page.locator("#vehicle-details dt").all_inner_texts(),
            page.locator("#vehicle-details dd").all_inner_texts(),
            strict=True,
        )
    )
    assert fields["Weight"].endswith(" lb") and fields["Horsepower"].endswith(" hp")
    assert not fields["Model"].islower()  # the sample writes "corona": shown "Corona"
    heading = page.locator("#vehicle-details h2").inner_text()
    assert heading.startswith(fields["Model year"]) and "((" not in heading
    assert ") (" not in page.locator("#similar-vehicles").inner_text()


def test_the_phone_shows_the_chart_first_and_details_in_a_sheet(phone: Any, live_url: str) -> None:
    phone.goto(f"{live_url}/dash/?manufacturer=Toyota&manufacturer=Honda&manufacturer=Datsun")
    wait_for_points(phone, 62)
    assert phone.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    # The controls are folded away and the whole plot area is on the first screen.
    assert phone.evaluate("() => document.getElementById('controls-panel').open") is False
    plot = box(phone, f"{GRAPH} .nsewdrag")
    assert plot["y"] + plot["height"] <= PHONE["height"]
    # The title is written out in full above the chart, not cut by it.
    caption = phone.locator("#chart-caption").inner_text()
    assert caption.startswith("Toyota, Honda, Datsun: fuel efficiency vs horsepower")
    # Neither the legend nor the modebar covers the axes or the plot.
    legend, x_title = box(phone, f"{GRAPH} .legend"), box(phone, f"{GRAPH} .xtitle")
    assert legend["y"] >= x_title["y"] + x_title["height"]
    phone.locator(f"{GRAPH} .nsewdrag").tap(position={"x": 5, "y": 5})
    modebar = box(phone, f"{GRAPH} .modebar")
    assert modebar["y"] + modebar["height"] <= plot["y"]
    # A tapped point opens its details in a sheet on the screen.
    click_point(phone)
    phone.locator("#vehicle-api-link").wait_for()
    sheet = box(phone, "#vehicle-details")
    assert sheet["y"] + sheet["height"] <= PHONE["height"] + 1 and sheet["y"] > 0
    phone.get_by_role("button", name="Close the vehicle details").click()
    phone.wait_for_function("() => !location.search.includes('vehicle=')")
    phone.locator("#vehicle-details").wait_for(state="hidden")


def test_the_phone_table_shows_whole_names(phone: Any, live_url: str) -> None:
    phone.goto(f"{live_url}/dash/?manufacturer=Volkswagen")
    wait_for_points(phone, 22)
    open_table(phone)
    cell = phone.locator("#vehicle-table .ag-row [col-id=manufacturer]").first
    assert cell.evaluate("(el) => el.scrollWidth <= el.clientWidth")
    assert cell.inner_text() == "Volkswagen"


def test_the_table_button_stays_and_keeps_the_focus(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=BMW")
    wait_for_points(page, 2)
    button = page.locator("#show-vehicle-table")
    button.focus()
    page.keyboard.press("Enter")
    page.locator("#vehicle-table .ag-row").first.wait_for()
    assert button.inner_text() == "Hide the table"
    assert button.get_attribute("aria-expanded") == "true"
    assert page.evaluate("() => document.activeElement.id") == "show-vehicle-table"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('vehicle-table-container').hidden")
    assert button.inner_text() == "Show the plotted vehicles as a table"


def test_dragging_the_year_slider_is_one_history_entry(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/")
    wait_for_points(page, 26)
    page.wait_for_load_state("networkidle")
    before = page.evaluate("() => history.length")
    handle = page.locator("#year-range .rc-slider-handle, #year-range [role=slider]").first
    start = handle.bounding_box()
    track = box(page, "#year-range")
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    for step in range(1, 6):
        page.mouse.move(start["x"] + step * track["width"] / 20, start["y"] + start["height"] / 2)
        page.wait_for_timeout(100)
    page.mouse.up()
    page.wait_for_function("() => location.search.includes('year_min')")
    page.wait_for_function(
        """(s) => document.querySelector(s + ' .js-plotly-plot')._fullData
            .filter((t) => t.mode === 'markers').reduce((n, t) => n + t._length, 0) < 26""",
        arg=GRAPH,
    )
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => history.length") == before + 1


def test_vehicles_are_picked_for_comparison_from_search_and_chart(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=BMW")
    wait_for_points(page, 2)
    page.locator("#compare-search").click()
    # Type into the popover's own search box: keys sent while focus is still on the
    # dropdown's button are forwarded by Dash, which drops one now and then ("civc").
    search_box = page.locator("input.dash-dropdown-search")
    search_box.click()
    page.keyboard.type("civic")
    assert search_box.input_value() == "civic"
    civic = page.get_by_role("option", name="Honda Civic", exact=False).first
    civic.wait_for()
    civic.click()
    tray = page.locator("#compare-tray")
    tray.get_by_text("Honda Civic", exact=False).wait_for()
    assert tray.locator("li").count() == 1
    click_point(page)
    page.get_by_role("button", name="Add to comparison").click()
    link = page.get_by_role("link", name="Compare 2 vehicles")
    link.wait_for()
    ids = parse_qs(urlparse(link.get_attribute("href")).query)["ids"][0].split(",")
    assert len(ids) == 2 and all(i.isdigit() for i in ids)
    tray.get_by_role("button").first.click()
    page.get_by_text("Pick one more vehicle to compare").wait_for()


def test_the_csv_follows_the_units_switch(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=BMW")
    wait_for_points(page, 2)
    page.get_by_label("L/100 km").check()
    page.wait_for_function(
        "() => document.getElementById('csv-download').href.includes('units=l100km')"
    )
    with page.expect_download() as download_info:
        page.locator("#csv-download").click()
    text = Path(download_info.value.path()).read_text(encoding="utf-8")
    rows = {row["model"]: row for row in csv.DictReader(io.StringIO(text))}
    assert rows["2002"]["combined_l_per_100km"] == "9.05"  # 235.215 / 26 mpg
    assert not [name for name in rows["2002"] if "mpg" in name]


def tab_to(page: Any, element_id: str, most: int = 80) -> None:
    """Press Tab until the element has the focus; fails if it is not in the tab order."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == element_id:
            return
    pytest.fail(f"#{element_id} was not reached in {most} presses of Tab")


HOVER_TEXT = "() => (document.querySelector('.hoverlayer .hovertext') || {}).textContent || ''"


def test_the_chart_is_reached_and_used_by_keyboard(page: Any, live_url: str, app: Any) -> None:
    with app.app_context():
        ids = dict(
            db.session.execute(
                select(Vehicle.model, Vehicle.id).where(Vehicle.model.in_(["2002", "320i"]))
            ).all()
        )
    page.goto(f"{live_url}/dash/?manufacturer=BMW")
    wait_for_points(page, 2)
    page.wait_for_load_state("networkidle")
    tab_to(page, "chart-keys")
    assert "arrow keys" in page.locator("#chart-keys").get_attribute("aria-label")
    # Along the x axis: the 320i (110 hp), then the 2002 (113 hp).
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ({HOVER_TEXT})().includes('320i')")
    assert "320i" in page.locator("#chart-point").text_content()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(f"() => ({HOVER_TEXT})().includes('2002')")
    assert "Vehicle 2 of 2" in page.locator("#chart-point").text_content()
    page.keyboard.press("ArrowRight")  # the last stays highlighted
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => location.search.includes('vehicle={ids['2002']}')")
    link = page.locator("#vehicle-api-link")
    link.wait_for()
    assert link.get_attribute("href") == f"/api/v1/vehicles/{ids['2002']}"
    assert "2002" in page.locator("#vehicle-details h2").inner_text()
    # The point is marked as a clicked one is, and the focus stays on the chart.
    page.wait_for_function(
        """(s) => document.querySelector(s + ' .js-plotly-plot').data
            .some((t) => Array.isArray(t.selectedpoints) && t.selectedpoints.length === 1)""",
        arg=GRAPH,
    )
    assert page.evaluate("() => document.activeElement.id") == "chart-keys"
    page.keyboard.press("Home")
    page.wait_for_function(f"() => ({HOVER_TEXT})().includes('320i')")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => location.search.includes('vehicle={ids['320i']}')")


def test_the_modebar_is_a_few_tab_stops_after_the_chart(page: Any, live_url: str) -> None:
    page.goto(f"{live_url}/dash/?manufacturer=BMW")
    wait_for_points(page, 2)
    page.wait_for_load_state("networkidle")
    tab_to(page, "chart-keys")
    stops = []
    for _ in range(12):
        page.keyboard.press("Tab")
        inside = page.evaluate(
            """() => document.getElementById('chart-keys').contains(document.activeElement)
                ? document.activeElement.getAttribute('data-title') : null"""
        )
        if inside is None:
            break
        stops.append(inside)
    # Was ten buttons; the four kept ones remain reachable, the PNG download among them.
    assert "Download plot as a PNG" in stops
    assert len(stops) <= 4, stops
