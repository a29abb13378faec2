"""Assignment 4: load a checkpoint safely, a new head, fine-tune on 5 labels per class."""

from __future__ import annotations

import numpy as np

from convlib.grading.inside.student import close_message
from convlib.grading.judge import ProbeTest, probe
from convlib.grading.sandbox import Limits

MANUAL = {"q4": 3}
SLOW = True  # trains a network per submission (about 30 s)
# training is allowed 60 s on two cores; the sandbox stops any cell after 150 s
LIMITS = Limits(cpu_seconds=900, memory_bytes=12 << 30, cell_seconds=150, call_seconds=90,
                total_seconds=1200, pids=256)


def _reference_state() -> dict[str, np.ndarray]:
    from convlib.transfer.pretrain import load_checkpoint

    return {k: v.numpy() for k, v in load_checkpoint("broad").state_dict().items()}


@probe
def a4_weights(ns, arrays, params):
    """Probe: pretrained's parameters and state, and n_params as the notebook set it."""
    import torch

    model, n = ns.get("pretrained"), ns.get("n_params")
    out = {"is_module": isinstance(model, torch.nn.Module),
           "n_params_is_int": isinstance(n, int) and not isinstance(n, bool),
           "n_params": n if isinstance(n, (int, float)) else -1}
    if out["is_module"]:
        out["counted"] = sum(p.numel() for p in model.parameters())
        out["names"] = " ".join(model.state_dict())
        out.update({f"state/{k}": v for k, v in model.state_dict().items()})
    return out


@probe
def a4_new_head(ns, arrays, params):
    """Probe: make_target_model on pretrained (public) or on a fresh checkpoint (hidden)."""
    import torch

    make = ns["make_target_model"]
    if params["source"] == "pretrained":
        source = ns["pretrained"]
    else:
        from convlib.transfer.pretrain import load_checkpoint

        source = load_checkpoint("broad")
    before = {f"before/{k}": v.clone() for k, v in source.state_dict().items()}
    model = make(source, params["classes"])
    with torch.no_grad():
        shape = list(model(torch.zeros(2, 1, 8, 8)).shape)
    out = {"same_object": model is source, "shape": shape, **before}
    out.update({f"model/{k}": v.clone() for k, v in model.state_dict().items()})
    with torch.no_grad():  # nothing shared: changing the copy must leave the source alone
        for p in model.parameters():
            p.add_(1.0)
    out.update({f"after/{k}": v.clone() for k, v in source.state_dict().items()})
    return out


@probe
def a4_logits(ns, arrays, params):
    """Probe: the fine-tuned model's logits on images the judge sends."""
    import torch

    model = ns.get("model")
    if not isinstance(model, torch.nn.Module):
        return {"logits": "model is not a network: did fine_tune return it in time?"}
    model.eval()
    with torch.no_grad():
        return {"logits": model(torch.from_numpy(arrays["x"]))}


def _weights_make(rng):
    return {}, {}, None


def _count_decide(arrays, scalars, context):
    if not arrays.get("is_module", False):
        return "pretrained must be a torch module"
    if not arrays.get("n_params_is_int", False):
        return "n_params must be an int"
    if int(arrays["n_params"]) != int(arrays["counted"]):
        return f"n_params is {int(arrays['n_params'])}, pretrained has {int(arrays['counted'])}"
    return None


def _weights_decide(arrays, scalars, context):
    reference = _reference_state()
    if not arrays.get("is_module", False):
        return "pretrained must be a torch module"
    names = scalars.get("names", "").split()
    if sorted(names) != sorted(reference):
        return "pretrained does not have the checkpoint's layers"
    for name, value in reference.items():
        got = arrays.get(f"state/{name}")
        if got is None or got.shape != value.shape or not np.array_equal(got, value):
            return f"{name} is not the checkpoint's weight"
    if int(arrays.get("n_params", -1)) != sum(v.size for v in reference.values()):
        return "n_params is not the checkpoint network's number of parameters"
    return None


def _head_decide(arrays, scalars, context):
    classes, reference_from = context
    if bool(arrays.get("same_object", True)):
        return "make_target_model must return a new network, not its argument"
    if list(arrays.get("shape", [])) != [2, classes]:
        return (f"the new network gives logits of shape {arrays.get('shape')},"
                f" expected (2, {classes})")
    before = {k[len("before/"):]: v for k, v in arrays.items() if k.startswith("before/")}
    reference = _reference_state() if reference_from == "checkpoint" else before
    body = list(reference)[:-2]  # every weight below the last layer
    for name in body:
        got = arrays.get(f"model/{name}")
        if got is None or not np.array_equal(got, reference[name]):
            return f"{name} was not copied from the pretrained network"
    for name, value in before.items():
        if not np.array_equal(arrays.get(f"after/{name}"), value):
            return f"the new network shares or changed the pretrained network's {name}"
    return None


def _few_make(rng):
    from convlib.transfer.finetune import labelled_subset
    from convlib.transfer.pretrain import transfer_data

    x, y = labelled_subset(transfer_data(target="noisy"), 5, 4)
    return {"x": x.numpy()}, {}, (y.numpy(), 0.8, "its own training images")


def _held_out_make(rng):
    from convlib.transfer.pretrain import transfer_data

    data = transfer_data(target="noisy")
    return ({"x": data.target_test.numpy()}, {},
            (data.target_test_labels.numpy(), 0.70, "held-out images"))


def _accuracy_decide(arrays, scalars, context):
    labels, needed, what = context
    if "logits" in scalars:
        return scalars["logits"]
    logits = arrays.get("logits")
    message = close_message(np.shape(logits), (len(labels), 5), what="shape of the logits")
    if logits is None or logits.shape != (len(labels), 5):
        return message or "no logits"
    accuracy = float(np.mean(np.argmax(logits, axis=1) == labels))
    if accuracy >= needed:
        return None
    return f"the model gets {accuracy:.1%} of {what} right; {needed:.0%} is needed"


PROBES = [a4_weights, a4_new_head, a4_logits]
TESTS = [
    ProbeTest("q1_count", "q1", 1, False, probe_name="a4_weights", make=_weights_make,
              decide=_count_decide),
    ProbeTest("q1_weights", "q1", 2, True, probe_name="a4_weights", make=_weights_make,
              decide=_weights_decide),
    ProbeTest("q2_new_head", "q2", 1, False, probe_name="a4_new_head",
              make=lambda rng: ({}, {"source": "pretrained", "classes": 5}, (5, "before")),
              decide=_head_decide),
    ProbeTest("q2_body_copied", "q2", 2, True, probe_name="a4_new_head",
              make=lambda rng: ({}, {"source": "checkpoint", "classes": 3}, (3, "checkpoint")),
              decide=_head_decide),
    ProbeTest("q3_trained", "q3", 1, False, probe_name="a4_logits", make=_few_make,
              decide=_accuracy_decide),
    ProbeTest("q3_held_out", "q3", 5, True, probe_name="a4_logits", make=_held_out_make,
              decide=_accuracy_decide),
]
