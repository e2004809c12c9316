"""Drafting a question set from uploaded documents with an endpoint model (a real local server), then the table."""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ragft.costs.ledger import SessionLedger
from ragft.evaluation import drafting as D
from ragft.evaluation.questions import QuestionSetError
from ragft.models.chat import make_chat_model
from ragft.settings import EMBEDDED_BASE_MODEL, EndpointConfig

EXCERPTS = [
    D.Excerpt("The Kestrel 2 Tent costs $149 and weighs 1.8 kg.", "catalogue.pdf", 3),
    D.Excerpt("Returns are accepted within 45 days of delivery.", "policies.md"),
    D.Excerpt("The Lumen 400 Headlamp runs for 40 hours.", "catalogue.pdf", 7),
]


def _reply(user: str) -> str:
    # stands in for a hosted model: copies a fact from the excerpt, or invents one for the headlamp
    if "Kestrel" in user:
        return 'Sure: {"question": "How much is the Kestrel 2 Tent?", "fact": "$149.00"}'
    if "Returns" in user:
        return '{"question": "How long do I have to return an item?", "fact": "45 days"}'
    return '{"question": "How bright is the Lumen 400?", "fact": "400 lumens at 5 metres"}'


@contextmanager
def serve():
    """A real OpenAI-compatible server on 127.0.0.1 answering drafting prompts (see ``_reply``); yields its URL."""

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def _send(self, obj):
            data = json.dumps(obj).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._send(
                {"object": "list", "data": [{"id": "drafter", "object": "model", "created": 0, "owned_by": "t"}]}
            )

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            text = _reply(body["messages"][-1]["content"])
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            base = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "drafter"}
            chunk = {**base, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
            usage = {**base, "choices": [], "usage": {"prompt_tokens": 50, "completion_tokens": 20, "total_tokens": 70}}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\ndata: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
            self.close_connection = True

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(scope="module")
def server():
    with serve() as url:
        yield url


def test_drafts_keep_only_facts_found_in_the_excerpt_and_are_metered(server):
    model = make_chat_model(EndpointConfig(provider="custom", model="drafter", base_url=server))
    ledger = SessionLedger()
    drafts = list(D.draft_questions(model, EXCERPTS, 5, ledger=ledger))
    assert len(drafts) == 3 and len(ledger.records()) == 3
    rows = [d.row for d in drafts if d.row]
    assert [r["expected_facts"] for r in rows] == ["$149.00", "45 days"]
    assert rows[0]["expected_source"] == "catalogue.pdf" and rows[0]["expected_page"] == 3
    bad = [d for d in drafts if d.row is None]
    assert len(bad) == 1 and "not in the excerpt" in bad[0].problem
    qs = D.rows_to_question_set(rows + [{"id": None, "question": None, "expected_facts": None}])
    assert len(qs) == 2 and qs.questions[0].expected_facts == ("$149.00",) and qs.questions[0].expected_page == 3


def test_the_embedded_model_and_an_empty_workspace_are_refused():
    class Embedded:
        provider = "embedded"
        model_id = EMBEDDED_BASE_MODEL

    with pytest.raises(D.DraftingError) as err:
        list(D.draft_questions(Embedded(), EXCERPTS, 3, ledger=SessionLedger()))
    assert "too small" in err.value.message

    class Remote:
        provider = "custom"

    with pytest.raises(D.DraftingError) as err:
        list(D.draft_questions(Remote(), [], 3, ledger=SessionLedger()))
    assert "Knowledge base" in err.value.message


def test_edited_rows_are_checked_like_an_upload():
    with pytest.raises(QuestionSetError) as err:
        D.rows_to_question_set([{"id": "a", "question": "Q?", "expected_facts": ""}])
    assert "line 1" in err.value.message and "expected_facts" in err.value.message
    with pytest.raises(QuestionSetError):
        D.rows_to_question_set([])
    qs = D.rows_to_question_set([{"id": "a", "question": "Q?", "expected_facts": "$5 | 3 days", "expected_page": 2.0}])
    assert qs.questions[0].expected_facts == ("$5", "3 days") and qs.questions[0].expected_page == 2


def test_excerpts_are_spread_over_documents():
    many = [D.Excerpt(f"text {i}", "a.pdf") for i in range(6)] + [D.Excerpt("other", "b.md")]
    picked = D.pick_excerpts(many, 3)
    assert {e.source for e in picked} == {"a.pdf", "b.md"} and len(picked) == 3
