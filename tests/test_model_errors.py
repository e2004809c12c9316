"""HTTP status codes from a real local HTTP server → typed core errors with human messages.

The server is a plain ``http.server`` on 127.0.0.1 answering each path with the status a provider would send
(401 wrong key, 404 unknown model, 429 rate limit, 500/503 server failure): the error mapping is what is tested.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ragft import errors as E
from ragft.models.chat import OpenAICompatibleModel
from ragft.settings import EndpointConfig

STATUS = {"401": 401, "404": 404, "429": 429, "500": 500, "503": 503, "400": 400}


class Handler(BaseHTTPRequestHandler):
    def _reply(self):
        code = STATUS[self.path.strip("/").split("/")[0]]
        body = json.dumps({"error": {"message": f"simulated {code}", "type": "test"}}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _reply

    def log_message(self, *args):  # keep test output clean
        pass


@pytest.fixture(scope="module")
def status_server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize(
    "code, error, words",
    [
        ("401", E.AuthenticationFailed, "API key"),
        ("404", E.ModelNotFound, "not found"),
        ("429", E.RateLimited, "rate limiting"),
        ("500", E.ServerError, "500"),
        ("503", E.ServerError, "503"),
        ("400", E.BadRequest, "refused"),
    ],
)
def test_status_maps_to_typed_error(status_server, code, error, words):
    cfg = EndpointConfig(
        provider="custom", model="m", base_url=f"{status_server}/{code}/v1", max_retries=0, timeout_s=5
    )
    model = OpenAICompatibleModel(cfg)
    model._verified = True  # go straight to the chat call (the /models check is tested against llama.cpp)
    with pytest.raises(error) as info:
        list(model.stream([{"role": "user", "content": "hi"}], max_tokens=2, temperature=0.0))
    msg = info.value.message
    assert words in msg
    assert "\n" not in msg and len(msg) < 300, "one line a person can read"


def test_key_never_in_repr():
    cfg = EndpointConfig(provider="openai", model="gpt-4o-mini", api_key="sk-secret-123")
    assert "sk-secret-123" not in repr(cfg)
    assert "sk-secret-123" not in repr(OpenAICompatibleModel(cfg).cfg)


class _SseHandler(BaseHTTPRequestHandler):
    """Streams a few events, a line that is not JSON, then an error event (as some providers do when overloaded)."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps({"object": "list", "data": [{"id": "m", "object": "model"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in ("Hel", "lo"):
            event = {
                "id": "x",
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": {"content": piece}}],
            }
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.write(b": a comment line\n\ndata: {not json\n\n")
        self.wfile.write(b'data: {"error": {"message": "the model is overloaded"}}\n\n')
        self.wfile.flush()


def test_an_error_event_mid_stream_is_a_typed_error_after_the_text_so_far():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _SseHandler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        cfg = EndpointConfig(
            provider="custom",
            model="m",
            base_url=f"http://127.0.0.1:{srv.server_address[1]}/v1",
            max_retries=0,
            timeout_s=10,
        )
        stream = OpenAICompatibleModel(cfg).stream([{"role": "user", "content": "hi"}], max_tokens=8, temperature=0)
        got = []
        with pytest.raises(E.ServerError, match="overloaded"):
            for piece in stream:
                got.append(piece)
        assert "".join(got) == "Hello"
    finally:
        srv.shutdown()
        srv.server_close()
