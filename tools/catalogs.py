"""Reading and writing the Chinese edition's gettext catalogs, in the one layout the
repository keeps: one line per message (``width=0``), so that a diff shows which
paragraph or template changed, and the header kept.

>>> import io, tempfile
>>> from babel.messages.catalog import Catalog
>>> path = Path(tempfile.mkdtemp()) / "demo.po"
>>> catalog = Catalog(locale="zh_CN")
>>> _ = catalog.add("stride {0}", "步幅 {0}")
>>> write_catalog(catalog, path)
>>> read_catalog(path).get("stride {0}").string
'步幅 {0}'
>>> read_catalog(path.with_name("new.po"), project="demo").project
'demo'
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

__all__ = ["read_catalog", "write_catalog"]


def read_catalog(path: Path, locale: str = "zh_CN", project: str | None = None) -> Catalog:
    """The catalog at ``path``; an empty one (``locale``, ``project``) if there is none."""
    if not path.exists():
        return Catalog(locale=locale, project=project)
    with path.open("rb") as file:
        return read_po(file)


def write_catalog(catalog: Catalog, path: Path) -> None:
    """Write ``catalog`` to ``path``, one line per message (``width=0``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as file:
        write_po(file, catalog, width=0, omit_header=False)
