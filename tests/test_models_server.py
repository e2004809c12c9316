"""The OpenAI-compatible ChatModel against a real llama.cpp server on 127.0.0.1 (bundled SmolLM2)."""

from __future__ import annotations

import socket
import threading

import pytest

from ragft import errors as E
from ragft.answering.prompts import build_messages
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.models.chat import OpenAICompatibleModel
from ragft.settings import EMBEDDED_BASE_MODEL, EndpointConfig
from tests.conftest import free_port

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

QUESTION = "How much does the Aurora desk lamp cost?"
CHUNK = RetrievedChunk(text="Aurora desk lamp. Price: $49. Three brightness levels.", source="catalogue.pdf", page=3)


def endpoint(url: str, model: str = EMBEDDED_BASE_MODEL, **kw) -> EndpointConfig:
    return EndpointConfig(provider="llamacpp", model=model, base_url=url, **kw)


def test_streamed_answer_has_text_and_counted_usage(llama_server):
    """Streaming mechanics and usage, not wording: a 135M model's exact words change with the CPU's float kernels."""
    model = OpenAICompatibleModel(endpoint(llama_server))
    messages = build_messages(QUESTION, [CHUNK])
    stream = model.stream(messages, max_tokens=32, temperature=0.0)
    pieces = list(stream)
    assert len(pieces) > 3, "the answer arrives in several chunks"
    assert stream.text == "".join(pieces) and stream.text.strip()
    u = stream.usage
    # llama.cpp sends no usage on streams: counted with the tokenizer, and said so.
    assert u is not None and u.exact is False
    assert 40 <= u.prompt_tokens <= 200
    assert 1 <= u.completion_tokens <= 40
    assert stream.ttft_s is not None and 0 < stream.ttft_s <= stream.total_s


def test_greedy_streams_are_repeatable_on_one_machine(llama_server):
    """Temperature 0 on one server: the same prompt streams the same answer twice (whatever the words are)."""
    model = OpenAICompatibleModel(endpoint(llama_server))
    messages = build_messages(QUESTION, [CHUNK])
    model.stream(messages, max_tokens=4, temperature=0.0).consume()  # the server's prompt cache is warm from here
    first = "".join(model.stream(messages, max_tokens=24, temperature=0.0))
    second = "".join(model.stream(messages, max_tokens=24, temperature=0.0))
    assert first.strip() and first == second


def test_non_streamed_answer_reports_exact_usage(llama_server):
    model = OpenAICompatibleModel(endpoint(llama_server))
    messages = build_messages(QUESTION, [CHUNK])
    done = model.complete(messages, max_tokens=32, temperature=0.0)
    assert done.text.strip()
    assert done.usage.exact is True
    assert 1 <= done.usage.completion_tokens <= 32
    # our own count (o200k as a stand-in tokenizer) is in the same range as the server's exact figure
    counted = model.count_prompt_tokens(messages)
    assert 0.5 * done.usage.prompt_tokens <= counted <= 2 * done.usage.prompt_tokens
    # the reply's own length agrees with the server's completion count (same tokenizer family, loose bound)
    assert model.count_tokens(done.text) <= 2 * done.usage.completion_tokens + 4


def test_wrong_model_name_is_model_not_found(llama_server):
    model = OpenAICompatibleModel(endpoint(llama_server, model="no-such-model"))
    with pytest.raises(E.ModelNotFound) as info:
        list(model.stream([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0.0))
    assert "no-such-model" in info.value.message and EMBEDDED_BASE_MODEL in info.value.message


def test_check_reports_connection(llama_server):
    assert "Connected" in OpenAICompatibleModel(endpoint(llama_server)).check()


def test_dead_port_is_unreachable():
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    model = OpenAICompatibleModel(endpoint(url, timeout_s=5, max_retries=0))
    with pytest.raises(E.EndpointUnreachable) as info:
        model.check()
    assert "Cannot reach" in info.value.message and "base URL" in info.value.message


def test_server_that_never_answers_times_out():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)  # accepts connections, never replies
    port = srv.getsockname()[1]
    conns = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        model = OpenAICompatibleModel(endpoint(f"http://127.0.0.1:{port}/v1", timeout_s=1.0, max_retries=0))
        with pytest.raises(E.EndpointTimeout):
            model.complete([{"role": "user", "content": "hi"}], max_tokens=2, temperature=0.0)
    finally:
        stop.set()
        t.join(timeout=2)
        for c in conns:
            c.close()
        srv.close()
