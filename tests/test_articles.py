"""What the errata appendix says the two source articles say, checked against their text.

The appendix (chapters/appendix_errata.ipynb) cites the two articles by section ("the
second article, §5.2") and states what each section prints, calls or claims. This file
holds those article-side facts, each with its section, and reads them out of the articles'
full text in ``../shared/source-articles/`` (parsing numbers and calls, not comparing with
the appendix's own copies), so that a misquotation fails here. Without the texts (a
checkout without the shared folder) the tests skip.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import numpy as np
import pytest

ARTICLES = Path(__file__).resolve().parent.parent.parent / "shared" / "source-articles"
FIRST = ARTICLES / "000_7c0ab073579c0854.txt"
SECOND = ARTICLES / "001_890450ee61e6da46.txt"

pytestmark = pytest.mark.skipif(
    not (FIRST.exists() and SECOND.exists()), reason="the source articles are not here"
)

HEADING = re.compile(r"^#{2,4} (\d+(?:\.\d+)*)[. ]", re.MULTILINE)


def section(path: Path, number: str) -> str:
    """The text of section ``number`` (its heading to the next heading of any level)."""
    text = path.read_text(encoding="utf8")
    starts = [(m.group(1), m.start(), m.end()) for m in HEADING.finditer(text)]
    for index, (name, _, end) in enumerate(starts):
        if name == number:
            stop = starts[index + 1][1] if index + 1 < len(starts) else len(text)
            return text[end:stop]
    raise KeyError(f"{path.name} has no section {number}")


def matrix_rows(block: str) -> list[list[float]]:
    """The rows written as ``[1 2 3]`` lines in a text block."""
    return [[float(v) for v in row.split()] for row in re.findall(r"^\[([-\d. ]+)\]$",
                                                                   block, re.MULTILINE)]


def code_block(text: str, language: str = "") -> str:
    match = re.search(rf"```{language}\n(.*?)```", text, re.DOTALL)
    assert match, f"no ```{language} block"
    return match.group(1)


def printed_array(printed: str) -> np.ndarray:
    """The array that NumPy printed as ``printed`` (commas restored, then parsed)."""
    text = re.sub(r"(?<=[\d.\]])\s+(?=[-\d\[])", ", ", printed.strip())
    return np.array(ast.literal_eval(text), dtype=float)


# --- the first article -------------------------------------------------------------------


def test_first_42_ramp_kernel_and_claimed_output():
    text = section(FIRST, "4.2")
    rows = matrix_rows(text)
    image, kernel, claimed = rows[:5], rows[5:8], rows[8:11]
    assert np.array_equal(image, np.arange(1, 26).reshape(5, 5))
    assert np.array_equal(kernel, [[1, 0, -1], [0, 1, 0], [-1, 0, 1]])
    assert np.array_equal(claimed, [[4, 1, 2], [7, 4, 5], [10, 7, 8]])
    assert "步长为1" in text and "填充为0" in text


def test_first_41_formula_is_flipped_with_zero_based_sums():
    text = section(FIRST, "4.1")
    assert "f(x-i, y-j) g(i, j)" in text
    assert r"\sum_{i=0}^{k-1}" in text and r"\sum_{j=0}^{k-1}" in text


def test_first_5_code_is_an_unflipped_window_sum_that_prints_nothing():
    code = code_block(section(FIRST, "5"), "python")
    assert "def conv2d(image, kernel)" in code
    assert "image[i:i+k, j:j+k] * kernel" in code  # no flip, window at the top-left
    assert "np.zeros((H-k+1, W-k+1))" in code  # stride 1, no padding
    assert "print(" not in code and "conv2d(" not in code.split("def conv2d", 1)[1].split(
        "\n", 1)[1]  # defined, never called


def test_first_25_padding_claim():
    text = section(FIRST, "2.5")
    assert "防止信息丢失" in text and "边缘特征" in text


# --- the second article ------------------------------------------------------------------


def test_second_2_flowchart_puts_backprop_after_fine_tuning():
    flow = code_block(section(SECOND, "2"), "mermaid")
    edges = dict(re.findall(r"^(\w+)\S* --> (\w+)", flow, re.MULTILINE))
    labels = dict(re.findall(r"(\w+)[\[{]([^\]}]+)[\]}]", flow))
    node, order = "A", []
    while node:
        order.append(labels[node])
        node = edges.get(node)
    assert order == ["深度学习", "卷积运算", "特征提取", "池化操作", "微调", "反向传播",
                     "优化模型", "大模型开发"]


def test_second_31_lists_four_steps_of_the_convolution():
    steps = re.findall(r"^\d\. \*\*(.+?)\*\*", section(SECOND, "3.1"), re.MULTILINE)
    assert steps == ["初始化卷积核", "卷积操作", "激活函数", "池化操作"]


def test_second_321_initialisation_claims():
    text = section(SECOND, "3.2.1")
    methods = re.findall(r"^\d\. \*\*(.+?)\*\*", text, re.MULTILINE)
    assert methods == ["零初始化", "高斯初始化", "Xavier初始化"]
    assert text.count("根据输入数据的分布") == 2  # said of the Gaussian and of Xavier


def test_second_322_computes_the_stride_and_slides_one_step():
    text = section(SECOND, "3.2.2")
    assert "计算卷积操作的步长" in text and "每次滑动一步" in text


def test_second_33_many_parameters_overfit():
    assert "参数数量较大，可能导致过拟合" in section(SECOND, "3.3")


def test_second_41_is_a_dense_layer_formula():
    text = section(SECOND, "4.1")
    assert r"Z = \sigma(\mathbf{W} \cdot \mathbf{X} + \mathbf{b})" in text
    assert r"$\mathbf{W}$ 为卷积核" in text


def test_second_42_sums_over_the_stride_and_pools_a_scalar():
    text = section(SECOND, "4.2")
    assert "步长为 $P$" in text
    assert r"\sum_{p=0}^{P-1} \sum_{q=0}^{P-1}" in text
    assert r"\mathbf{X}_{(i+p) \times (j+q)}" in text
    assert r"\mathbf{Z}_{ij} = \text{max}(\mathbf{Z}_{ij})" in text


def products_43() -> list[list[tuple[int, int]]]:
    text = section(SECOND, "4.3")
    groups = re.findall(r"\(((?:\d+ \\cdot \d+(?: \+ )?){4})\)", text)
    return [[tuple(map(int, p.split(r" \cdot "))) for p in g.split(" + ")] for g in groups]


def test_second_43_kernel_values_and_sums():
    groups = products_43()
    assert len(groups) == 4
    assert all([w for w, _ in g] == [1, 1, 0, 0] for g in groups)  # its kernel
    values = [[v for _, v in g] for g in groups]
    assert values == [[1, 4, 5, 8], [2, 5, 6, 9], [3, 6, 7, 10], [4, 7, 8, 11]]
    assert len({v for g in values for v in g}) == 11  # from a 3x3 input of 9 entries
    assert [sum(w * v for w, v in g) for g in groups] == [5, 7, 9, 11]
    assert "3 \\times 3" in section(SECOND, "4.3")
    assert not re.search(r"\\mathbf\{X\} =", section(SECOND, "4.3"))  # no input matrix


def test_second_43_pooling_pairs_and_result():
    text = section(SECOND, "4.3")
    pairs = re.findall(r"\\text\{max\}\((\d+), (\d+)\)", text)
    assert pairs == [("5", "7"), ("5", "9"), ("9", "11"), ("9", "11")]
    assert "7 & 9 \\\\\n11 & 11" in text


def test_second_52_program_calls():
    code = code_block(section(SECOND, "5.2"), "python")
    assert "tf.constant([[1, 1, 0], [1, 0, 1], [0, 1, 1]])" in code  # ints, rank 2
    assert "tf.Variable(tf.random.normal([2, 2, 1, 1]))" in code  # HWIO, rank 4
    assert "tf.nn.conv2d(input_data, conv_kernel, strides=[1, 1, 1, 1], padding='VALID')" \
        in code
    assert "tf.nn.max_pool2d(activation, ksize=[1, 2, 2, 1], strides=[1, 2, 2, 1], " \
        "padding='VALID')" in code
    assert "tf.Session()" in code and "tf.global_variables_initializer()" in code
    assert 'print("Input Data:", input_data)' in code  # the tensor itself, not sess.run
    assert "tf.random_normal" not in code and "tf.nn.max_pool(" not in code
    assert "pip install tensorflow" in section(SECOND, "5.1")


def test_second_54_printed_output():
    out = code_block(section(SECOND, "5.4"))
    blocks = dict(re.findall(r"^([A-Z][\w ]+): (\[.*?\]\]+)$", out, re.MULTILINE | re.DOTALL))
    # the input printed as a bare matrix (what print of a tensor does not show)
    assert np.array_equal(printed_array(blocks["Input Data"]), [[1, 1, 0], [1, 0, 1], [0, 1, 1]])
    for name in ("Convolutional Layer", "Activation Function"):
        conv = printed_array(blocks[name])
        assert conv.shape == (1, 1, 2, 2)  # NCHW-looking, where NHWC gives 1x2x2x1
        assert conv.ravel().tolist() == [5, 7, 9, 11]  # integers, the sums of §4.3
    pooled = printed_array(blocks["Pooling Layer"])
    assert pooled.shape == (1, 1, 2, 1) and pooled.ravel().tolist() == [7, 11]  # two values


def test_second_references():
    refs = SECOND.read_text(encoding="utf8").split("## 参考文献", 1)[1]
    nature = next(line for line in refs.splitlines() if "Nature, 2015" in line)
    assert "LeCun" in nature and "Bottou" in nature and "Hochreiter" in nature
    assert "Hinton" not in nature
    papers = section(SECOND, "7.3")
    assert re.search(r"Continually Running Fully Recurrent Neural Networks.*LSTM", papers)


def test_second_92_large_kernels_for_dimension_reduction():
    assert re.search(r"降维.*7 \\times 7.*11 \\times 11", section(SECOND, "9.2"))


def test_printed_array_reads_numpy_prints():
    for shape in ((1, 1, 2, 2), (1, 2, 2, 1), (2, 3)):
        array = np.arange(np.prod(shape), dtype=float).reshape(shape) - 2
        assert np.array_equal(printed_array(np.array2string(array)), array)
