"""Re-run chapter notebooks in place, top to bottom, in a fresh kernel.

Outputs and ipywidgets state are saved into the notebook, so nbval can compare
them and the static book can render the widgets without a kernel. Each figure is also
rendered with its words in Chinese, into the output's metadata, for the Chinese edition
(:mod:`convlib.teaching.figure_text`; the kernel registers it before the first cell).

    python tools/execute.py chapters/03_padding_stride_dilation.ipynb [...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

try:  # python -m tools.execute
    from . import install_cell
except ImportError:  # python tools/execute.py: tools/ is first on sys.path
    import install_cell

# Run by the kernel at start: figures are rendered in Chinese too (output metadata).
KERNEL_SETUP = "from convlib.teaching import figure_text; figure_text.install()"


def execute(path: Path, timeout: int) -> float:
    nb = nbformat.read(path, as_version=4)
    # Same environment as `make test`, so committed outputs match what nbval sees.
    os.environ.setdefault("OMP_NUM_THREADS", "2")
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
        extra_arguments=[f"--InteractiveShellApp.exec_lines={[KERNEL_SETUP]!r}"],
    )
    start = time.perf_counter()
    client.execute()
    # the Colab install cell is committed as written, never with an execution count
    install_cell.apply(nb, install_cell.cell_source(install_cell.book_version()))
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        seconds = execute(path, args.timeout)
        print(f"{path}: executed in {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
