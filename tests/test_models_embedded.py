"""The embedded llama.cpp engine with the bundled SmolLM2-135M GGUF."""

from __future__ import annotations

import threading

import pytest

from ragft import errors as E
from ragft.answering.prompts import build_messages
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.models import cpu
from ragft.models.chat import make_chat_model
from ragft.models.embedded import EmbeddedChatModel, EmbeddedEngine
from ragft.paths import smollm2_gguf
from ragft.settings import EndpointConfig

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser


@pytest.fixture(scope="module")
def base_model():
    return make_chat_model(EndpointConfig())


FACTS = [
    (
        "Nimbus travel mug\nPrice: $27\nKeeps drinks hot for 6 hours.",
        "What is the price of the Nimbus travel mug?",
        "27",
    ),
    ("Our store opens at 9 am and closes at 6 pm.", "When does the store open?", "9"),
    ("The warranty on the Ember kettle lasts 3 years.", "How long is the warranty on the Ember kettle?", "3"),
]


def test_answers_with_the_fact_from_context(base_model):
    """A fact check with room to answer, counted over three prompts: robust to the CPU changing a few words."""
    found = 0
    for context, question, fact in FACTS:
        chunk = RetrievedChunk(text=context, source="cat.pdf", page=2)
        stream = base_model.stream(build_messages(question, [chunk]), max_tokens=64, temperature=0.0)
        text = "".join(stream)
        found += fact in text
        assert stream.usage.completion_tokens > 0 and stream.usage.exact
    assert found >= 2, f"only {found} of {len(FACTS)} answers carried the fact from their context"


def test_prompt_count_equals_llama_cpp_usage(base_model):
    messages = build_messages("What is the return window?", [RetrievedChunk(text="Returns: 30 days.", source="p.md")])
    done = base_model.complete(messages, max_tokens=8, temperature=0.0)
    assert done.usage.prompt_tokens == base_model.count_prompt_tokens(messages)


def test_concurrent_sessions_share_one_engine_safely(base_model):
    """Several threads (sessions) on one loaded engine: calls are serialised, every answer is whole."""
    results: dict[int, str] = {}

    def ask(i: int) -> None:
        results[i] = base_model.complete(
            [{"role": "user", "content": f"Repeat the number {i}."}], max_tokens=8, temperature=0.0
        ).text

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert sorted(results) == [0, 1, 2, 3]
    assert all(text.strip() for text in results.values())


def test_missing_or_unreadable_files_give_typed_errors(tmp_path):
    with pytest.raises(E.EmbeddedModelUnavailable):
        EmbeddedEngine(tmp_path / "absent.gguf")
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a gguf file" * 100)
    with pytest.raises(E.EmbeddedModelUnavailable) as info:
        EmbeddedEngine(junk)
    assert "could not be loaded" in info.value.message
    with pytest.raises(E.AdapterMissing):
        make_chat_model(EndpointConfig(lora_path=str(tmp_path / "none.gguf")))


def test_prompt_too_long_for_context_is_refused(base_model):
    huge = "word " * 2100
    with pytest.raises(E.BadRequest) as info:
        base_model.stream([{"role": "user", "content": huge}], max_tokens=10, temperature=0.0)
    assert "context" in info.value.message


def test_label_names_the_adapter():
    gguf = smollm2_gguf()
    model = EmbeddedChatModel(EmbeddedEngine(gguf), "smollm2")
    assert "embedded" in model.label and "LoRA" not in model.label


def test_engine_follows_the_policy_thread_count_per_step():
    """The real llama.cpp context gets the policy's count: 2 alone, 1 while an embedding job runs, back to 2."""
    load = {"value": 0.0}
    pol = cpu.CpuPolicy(cores=2, external_load=lambda: load["value"], env={})
    model = EmbeddedChatModel(EmbeddedEngine(smollm2_gguf(), policy=pol), "smollm2")
    seen: list[tuple[int, int]] = []
    stream = model.stream([{"role": "user", "content": "Count from one to twenty."}], max_tokens=12, temperature=0.0)
    job = None
    for i, _ in enumerate(stream):
        seen.append(model.engine.context_threads())
        if i == 2:
            job = pol.job(cpu.EMBEDDING)
            job.__enter__()
        if i == 6 and job is not None:
            job.__exit__(None, None, None)
            job = None
            load["value"] = 1.0
    assert seen[0] == (2, 2)
    assert (1, 1) in seen[3:7]
    assert seen[-1] == (1, 1)  # another process on one core: one thread
    assert stream.usage.completion_tokens >= 8
    assert pol.active(cpu.GENERATION) == 0 and pol.active(cpu.EMBEDDING) == 0


def test_fixed_threads_are_kept_and_set_threads_reaches_llama_cpp():
    engine = EmbeddedEngine(
        smollm2_gguf(), n_threads=1, policy=cpu.CpuPolicy(cores=2, external_load=lambda: 0.0, env={})
    )
    model = EmbeddedChatModel(engine, "smollm2")
    model.complete([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)
    assert engine.context_threads() == (1, 1)
    engine.set_threads(2)
    assert engine.context_threads() == (2, 2)
    assert (
        model.complete([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0).usage.completion_tokens > 0
    )


def test_an_embedding_and_a_generation_at_once_both_finish():
    """An ingest-sized embedding in one thread while an answer streams in another: both complete, whole."""
    from ragft.models.embeddings import LocalMiniLM

    pol = cpu.CpuPolicy(cores=2, env={})  # the real load sampler
    model = EmbeddedChatModel(EmbeddedEngine(smollm2_gguf(), policy=pol), "smollm2")
    embedder = LocalMiniLM(policy=pol, batch_size=8)
    texts = [f"Product {i}: a lightweight tent with {i} poles, price ${20 + i}." for i in range(48)]
    out: dict[str, object] = {}

    def embed() -> None:
        out["vectors"] = embedder.embed(texts)

    t = threading.Thread(target=embed)
    t.start()
    stream = model.stream([{"role": "user", "content": "Describe a tent."}], max_tokens=24, temperature=0.0).consume()
    t.join(timeout=120)
    vectors = out["vectors"]
    assert vectors.shape == (48, 384)
    assert abs(float((vectors[0] ** 2).sum()) - 1.0) < 1e-3
    assert stream.usage.completion_tokens > 0 and stream.text.strip()
    assert pol.active(cpu.GENERATION) == 0 and pol.active(cpu.EMBEDDING) == 0
    assert set(embedder._sessions) <= {1, 2}
