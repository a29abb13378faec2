"""The experiments behind the book's result tables: command-line drivers, not library code.

Each module runs one experiment with the functions of ``convlib`` and writes its table to
``experiments/results/``, which the chapters read. Run them from the repository root::

    python -m experiments.deep         # chapters 9 and 10: results/deep.csv
    python -m experiments.kernel       # chapter 9's kernel sizes: results/kernel.csv
    python -m experiments.init         # chapter 8's Xavier/He comparison: results/init.csv
    python -m experiments.pretrain     # chapter 11: convlib/transfer/checkpoints/source_cnn.pt
    python -m experiments.finetune     # chapters 9 and 11: results/finetune_results.csv
    python -m experiments.realnet      # chapter 13: results/realnet_results.csv
    torchrun --standalone --nproc_per_node=2 -m experiments.ddp_finetune   # chapter 12

They are not part of the installed ``convlib`` package, so they are not copied into the
grading sandbox. The pretrained checkpoint that the library, the chapters and the
assignments load stays in ``convlib/transfer/checkpoints/``.
"""

from pathlib import Path

#: the committed result tables
RESULTS = Path(__file__).resolve().parent / "results"
