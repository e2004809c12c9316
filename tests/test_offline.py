"""Embeddings and tokenizers work with every non-loopback connection refused: nothing is downloaded."""

from __future__ import annotations

import importlib
import socket

import numpy as np
import pytest

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser


def test_guard_really_blocks(no_network):
    with pytest.raises(OSError):
        socket.create_connection(("198.51.100.7", 443), timeout=1)
    assert no_network, "the attempt was recorded"


def test_local_embeddings_offline(no_network):
    from ragft.models.embeddings import LocalMiniLM

    emb = LocalMiniLM()
    vecs = emb.embed(["The Aurora lamp costs $49.", "Aurora desk lamp price", "Return policy: 30 days."])
    assert vecs.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vecs, axis=1), 1.0, atol=1e-4)
    # related texts are closer than unrelated ones
    assert float(vecs[0] @ vecs[1]) > float(vecs[0] @ vecs[2])
    assert no_network == []


def test_tiktoken_encodings_from_bundled_files(no_network, tmp_path, monkeypatch):
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(tmp_path / "tk"))  # an empty cache: must be filled locally
    import ragft.models.tokens as tokens

    importlib.reload(tokens)
    assert tokens.count_tokens("hello world", "gpt-4o-mini") == 2  # o200k_base
    assert tokens.count_tokens("hello world", "gpt-4") == 2  # cl100k_base
    assert tokens.count_tokens("tiktoken is great!", "ft:gpt-4o-mini-2024-07-18:org::abc") == 6
    assert len(list((tmp_path / "tk").iterdir())) == 2
    assert no_network == []


def test_embedded_tokenizer_offline(no_network):
    from ragft.models.chat import make_chat_model
    from ragft.settings import EndpointConfig

    model = make_chat_model(EndpointConfig())
    assert model.count_tokens("hello world") == 2
    assert no_network == []
