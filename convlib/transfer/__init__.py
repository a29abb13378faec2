"""The fine-tuning experiment of the book.

* :mod:`~convlib.transfer.pretrain` -- the source tasks and the pretrained checkpoint
  (``python -m convlib.transfer.pretrain``);
* :mod:`~convlib.transfer.finetune` -- the adaptation strategies and the experiment grid
  (``python -m convlib.transfer.finetune``);
* :mod:`~convlib.transfer.ddp_finetune` -- data-parallel fine-tuning
  (``torchrun --standalone --nproc_per_node=2 -m convlib.transfer.ddp_finetune``).

Needs the ``transfer`` extra (torch, scikit-learn).
"""
