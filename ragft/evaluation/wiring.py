"""The app's wiring of models and retrieval without Streamlit, for tests, benchmarks and scripts."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Sequence

from ragft.answering import compare as C
from ragft.errors import RagftError
from ragft.paths import SCENARIO_DIR

def standalone_wiring(settings: Any, configurations: Sequence[str] = ("base", "base_rag", "ft", "ft_rag"),
                      workspace_id: str | None = None) -> tuple[C.ModelFactory, C.Retriever, str]:
    """``(model_for, retrieve, description)`` as the app wires them, without Streamlit.

    Retrieval: the knowledge base in ``settings.data_dir`` (the sample scenario indexed into the shared sample
    collection, plus a fresh workspace), top-k and threshold from the settings. Models: each slot from the
    settings; embedded engines are loaded once per (model, adapter, lane), lane 0 for a plain configuration and
    1 for its +RAG twin (as ``components/compare_view`` does). A slot that cannot load (a missing adapter) is
    kept as its typed error, which the configuration's answers then report.
    """
    from ragft.models.embeddings import make_embedding_function
    from ragft.knowledge.base import KnowledgeBase
    from ragft.knowledge.sample import ensure_sample_collection
    from ragft.knowledge.store import make_client
    from ragft.models.chat import EmbeddedEngine, make_chat_model
    from ragft.knowledge.workspaces import new_workspace_id

    emb = make_embedding_function(settings.embedding)
    client = make_client(settings)
    ensure_sample_collection(client, emb, SCENARIO_DIR, chunk_tokens=settings.chunk_tokens,
                             overlap=settings.chunk_overlap)
    kb = KnowledgeBase(client, emb, workspace_id or new_workspace_id())
    retrieve = kb.as_retriever(k=settings.top_k, threshold=settings.score_threshold)
    engines: dict[tuple[str, str, int], EmbeddedEngine] = {}

    def loader(lane: int) -> Callable[[Path, Path | None], EmbeddedEngine]:
        def load(path: Path, lora: Path | None) -> EmbeddedEngine:
            key = (str(path), str(lora), lane)
            if key not in engines:
                engines[key] = EmbeddedEngine(path, lora)
            return engines[key]

        return load

    built: dict[str, Any] = {}
    for cfg in C.resolve_configurations(configurations):
        endpoint = settings.base if cfg.slot == "base" else settings.finetuned
        try:
            built[cfg.key] = make_chat_model(endpoint, engine_loader=loader(1 if cfg.rag else 0))
        except RagftError as exc:
            built[cfg.key] = exc

    def model_for(cfg: Any) -> Any:
        value = built[cfg.key]
        if isinstance(value, RagftError):
            raise value
        return value

    desc = f"sample scenario in {settings.data_dir} · top-k {settings.top_k} · {emb.model_id}"
    return model_for, retrieve, desc
