"""Uploads bounded by the server: RAGFT_MAX_UPLOAD_MB read before start, the Home warning, chunk caps."""

from __future__ import annotations

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from ragft.errors import ConfigError
from ragft.paths import ROOT
from ragft.settings import load_settings, upload_limit_mb
from tests.apptest_helpers import embedded_settings


@pytest.fixture
def server_upload_mb():
    """Set the in-process server.maxUploadSize (what `--server.maxUploadSize` sets at start); restored after."""
    old = st_config.get_option("server.maxUploadSize")

    def set_mb(mb: int) -> None:
        st_config.set_option("server.maxUploadSize", mb)

    yield set_mb
    st_config.set_option("server.maxUploadSize", old)


def test_upload_limit_from_env_then_secrets(tmp_path):
    secrets = tmp_path / "secrets.toml"
    assert upload_limit_mb({}, secrets) == 20  # no file: the default
    secrets.write_text('RAGFT_MAX_UPLOAD_MB = 5\nOPENAI_API_KEY = "sk-x"\n')
    assert upload_limit_mb({}, secrets) == 5
    assert upload_limit_mb({"RAGFT_MAX_UPLOAD_MB": "2"}, secrets) == 2  # the environment wins
    with pytest.raises(ConfigError, match="RAGFT_MAX_UPLOAD_MB"):
        upload_limit_mb({"RAGFT_MAX_UPLOAD_MB": "0"}, secrets)
    secrets.write_text("RAGFT_MAX_UPLOAD_MB = [")
    with pytest.raises(ConfigError, match="cannot be read"):
        upload_limit_mb({}, secrets)


def test_chunk_cap_settings_are_bounded_and_named():
    s = load_settings({"RAGFT_MAX_CHUNKS_PER_FILE": "50", "RAGFT_MAX_CHUNKS_PER_WORKSPACE": "120"})
    assert (s.max_chunks_per_file, s.max_chunks_per_workspace) == (50, 120)
    with pytest.raises(ConfigError, match="RAGFT_MAX_CHUNKS_PER_FILE"):
        load_settings({"RAGFT_MAX_CHUNKS_PER_FILE": "0"})
    with pytest.raises(ConfigError, match="RAGFT_MAX_CHUNKS_PER_WORKSPACE"):
        load_settings({"RAGFT_MAX_CHUNKS_PER_WORKSPACE": "lots"})


def _home(data_dir, **changes) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.session_state["settings"] = embedded_settings(data_dir, **changes)
    return at.run()


def _limit_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "server.maxUploadSize" in w.value]


def test_home_warns_when_the_server_accepts_bigger_uploads(data_dir, server_upload_mb, monkeypatch):
    monkeypatch.setenv("RAGFT_MAX_UPLOAD_MB", "3")
    server_upload_mb(200)  # Streamlit's default: the server was not started by scripts/run.sh
    at = _home(data_dir)
    assert not at.exception, at.exception
    (warning,) = _limit_warnings(at)
    assert "200 MB" in warning and "RAGFT_MAX_UPLOAD_MB is 3 MB" in warning
    server_upload_mb(3)
    at = _home(data_dir)
    assert not at.exception, at.exception
    assert _limit_warnings(at) == []
