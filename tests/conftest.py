"""Shared pytest configuration: hypothesis profiles, the CUDA marker.

Importing ``strategies`` registers and loads the hypothesis profile named by the
``HYPOTHESIS_PROFILE`` environment variable: ``ci`` (derandomized, the default) or
``explore`` (random draws, more examples). See tests/strategies.py.
"""

from __future__ import annotations

import threading

import pytest
import strategies


def pytest_report_header(config):
    return f"hypothesis profile: {strategies.PROFILE}"


def pytest_collection_modifyitems(config, items):
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a test requirement
        has_cuda = False
    skip_gpu = pytest.mark.skip(reason="needs a CUDA device (torch.cuda.is_available() is False)")
    for item in items:
        if "gpu" in item.keywords and not has_cuda:
            item.add_marker(skip_gpu)


@pytest.fixture
def chunk_threads(monkeypatch):
    """The names of the threads that run each chunk of ``convlib._windows.run_chunks``
    during the test (the pool's threads are named ``convlib_...``)."""
    from convlib import _windows

    names = []
    run_chunks = _windows.run_chunks

    def spying(work, items, parallel):
        def recorded(item):
            names.append(threading.current_thread().name)
            return work(item)

        return run_chunks(recorded, items, parallel)

    monkeypatch.setattr(_windows, "run_chunks", spying)
    return names
