"""Fetch the JavaScript the built book serves itself, so it works with no network.

    python tools/fetch_static.py            fetch once (does nothing if already in place)
    python tools/fetch_static.py --force    fetch again (after changing a version below)

The book renders math with MathJax and saved ipywidgets with the embed manager of
``@jupyter-widgets/html-manager`` (which needs RequireJS). Their npm tarballs are
fetched from the npm registry (``npm pack`` if npm is installed, otherwise a plain
HTTPS download of the same tarball), checked against the pinned sha512 integrity, and
only the files a page needs are unpacked into ``_vendor/_static/vendor/``. ``_vendor``
is an ``html_extra_path`` of the book (see ``_config.yml``), so the files land in
``_build/html/_static/vendor/``. Nothing here is committed; ``make book`` runs this.

The browser tests' accessibility checker, axe-core, is fetched the same way into
``_vendor_tests/`` instead: the tests inject it into each page they audit, and the
book itself never serves it.

To update a package: change its version, set its integrity to the value printed by
``npm view <name>@<version> dist.integrity``, and run with ``--force``.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import urllib.request
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEST = ROOT / "_vendor" / "_static" / "vendor"
# what only the browser tests use (tests/test_browser.py): not part of the built book
TEST_DEST = ROOT / "_vendor_tests"
STAMP = DEST / "versions.json"
REGISTRY = os.environ.get("npm_config_registry", "https://registry.npmjs.org").rstrip("/")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    integrity: str  # the registry's dist.integrity (sha512, base64)
    folder: str  # where its files go under DEST
    strip: str  # prefix inside the tarball that maps to the folder
    keep: tuple[str, ...]  # glob patterns (relative to strip) of the files a page needs
    for_tests: bool = False  # True: unpacked into TEST_DEST, not served by the book

    @property
    def target(self) -> Path:
        return (TEST_DEST if self.for_tests else DEST) / self.folder

    @property
    def tarball_url(self) -> str:
        base = self.name.split("/")[-1]
        return f"{REGISTRY}/{self.name}/-/{base}-{self.version}.tgz"


PACKAGES = (
    Package(
        name="mathjax",
        version="3.2.2",
        integrity="sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        folder="mathjax",
        strip="package/es5/",
        # tex-chtml.js is the combined component; the rest is what it loads on demand:
        # its web fonts, TeX extensions (autoload, \require), and the accessibility
        # tools of the right-click menu (which use the speech-rule engine, sre).
        keep=(
            "tex-chtml.js",
            "output/chtml/*",
            "input/tex/extensions/*",
            "a11y/*",
            "ui/*",
            "sre/*",
            "../LICENSE",
        ),
    ),
    Package(
        name="@jupyter-widgets/html-manager",
        version="1.0.15",  # the embed manager of ipywidgets 8.1
        integrity="sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
        folder="html-manager",
        strip="package/dist/",
        # embed-amd.js bundles ipywidgets' base, controls and output widgets; the
        # hashed files are the icon fonts its CSS refers to (browsers that run the
        # embed manager pick woff2 or woff, never the eot/ttf/svg fallbacks).
        keep=("embed-amd.js", "*.woff2", "*.woff"),
    ),
    Package(
        name="requirejs",
        version="2.3.8",
        integrity="sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
        folder="requirejs",
        strip="package/",
        keep=("require.js",),
    ),
    Package(
        name="axe-core",
        version="4.14.1",
        integrity="sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        folder="axe-core",
        strip="package/",
        # the accessibility rules engine the browser tests run on every page
        keep=("axe.min.js", "LICENSE"),
        for_tests=True,
    ),
)


def _integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()


def download(pkg: Package) -> bytes:
    """The package's tarball, from ``npm pack`` or the registry URL, integrity-checked."""
    npm = shutil.which("npm")
    if npm:
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(
                [npm, "pack", f"{pkg.name}@{pkg.version}", "--pack-destination", tmp, "--silent"],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            (tgz,) = Path(tmp).glob("*.tgz")
            data = tgz.read_bytes()
    else:
        with urllib.request.urlopen(pkg.tarball_url, timeout=120) as response:
            data = response.read()
    got = _integrity(data)
    if got != pkg.integrity:
        raise RuntimeError(
            f"{pkg.name}@{pkg.version}: integrity mismatch, expected {pkg.integrity}, got {got}"
        )
    return data


def _wanted(rel: str, keep: tuple[str, ...]) -> bool:
    # "dir/*" keeps the whole folder, any depth; other patterns match one path.
    return any(
        rel.startswith(pattern[:-1]) if pattern.endswith("/*") else fnmatch(rel, pattern)
        for pattern in keep
    )


def unpack(pkg: Package, data: bytes) -> int:
    target = pkg.target
    shutil.rmtree(target, ignore_errors=True)
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            name = member.name
            if pkg.strip.endswith("es5/") and name == "package/LICENSE":
                rel = "../LICENSE"
            elif name.startswith(pkg.strip):
                rel = name[len(pkg.strip) :]
            else:
                continue
            if not _wanted(rel, pkg.keep):
                continue
            out = target / ("LICENSE" if rel == "../LICENSE" else rel)
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(tar.extractfile(member).read())
            count += 1
    if count == 0:
        raise RuntimeError(f"{pkg.name}@{pkg.version}: no files matched {pkg.keep}")
    return count


def wanted_versions() -> dict[str, str]:
    return {pkg.name: pkg.version for pkg in PACKAGES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--force", action="store_true", help="fetch even if up to date")
    args = parser.parse_args(argv)
    in_place = STAMP.exists() and all(pkg.target.is_dir() for pkg in PACKAGES)
    if not args.force and in_place and json.loads(STAMP.read_text()) == wanted_versions():
        print(f"static assets up to date in {DEST.relative_to(ROOT)}")
        return 0
    for pkg in PACKAGES:
        count = unpack(pkg, download(pkg))
        print(f"{pkg.name}@{pkg.version}: {count} files -> {pkg.target.relative_to(ROOT)}")
    STAMP.write_text(json.dumps(wanted_versions(), indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
