"""The test tiers cannot drift: in the quick tier, loading a model or starting a server fails the test."""

from __future__ import annotations

import subprocess
import sys

import llama_cpp
import pytest
from conftest import GUARD_CAUGHT, UnmarkedSlowTest

from ragft.paths import smollm2_gguf


def _forgive(request) -> None:
    """These tests break the rule on purpose: the guard recorded it (and would fail them at teardown)."""
    caught = request.node.stash[GUARD_CAUGHT]
    assert len(caught) == 1
    caught.clear()


def test_a_quick_test_cannot_load_a_model(request):
    with pytest.raises(UnmarkedSlowTest, match="pytestmark = pytest.mark.slow"):
        llama_cpp.Llama(model_path=str(smollm2_gguf()), verbose=False)
    _forgive(request)


def test_a_model_load_that_the_app_swallows_still_fails_the_test(request):
    try:
        llama_cpp.Llama(model_path=str(smollm2_gguf()), verbose=False)
    except Exception:  # as a page would: shown as a message, not raised
        pass
    assert request.node.stash[GUARD_CAUGHT] == ["loads a llama.cpp model"]
    _forgive(request)


def test_a_quick_test_cannot_start_a_server(request):
    with pytest.raises(UnmarkedSlowTest, match="starts"):
        subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py"])
    _forgive(request)


def test_a_quick_test_may_run_other_commands():
    out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "42"
