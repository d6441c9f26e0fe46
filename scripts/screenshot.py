"""Take the README's screenshot of the dashboard in headless Chromium.

Usage: python scripts/screenshot.py docs/dashboard.png [width]
It seeds a throwaway SQLite store, serves the app on loopback and photographs /dash/
comparing Toyota and Honda, one vehicle's details open. A width (e.g. 375) photographs the
page as a phone shows it.
"""

import sys
import tempfile
import threading
from pathlib import Path

from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from models.db import db
from server import create_app

#: The view the README shows: a comparison with trend lines.
SHOWCASE_VIEW = "?manufacturer=Toyota&manufacturer=Honda&trend=1"

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main(target: Path, width: int = 1280) -> None:
    from models import seed_sample

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/shot.sqlite3"})
        with app.app_context():
            upgrade()
            with db.engine.begin() as conn:
                seed_sample(conn)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": width, "height": 1000})
                page.goto(f"http://127.0.0.1:{server.server_port}/dash/{SHOWCASE_VIEW}")
                page.wait_for_selector("#fuel-efficiency-vs-horsepower-graph .point")
                page.wait_for_selector("#summary-cards .card")
                # A clicked point: its details open beside the chart.
                point = page.locator("#fuel-efficiency-vs-horsepower-graph .point").nth(5)
                where = point.bounding_box()
                if where:
                    x, y = where["x"] + where["width"] / 2, where["y"] + where["height"] / 2
                    page.mouse.move(x, y)
                    page.mouse.click(x, y)
                    page.wait_for_selector("#vehicle-api-link")
                page.mouse.move(0, 0)
                page.wait_for_timeout(500)
                target.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(target))
                browser.close()
        finally:
            server.shutdown()
    print(f"wrote {target}")


if __name__ == "__main__":
    main(
        Path(sys.argv[1] if len(sys.argv) > 1 else "docs/dashboard.png"),
        int(sys.argv[2]) if len(sys.argv) > 2 else 1280,
    )
