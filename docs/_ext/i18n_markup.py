"""What a translated message must keep of its English source, and what it may change.

A message (one paragraph, heading, list item or caption of the English book, as Sphinx's
gettext builder extracts it) is MyST Markdown. Its translation is parsed again as MyST, so
the prose is translated but the machinery is not: every math span, every inline code
span, every link target and every cross-reference target must come back unchanged.
:func:`frozen_parts` lists them; :func:`markup_problems` compares a message with its
translation. A message with no prose at all (a display equation, a code name) is its own
translation: :func:`has_prose` tells them apart. Whether a catalog entry counts as
translated at all is :func:`translation_state`, the one rule the build, the catalog tools
and the checks share.

>>> frozen_parts("Output $i$ averages `k` inputs (see {ref}`padding <sec-pad>`).")
['$i$', '`k`', 'ref:sec-pad']
>>> markup_problems("Output $i$ of `k`.", "输出 $i$ 是 `k` 的。")
[]
>>> markup_problems("Output $i$ of `k`.", "输出 $j$ 是 k 的。")
['missing $i$', 'missing `k`', 'added $j$']
>>> has_prose("$$y = x$$"), has_prose("`im2col`"), has_prose("The `im2col` trick")
(False, False, True)
"""

from __future__ import annotations

import re
from collections import Counter

# The order matters: a role's backticks and a display equation's dollars are matched
# before the plain inline-code and inline-math patterns could take them apart.
# (a code span that shows a role's name, `` `{admonition}` ``, is not a role)
_ROLE = re.compile(r"(?<!`)\{(?P<role>[\w:-]+)\}`(?P<body>[^`]*)`")
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$", re.DOTALL)
_INLINE_MATH = re.compile(r"(?<![\\$])\$(?!\s)[^$\n]+?(?<![\s\\])\$(?!\$)")
_CODE = re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL)
_LINK_TARGET = re.compile(r"\]\((?P<target>[^)\s]+)\)")
_URL = re.compile(r"<?https?://[^\s>)]+>?")
_ROLE_TARGET = re.compile(r"<(?P<target>[^<>]+)>\s*$")
# Roles whose whole body is a name (an equation label, a key): kept as they are.
# Roles whose body may carry a translated title before `<target>` keep the target only.
_NAME_ROLES = {"eq", "kbd", "math", "numref-id"}
_LINK_ROLES = {"ref", "doc", "numref", "download", "func", "mod", "class", "meth"}
# {term}`convolution` becomes {term}`卷积` in the Chinese edition: Sphinx follows the
# glossary's translated term, so a term role is prose here (the build checks the link).


def translation_state(entry) -> str:
    """``"translated"``, ``"untranslated"`` or ``"stale"``: the state of a catalog entry.

    ``entry`` is a gettext message (babel's ``Message``: ``.string`` and ``.fuzzy``) or
    None when the catalog lacks it. A message is translated when it has a translation
    that is not marked fuzzy; fuzzy means its English text changed since it was
    translated, so the translation is stale.

    >>> from types import SimpleNamespace as Entry
    >>> [translation_state(e) for e in (None, Entry(string="", fuzzy=False),
    ...                                 Entry(string="卷积", fuzzy=True),
    ...                                 Entry(string="卷积", fuzzy=False))]
    ['untranslated', 'untranslated', 'stale', 'translated']
    """
    if entry is None or not entry.string:
        return "untranslated"
    return "stale" if entry.fuzzy else "translated"


def _role_part(role: str, body: str) -> str | None:
    if role in _NAME_ROLES:
        return f"{role}:{body}"
    if role in _LINK_ROLES:
        match = _ROLE_TARGET.search(body)
        if match:
            return f"{role}:{match['target']}"
        # {term}`convolution` may become {term}`卷积 <convolution>`: the target stays
        return f"{role}:{body}"
    return None  # another role (an admonition title, ...): its body is prose


def frozen_parts(message: str) -> list[str]:
    """The parts of ``message`` its translation must keep, in order of appearance."""
    parts: list[tuple[int, str]] = []
    rest = message

    def take(pattern: re.Pattern, render) -> None:
        nonlocal rest
        for match in pattern.finditer(rest):
            part = render(match)
            if part is not None:
                parts.append((match.start(), part))
        # blank the match out (same length) so that later patterns do not see it
        rest = pattern.sub(lambda m: " " * len(m.group(0)), rest)

    take(_ROLE, lambda m: _role_part(m["role"], m["body"]))
    take(_DISPLAY_MATH, lambda m: m.group(0))
    take(_CODE, lambda m: m.group(0))
    take(_INLINE_MATH, lambda m: m.group(0))
    take(_LINK_TARGET, lambda m: f"link:{m['target']}")
    take(_URL, lambda m: m.group(0).strip("<>"))
    return [part for _, part in sorted(parts, key=lambda item: item[0])]


def markup_problems(message: str, translation: str) -> list[str]:
    """What ``translation`` lost or added of ``message``'s frozen parts (empty: none)."""
    source, target = Counter(frozen_parts(message)), Counter(frozen_parts(translation))
    problems = [f"missing {part}" for part in (source - target).elements()]
    problems += [f"added {part}" for part in (target - source).elements()]
    if re.match(r"\d+\. ", translation):
        # Sphinx parses a translated heading on its own, where "1. Title" is a list
        problems.append(r"starts like a numbered list: write 1\. for a heading's number")
    if _open_emphasis(translation) > _open_emphasis(message):
        problems.append(
            "a ** or * is shown as text: CommonMark does not close emphasis between a"
            " punctuation mark and a CJK character (write **卷积**（convolution）, not"
            " **卷积（convolution）**是)"
        )
    return problems


def _open_emphasis(text: str) -> int:
    """How many ``**``/``*``/``__`` delimiters CommonMark leaves as literal text.

    >>> _open_emphasis("这是**卷积**。"), _open_emphasis("**卷积（convolution）**是")
    (0, 2)
    """
    from markdown_it import MarkdownIt  # myst-parser's Markdown parser

    rest = text
    for pattern in (_ROLE, _DISPLAY_MATH, _CODE, _INLINE_MATH, _URL):
        rest = pattern.sub("x", rest)
    rendered = MarkdownIt("commonmark").renderInline(rest.replace("\n", " "))
    rendered = re.sub(r"<[^>]+>", "", rendered)
    return len(re.findall(r"\*\*|__|(?<![\w*])\*(?=\S)", rendered))


def has_prose(message: str) -> bool:
    """Whether ``message`` holds words to translate, beyond math, code and targets."""
    if message.startswith("\n") and message.endswith("\n"):
        return False  # the body of a display equation (a ``$$ ... $$`` block)
    rest = message
    for pattern in (_ROLE, _DISPLAY_MATH, _CODE, _INLINE_MATH, _URL):
        rest = pattern.sub(" ", rest)
    rest = _LINK_TARGET.sub("]", rest)
    return re.search(r"[A-Za-z]{2,}", rest) is not None


# --- Chinese typesetting ----------------------------------------------------------------

_HAN = "\u4e00-\u9fff"
_CJK = _HAN + "\u3000-\u303f\uff00-\uffef"  # Han characters, CJK and full-width punctuation
_XREF = re.compile(r"(?<!`)\{(?P<role>doc|ref|numref|term)\}`(?P<body>[^`]*)`")
# A Markdown link whose text is Chinese at the edge that a space separates from Chinese text:
# "本章在 [第 9 章](09_training_a_cnn.ipynb) 的". (A Latin name keeps its spaces:
# "在 [Binder](...) 上".)
_CHINESE_LINK = re.compile(
    rf"[{_CJK}][ \t]+(?P<link>\[[{_HAN}][^\]]*\]\([^)\s]+\))"
    rf"|(?P<link2>\[[^\]]*[{_HAN}]\]\([^)\s]+\))[ \t]+[{_CJK}]")
# A number with a "k" (thousand) or "M" (million) suffix: Chinese counts in 万 and 亿
_SUFFIXED_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?[kKM](?!\w)")
# A half-width full stop, comma, colon, semicolon, question or exclamation mark right after
# a Han character (not a decimal point, a file name or an ellipsis in code: those are
# blanked out first)
_HALF_WIDTH_PUNCTUATION = re.compile(rf"[{_HAN}][.,;:?!](?![\w.])")


def typesetting_problems(translation: str) -> list[str]:
    """What is wrong with a Chinese translation's typesetting (empty: nothing).

    * a space between Chinese text and a cross-reference ({doc}, {ref}, {numref}, {term})
      or a link whose text is Chinese ([第 9 章](...)): Chinese has no spaces between
      words, so it shows as a gap in the sentence;
    * a {doc} or {ref} without a text of its own (Sphinx inserts the page's or section's
      title) that is not quoted as 《title》, so the title runs into the sentence;
    * a number with a k or M suffix (52k): Chinese writes 5.2 万;
    * a half-width punctuation mark after a Chinese character.

    >>> typesetting_problems("而《{doc}`running_locally`》介绍了，每层 5.2 万个权重。")
    []
    >>> for p in typesetting_problems("而 {doc}`running_locally` 介绍了 52k 个权重."):
    ...     print(p)
    a space between Chinese text and {doc}`running_locally`
    {doc}`running_locally` inserts a title: write 《{doc}`running_locally`》
    52k: write the number in 万 (5.2 万)
    half-width punctuation after a Chinese character: '重.'
    """
    if not re.search(f"[{_HAN}]", translation):
        return []
    problems = []
    for match in _XREF.finditer(translation):
        role = match.group(0)
        before, after = translation[: match.start()], translation[match.end():]
        if re.search(rf"[{_CJK}][ \t]+$", before) or re.match(rf"[ \t]+[{_CJK}]", after):
            problems.append(f"a space between Chinese text and {role}")
        if (match["role"] in ("doc", "ref") and "<" not in match["body"]
                and not (before.endswith("《") and after.startswith("》"))):
            problems.append(f"{role} inserts a title: write 《{role}》")
    for match in _CHINESE_LINK.finditer(translation):
        link = match['link'] or match['link2']
        problems.append(f"a space between Chinese text and the link {link}")
    prose = translation
    for pattern in (_ROLE, _DISPLAY_MATH, _CODE, _INLINE_MATH, _URL, _LINK_TARGET):
        prose = pattern.sub(" ", prose)
    for number in _SUFFIXED_NUMBER.findall(prose):
        problems.append(f"{number}: write the number in 万 ({_in_wan(number)})")
    for mark in _HALF_WIDTH_PUNCTUATION.findall(prose):
        problems.append(f"half-width punctuation after a Chinese character: {mark!r}")
    return problems


def _in_wan(number: str) -> str:
    """52k -> 5.2 万, 33.5k -> 3.35 万, 1.2M -> 120 万 (for the message)."""
    value = float(number[:-1]) * (1e6 if number[-1] == "M" else 1e3)
    return f"{value / 1e4:g} 万"
