"""A tiny real OpenAI-compatible server on 127.0.0.1 that counts every request it receives.

It answers ``GET /v1/models``, ``POST /v1/chat/completions`` (streamed or not, the reply chosen by a callable of the
request body) and ``POST /v1/embeddings``; with ``redirect_to`` it answers every request with a 302 to that base
URL instead; with ``tls`` (a server-side SSL context) it speaks https. ``requests`` is the number of requests received (any method, any path), so a test can assert that a
URL it typed led to none.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _default_reply(body: dict) -> str:
    return "OK from the stub."


class CountingStub:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        model: str = "stub-model",
        redirect_to: str | None = None,
        reply: Callable[[dict], str] = _default_reply,
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.model = model
        self.redirect_to = redirect_to
        self.reply = reply
        self.requests = 0
        self.paths: list[str] = []
        self.hosts: list[str] = []  # the Host header of every request
        self._lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body: bytes, ctype: str = "application/json", **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def _count(self) -> bool:
                with stub._lock:
                    stub.requests += 1
                    stub.paths.append(f"{self.command} {self.path}")
                    stub.hosts.append(self.headers.get("Host") or "")
                if stub.redirect_to is not None:
                    tail = self.path.split("/v1", 1)[-1]
                    self._send(302, b"{}", Location=stub.redirect_to.rstrip("/") + tail)
                    return False
                return True

            def do_GET(self) -> None:
                if not self._count():
                    return
                if self.path.rstrip("/").endswith("/models"):
                    data = {"object": "list", "data": [{"id": stub.model, "object": "model", "owned_by": "stub"}]}
                    self._send(200, json.dumps(data).encode())
                else:
                    self._send(404, b'{"error": {"message": "no route"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b"{}"
                if not self._count():
                    return
                body = json.loads(raw or b"{}")
                if self.path.endswith("/embeddings"):
                    texts = body.get("input") or []
                    texts = [texts] if isinstance(texts, str) else texts
                    data = [
                        {"object": "embedding", "index": i, "embedding": [1.0, float(i), 0.5]}
                        for i in range(len(texts))
                    ]
                    usage = {"prompt_tokens": len(texts), "total_tokens": len(texts)}
                    self._send(200, json.dumps({"object": "list", "data": data, "usage": usage}).encode())
                    return
                if not self.path.endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "no route"}}')
                    return
                text = stub.reply(body)
                usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
                base = {"id": "x", "created": 0, "model": stub.model}
                if not body.get("stream"):
                    msg = {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                    out = {**base, "object": "chat.completion", "choices": [msg], "usage": usage}
                    self._send(200, json.dumps(out).encode())
                    return
                chunks = [
                    {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]},
                    {**base, "object": "chat.completion.chunk", "choices": [], "usage": usage},
                ]
                payload = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
                self._send(200, payload.encode(), "text/event-stream")

        self._httpd = ThreadingHTTPServer((host, port), Handler)
        self._httpd.daemon_threads = True
        if tls is not None:
            self._httpd.socket = tls.wrap_socket(self._httpd.socket, server_side=True)
        self.scheme = "https" if tls is not None else "http"
        self.host = host
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}/v1"

    def __enter__(self) -> CountingStub:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.02,), name="counting-stub", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
