"""The printed results' messages of the Chinese edition, extracted into ``results.po``.

``tools/i18n.py update`` calls :func:`update`: the number templates of every printed line
and saved widget label of the committed chapter notebooks (``docs/_ext/result_text.py``
says which outputs are prose), and of the live widgets' labels
(``convlib.teaching.widgets.LABELS``), are merged into
``locales/zh_CN/LC_MESSAGES/results.po``: a new template comes in empty, a template that
no notebook prints any more is removed. Messages of the catalog from other sources (the
figures' words) are left as they are: a message extracted here carries the comment
``output of <chapter>`` or ``widget``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
sys.path.insert(0, str(ROOT))
from result_text import notebook_messages  # noqa: E402

from convlib.teaching.translate import RESULTS_CATALOG, number_template  # noqa: E402
from convlib.teaching.widgets import LABELS  # noqa: E402
from tools.catalogs import read_catalog, write_catalog  # noqa: E402

OURS = ("output of ", "widget")


def extracted() -> dict[str, list[str]]:
    """template -> where it is printed, for every chapter notebook and widget label."""
    found: dict[str, list[str]] = {}
    for path in sorted((ROOT / "chapters").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf8"))
        for template in notebook_messages(nb):
            found.setdefault(template, []).append(f"output of chapters/{path.stem}")
    for label in LABELS:
        found.setdefault(number_template(label)[0], []).append("widget")
    return found


def update(path: Path = RESULTS_CATALOG) -> None:
    """Merge the extracted templates into the catalog (see the module's docstring)."""
    catalog = read_catalog(path, "zh_CN", "results")
    found = extracted()
    for message in list(catalog):
        if not message.id:
            continue
        others = [c for c in message.auto_comments if not c.startswith(OURS)]
        if message.id in found:
            message.auto_comments = others + found.pop(message.id)
        elif len(others) < len(message.auto_comments):  # ours, no longer printed
            if others:
                message.auto_comments = others
            else:
                catalog.delete(message.id)
    for template, where in found.items():
        catalog.add(template, "", auto_comments=where)
    write_catalog(catalog, path)
