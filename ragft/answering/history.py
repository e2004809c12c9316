"""Session history of comparisons: keep, find, re-run, export (Markdown and JSON).

One :class:`SessionHistory` lives in the page's session state; it holds finished
:class:`ragft.answering.compare.Comparison` objects, newest first, capped so a long workshop stays light.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ragft.answering.compare import DONE, Comparison, PanelResult
from ragft.costs.prices import format_usd
from ragft.errors import RagftError

EXPORT_VERSION = 1


class HistoryError(RagftError):
    """A comparison was not found in this session's history."""


class SessionHistory:
    """Finished comparisons of one browser session, newest first."""

    def __init__(self, max_items: int = 100) -> None:
        if max_items < 1:
            raise ValueError("max_items must be at least 1")
        self.max_items = max_items
        self._items: list[Comparison] = []
        self._lock = threading.Lock()

    def add(self, comparison: Comparison) -> None:
        with self._lock:
            self._items = [c for c in self._items if c.id != comparison.id]
            self._items.insert(0, comparison)
            del self._items[self.max_items :]

    def items(self) -> list[Comparison]:
        with self._lock:
            return list(self._items)

    def get(self, comparison_id: str) -> Comparison:
        with self._lock:
            for c in self._items:
                if c.id == comparison_id:
                    return c
        raise HistoryError(f"No comparison {comparison_id!r} in this session's history.")

    def latest(self) -> Comparison | None:
        with self._lock:
            return self._items[0] if self._items else None

    def remove(self, comparison_id: str) -> None:
        with self._lock:
            self._items = [c for c in self._items if c.id != comparison_id]

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)

    def rerun_request(self, comparison_id: str) -> dict[str, Any]:
        """What to ask again: the same question and configurations (with the current settings)."""
        c = self.get(comparison_id)
        return {"question": c.question, "configurations": list(c.configurations)}


# ---- formatting ---------------------------------------------------------------------------------------
def panel_cost_text(p: PanelResult) -> str:
    if p.usage is None or (p.error and p.usage.total_tokens == 0):
        return "-"  # nothing spent (failed before any token)
    if p.local:
        return "$0 · local"
    return format_usd(p.cost)


def _secs(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} s"


def _quote(text: str) -> str:
    lines = (text or "").strip().splitlines() or [""]
    return "\n".join(f"> {line}" if line.strip() else ">" for line in lines)


def comparison_markdown(c: Comparison, heading_level: int = 2) -> str:
    """One comparison as Markdown: question, settings, each panel's answer, metrics and sources."""
    h = "#" * heading_level
    out = [f"{h} {c.question}", ""]
    when = c.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"_Asked {when} · max tokens {c.max_tokens} · temperature {c.temperature:g}"
    if c.top_k is not None:
        meta += f" · top-k {c.top_k}"
    if c.wall_s is not None:
        meta += f" · wall time {c.wall_s:.2f} s"
    out += [meta + "_", ""]
    if c.system_prompt:
        out += [f"System prompt: `{c.system_prompt}`", ""]
    r = c.retrieval
    if r is not None:
        if r.error:
            out += [f"Retrieval failed: {r.error}", ""]
        else:
            out += [
                f"Retrieval: {len(r.chunks)} chunk(s) from `{r.collection or 'knowledge base'}` "
                f"(embed {r.embed_s * 1000:.0f} ms, search {r.search_s * 1000:.0f} ms)",
                "",
            ]
    out += [
        "| Configuration | Model | TTFT | Total | Tokens in | Tokens out | Context added | Cost |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in c.ordered_panels():
        tin = p.usage.prompt_tokens if p.usage else (p.prompt_tokens if p.prompt_tokens is not None else "-")
        tout = p.usage.completion_tokens if p.usage else "-"
        ctx = "-" if p.context_tokens is None else f"+{p.context_tokens}"
        out.append(
            f"| {p.label} | {_cell(p.model_id or '-')} | {_secs(p.ttft_s)} | {_secs(p.total_s)} | {tin} | "
            f"{tout} | {ctx} | {panel_cost_text(p)} |"
        )
    out.append("")
    for p in c.ordered_panels():
        out += [f"{h}# {p.label}" + (f" · {p.model_label}" if p.model_label else ""), ""]
        if p.error:
            out += [f"**Error ({p.error_kind}):** {p.error}", ""]
        if p.text or p.phase == DONE:
            out += [_quote(p.text or "(empty answer)"), ""]
        if p.sources:
            out.append("Sources:")
            for i, s in enumerate(p.sources, 1):
                snippet = " ".join(s.text.split())
                snippet = snippet[:200] + ("…" if len(snippet) > 200 else "")
                out.append(f"{i}. {s.citation} (score {s.score:.2f}): {snippet}")
            out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def session_markdown(comparisons: Iterable[Comparison], title: str = "RAG vs Fine-Tuning Explorer: session") -> str:
    items = list(comparisons)
    now = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [f"# {title}", "", f"_Exported {now} · {len(items)} comparison(s), oldest first_", ""]
    total = Decimal(0)
    unknown = 0
    for c in reversed(items):  # history is newest first; a report reads oldest first
        out += [comparison_markdown(c), ""]
        for p in c.panels.values():
            if p.usage is not None:
                if p.cost is None:
                    unknown += 1
                else:
                    total += p.cost
    out.append(
        f"**Model spend in these comparisons:** {format_usd(total)}"
        + (f" (+ {unknown} call(s) at an unknown price)" if unknown else "")
    )
    return "\n".join(out) + "\n"


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def comparison_json(c: Comparison) -> str:
    return json.dumps({"version": EXPORT_VERSION, "comparison": c.to_dict()}, indent=2, default=_json_default)


def session_json(comparisons: Iterable[Comparison]) -> str:
    items = list(reversed(list(comparisons)))
    return json.dumps(
        {
            "version": EXPORT_VERSION,
            "exported": datetime.now(tz=UTC).isoformat(timespec="seconds"),
            "comparisons": [c.to_dict() for c in items],
        },
        indent=2,
        default=_json_default,
    )


@dataclass(frozen=True)
class Export:
    file_name: str
    data: str
    mime: str


def exports_for(c: Comparison) -> tuple[Export, Export]:
    stem = f"comparison-{c.created.strftime('%Y%m%d-%H%M%S')}-{c.id}"
    return (
        Export(f"{stem}.md", comparison_markdown(c, heading_level=1), "text/markdown"),
        Export(f"{stem}.json", comparison_json(c), "application/json"),
    )


def session_exports(history: SessionHistory) -> tuple[Export, Export]:
    stem = f"ragft-session-{datetime.now(tz=UTC).strftime('%Y%m%d-%H%M%S')}"
    items = history.items()
    return (
        Export(f"{stem}.md", session_markdown(items), "text/markdown"),
        Export(f"{stem}.json", session_json(items), "application/json"),
    )
