"""Calls on the facilitator's key against real stubs on 127.0.0.1: the Knowledge base page uses the server's
embedding key (resolved at call time) without it ever entering the session, its search box is metered (ledger +
budget reservation) and capped, and the facilitator's pause stops ingest, search and chat calls on the key
before any request leaves the app."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import re
import threading
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft.classroom import pause
from ragft.costs.billing import BilledEmbedder, Billing
from ragft.costs.budget import Budget
from ragft.costs.ledger import SEARCH, SessionLedger
from ragft.costs.prices import Price
from ragft.errors import BudgetExceeded
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.search import search
from ragft.knowledge.store import make_client
from ragft.knowledge.workspaces import new_workspace_id
from ragft.models.embeddings import LocalMiniLM
from ragft.settings import Settings
from ragft.store import open_store
from ragft.store import spend as S
from tests.fake_latency_server import LatencyServer

pytestmark = pytest.mark.slow  # starts servers, loads the local embedding model

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "knowledge_base.py")
SEARCH_BUTTON = "FormSubmitter:kb_search_form-Search"
CANARY = "sk-canary-embed-9a41c7"
DOC = ("# Tents\n\nThe Kestrel 2 Tent costs $149 and sleeps two.\n\n" * 3).encode()


class EmbeddingStub:
    """An OpenAI-compatible ``/embeddings`` route: hashed bag-of-words vectors, every request's Authorization kept."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                stub.seen.append((self.path, self.headers.get("Authorization") or ""))
                texts = body.get("input") or []
                texts = [texts] if isinstance(texts, str) else texts
                data = [{"object": "embedding", "index": i, "embedding": _vector(t)} for i, t in enumerate(texts)]
                n = sum(len(t.split()) for t in texts)
                out = json.dumps(
                    {
                        "object": "list",
                        "data": data,
                        "model": body.get("model"),
                        "usage": {"prompt_tokens": n, "total_tokens": n},
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> EmbeddingStub:
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


def _vector(text: str, dims: int = 32) -> list[float]:
    v = [0.0] * dims
    for word in re.findall(r"\w+", text.lower()):
        v[int(hashlib.sha1(word.encode()).hexdigest(), 16) % dims] += 1.0
    norm = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / norm for x in v]


def holds(value, needle: str, seen: set[int] | None = None, depth: int = 0) -> bool:
    """True when ``needle`` is in any string reachable from ``value`` (containers, dataclasses, attributes)."""
    seen = set() if seen is None else seen
    if depth > 40 or id(value) in seen:
        return False
    seen.add(id(value))
    if isinstance(value, str):
        return needle in value
    if isinstance(value, bytes | bytearray):
        return needle.encode() in value
    if isinstance(value, int | float | bool | Decimal) or value is None:
        return False
    if isinstance(value, dict):
        return any(holds(k, needle, seen, depth + 1) or holds(v, needle, seen, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(holds(v, needle, seen, depth + 1) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        if any(holds(getattr(value, f.name, None), needle, seen, depth + 1) for f in dataclasses.fields(value)):
            return True
    attrs = getattr(value, "__dict__", None)
    if isinstance(attrs, dict) and holds(attrs, needle, seen, depth + 1):
        return True
    for slot in getattr(type(value), "__slots__", ()) or ():
        if isinstance(slot, str) and holds(getattr(value, slot, None), needle, seen, depth + 1):
            return True
    return False


def test_the_walker_finds_a_key_held_deep_in_an_object():
    class Client:
        def __init__(self) -> None:
            self.api_key = CANARY

    assert holds({"x": [("a", dataclasses.make_dataclass("D", ["c"])(Client()))]}, CANARY)
    assert not holds({"x": [1, "no key", None]}, CANARY)


@pytest.fixture
def stub(data_dir, monkeypatch):
    with EmbeddingStub() as srv:
        monkeypatch.setenv("RAGFT_EMBED_PROVIDER", "custom")
        monkeypatch.setenv("RAGFT_EMBED_URL", srv.base_url)
        monkeypatch.setenv("RAGFT_EMBED_MODEL", "stub-embed")
        monkeypatch.setenv("RAGFT_EMBED_API_KEY", CANARY)
        yield srv


def index(at: AppTest, name: str = "tents.md") -> AppTest:
    at.file_uploader[0].set_value([(name, DOC, "text/markdown")]).run()
    return at.button(key="kb_index").click().run()


def ask(at: AppTest, query: str) -> AppTest:
    at.text_input(key="kb_query").input(query)
    return at.button(key=SEARCH_BUTTON).click().run()


def test_the_servers_embedding_key_works_and_never_enters_the_session(stub):
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    assert not at.exception, at.exception
    assert at.session_state["settings"].embedding.key_source == "server"
    index(at)
    assert not at.exception and "tents.md" in " ".join(str(d.value) for d in at.dataframe)
    ask(at, "How much does the Kestrel 2 Tent cost?")
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = [*at.markdown, *at.text, *at.caption]
    assert "Kestrel 2 Tent costs $149" in " ".join(as_plain(str(t.value)) for t in shown)
    searches = [r for r in at.session_state["ledger"].records() if r.configuration == SEARCH]
    assert len(searches) == 1 and searches[0].usage.prompt_tokens > 0 and searches[0].kind == "embedding"
    assert stub.seen and all(auth == f"Bearer {CANARY}" for _, auth in stub.seen)  # the key reached its endpoint
    state = {k: at.session_state[k] for k in at.session_state}
    assert not holds(state, CANARY), "the server's embedding key is held in the session"


def test_the_pause_stops_ingest_and_search_on_the_servers_key(stub):
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    index(at, "kept.md")
    assert "kept.md" in " ".join(str(d.value) for d in at.dataframe)
    before = len(stub.seen)
    records = len(at.session_state["ledger"].records())
    pause.set_paused(True)
    try:
        index(at, "second.md")
        ask(at, "How much does the Kestrel 2 Tent cost?")
    finally:
        pause.set_paused(False)
    page_text = " ".join(as_plain(str(e.value)) for e in [*at.error, *at.warning])
    assert "paused all model calls" in page_text, page_text
    assert len(stub.seen) == before  # not one request left the app
    assert len(at.session_state["ledger"].records()) == records
    files = " ".join(str(d.value) for d in at.dataframe)
    assert "kept.md" in files and "second.md" not in files  # what was indexed is still there


def test_a_participant_over_their_cap_searches_nothing_on_the_servers_key(stub, data_dir, monkeypatch):
    """The search box through the page: the participant's spend on the server's key is at their cap, so the query's
    embedding is refused before it is sent, with the budget's message, and no request reaches the endpoint."""
    monkeypatch.setenv("RAGFT_PARTICIPANT_BUDGET_USD", "0.50")
    monkeypatch.setenv("RAGFT_PRICE_OVERRIDES", "stub-embed=1000/0")  # a paid embedding: $1,000 per 1M tokens
    at = AppTest.from_file(PAGE, default_timeout=240).run()
    index(at, "kept.md")
    assert not at.error and "kept.md" in " ".join(str(d.value) for d in at.dataframe), [e.value for e in at.error]
    ws = at.query_params["ws"]
    store = open_store(data_dir)
    with store.write() as conn:  # what this participant already spent on the server's key: all of their cap
        S.add_spend(conn, ws, Decimal("0.50") - S.spent(conn, ws)[0], 1)
        app_before = S.spent(conn, S.APP)
    before = len(stub.seen)
    searches = len([r for r in at.session_state["ledger"].records() if r.configuration == SEARCH])
    ask(at, "How much does the Kestrel 2 Tent cost?")
    assert not at.exception, at.exception
    message = " ".join(as_plain(str(e.value)) for e in at.error)
    assert "Refused: a search embedding" in message and "your budget" in message, message
    assert len(stub.seen) == before, "the query was embedded on the server's key"
    assert len([r for r in at.session_state["ledger"].records() if r.configuration == SEARCH]) == searches
    assert at.session_state["kb_result"] is None
    with store.read() as conn:
        assert S.spent(conn, ws)[0] == Decimal("0.50") and S.spent(conn, S.APP)[0] == app_before[0]
        assert S.reserved(conn, ws) == 0


CHAT_SCRIPT = """
import streamlit as st
from ragft import errors as E
from session import models
for what, call in (
    ("answer", lambda: models.chat_model("base").complete([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0).text),
    ("check", lambda: models.chat_model("base").check()),
):
    try:
        st.text(f"{what}: ok {call()}")
    except E.RagftError as exc:
        st.error(f"{what}: {type(exc).__name__}: {exc.message}")
"""


def test_the_pause_stops_every_chat_call_on_the_servers_key(data_dir, monkeypatch):
    """The judge, question drafting and "Test connection" call through ``session.models.chat_model``."""
    with LatencyServer(token_delay_s=0.001, first_token_s=0.001) as llm:
        for k, v in {
            "RAGFT_BASE_PROVIDER": "custom",
            "RAGFT_BASE_URL": llm.base_url,
            "RAGFT_BASE_MODEL": "fake-base",
            "OPENAI_API_KEY": CANARY,
        }.items():
            monkeypatch.setenv(k, v)
        pause.set_paused(True)
        try:
            at = AppTest.from_string(CHAT_SCRIPT, default_timeout=60).run()
        finally:
            pause.set_paused(False)
        assert [as_plain(e.value).split(":")[1].strip() for e in at.error] == ["ModelCallsPaused"] * 2
        assert llm.seen == []
        at = AppTest.from_string(CHAT_SCRIPT, default_timeout=60).run()
        assert not at.error and [t.value.split(":")[0] for t in at.text] == ["answer", "check"]
        assert llm.seen and all(auth == f"Bearer {CANARY}" for _, _, auth in llm.seen)


def test_a_search_over_the_budget_is_refused_and_nothing_is_lost(tmp_path):
    # The local embedder stands in for the facilitator's paid embedding endpoint ($1,000 per 1M tokens).
    embedder = BilledEmbedder(LocalMiniLM(), Billing(free=False, server_key=True), Price(Decimal(1000), Decimal(0)))
    kb = KnowledgeBase(make_client(Settings(data_dir=tmp_path)), embedder, new_workspace_id(), include_sample=False)
    assert kb.ingest_files([("tents.md", DOC)])[0].ok
    ledger = SessionLedger()
    tight = Budget(tmp_path, Decimal("0.000001"), None, workspace_id="ws-search")
    with pytest.raises(BudgetExceeded, match="Refused: a search embedding .* could cost up to"):
        search(kb, "How much does the Kestrel 2 Tent cost?", k=2, threshold=0.0, ledger=ledger, budget=tight)
    assert ledger.records() == [] and tight.app_spent() == (Decimal(0), Decimal(0))
    assert [d.name for d in kb.workspace.documents()] == ["tents.md"]
    roomy = Budget(tmp_path, Decimal("1"), None, workspace_id="ws-search")
    result = search(kb, "How much does the Kestrel 2 Tent cost?", k=2, threshold=0.0, ledger=ledger, budget=roomy)
    assert result.chunks and result.embedder is None
    (rec,) = ledger.records()
    assert rec.configuration == SEARCH and rec.cost is not None and rec.cost > 0
    assert roomy.app_spent() == (rec.cost, Decimal(0))  # settled at its cost, nothing left in flight


def test_a_comparison_on_the_servers_keys_leaves_no_key_in_the_session(stub, monkeypatch):
    chat_key = "sk-canary-chat-0c77e2"
    with LatencyServer(token_delay_s=0.001, first_token_s=0.001) as llm:
        for slot in ("BASE", "FT"):
            monkeypatch.setenv(f"RAGFT_{slot}_PROVIDER", "custom")
            monkeypatch.setenv(f"RAGFT_{slot}_URL", llm.base_url)
            monkeypatch.setenv(f"RAGFT_{slot}_MODEL", "fake-base" if slot == "BASE" else "fake-ft")
        monkeypatch.setenv("OPENAI_API_KEY", chat_key)
        monkeypatch.setenv("RAGFT_MAX_TOKENS", "8")
        at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=240)
        at.run()
        at.switch_page("pages/compare.py").run()
        at.toggle(key="cmp_on_ft").set_value(False)
        at.toggle(key="cmp_on_ft_rag").set_value(False)
        at.text_input(key="cmp_question").set_value("How much does the Kestrel 2 Tent cost?")
        at.button(key="FormSubmitter:cmp_form-Ask").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert len(at.session_state["cmp_history"]) == 1
        configurations = [r.configuration for r in at.session_state["ledger"].records()]
        assert "retrieval" in configurations and "base_rag" in configurations  # the query embedding was metered
        assert any(auth == f"Bearer {CANARY}" for _, auth in stub.seen)
        assert any(auth == f"Bearer {chat_key}" for _, _, auth in llm.seen)
        state = {k: at.session_state[k] for k in at.session_state}
        assert not holds(state, CANARY) and not holds(state, chat_key)
