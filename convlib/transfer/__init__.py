"""The fine-tuning experiment of the book.

* :mod:`~convlib.transfer.pretrain` -- the source tasks and the pretrained checkpoint
  (``checkpoints/source_cnn.pt``, which the chapters and the assignments load);
* :mod:`~convlib.transfer.finetune` -- the adaptation strategies and the experiment grid;
* :mod:`~convlib.transfer.realnet` -- a real pretrained network on a small real task.

The commands that run the experiments and write their tables are not part of the package:
they are in the repository's ``experiments/`` folder (``python -m experiments.pretrain``,
``python -m experiments.finetune``, ``python -m experiments.realnet``, and data-parallel
fine-tuning, ``torchrun --standalone --nproc_per_node=2 -m experiments.ddp_finetune``).

Needs the ``transfer`` extra (torch, scikit-learn).
"""
