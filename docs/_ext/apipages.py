"""Sphinx extension: one API reference page per convlib module, from its docstrings.

The modules are listed once, in ``_config.yml`` (``sphinx.config.convlib_api_modules``).
For each, a page ``docs/api/generated/<module>.rst`` holding an ``automodule`` directive
is written before Sphinx reads the sources, and ``_toc.yml`` picks the pages up with a
glob, so adding a module to the reference is one line in ``_config.yml``. The generated
folder is not committed.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.config import Config
from sphinx.environment import BuildEnvironment
from sphinx.errors import ExtensionError

GENERATED = Path("docs") / "api" / "generated"

PAGE = """\
{title}
{underline}

.. automodule:: {module}
   :members:
   :show-inheritance:
"""


def page_text(module: str) -> str:
    title = f"``{module}``"
    return PAGE.format(title=title, underline="=" * len(title), module=module)


def write_pages(app: Sphinx, config: Config) -> None:
    modules = list(config.convlib_api_modules)
    folder = Path(app.srcdir) / GENERATED
    folder.mkdir(parents=True, exist_ok=True)
    wanted = {}
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ExtensionError(
                f"convlib_api_modules lists {module!r}, which cannot be imported: {exc}"
            ) from exc
        wanted[folder / f"{module}.rst"] = page_text(module)
    for stale in folder.glob("*.rst"):
        if stale not in wanted:
            stale.unlink()
    for path, text in wanted.items():
        # rewrite only on change, so Sphinx does not rebuild pages needlessly
        if not path.exists() or path.read_text(encoding="utf8") != text:
            path.write_text(text, encoding="utf8")


# Shapes written like torch's documentation, "(N, C, *spatial)" or "(N, *)", outside
# ``literals``: reStructuredText would read the star as the start of emphasis.
SHAPE_STAR = re.compile(r"(?<=[(\[,\s])(\*{1,2})(?=[A-Za-z_]\w*\s*[,)\]]|[,)\]])")
LITERAL = re.compile(r"(``.+?``|`[^`]+`)")


def escape_shape_stars(app, what, name, obj, options, lines: list[str]) -> None:
    for i, line in enumerate(lines):
        if line.lstrip().startswith((">>>", "...")):
            continue  # doctest lines are shown literally
        parts = LITERAL.split(line)
        parts[::2] = [
            SHAPE_STAR.sub(lambda m: "\\*" * len(m.group(1)), part) for part in parts[::2]
        ]
        lines[i] = "".join(parts)


def resolve_reexports(
    app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.Element
):
    """Let ``convlib.conv2d`` (the public name) link to where it is documented
    (``convlib.conv.conv2d``), in docstrings and in the chapters alike."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or not target.startswith("convlib."):
        return None
    parts = target.split(".")
    if len(parts) != 2:
        return None
    import convlib

    obj = getattr(convlib, parts[1], None)
    module = getattr(obj, "__module__", None)
    if obj is None or module is None or module == "convlib":
        return None
    domain = env.get_domain("py")
    new = node.deepcopy()
    new["reftarget"] = f"{module}.{parts[1]}"
    return domain.resolve_xref(
        env, node["refdoc"], app.builder, node["reftype"], new["reftarget"], new, contnode
    )


def setup(app: Sphinx) -> dict:
    app.add_config_value("convlib_api_modules", [], "env", [list])
    # before sphinx-external-toc (priority 900) reads _toc.yml and its globs
    app.connect("config-inited", write_pages, priority=100)
    app.connect("autodoc-process-docstring", escape_shape_stars)
    app.connect("missing-reference", resolve_reexports)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
