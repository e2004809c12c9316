"""The app's wiring of models and retrieval without Streamlit, for tests, benchmarks and scripts."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ragft.answering import compare as C
from ragft.errors import RagftError
from ragft.paths import SCENARIO_DIR


def standalone_wiring(
    settings: Any, configurations: Sequence[str] = ("base", "base_rag", "ft", "ft_rag"), workspace_id: str | None = None
) -> tuple[C.ModelFactory, C.Retriever, str]:
    """``(model_for, retrieve, description)`` as the app wires them, without Streamlit.

    Retrieval: the knowledge base in ``settings.data_dir`` (the sample scenario indexed into the shared sample
    collection, plus a fresh workspace), top-k and threshold from the settings. Models: each slot from the
    settings; embedded models get one shared engine per (model, adapter) (a batch engine, or the pool with
    ``RAGFT_EMBEDDED_BATCH=0``), as the app's ``session.models`` does. A slot that cannot load (a missing adapter) is
    kept as its typed error, which the configuration's answers then report.
    """
    from ragft.knowledge.base import KnowledgeBase
    from ragft.knowledge.sample import ensure_sample_collection
    from ragft.knowledge.store import make_client
    from ragft.knowledge.workspaces import new_workspace_id
    from ragft.models.batch import BatchEngine, shared_engine
    from ragft.models.chat import make_chat_model
    from ragft.models.embeddings import make_embedding_function
    from ragft.models.pool import EnginePool

    emb = make_embedding_function(settings.embedding)
    client = make_client(settings)
    ensure_sample_collection(
        client, emb, SCENARIO_DIR, chunk_tokens=settings.chunk_tokens, overlap=settings.chunk_overlap
    )
    kb = KnowledgeBase(client, emb, workspace_id or new_workspace_id())
    retrieve = kb.as_retriever(k=settings.top_k, threshold=settings.score_threshold)
    engines: dict[tuple[str, str], BatchEngine | EnginePool] = {}

    def load(path: Path, lora: Path | None) -> BatchEngine | EnginePool:
        key = (str(path), str(lora))
        if key not in engines:
            engines[key] = shared_engine(path, lora)
        return engines[key]

    built: dict[str, Any] = {}
    for cfg in C.resolve_configurations(configurations):
        endpoint = settings.base if cfg.slot == "base" else settings.finetuned
        try:
            built[cfg.key] = make_chat_model(endpoint, engine_loader=load)
        except RagftError as exc:
            built[cfg.key] = exc

    def model_for(cfg: Any) -> Any:
        value = built[cfg.key]
        if isinstance(value, RagftError):
            raise value
        return value

    desc = f"sample scenario in {settings.data_dir} · top-k {settings.top_k} · {emb.model_id}"
    return model_for, retrieve, desc
