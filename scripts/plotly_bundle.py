"""Install plotly's basic plotly.js bundle into the dashboard's assets.

The dashboard only draws ``scatter`` traces, so it ships ``plotly.js-basic-dist-min``
(scatter, bar and pie: about 390 KB gzipped) instead of the full plotly.js (about 1.5 MB).
The browser runs it in about a third of the cartesian bundle's time, which is most of what
separates a first visit from its first chart (bench/RESULTS.md). Dash serves every
``.js`` file in ``dashapp/assets/`` as a script before its components, so ``window.Plotly``
exists when ``dcc.Graph`` mounts and the full bundle is never fetched.

The version always matches the plotly.js that the installed ``plotly`` Python package
bundles (its ``package_data/plotly.min.js`` header), so figures behave the same. Run it
after upgrading plotly: ``make plotly-bundle`` (needs ``npm``, which only fetches the
package from the npm registry).
"""

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from importlib import resources
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "dashapp" / "assets"
PACKAGE = "plotly.js-basic-dist-min"
BUNDLE_GLOB = "plotly-basic-*.min.js"
#: The bundle this script replaced; removed when the basic one is installed.
OLD_BUNDLE_GLOB = "plotly-cartesian-*.min.js"
_VERSION = re.compile(r"plotly\.js(?: \([^)]*\))? v(\d+\.\d+\.\d+)")


def bundle_version(text: str) -> str:
    """The plotly.js version named in a bundle's header comment."""
    found = _VERSION.search(text[:500])
    if found is None:
        raise ValueError("no plotly.js version in the bundle's header")
    return found.group(1)


def bundled_plotlyjs_version() -> str:
    """The plotly.js version inside the installed plotly Python package."""
    text = resources.files("plotly").joinpath("package_data/plotly.min.js").read_text()
    return bundle_version(text)


def installed_bundle() -> Path | None:
    found = sorted(ASSETS.glob(BUNDLE_GLOB))
    return found[-1] if found else None


def main() -> int:
    version = bundled_plotlyjs_version()
    target = ASSETS / f"plotly-basic-{version}.min.js"
    if target.exists():
        print(f"{target.name} is already installed")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "--silent", f"{PACKAGE}@{version}"], cwd=tmp, check=True)
        (tarball,) = Path(tmp).glob("*.tgz")
        with tarfile.open(tarball) as archive:
            member = archive.getmember("package/plotly-basic.min.js")
            source = archive.extractfile(member)
            assert source is not None
            text = source.read().decode()
    if bundle_version(text) != version:
        raise SystemExit(f"npm gave plotly.js {bundle_version(text)}, expected {version}")
    for old in (*ASSETS.glob(BUNDLE_GLOB), *ASSETS.glob(OLD_BUNDLE_GLOB)):
        old.unlink()
    target.write_text(text)
    print(f"installed {target.relative_to(ASSETS.parent.parent)} (plotly.js {version})")
    return 0


if __name__ == "__main__":
    if shutil.which("npm") is None:
        sys.exit("npm is needed to fetch the bundle: apt-get install -y npm")
    sys.exit(main())
