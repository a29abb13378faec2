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
# abbreviations that d2l-zh also keeps in Latin letters. One home for the allowed set:
# the tests and the build use this list.
KEPT_WORDS = frozenset(
    """
    ms us µs ns s min h MB GB KB kB MiB GiB px Hz kHz dB fps FLOP FLOPs GFLOP GFLOPs MFLOP
    CPU GPU CUDA BLAS MKL AVX SIMD FFT DFT STFT im2col col2im gemm GEMM NumPy numpy scipy
    torch PyTorch convlib TensorFlow Lite EfficientNet MobileNet ResNet VGG LeNet ConvNeXt
    Whisper wav2vec Mamba silero VAD ImageNet MNIST LFW HOG LoRA SGD Adam AdamW ReLU GELU
    SiLU BN GN LN AUC ECE ROC NLL ReLU Xavier He Kaiming Glorot DDP bf16 fp16 fp32 float32
    float64 int8 dtype NCHW NHWC RGB log max min mean std var exp sin cos x y z ID
    tanh sigmoid Sobel CNN
    """.split()
)
WORD = re.compile(r"[A-Za-z][A-Za-z'-]*")


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
    """
    text = MATH.sub(" ", text)
    words = []
    for token in re.split(r"\s+", text):
        if re.search(r"[_.(]\w|\w\(|\d", token.strip(".,:;!?()[]")):
            continue  # code or a name with digits: conv2d, F.pad, fc1, x.shape
        for word in WORD.findall(token):
            bare = word.strip("'-")
            if len(bare) <= 1 or bare in KEPT_WORDS or bare.lower() in KEPT_WORDS:
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


ROOT = Path(__file__).resolve().parents[2]
RESULTS_CATALOG = ROOT / "locales" / "zh_CN" / "LC_MESSAGES" / "results.po"


@cache
def load_catalog(path: Path = RESULTS_CATALOG) -> dict[str, str]:
    """The current (translated, not fuzzy) messages of a gettext catalog, id -> text.

    An absent catalog (an installed copy of convlib without the book) is empty.
    """
    if not path.exists():
        return {}
    from babel.messages.pofile import read_po  # the authors' and the book's install

    with path.open("rb") as file:
        catalog = read_po(file)
    return {
        str(message.id): str(message.string)
        for message in catalog
        if message.id and message.string and not message.fuzzy
    }


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
