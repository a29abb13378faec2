"""Pretrain the source networks of the fine-tuning chapter; write, or check, their checkpoint.

``python -m experiments.pretrain`` trains the three source networks of
:mod:`convlib.transfer.pretrain` with the same number of optimizer steps and writes
``convlib/transfer/checkpoints/source_cnn.pt`` (the checkpoint stays in the package: the
chapters and the assignments load it) and its SHA-256 in ``source_cnn.sha256``.
``--check`` retrains and compares with the committed checkpoint; ``--spread SEED ...``
prints the spread of source accuracy over training seeds (see the library module's
docstring for what is reproducible and what is not).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

from convlib.transfer.pretrain import (
    CHECKPOINT,
    SOURCES,
    check_against,
    pretrain,
    provenance,
    save_checkpoint,
    source_accuracy,
    transfer_data,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m experiments.pretrain",
        description="Pretrain the source CNNs of the fine-tuning chapter; write their checkpoint.",
    )
    parser.add_argument("--out", type=Path, default=CHECKPOINT, help="checkpoint path")
    parser.add_argument(
        "--check", action="store_true",
        help="retrain and compare with the committed checkpoint (see the module docstring)",
    )
    parser.add_argument(
        "--spread", type=int, nargs="+", metavar="SEED",
        help="train each source with these seeds; print the spread of source accuracy",
    )
    parser.add_argument("--sources", nargs="+", default=list(SOURCES), choices=SOURCES)
    args = parser.parse_args(argv)  # fmt: skip
    start = time.perf_counter()
    print("this machine:", provenance())
    if args.spread:
        for source in args.sources:
            data = transfer_data(source=source)
            accs = [
                source_accuracy(pretrain(source, data=data, progress=False, seed=s), data)
                for s in args.spread
            ]
            sd = float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0
            print(f"{source}: accuracies {[round(a, 4) for a in accs]}, "
                  f"mean {np.mean(accs):.4f}, sd {sd:.4f}")  # fmt: skip
        return 0
    models = {}
    for source in args.sources:
        data = transfer_data(source=source)
        models[source] = pretrain(source, data=data)
        acc = source_accuracy(models[source], data)
        print(f"{source} source: accuracy on its held-out noisy images {acc:.4f}")
    if args.check:
        committed = torch.load(CHECKPOINT, weights_only=True).get("provenance")
        print("checkpoint made on:", committed)
        report = check_against(models)
        for source, r in report.items():
            new, old = r["accuracy"]
            verdict = "identical weights" if r["identical"] else (
                f"weights differ (largest difference {r['max_diff']:.2g}); accuracy "
                f"{new:.4f} vs {old:.4f}, tolerance {r['tolerance']:.3f}"
            )  # fmt: skip
            print(f"{source}: {verdict}: {'ok' if r['ok'] else 'FAILED'}")
        return 0 if all(r["ok"] for r in report.values()) else 1
    args.out.parent.mkdir(parents=True, exist_ok=True)
    digest = save_checkpoint(models, args.out)
    args.out.with_suffix(".sha256").write_text(f"{digest}  {args.out.name}\n")
    seconds = time.perf_counter() - start
    size = args.out.stat().st_size
    print(f"wrote {args.out} ({size} bytes, sha256 {digest}) in {seconds:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
