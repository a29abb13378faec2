"""The program that runs *inside* the sandbox: it executes a submission and emits data.

It is copied, alone, into each sandbox and started with ``python -I runner.py JOB_DIR LIB_DIR``.
Nothing it returns is trusted: the judge only reads plain data from it (JSON lines on the
protocol pipe, arrays as a base64 ``.npz`` inside them, loaded with ``allow_pickle=False``).
It needs only the standard library and NumPy; a probe may import torch where an assignment
needs it.

Protocol: one JSON command per line on stdin, one JSON reply per line on the original
stdout. ``{"op": "cell", "source": ...}`` executes a code cell in the submission's namespace;
``{"op": "call", "probe": NAME, "inputs": FILE, "params": {...}}`` runs a judge-written probe
``NAME(namespace, arrays, params)`` that calls the student's functions and returns a
dictionary of arrays, numbers and strings, sent back in the reply. The student's prints go
to a log file in the sandbox's own ``/tmp``, not to the protocol.
"""

import base64
import io
import json
import os
import sys
import traceback


def _clean(source):
    # IPython magics and shell escapes are not Python: comment them out
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("# " + line if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines)


def _error_text(limit=600):
    text = traceback.format_exc().strip().splitlines()
    return "\n".join(text[-3:])[-limit:]


def _pack(result):
    """(npz bytes, scalars): arrays of numbers go in the npz, strings and oddities as text."""
    import numpy as np

    arrays, scalars = {}, {}

    def put(key, value):
        if isinstance(value, (tuple, list)) and value and not _numeric_list(value):
            for i, item in enumerate(value):
                put(f"{key}.{i}", item)
            return
        if isinstance(value, str):
            scalars[key] = value[:2000]
            return
        if hasattr(value, "detach"):  # a torch tensor
            value = value.detach().cpu().numpy()
        try:
            array = np.asarray(value)
        except Exception:
            scalars[key] = f"<{type(value).__name__}>"
            return
        if array.dtype == object or array.dtype.kind not in "biufc":
            scalars[key] = f"<{type(value).__name__}>"
        else:
            arrays[key] = array

    for key, value in result.items():
        put(str(key), value)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue(), scalars


def _numeric_list(value):
    return all(isinstance(v, (int, float, bool)) for v in value)


def main(job_dir, lib_dir):
    sys.path.insert(0, lib_dir)  # the public convlib copy and the otter stub come first
    # the protocol keeps private copies of stdin/stdout; the submission gets /dev/null and a log
    commands = os.fdopen(os.dup(0), "r")
    replies = os.fdopen(os.dup(1), "w", buffering=1)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    log = os.open("/tmp/stdout.log", os.O_WRONLY | os.O_CREAT, 0o600)
    os.dup2(log, 1)
    os.dup2(log, 2)
    sys.stdin = open(os.devnull)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = sys.stdout

    with open(os.path.join(job_dir, "probes.py")) as f:
        probe_source = f.read()
    probes = {"__name__": "probes"}
    exec(compile(probe_source, "<probes>", "exec"), probes)
    namespace = {"__name__": "__main__"}

    for line in commands:
        command = json.loads(line)
        reply = {"ok": True}
        try:
            if command["op"] == "cell":
                code = compile(_clean(command["source"]), f"<cell {command['index']}>", "exec")
                exec(code, namespace)
            elif command["op"] == "call":
                import numpy as np

                with np.load(command["inputs"], allow_pickle=False) as data:
                    arrays = {k: data[k] for k in data.files}
                result = probes[command["probe"]](namespace, arrays, command.get("params", {}))
                packed, reply["scalars"] = _pack(result)
                reply["npz"] = base64.b64encode(packed).decode("ascii")
            else:
                reply = {"ok": False, "error": "unknown command"}
        except BaseException:  # noqa: BLE001 - a submission may raise anything
            reply = {"ok": False, "error": _error_text()}
        sys.stdout.flush()
        replies.write(json.dumps(reply) + "\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
