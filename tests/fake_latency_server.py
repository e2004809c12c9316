"""A small, real OpenAI-compatible HTTP server on 127.0.0.1 that streams with a fixed delay per token.

It stands in for network latency (a hosted model far away) in the concurrency test and the benchmark:
each answer is ``max_tokens`` words (``"w1 w2 ..."``), sent one SSE chunk per token after ``first_token_s``
and then every ``token_delay_s``. Requests are served in parallel (one thread each), like a real provider.

Model names choose the behaviour, so one server can make one panel fail while the others answer:

- ``fail-429`` → 429 rate limit, ``fail-500`` → 500, ``fail-401`` → 401;
- ``slow-<ms>`` → that many milliseconds per token instead of the server default;
- anything else listed in ``models`` answers normally; an unlisted name → 404 (like OpenAI).

Run it alone: ``python tests/fake_latency_server.py --port 8123 --delay-ms 20``.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DEFAULT_MODELS = ("fake-base", "fake-ft", "ft:gpt-4o-mini-2024-07-18:acme::abc123", "fail-429", "fail-500", "fail-401")


class _Server(ThreadingHTTPServer):
    request_queue_size = 256  # a room connecting at once (the default backlog of 5 drops SYNs: 1 s retries)


class LatencyServer:
    """Start with :meth:`start`, stop with :meth:`stop` (or use as a context manager)."""

    def __init__(
        self,
        port: int = 0,
        token_delay_s: float = 0.02,
        first_token_s: float = 0.05,
        models: Sequence[str] = DEFAULT_MODELS,
    ) -> None:
        self.token_delay_s = token_delay_s
        self.first_token_s = first_token_s
        self.models = list(models)
        self.requests = 0
        self.active = 0
        self.max_active = 0  # most requests streaming at the same time (proves concurrency server-side)
        self.seen: list[tuple[str, str, str]] = []  # (method, path, Authorization header) of every request
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet
                pass

            def _json(self, status: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _record(self) -> None:
                with server._lock:
                    server.seen.append((self.command, self.path, self.headers.get("Authorization") or ""))

            def do_GET(self) -> None:
                self._record()
                if self.path.rstrip("/").endswith("/models"):
                    self._json(
                        200,
                        {
                            "object": "list",
                            "data": [
                                {"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in server.models
                            ],
                        },
                    )
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def do_POST(self) -> None:
                self._record()
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except json.JSONDecodeError:
                    self._json(400, {"error": {"message": "invalid JSON"}})
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self._json(404, {"error": {"message": f"no route {self.path}"}})
                    return
                server._serve_chat(self, body)

        self._httpd = _Server(("127.0.0.1", port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread: threading.Thread | None = None

    def authorizations(self) -> list[str]:
        """Every Authorization header this server received (empty strings for requests without one)."""
        with self._lock:
            return [auth for _, _, auth in self.seen]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LatencyServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="latency-server", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LatencyServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---- chat ---------------------------------------------------------------------------------------
    def _serve_chat(self, h: BaseHTTPRequestHandler, body: dict) -> None:
        model = str(body.get("model", ""))
        with self._lock:
            self.requests += 1
        if model not in self.models and not model.startswith("slow-"):
            h._json(404, {"error": {"message": f"The model `{model}` does not exist", "code": "model_not_found"}})
            return
        if model.startswith("fail-"):
            status = int(model.split("-", 1)[1])
            h._json(status, {"error": {"message": f"fake failure {status}", "type": "fake"}})
            return
        delay = self.token_delay_s
        if model.startswith("slow-"):
            delay = int(model.split("-", 1)[1]) / 1000.0
        n = max(1, int(body.get("max_tokens") or 16))
        prompt_chars = sum(len(str(m.get("content", ""))) for m in body.get("messages", []))
        prompt_tokens = max(1, prompt_chars // 4)
        words = [f"w{i}" for i in range(1, n + 1)]
        if not body.get("stream"):
            time.sleep(self.first_token_s + delay * (n - 1))
            h._json(
                200,
                {
                    "id": "cmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "length",
                            "message": {"role": "assistant", "content": " ".join(words)},
                        }
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": n,
                        "total_tokens": prompt_tokens + n,
                    },
                },
            )
            return
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        h.send_response(200)
        h.send_header("Content-Type", "text/event-stream")
        h.send_header("Cache-Control", "no-cache")
        h.send_header("Connection", "close")
        h.end_headers()
        with self._lock:
            self.active += 1
            self.max_active = max(self.max_active, self.active)
        try:

            def send(obj: dict | str) -> None:
                data = obj if isinstance(obj, str) else json.dumps(obj)
                h.wfile.write(f"data: {data}\n\n".encode())
                h.wfile.flush()

            base = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": model,
            }
            time.sleep(self.first_token_s)
            for i, w in enumerate(words):
                if i:
                    time.sleep(delay)
                piece = w if i == 0 else " " + w
                send({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "length"}]})
            if include_usage:
                send(
                    {
                        **base,
                        "choices": [],
                        "usage": {
                            "prompt_tokens": prompt_tokens,
                            "completion_tokens": n,
                            "total_tokens": prompt_tokens + n,
                        },
                    }
                )
            send("[DONE]")
        except (BrokenPipeError, ConnectionResetError):
            pass
        finally:
            with self._lock:
                self.active -= 1
            h.close_connection = True


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=8123)
    ap.add_argument("--delay-ms", type=float, default=20.0)
    ap.add_argument("--first-ms", type=float, default=50.0)
    args = ap.parse_args()
    srv = LatencyServer(args.port, args.delay_ms / 1000, args.first_ms / 1000)
    print(f"serving {srv.base_url} ({args.delay_ms:g} ms/token); Ctrl-C stops", flush=True)
    srv.start()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        srv.stop()


if __name__ == "__main__":
    main()
