"""Shared pytest configuration: hypothesis profiles, the CUDA marker.

Importing ``strategies`` registers and loads the hypothesis profile named by the
``HYPOTHESIS_PROFILE`` environment variable: ``ci`` (derandomized, the default) or
``explore`` (random draws, more examples). See tests/strategies.py.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

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


CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# offline: nothing in the background reaches out
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole session, shared by every browser test: Playwright's
    sync API runs one event loop per thread, so two ``sync_playwright()`` at once fail."""
    if not CHROMIUM.exists():
        pytest.skip(f"Chromium not found at {CHROMIUM} (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()
