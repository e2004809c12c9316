"""Uploads bounded by the server: RAGFT_MAX_UPLOAD_MB read before start, the Home warning, chunk caps."""

from __future__ import annotations

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft.errors import ConfigError
from ragft.paths import ROOT
from ragft.settings import load_settings, upload_limit_mb
from session import keys
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
    at.session_state[keys.SETTINGS] = embedded_settings(data_dir, **changes)
    return at.run()


def _limit_warnings(at: AppTest) -> list[str]:
    return [w.value for w in at.warning if "server.maxUploadSize" in w.value]


@pytest.mark.slow  # the page loads the embedded model
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


# ---- chunk caps: enforced in the core ingest before any embedding ------------------------------------------------
class CountingEmbedder:
    """The real local model, counting the texts it is asked to embed."""

    def __init__(self, base) -> None:
        self.base, self.embedded = base, 0
        self.provider, self.model, self.model_id = base.provider, base.model, base.model_id
        self.dimensions, self.max_tokens = base.dimensions, base.max_tokens

    def embed(self, texts):
        self.embedded += len(texts)
        return self.base.embed(texts)

    def __call__(self, texts):
        return list(self.embed(texts))

    def count_tokens(self, texts):
        return self.base.count_tokens(texts)


def _doc(n_sections: int, tag: str) -> bytes:
    return "\n\n".join(
        f"# {tag} part {i}\n\n" + " ".join(f"{tag}{i}word{j}" for j in range(60)) for i in range(n_sections)
    ).encode()


@pytest.fixture(scope="module")
def minilm():
    from ragft.models.embeddings import LocalMiniLM

    return LocalMiniLM()


def test_chunk_caps_refuse_before_embedding_and_store_nothing(tmp_path, minilm):
    from ragft.knowledge.base import KnowledgeBase
    from ragft.knowledge.documents import Limits
    from ragft.knowledge.store import make_client
    from ragft.knowledge.workspaces import new_workspace_id
    from ragft.settings import Settings

    emb = CountingEmbedder(minilm)
    kb = KnowledgeBase(
        make_client(Settings(data_dir=tmp_path)),
        emb,
        new_workspace_id(),
        include_sample=False,
        limits=Limits(max_chunks_per_file=30, max_chunks_per_workspace=40),
    )
    (big,) = kb.ingest_files([("big.md", _doc(12, "big"))], chunk_tokens=60, overlap=0)
    assert big.status == "error" and big.error_type == "ChunkLimitExceeded"
    assert "RAGFT_MAX_CHUNKS_PER_FILE" in big.message and big.message.startswith("big.md:")
    assert emb.embedded == 0 and kb.workspace.documents() == []
    (first,) = kb.ingest_files([("a.md", _doc(5, "a"))], chunk_tokens=60, overlap=0)
    assert first.ok and 20 < first.chunks <= 30, first.message  # 5 parts of about 5 chunks
    before = emb.embedded
    (second,) = kb.ingest_files([("b.md", _doc(5, "b"))], chunk_tokens=60, overlap=0)
    assert second.status == "error" and "RAGFT_MAX_CHUNKS_PER_WORKSPACE" in second.message
    assert emb.embedded == before and [d.name for d in kb.workspace.documents()] == ["a.md"]
    # A new version of a.md replaces the old one, so its chunks are not counted twice.
    (again,) = kb.ingest_files([("a.md", _doc(5, "a2"))], chunk_tokens=60, overlap=0)
    assert again.ok, again.message


@pytest.mark.slow  # the page loads the embedded model
def test_the_knowledge_base_page_shows_the_chunk_cap_message(data_dir, monkeypatch):
    monkeypatch.setenv("RAGFT_MAX_CHUNKS_PER_FILE", "2")
    at = AppTest.from_file(str(ROOT / "pages" / "knowledge_base.py"), default_timeout=240).run()
    assert not at.exception, at.exception
    at.file_uploader[0].set_value([("big.md", _doc(8, "big"), "text/markdown")]).run()
    at.button(key="kb_index").click().run()
    assert not at.exception, at.exception
    shown = [as_plain(e.value) for e in at.error]
    assert any(m.startswith("big.md:") and "RAGFT_MAX_CHUNKS_PER_FILE" in m for m in shown), shown
    assert not [df for df in at.dataframe if "file" in df.value and "big.md" in list(df.value["file"])]
