"""The test tiers cannot drift: in the quick tier, loading a model or starting a server fails the test."""

from __future__ import annotations

import subprocess
import sys

import llama_cpp
import pytest
from conftest import UnmarkedSlowTest

from ragft.paths import smollm2_gguf


def test_a_quick_test_cannot_load_a_model():
    with pytest.raises(UnmarkedSlowTest, match="pytestmark = pytest.mark.slow"):
        llama_cpp.Llama(model_path=str(smollm2_gguf()), verbose=False)


def test_a_quick_test_cannot_start_a_server():
    with pytest.raises(UnmarkedSlowTest, match="starts"):
        subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py"])


def test_a_quick_test_may_run_other_commands():
    out = subprocess.run([sys.executable, "-c", "print(6 * 7)"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "42"
