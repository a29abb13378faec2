"""Probes every assignment uses: they run inside the sandbox, on the student's namespace.

A probe is ``probe(ns, arrays, params) -> dict`` where ``ns`` is the notebook's namespace,
``arrays`` the judge's input arrays and ``params`` its JSON parameters; it returns arrays,
numbers and strings. It is shipped to the sandbox as source text, so it may use only ``np``
and builtins (the judge checks this when a spec is imported).
"""

import numpy as np


def call_cases(ns, arrays, params):
    """Probe: call ``ns[func]`` on every case; errors become strings."""
    import traceback

    out = {}
    func = ns.get(params["func"])
    for i, case in enumerate(params["cases"]):
        args = [arrays[a["a"]] if "a" in a else a["v"] for a in case["args"]]
        try:
            if not callable(func):
                raise NameError(f"{params['func']} is not defined as a function")
            out[f"out{i}"] = func(*args, **case["kwargs"])
        except Exception:
            out[f"err{i}"] = traceback.format_exc().strip().splitlines()[-1]
            if not params.get("keep_going"):
                break
    return out


def values(ns, arrays, params):
    """Probe: the values of some variables of the notebook."""
    return {name: ns[name] if name in ns else "<not defined>" for name in params["names"]}


def timed_conv(ns, arrays, params):
    """Probe (also run by the judge on its references): the function on K fresh inputs.

    The inputs are drawn from a seed sent with the call, so nothing can be computed in
    advance; the result is the projection of each output on a random array, enough to
    check that every output value was computed, and cheap to send back.
    """
    func = ns[params["func"]]
    rng = np.random.default_rng(params["seed"])
    K, S, C, O = params["K"], params["S"], params["C"], params["O"]
    x = rng.normal(size=(K, 1, C, S, S))
    w = rng.normal(size=(O, C, 3, 3))
    b = rng.normal(size=O)
    r = rng.normal(size=(K, 1, O, S, S))  # outputs are S x S (stride 1, padding 1)
    out = np.zeros(K)
    for k in range(K):
        y = np.asarray(func(x[k], w, b, 1, 1), dtype=float)
        out[k] = float(np.vdot(r[k], y)) if y.shape == r[k].shape else np.nan
    return {"projections": out}
