"""Data-parallel fine-tuning with ``torch.distributed`` (DDP), on CPU with the gloo backend.

Run it with two processes on one machine::

    torchrun --standalone --nproc_per_node=2 -m experiments.ddp_finetune

Every process (a *rank*) builds the same network from the pretrained checkpoint, takes its
own shard of the labelled images (``DistributedSampler``), and computes gradients on its
shard only. ``DistributedDataParallel`` averages the gradients of all ranks during
``backward()`` (an all-reduce), so every rank applies the same update and the copies of the
network never drift apart. At the end each rank prints a checksum of its weights, and rank 0
gathers all checksums (``all_gather``) and asserts that they are equal.

With more than one epoch, rank 0 also reports the throughput (images per second, all
ranks together) over the epochs after the first, which is a warm-up;
``python -m experiments.ddp_scaling`` compares it between 1 and 2 processes.

``--no-ddp`` trains the same shards *without* DDP (no gradient averaging): the copies drift
apart, and rank 0 reports that the checksums differ. That is what DDP prevents.

Several machines need only other launch arguments (the script is unchanged). With the
``c10d`` rendezvous, the same command runs on every node; the nodes meet at the endpoint
under a job id of your choice, and torchrun assigns the node ranks itself (it ignores
``--node_rank``)::

    torchrun --nnodes=2 --nproc_per_node=8 \\
        --rdzv_id=finetune-42 --rdzv_backend=c10d --rdzv_endpoint=host0:29500 \\
        -m experiments.ddp_finetune --backend nccl

(The static alternative: ``--nnodes=2 --node_rank=N --master_addr=host0
--master_port=29500`` with N = 0 on host0 and 1 on the other node.) Each process drives
the GPU ``LOCAL_RANK`` (its rank within its node), which torchrun sets; on GPUs, batch
norm layers become ``SyncBatchNorm`` so that their batch statistics are computed over the
global batch rather than each rank's shard.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from convlib.models import evaluate, make_loader
from convlib.transfer.finetune import Recipe, adapt_model, labelled_subset
from convlib.transfer.pretrain import augment, load_checkpoint, transfer_data

__all__ = ["weights_digest", "main"]


def weights_digest(model: torch.nn.Module) -> str:
    """SHA-256 of the bytes of every tensor in ``model.state_dict()``, in order: equal
    digests mean bit-identical weights.

    >>> a, b = torch.nn.Linear(2, 2), torch.nn.Linear(2, 2)
    >>> _ = b.load_state_dict(a.state_dict())
    >>> weights_digest(a) == weights_digest(b)
    True
    """
    h = hashlib.sha256()
    for name, t in model.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


def _say(line: str) -> None:
    # One write per line: the ranks share one output pipe, and with unbuffered output a
    # print() writes the text and its newline separately, so lines could interleave.
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="torchrun --standalone --nproc_per_node=2 -m experiments.ddp_finetune",
        description="Fine-tune the pretrained digits CNN data-parallel; check the ranks agree.",
    )
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--budget", type=int, default=10, help="labelled images per class")
    parser.add_argument("--batch-size", type=int, default=16, help="per rank")
    parser.add_argument("--backend", default="gloo", help="gloo (CPU) or nccl (GPUs)")
    parser.add_argument("--no-ddp", action="store_true", help="no gradient averaging")
    args = parser.parse_args(argv)

    dist.init_process_group(args.backend)
    rank, world = dist.get_rank(), dist.get_world_size()
    device = torch.device("cpu")
    if args.backend == "nccl":
        # one GPU per process: GPU LOCAL_RANK (the rank within this node; torchrun sets it)
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
        torch.cuda.set_device(device)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    data = transfer_data()
    x, y = labelled_subset(data, args.budget, seed=0)
    recipe = Recipe()
    # Same seed on every rank, so the new final layer starts equal everywhere (DDP would
    # also copy rank 0's weights to the others when it wraps the model).
    model, groups = adapt_model("full", load_checkpoint(), seed=0, recipe=recipe)
    if args.backend == "nccl":
        # batch norm over the global batch, not each rank's shard (GPU only; this network
        # has no batch norm, chapter 9's can): BatchNorm2d -> SyncBatchNorm
        model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
    model.to(device)
    net = model if args.no_ddp else DistributedDataParallel(model)
    optimizer = torch.optim.Adam(groups, lr=recipe.lr)

    dataset = TensorDataset(x, y)
    # Each rank sees a different 1/world of the images each epoch; together they see all.
    sampler = DistributedSampler(
        dataset, num_replicas=world, rank=rank, shuffle=True, seed=0
    )
    loader = DataLoader(dataset, batch_size=args.batch_size, sampler=sampler)
    gen = torch.Generator().manual_seed(1000 + rank)  # each rank augments its own images
    seen = 0
    net.train()
    for epoch in range(args.epochs):
        if epoch == 1:  # the first epoch is the warm-up; time the others
            dist.barrier()
            start, seen_before = time.perf_counter(), seen
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same on every rank
        for xb, yb in loader:
            xb, yb = augment(xb, gen).to(device), yb.to(device)
            loss = F.cross_entropy(net(xb), yb)
            optimizer.zero_grad()
            loss.backward()  # with DDP: gradients averaged over all ranks here
            optimizer.step()
            seen += len(yb)

    if args.epochs > 1:
        dist.barrier()
        seconds = time.perf_counter() - start
        timed = world * (seen - seen_before)  # equal shards: every rank saw as many
        if rank == 0:
            _say(f"rank 0: throughput {timed / seconds:.2f} images/s "
                 f"({timed} images in {seconds:.4f} s after a warm-up epoch)")
    model.cpu()
    digest = weights_digest(model)
    _say(f"rank {rank}/{world}: trained on {seen} images, weights sha256 {digest[:16]}")
    mine = torch.tensor(list(bytes.fromhex(digest)), dtype=torch.int64)
    everyone = [torch.empty_like(mine) for _ in range(world)]
    dist.all_gather(everyone, mine)
    if rank == 0:
        same = all(torch.equal(d, everyone[0]) for d in everyone)
        test = make_loader(data.target_test, data.target_test_labels, 1024, shuffle=False)
        acc = evaluate(model, test)[1]
        if args.no_ddp:
            _say(f"rank 0: without DDP the {world} copies {'agree' if same else 'differ'}")
        else:
            hashes = [bytes(d.tolist()).hex()[:16] for d in everyone]
            assert same, f"ranks disagree: {hashes}"
            _say(
                f"rank 0: all {world} ranks hold identical weights; "
                f"target accuracy {acc:.3f}"
            )
    dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
