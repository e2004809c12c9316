"""What retrieval returns: one chunk with its text, source, score and where it came from.

The knowledge base builds these (``ragft.knowledge.store``, ``ragft.knowledge.retrieval``); prompts, comparisons,
evaluations and the pages read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class RetrievedChunk:
    """One chunk returned by retrieval: what the model saw and where it came from."""

    text: str
    source: str  # file name
    page: int | None = None  # 1-based page, None for formats without pages
    score: float = 0.0  # similarity in [0, 1], higher is closer
    chunk_id: str = ""
    doc_id: str = ""
    metadata: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def citation(self) -> str:
        location = self.metadata.get("location") if self.metadata else None
        if location:  # "slide 3", "Prices rows 2-9", "§ Returns" (formats without PDF pages)
            return f"{self.source} {location}"
        return f"{self.source} p.{self.page}" if self.page else self.source
