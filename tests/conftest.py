"""Shared pytest configuration: hypothesis profiles, the CUDA marker.

Importing ``strategies`` registers and loads the hypothesis profile named by the
``HYPOTHESIS_PROFILE`` environment variable: ``ci`` (derandomized, the default) or
``explore`` (random draws, more examples). See tests/strategies.py.
"""

from __future__ import annotations

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
