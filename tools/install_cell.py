"""Put the guarded install cell at the top of chapter notebooks (idempotent).

On Colab, or any Python without the course's library, the chapters' first import of
``convlib`` would fail. This tool inserts, before the first code cell of each notebook, a
cell that installs the library pinned to the book's version (``convlib.__version__``) from
the canonical repository's tag ``v<version>``, only where ``import convlib`` cannot find it.
Where convlib is installed (``make lab``, Binder, nbval, the book build) the cell does
nothing and prints nothing, so it has no output to compare. It is tagged ``remove-cell``:
the built book does not show it.

Running the tool again replaces the cell (say, after a version bump) instead of adding a
second one; with ``--check`` it changes nothing and exits 1 if a notebook needs the cell.

    python tools/install_cell.py chapters/*.ipynb
    python tools/install_cell.py --check chapters/*.ipynb
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
REPOSITORY = "https://github.com/convlib/convolution-book"
DISTRIBUTION = "convolution-book"
MARKER = "# Installs the course's library where it is missing (Colab)."
TAGS = ["remove-cell"]

TEMPLATE = """{marker} Elsewhere it does nothing.
import importlib.util

if importlib.util.find_spec("convlib") is None:
    import subprocess
    import sys

    pkg = "{distribution} @ git+{repository}@v{version}"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", pkg], check=True)
    importlib.invalidate_caches()
"""


def book_version() -> str:
    """convlib.__version__, read from the source (without importing convlib)."""
    tree = ast.parse((ROOT / "convlib" / "__init__.py").read_text(encoding="utf8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__version__" for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise LookupError("convlib/__init__.py defines no __version__")


def cell_source(version: str) -> str:
    return TEMPLATE.format(
        marker=MARKER, distribution=DISTRIBUTION, repository=REPOSITORY, version=version
    ).rstrip("\n")


def is_install_cell(cell) -> bool:
    return cell.cell_type == "code" and cell.source.startswith(MARKER)


def apply(nb, source: str) -> bool:
    """Make ``nb`` hold exactly one install cell, before its first other code cell.
    Returns whether ``nb`` changed."""
    existing = [i for i, cell in enumerate(nb.cells) if is_install_cell(cell)]
    others = [i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    others = [i for i in others if i not in existing]
    if len(existing) == 1:
        cell = nb.cells[existing[0]]
        current = (
            (not others or existing[0] < others[0])
            and cell.source == source
            and cell.metadata.get("tags") == TAGS
            and not cell.outputs
            and cell.execution_count is None
        )
        if current:
            return False
    for i in reversed(existing):
        del nb.cells[i]
    first_code = next(
        (i for i, cell in enumerate(nb.cells) if cell.cell_type == "code"), len(nb.cells)
    )
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(TAGS)})
    cell.id = "install-convlib"
    nb.cells.insert(first_code, cell)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument(
        "--check", action="store_true", help="change nothing; exit 1 if a notebook needs the cell"
    )
    args = parser.parse_args(argv)
    source = cell_source(book_version())
    stale = []
    for path in args.notebooks:
        nb = nbformat.read(path, as_version=4)
        if apply(nb, source):
            stale.append(path)
            if not args.check:
                nbformat.write(nb, path)
    verb = "need" if args.check else "updated"
    print(
        f"{len(stale)} of {len(args.notebooks)} notebooks {verb} the install cell"
        + "".join(f"\n  {p}" for p in stale)
    )
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
