"""Which backend an argument belongs to: NumPy arrays or torch tensors.

convlib never imports torch just to find out: if ``torch`` has not been imported
anywhere, nothing passed in can be a tensor, so NumPy-only readers pay nothing.
"""

from __future__ import annotations

import sys
from typing import Any, TypeVar

import numpy as np

__all__ = ["is_tensor", "backend_of", "describe", "Array"]

#: A NumPy array or a torch tensor: "same kind in, same kind out". A function typed
#: ``f(input: Array, weight: Array) -> Array`` returns a NumPy array for NumPy arrays and a
#: tensor for tensors (``backend_of`` refuses a mix at run time).
Array = TypeVar("Array")


def is_tensor(x: Any) -> bool:
    """Return True if ``x`` is a ``torch.Tensor`` (without importing torch)."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)


def describe(x: Any) -> str:
    """A short description of an array argument for error messages.

    >>> describe(np.zeros((2, 3), dtype=np.float32))
    'numpy array of shape (2, 3) and dtype float32'
    """
    if is_tensor(x):
        return f"torch tensor of shape {tuple(x.shape)}, dtype {x.dtype} on {x.device}"
    if isinstance(x, np.ndarray):
        return f"numpy array of shape {x.shape} and dtype {x.dtype}"
    return f"{type(x).__name__}"


def backend_of(**arrays: Any) -> str:
    """Return ``"numpy"`` or ``"torch"`` for a set of named array arguments.

    ``None`` values (an absent bias) are skipped. All arrays must be of one kind,
    share a dtype and, for tensors, a device; otherwise a ``TypeError`` names the
    offending argument.

    >>> backend_of(input=np.zeros(3), weight=np.ones(2))
    'numpy'
    """
    present = {k: v for k, v in arrays.items() if v is not None}
    if not present:
        raise TypeError("expected at least one array argument")
    first_name, first = next(iter(present.items()))
    for name, value in present.items():
        if not (isinstance(value, np.ndarray) or is_tensor(value)):
            raise TypeError(
                f"{name} must be a numpy.ndarray or torch.Tensor, got {type(value).__name__}"
            )
    kinds = {name: ("torch" if is_tensor(v) else "numpy") for name, v in present.items()}
    kind = kinds[first_name]
    for name, value in present.items():
        if kinds[name] != kind:
            raise TypeError(
                f"{first_name} is a {kind} array but {name} is a {kinds[name]} array; "
                f"convert both to the same kind ({describe(first)} vs {describe(value)})"
            )
        if value.dtype != first.dtype:
            raise TypeError(
                f"{name} has dtype {value.dtype} but {first_name} has dtype {first.dtype}; "
                f"cast them to one dtype ({first_name}: {describe(first)}; "
                f"{name}: {describe(value)})"
            )
        if kind == "torch" and value.device != first.device:
            raise TypeError(
                f"{name} is on {value.device} but {first_name} is on {first.device}; "
                f"move them to one device ({first_name}: {describe(first)}; "
                f"{name}: {describe(value)})"
            )
    if kind == "numpy":
        for name, value in present.items():
            if not np.issubdtype(value.dtype, np.floating):
                raise TypeError(
                    f"{name} must have a floating dtype (float32 or float64), got {value.dtype}"
                )
    return kind
