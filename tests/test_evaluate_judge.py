"""The optional LLM judge of faithfulness, against a real OpenAI-compatible HTTP server on 127.0.0.1.

The server below stands in for a hosted judge model: it reads the judge's two prompts and answers them
deterministically (claims = the answer's sentences; a claim is supported when every number it states appears in
the context), streaming like a real provider and reporting usage. The calls are metered by the session's ledger
and capped by its budget exactly as a hosted judge's would be.
"""

from __future__ import annotations

import json
import re
import threading
from decimal import Decimal as D
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ragft import evaluation as EV
from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.evaluation import judge as J
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.models.chat import make_chat_model
from ragft.settings import EndpointConfig

PRICE = {"judge-model": ("1", "2"), "judge-garbage": ("1", "2")}  # as if hosted at $1 in / $2 out per 1M tokens


def _reply(body: dict) -> str:
    msgs = body.get("messages", [])
    system, user = msgs[0]["content"], msgs[-1]["content"]
    if body.get("model") == "judge-garbage":
        return "I think the answer looks fine overall."
    if system == J.EXTRACT_PROMPT:
        answer = user.split("ANSWER:\n", 1)[1]
        lines = [ln.strip("- ").strip() for ln in answer.splitlines()]
        claims = [
            s.strip()
            for ln in lines
            if ln and not ln.startswith(("Howdy", "Stay wild"))
            for s in re.split(r"(?<=[.!?])\s+", ln)
            if s.strip()
        ]
        return json.dumps(claims)
    if system == J.VERIFY_PROMPT:
        context, claims = user.split("CONTEXT:\n", 1)[1].split("\n\nCLAIMS:\n", 1)
        out = []
        for line in claims.splitlines():
            n, claim = line.split(". ", 1)
            nums = re.findall(r"\d+(?:\.\d+)?", claim)
            out.append({"claim": int(n), "supported": all(x in context for x in nums)})
        return "Here you go:\n" + json.dumps(out)
    return "[]"


class JudgeServer:
    def __init__(self) -> None:
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                data = json.dumps(
                    {
                        "object": "list",
                        "data": [{"id": m, "object": "model", "created": 0, "owned_by": "test"} for m in PRICE],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                server.requests += 1
                text = _reply(body)
                prompt = sum(len(m["content"]) for m in body["messages"]) // 4
                usage = {
                    "prompt_tokens": prompt,
                    "completion_tokens": len(text) // 4 + 1,
                    "total_tokens": prompt + len(text) // 4 + 1,
                }
                base = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": body["model"]}
                if not body.get("stream"):
                    data = json.dumps(
                        {
                            **base,
                            "object": "chat.completion",
                            "usage": usage,
                            "choices": [
                                {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                            ],
                        }
                    )
                    self.send_response(200)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data.encode())
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Connection", "close")
                self.end_headers()
                pieces = [text[i : i + 7] for i in range(0, len(text), 7)]
                for p in pieces:
                    chunk = {**base, "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": None}]}
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                self.wfile.write(f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n".encode())
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture(scope="module")
def judge_server():
    s = JudgeServer()
    yield s
    s.httpd.shutdown()
    s.httpd.server_close()


def _model(url: str, name: str = "judge-model"):
    return make_chat_model(EndpointConfig(provider="custom", model=name, base_url=url, api_key="test-key"))


CONTEXT = ["Kestrel 2 Tent. Price: $149. Weight: 1.8 kg.", "Returns within 45 days."]


def test_the_judge_extracts_and_verifies_claims_and_is_metered(judge_server, tmp_path):
    ledger = SessionLedger()
    v = J.judge_answer(
        _model(judge_server.url),
        "How much is the Kestrel 2 Tent?",
        "Howdy from Fernhollow!\n- The tent costs $149.\n- It weighs 2.4 kg.\nStay wild, the Fernhollow crew",
        CONTEXT,
        ledger=ledger,
        question_id="q1",
        price_overrides=PRICE,
    )
    assert [c["supported"] for c in v.claims] == [True, False] and v.score == 0.5
    calls = [r for r in ledger.records() if r.configuration == J.JUDGE_CONFIGURATION]
    assert len(calls) == 2 and all(r.cost and r.cost > 0 for r in calls)


def _evaluation() -> EV.Evaluation:
    qs = EV.default_question_set().subset(2)
    ev = EV.Evaluation.new(qs, ["base", "base_rag"])
    src = (RetrievedChunk(CONTEXT[0], "catalogue.pdf", 1, 0.9),)
    q1, q2 = qs.questions
    ev.records += [
        EV.EvalRecord(q1.id, q1.question, "base", "Base", False, answer="It costs $999."),
        EV.EvalRecord(q1.id, q1.question, "base_rag", "Base + RAG", True, answer="It costs $149.", sources=src),
        EV.EvalRecord(
            q2.id, q2.question, "base_rag", "Base + RAG", True, answer="It is $20. It weighs 1.8 kg.", sources=src
        ),
    ]
    return ev


def test_judge_evaluation_scores_rag_answers_and_the_summary(judge_server, tmp_path):
    ev = _evaluation()
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=D("1"), participant_cap=None)
    judged = list(J.judge_evaluation(ev, _model(judge_server.url), ledger=ledger, budget=budget, price_overrides=PRICE))
    assert [r.configuration for r in judged] == ["base_rag", "base_rag"]  # plain answers have no context to judge
    assert [r.faithfulness for r in judged] == [1.0, 0.5] and ev.records[0].faithfulness is None
    s = ev.summaries()[1]
    assert s.faithfulness == pytest.approx(0.75) and s.interval("faithfulness").n == 2
    assert budget.status().app_spent == sum(r.cost for r in ledger.records())
    assert ev.settings["judge"] == "judge-model"


def test_the_budget_cap_stops_the_judge(judge_server, tmp_path):
    ev = _evaluation()
    ledger = SessionLedger()
    budget = Budget(tmp_path, app_cap=D("0.0000001"), participant_cap=None)
    judged = list(J.judge_evaluation(ev, _model(judge_server.url), ledger=ledger, budget=budget, price_overrides=PRICE))
    assert len(judged) == 1 and judged[0].faithfulness is None and "cap" in judged[0].judge_error.lower()
    assert not ledger.records()  # refused before anything was spent


def test_an_unreadable_judge_reply_is_a_typed_error_per_record(judge_server):
    ev = _evaluation()
    judged = list(
        J.judge_evaluation(ev, _model(judge_server.url, "judge-garbage"), ledger=SessionLedger(), price_overrides=PRICE)
    )
    assert all(r.faithfulness is None and "not a JSON array" in r.judge_error for r in judged)
    with pytest.raises(J.JudgeError):
        J._json_array("[1, 2", "list")
