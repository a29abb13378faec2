"""The public pooling functions, generated: one forward and one backward per kind and size.

Every public pooling function does the same four things: find the backend (NumPy or
torch), check the arguments, call ``torch.nn.functional`` (forward) or autograd
(backward) on a tensor, or the NumPy kernel on an array. They differ only in their
parameters, their NumPy kernels and their docstrings. A :class:`Kind` holds what differs
per kind of pooling (max, average, adaptive average, adaptive max); :func:`forward` and
:func:`backward` make the public function of one kind and size from it, with its own
name, signature and docstring, so that ``help()``, ``inspect.signature`` and the API
reference see an ordinary function. The table of every public function is
``convlib/pooling/_table.py``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .._backend import Array, backend_of
from .._checks import check_grad_output
from ._common import IntOrTuple, _describe_call, _out_shape, _torch_input_grad

# the arguments of one call, by name, defaults filled in, ``input`` and ``grad_output`` left out
Args = Mapping[str, Any]

_ARG = inspect.Parameter.POSITIONAL_OR_KEYWORD


def param(name: str, annotation: Any, default: Any = inspect.Parameter.empty) -> inspect.Parameter:
    """One positional-or-keyword parameter of a generated function."""
    return inspect.Parameter(name, _ARG, default=default, annotation=annotation)


# the window of max and average pooling: its size, its step and the padding around the input
WINDOW = (
    param("kernel_size", IntOrTuple),
    param("stride", IntOrTuple | None, None),
    param("padding", IntOrTuple, 0),
)


def _window_out(p: Any) -> tuple[int, ...]:
    return tuple(p.out)


@dataclass(frozen=True)
class Kind:
    """What one kind of pooling brings to its generated functions.

    ``family`` names the functions (``max_pool`` gives ``max_pool1d`` ... and
    ``max_pool1d_backward`` ...; ``torch.nn.functional`` has the same names). The
    callables after ``check`` take the checked parameters that ``check`` returns and the
    call's other arguments by name:

    - ``check(input, args, nd, name)``: validate, return the parameters (raises the
      messages of :mod:`convlib._checks`);
    - ``torch(fn, input, params, args)``: call ``fn``, the ``torch.nn.functional``
      function of that name;
    - ``numpy(input, params, args)`` and ``numpy_backward(grad_output, input, params,
      args)``: the NumPy kernels.

    ``out`` gives the output's spatial shape from the parameters, ``describe`` the call
    for messages (both default to those of max and average pooling's ``PoolParams``).
    ``parameters`` are the forward's, after ``input``; ``forward_only`` names those the
    backward lacks; ``not_in_1d`` those the 1-D functions lack.
    """

    family: str
    parameters: tuple[inspect.Parameter, ...]
    check: Callable[[Any, Args, int, str], Any]
    torch: Callable[[Callable[..., Any], Any, Any, Args], Any]
    numpy: Callable[[Any, Any, Args], Any]
    numpy_backward: Callable[[Any, Any, Any, Args], Any]
    out: Callable[[Any], tuple[int, ...]] = _window_out
    describe: Callable[[str, Any, Any], str] = _describe_call
    returns: Any = Array
    forward_only: frozenset[str] = field(default_factory=frozenset)
    not_in_1d: frozenset[str] = field(default_factory=frozenset)

    def signature(self, nd: int, backward: bool) -> inspect.Signature:
        params = [p for p in self.parameters
                  if not (backward and p.name in self.forward_only)
                  and not (nd == 1 and p.name in self.not_in_1d)]
        first = [param("input", Array)]
        if backward:
            first.insert(0, param("grad_output", Array))
        return inspect.Signature(first + params,
                                 return_annotation=Array if backward else self.returns)


def _binder(name: str, sig: inspect.Signature) -> Callable[..., dict[str, Any]]:
    """``bind(args, kwargs)``: the call's arguments by name, defaults filled in, as
    ``sig.bind`` gives them but in a tenth of its time; a wrong call raises Python's
    ``TypeError``, prefixed with the function's name."""
    names = tuple(sig.parameters)
    known = frozenset(names)
    defaults = {n: p.default for n, p in sig.parameters.items() if p.default is not p.empty}

    def bind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        call = dict(defaults)
        call.update(zip(names, args))
        if (len(args) <= len(names) and kwargs.keys() <= known
                and kwargs.keys().isdisjoint(names[: len(args)])):
            call.update(kwargs)
            if len(call) == len(names):
                return call
        try:  # a wrong call: inspect says what is wrong with it
            sig.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{name}() {exc}") from None
        raise AssertionError(f"{name}: {args!r} {kwargs!r} bind and do not")  # unreachable

    return bind


def _named(fn: Callable[..., Any], name: str, sig: inspect.Signature, doc: str,
           module: str) -> Callable[..., Any]:
    """Give a generated function its public identity (for ``help``, doctest and Sphinx)."""
    fn.__name__ = fn.__qualname__ = name
    fn.__module__ = module
    fn.__doc__ = inspect.cleandoc(doc)
    fn.__signature__ = sig  # type: ignore[attr-defined]
    fn.__annotations__ = {p.name: p.annotation for p in sig.parameters.values()}
    fn.__annotations__["return"] = sig.return_annotation
    return fn


def forward(kind: Kind, nd: int, doc: str, module: str = "convlib.pooling") -> Callable[..., Any]:
    """The public ``{family}{nd}d`` function of ``kind``, documented by ``doc``."""
    name = f"{kind.family}{nd}d"
    sig = kind.signature(nd, backward=False)
    bind = _binder(name, sig)

    def pool(*args: Any, **kwargs: Any) -> Any:
        call = bind(args, kwargs)
        input = call.pop("input")
        backend = backend_of(input=input)
        p = kind.check(input, call, nd, name)
        if backend == "torch":
            import torch.nn.functional as F

            return kind.torch(getattr(F, name), input, p, call)
        return kind.numpy(input, p, call)

    return _named(pool, name, sig, doc, module)


def backward(kind: Kind, nd: int, doc: str, module: str = "convlib.pooling") -> Callable[..., Any]:
    """The public ``{family}{nd}d_backward`` function of ``kind``: the gradient of the
    forward with respect to ``input``, given ``grad_output``."""
    name = f"{kind.family}{nd}d"
    sig = kind.signature(nd, backward=True)
    bind = _binder(f"{name}_backward", sig)

    def pool_backward(*args: Any, **kwargs: Any) -> Any:
        call = bind(args, kwargs)
        grad_output, input = call.pop("grad_output"), call.pop("input")
        backend = backend_of(grad_output=grad_output, input=input)
        p = kind.check(input, call, nd, name)
        check_grad_output(grad_output, _out_shape(input, kind.out(p)),
                          kind.describe(name, input, p))
        if backend == "torch":
            import torch.nn.functional as F

            fn = getattr(F, name)
            return _torch_input_grad(lambda x: kind.torch(fn, x, p, call), grad_output, input)
        return kind.numpy_backward(grad_output, input, p, call)

    return _named(pool_backward, f"{name}_backward", sig, doc, module)
