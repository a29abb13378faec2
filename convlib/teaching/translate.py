"""The words of figures and printed results in the reader's language, numbers untouched.

The Chinese edition shows the same executed numbers as the English one: a figure's title
or a printed table row is translated as a *template*, the text with each number replaced
by a numbered slot, and the numbers are put back unchanged. One message therefore covers
every run, every seed and every machine, and a translation cannot alter a number: it can
only move the slots.

The messages live in one gettext catalog, ``locales/zh_CN/LC_MESSAGES/results.po``, next
to the prose catalogs; its message ids are templates such as ``"k = {0}: {1} ms"``.

>>> number_template("stride 2 gives 5.5 ms, {x}")
('stride {0} gives {1} ms, {{x}}', ('2', '5.5'))
>>> fill("步幅 {0}：{1} ms", ("2", "5.5"))
'步幅 2：5.5 ms'
>>> translate("stride 2 gives 5.5 ms", {"stride {0} gives {1} ms": "步幅 {0}：{1} ms"})
'步幅 2：5.5 ms'
>>> translate("3.25 ms", {}) is None   # nothing to translate: no word left
False
>>> translate("training loss", {}) is None
True
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Mapping
from functools import cache
from pathlib import Path

# A number: digits with an optional sign, decimals, thousands commas, exponent. Not the
# digits inside a name (conv2d, x2, fc1): those are code, and are kept as they are.
NUMBER = re.compile(r"(?<![A-Za-z_\d.])[-−+]?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?")
SLOT = re.compile(r"\{(\d+)\}")
# Inline mathematics ($k$, $n_\text{out}$) is notation, the same in both editions.
MATH = re.compile(r"\$[^$]*\$")
# Words that stay as they are in the Chinese edition: units, code and library names,
# abbreviations that d2l-zh also keeps in Latin letters (CNN, MACs, logit, sigmoid), the
# names of people in a method's name (Hann, Holm); in printed results also Python
# values and the names of variables, arguments and torch modules as the code spells them
# (True, lr, eps, dx, Linear). One home for the allowed set: the tests and the build
# use this list.
KEPT_WORDS = frozenset(
    """
    ms us µs ns s min h MB GB KB kB MiB GiB px Hz kHz dB fps FLOP FLOPs GFLOP GFLOPs MFLOP
    CPU GPU CUDA BLAS MKL AVX SIMD FFT DFT STFT im2col col2im gemm GEMM NumPy numpy scipy
    torch PyTorch convlib TensorFlow Lite EfficientNet MobileNet ResNet VGG LeNet ConvNeXt
    Whisper wav2vec Mamba silero VAD ImageNet MNIST LFW HOG LoRA SGD Adam AdamW ReLU GELU
    SiLU BN GN LN AUC ECE ROC NLL ReLU Xavier He Kaiming Glorot DDP bf16 fp16 fp32 float32
    float64 int8 dtype NCHW NHWC RGB log max min mean std var exp sin cos x y z ID
    fft MAC MACs MMAC MMACs GMAC KiB TiB TFLOP TFLOPs CNN IQR AMP logit logits
    sigmoid tanh softmax Hann Holm Sobel
    True False None lr eps unfold pickle Long Float dx dw db dy dz dL ln
    Conv1d Conv2d Linear Sigmoid Tanh Flatten Dropout MaxPool2d AvgPool2d BatchNorm2d
    """.split()
)
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")
# Code in printed text: a quoted string literal ('valid', "reflect"), a `code span`, the
# repr of an object (<... object at 0x...>) or a CamelCase name
# (ValueError, ReceptiveField, DigitsCNN): the names a reader types, the same in any edition.
QUOTED = re.compile(r"'[^'\s]*'|\"[^\"\s]*\"|`[^`]*`|<[\w.]+ object at [^>]*>")
CAMEL = re.compile(r"^[A-Z]?[a-z]+[A-Z][\w-]*$")


def number_template(text: str) -> tuple[str, tuple[str, ...]]:
    """``text`` with its numbers replaced by slots ``{0}``, ``{1}``, ... and the numbers.

    Braces already in the text are doubled, so the template is a ``str.format`` pattern.

    >>> number_template("1,024 images, loss 0.25, conv2d")
    ('{0} images, loss {1}, conv2d', ('1,024', '0.25'))
    """
    numbers: list[str] = []

    def slot(match: re.Match[str]) -> str:
        numbers.append(match.group())
        return f"\0{len(numbers) - 1}\1"

    marked = NUMBER.sub(slot, text)
    escaped = marked.replace("{", "{{").replace("}", "}}")
    return escaped.replace("\0", "{").replace("\1", "}"), tuple(numbers)


def fill(template: str, numbers: tuple[str, ...]) -> str:
    """Put ``numbers`` back into the slots of ``template`` (any order of slots).

    >>> fill("{1} of {0}", ("10", "3"))
    '3 of 10'
    """
    return template.format(*numbers)


def english_words(text: str) -> list[str]:
    """The words of ``text`` that a Chinese reader would need translated.

    Numbers, inline mathematics, the :data:`KEPT_WORDS`, single letters (variables) and
    code (a word with ``_``, ``.`` or ``(``, or digits inside) do not count.

    >>> english_words("$n_\\\\text{out}$ for k = 3 (ms), F.conv2d")
    ['for']
    >>> english_words("输出大小, ms")
    []
    >>> english_words("ValueError: mode 'valid' of ReceptiveField")
    ['mode', 'of']
    """
    text = QUOTED.sub(" ", MATH.sub(" ", text))
    words = []
    for token in re.split(r"[\s/]+", text):
        if re.search(r"[_.(]\w|\w\(|\w=|\d", token.strip(".,:;!?()[]")):
            continue  # code or a name with digits: conv2d, F.pad, fc1, x.shape
        for word in WORD.findall(token):
            bare = word.strip("'-")
            if (len(bare) <= 1 or bare in KEPT_WORDS or bare.lower() in KEPT_WORDS
                    or CAMEL.match(bare)):
                continue
            words.append(bare)
    return words


def translate(text: str, catalog: Mapping[str, str]) -> str | None:
    """``text`` in the catalog's language, or None if it needs a translation it lacks.

    A text without words to translate (a number, a unit, a formula, code) is its own
    translation. Surrounding white space is kept, so table cells keep their place.

    >>> translate("  probe ", {"probe": "线性探测"})
    '  线性探测 '
    """
    core = text.strip()
    if not core or not english_words(core):
        return text
    template, numbers = number_template(core)
    target = catalog.get(template)
    if not target:
        return None
    start = text.index(core)
    return text[:start] + fill(target, numbers) + text[start + len(core) :]


def display_width(text: str) -> int:
    """How many columns ``text`` takes in a monospaced font: a CJK character takes two.

    >>> display_width("probe"), display_width("线性探测"), display_width("步幅：2")
    (5, 8, 7)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def pad(text: str, width: int, right: bool = False) -> str:
    """``text`` padded with spaces to ``width`` display columns, flush left or right.

    >>> pad("线性探测", 10) + "|", pad("probe", 10, right=True) + "|"
    ('线性探测  |', '     probe|')
    """
    fill = " " * max(width - display_width(text), 0)
    return fill + text if right else text + fill


# Two or more spaces between words: a line with one is a table row
GAP = re.compile(r"\S {2,}\S")


def _mask_brackets(line: str) -> str:
    """``line`` with the spaces inside brackets made ``_``: an array is one cell.

    >>> _mask_brackets("x [ 1.  0.] (2, 3)")
    'x [_1.__0.] (2,_3)'
    """
    depth, out = 0, []
    for char in line:
        depth += char in "[("
        depth -= char in "])" and depth > 0
        out.append("_" if char == " " and depth else char)
    return "".join(out)


def _heads_columns(header: str, body: list[bool], cut: int) -> bool:
    """Whether the header's words on both sides of ``cut`` stand above the rows' text."""
    left = cut
    while left > 0 and header[left - 1] != " ":
        left -= 1
    right = cut + 1
    while right < len(header) and header[right] != " ":
        right += 1
    return (left < cut and not all(body[left:cut])
            and right > cut + 1 and not all(body[cut + 1:right]))


def columns(lines: list[str]) -> list[tuple[int, int]]:
    """The column spans ``(start, end)`` of a printed table, from its lines.

    A column boundary is a run of positions blank in every line: two or more wide, or one
    wide after the same ``:`` or ``|`` in every line of a table of two or more lines, or
    one wide in the first line (a header) where the lines below have a wider gap. A
    line alone is cut only at runs of two or more spaces. Leading blanks are no column.

    >>> columns(["probe     0.91", "scratch   0.52"])
    [(0, 7), (10, 14)]
    >>> columns(["a: 1", "b: 2"]), columns(["a: 1"])
    ([(0, 2), (3, 4)], [(0, 4)])
    >>> columns(["   lr scratch", " 1e-3    70.9", " 2e-3    66.7"])  # a header's one space
    [(1, 5), (6, 13)]
    """
    width = max((len(line) for line in lines), default=0)
    rows = [_mask_brackets(line).ljust(width) for line in lines]
    blank = [all(row[i] == " " for row in rows) for i in range(width)]
    if len(rows) > 2:  # a header's single space where the rows below have a wide gap
        body = [all(row[i] == " " for row in rows[1:]) for i in range(width)]
        i = 0
        while i < width:
            j = i
            while j < width and body[j]:
                j += 1
            if j - i >= 2 and any(blank[i:j]) and not all(blank[i:j]):
                for k in range(i, j):
                    alone = not (k > i and blank[k - 1]) and not (k + 1 < j and blank[k + 1])
                    if blank[k] and alone and _heads_columns(rows[0], body, k):
                        blank[k] = "cut"
            i = max(j, i + 1)
    if len(rows) > 1:  # one blank after the same ':' or '|' in every line is a boundary
        for i in range(1, width):
            if blank[i] and not blank[i - 1] and {row[i - 1] for row in rows} <= {":"} | {"|"}:
                if len({row[i - 1] for row in rows}) == 1:
                    blank[i] = "cut"
    spans, start, i = [], None, 0
    while i < width:
        if blank[i]:
            j = i
            while j < width and blank[j]:
                j += 1
            is_cut = j - i >= 2 or blank[i] == "cut" or start is None or j == width
            if is_cut:
                if start is not None:
                    spans.append((start, i))
                start = None
            elif start is None:
                start = i
            i = j
        else:
            if start is None:
                start = i
            i += 1
    if start is not None:
        spans.append((start, width))
    return spans


def _translate_table(lines: list[str], catalog: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Translate consecutive printed lines cell by cell, re-padding the columns.

    Returns the lines (a cell without a translation stays in English) and the English
    cells that had none. A column whose cells were flush right stays flush right;
    every column is as wide as its widest cell, measured by :func:`display_width`, so a
    table stays aligned when its words change width.

    >>> zh = {"probe": "线性探测", "scratch": "从零训练", "code": "代码", "accuracy": "准确率"}
    >>> print("\\n".join(translate_lines(["code     accuracy", "probe        0.91",
    ...                                   "scratch      0.52"], zh)[0]))
    代码      准确率
    线性探测    0.91
    从零训练    0.52
    >>> translate_lines(["head  0.5"], {})
    (['head  0.5'], ['head'])

    A line without two spaces between words among a table's rows (a title) is translated
    as a whole; it does not cut the table's columns.
    """
    gapped = [i for i, line in enumerate(lines) if GAP.search(_mask_brackets(line))]
    if gapped and len(gapped) < len(lines):
        # a row that happens to have single spaces at the table's column gaps is a row
        spans = columns([lines[i] for i in gapped])
        gaps = [k for (_, end), (start, _) in zip(spans, spans[1:]) for k in range(end, start)]
        gapped = [i for i, line in enumerate(lines) if i in gapped
                  or all(k >= len(line) or line[k] == " " for k in gaps)]
    if gapped and len(gapped) < len(lines):  # a title or a note among a table's rows
        out, missing = list(lines), []
        for i, line in enumerate(lines):
            if i not in gapped:
                done, lacking = translate_lines([line], catalog)
                out[i], missing = done[0], missing + lacking
        done, lacking = translate_lines([lines[i] for i in gapped], catalog)
        for i, line in zip(gapped, done):
            out[i] = line
        return out, missing + lacking
    spans = columns(lines)
    if not spans:
        return list(lines), []
    width = max(len(line) for line in lines)
    rows = [line.ljust(width) for line in lines]
    cells = [[row[a:b] for a, b in spans] for row in rows]
    missing: list[str] = []
    texts = []
    for row in cells:
        out = []
        for cell in row:
            core = cell.strip()
            done = translate(core, catalog)
            if done is None:
                missing.append(core)
                done = core
            out.append(done)
        texts.append(out)
    if all(t == c.strip() for row, trow in zip(cells, texts) for c, t in zip(row, trow)):
        return list(lines), missing
    result = []
    widths, right = [], []
    for j in range(len(spans)):
        column = [row[j] for row in cells if row[j].strip()]
        flush_right = all(not c.endswith(" ") for c in column)
        flush_left = all(not c.startswith(" ") for c in column)
        # all as wide as each other: numbers below a header are flush right
        numbers = all(re.search(r"\d", c) and not english_words(c) for c in column[1:])
        right.append(flush_right and (not flush_left or (len(column) > 1 and numbers)))
        if not right[j]:  # a cell indented in its column keeps its indent
            for row, trow in zip(cells, texts):
                if trow[j]:
                    trow[j] = " " * (len(row[j]) - len(row[j].lstrip())) + trow[j]
        widths.append(max(display_width(row[j]) for row in texts))
    for row in texts:
        parts = [" " * spans[0][0]]
        for j, text in enumerate(row):
            if j:
                parts.append(" " * (spans[j][0] - spans[j - 1][1]))
            parts.append(pad(text, widths[j], right[j]))
        result.append("".join(parts).rstrip())
    return result, missing


def translate_lines(lines: list[str], catalog: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """:func:`_translate_table`, or each line cut at its own wide gaps if that lacks a cell.

    Where a table's columns depend on its numbers (the timings of another run are wider),
    its cells are cut elsewhere than in the run the catalog was made from; cut line by
    line at two or more spaces, the same words are found again (without re-aligning).

    >>> zh = {"median": "中位数", "first call": "首次调用"}
    >>> translate_lines(["first call    median", "12345678.25 ms 3 ms"], zh)[0]
    ['首次调用    中位数', '12345678.25 ms 3 ms']
    """
    out, missing = _translate_table(lines, catalog)
    if missing and len(lines) > 1:
        alone = [_translate_table([line], catalog) for line in lines]
        if not any(lacking for _, lacking in alone):
            return [done[0] for done, _ in alone], []
    return out, missing


def translate_output(text: str, catalog: Mapping[str, str]) -> tuple[str, list[str]]:
    """A printed output (stdout, or a text result) translated line by line, tables by cell.

    Lines are read in groups of consecutive non-blank lines; the columns of a group are
    found by :func:`columns`, so a table is translated cell by cell and re-aligned. Returns
    the text and the English cells and lines that have no translation in ``catalog``.

    >>> zh = {"k = {0}: stride {1}": "k = {0}：步幅 {1}", "probe": "线性探测"}
    >>> translate_output("k = 3: stride 2\\n\\nprobe  1\\n", zh)
    ('k = 3：步幅 2\\n\\n线性探测  1\\n', [])
    """
    lines = text.split("\n")
    out, missing, i = [], [], 0
    while i < len(lines):
        if not lines[i].strip():
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and lines[j].strip():
            j += 1
        group = [line.rstrip() for line in lines[i:j]]
        done, lacking = translate_lines(group, catalog)
        out += done if done != group else lines[i:j]
        missing += lacking
        i = j
    return "\n".join(out), missing


ROOT = Path(__file__).resolve().parents[2]
RESULTS_CATALOG = ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / "results.po"


@cache
def load_catalog(path: Path = RESULTS_CATALOG) -> dict[str, str]:
    """The current (translated, not fuzzy) messages of a gettext catalog, id -> text.

    An absent catalog (an installed copy of convlib without the book) is empty. Read
    with :func:`read_messages`, so that a student's install (no babel) shows the
    widgets' labels in Chinese too.
    """
    if not path.exists():
        return {}
    return read_messages(path.read_text(encoding="utf8"))


_PO_LINE = re.compile(r'^(msgctxt|msgid|msgid_plural|msgstr(?:\[\d+\])?)\s+(".*")$|^(".*")$')
_PO_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


def _po_string(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda m: _PO_ESCAPES.get(m.group(1), m.group(1)), quoted[1:-1])


def read_messages(text: str) -> dict[str, str]:
    """The translated, not fuzzy, messages of the text of a ``.po`` file, id -> text.

    >>> read_messages('#, fuzzy\\nmsgid "a"\\nmsgstr "x"\\n\\nmsgid "b {0}"\\n'
    ...               'msgstr ""\\n"乙 {0}\\\\n"\\n\\nmsgid "c"\\nmsgstr ""\\n')
    {'b {0}': '乙 {0}\\n'}
    """
    messages: dict[str, str] = {}
    entry: dict[str, str] = {}
    fuzzy = False
    field = ""

    def close() -> None:
        if entry.get("msgid") and entry.get("msgstr") and not fuzzy and "msgctxt" not in entry:
            messages[entry["msgid"]] = entry["msgstr"]

    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if "msgid" in entry:
                close()
                entry, fuzzy, field = {}, False, ""
            if line.startswith("#,") and "fuzzy" in line:
                fuzzy = True
            continue
        match = _PO_LINE.match(line)
        if not match:
            continue
        if match.group(1):
            if match.group(1) in ("msgid", "msgctxt") and "msgstr" in entry:
                close()
                entry, fuzzy = {}, False
            field = match.group(1)
            entry[field] = _po_string(match.group(2))
        elif field:
            entry[field] += _po_string(match.group(3))
    close()
    return messages


def language() -> str:
    """The reader's language for figures and widgets: ``"zh_CN"`` or ``"en"``.

    The Chinese notebooks set ``CONVBOOK_LANGUAGE=zh_CN`` in their first cell.
    """
    return "zh_CN" if os.environ.get("CONVBOOK_LANGUAGE", "").startswith("zh") else "en"


def tr(text: str) -> str:
    """``text`` in the reader's :func:`language`; the English text where none is found.

    >>> tr("stride s")   # in the English edition
    'stride s'
    """
    if language() == "en":
        return text
    return translate(text, load_catalog()) or text
