"""Your own questions: draft a question set from uploaded documents with an endpoint model, to review before use.

For each sampled chunk one metered call asks for a question a customer might ask and the short fact that answers
it, copied from the excerpt. A draft whose fact is not actually in the excerpt is dropped (the model paraphrased
or invented it). The drafts are rows to edit in a table; :func:`rows_to_question_set` turns the edited rows into a
:class:`QuestionSet` with the same checks as an uploaded file.

The embedded 135M model is far too small to write usable questions: drafting needs an OpenAI-compatible endpoint.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.costs.metering import MeteredCall
from ragft.errors import BudgetExceeded, RagftError
from ragft.evaluation.questions import QuestionSet, QuestionSetError, parse_question_set
from ragft.evaluation.scoring import fact_found

logger = logging.getLogger(__name__)

DRAFT_CONFIGURATION = "drafting"
MAX_DRAFTS = 50
COLUMNS = ("id", "question", "expected_facts", "expected_source", "expected_page", "expected_style")

DRAFT_PROMPT = (
    "You write evaluation questions for a document question-answering system. From the EXCERPT, write ONE "
    "question a customer might ask whose answer is a short fact (a price, number, duration, name or policy) stated "
    "in the excerpt, and that fact copied exactly as the excerpt writes it. Reply with a JSON object "
    '{"question": "...", "fact": "..."} and nothing else.'
)

_OBJ_RE = re.compile(r"\{.*\}", re.DOTALL)


class DraftingError(RagftError):
    """Question drafting cannot run (no endpoint model, nothing uploaded)."""


@dataclass(frozen=True)
class Excerpt:
    text: str
    source: str
    page: int | None = None


@dataclass(frozen=True)
class Draft:
    row: dict[str, Any] | None  # a question-set row (``COLUMNS``), or None when this excerpt gave nothing usable
    excerpt: Excerpt
    problem: str = ""


def pick_excerpts(excerpts: Sequence[Excerpt], n: int) -> list[Excerpt]:
    """``n`` excerpts spread evenly over the documents (round-robin by source, in order within each)."""
    by_source: dict[str, list[Excerpt]] = {}
    for e in excerpts:
        if e.text.strip():
            by_source.setdefault(e.source, []).append(e)
    queues = [list(v) for v in by_source.values()]
    out: list[Excerpt] = []
    while len(out) < n and any(queues):
        for q in queues:
            if q and len(out) < n:
                # from each document take excerpts spread through it, not just its first ones
                out.append(q.pop(len(q) // 2 if len(out) % 2 else 0))
    return out


def _parse(text: str) -> tuple[str, str]:
    m = _OBJ_RE.search(text or "")
    if not m:
        raise ValueError("the reply is not a JSON object")
    d = json.loads(m.group(0))
    if not isinstance(d, dict):
        raise ValueError("the reply is not a JSON object")
    q, fact = str(d.get("question") or "").strip(), str(d.get("fact") or "").strip()
    if not q or not fact:
        raise ValueError("the reply has no question or no fact")
    return q, fact


def draft_questions(
    model: Any,
    excerpts: Sequence[Excerpt],
    n: int,
    *,
    ledger: SessionLedger,
    budget: Budget | None = None,
    price_overrides: Mapping[str, Any] | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Draft]:
    """One metered call per picked excerpt; yields a :class:`Draft` each (``row`` None with the problem when the
    reply is unusable). Stops at the budget cap (raises :class:`BudgetExceeded` after what was drafted)."""
    if getattr(model, "provider", "") == "embedded":
        raise DraftingError(
            "The embedded 135M model is too small to draft questions.",
            hint="Configure an OpenAI-compatible endpoint for the base or fine-tuned slot in Settings.",
        )
    picked = pick_excerpts(excerpts, min(n, MAX_DRAFTS))
    if not picked:
        raise DraftingError("There is nothing to draft from.", hint="Upload documents on the Knowledge base page.")
    for i, ex in enumerate(picked, 1):
        if cancel is not None and cancel.is_set():
            return
        call = MeteredCall(
            model,
            [
                {"role": "system", "content": DRAFT_PROMPT},
                {"role": "user", "content": f"EXCERPT (from {ex.source}):\n{ex.text[:3000]}"},
            ],
            ledger=ledger,
            budget=budget,
            configuration=DRAFT_CONFIGURATION,
            question_id=f"draft-{i}",
            question="draft a question",
            max_tokens=160,
            temperature=0.0,
            price_overrides=price_overrides,
        )
        try:
            text = call.consume().text
        except BudgetExceeded:
            raise
        except RagftError as exc:
            yield Draft(None, ex, exc.message)
            continue
        try:
            question, fact = _parse(text)
        except (ValueError, json.JSONDecodeError) as exc:
            yield Draft(None, ex, f"unusable reply ({exc})")
            continue
        if not fact_found(fact, ex.text):
            yield Draft(None, ex, f"the fact {fact!r} is not in the excerpt")
            continue
        yield Draft(
            {
                "id": f"draft-{i}",
                "question": question,
                "expected_facts": fact,
                "expected_source": ex.source,
                "expected_page": ex.page,
                "expected_style": "any",
            },
            ex,
        )


def rows_to_question_set(rows: Sequence[Mapping[str, Any]], name: str = "Drafted questions") -> QuestionSet:
    """The reviewed table as a question set (facts ``|``-separated); QuestionSetError naming the row when bad."""
    lines = []
    for row in rows:
        if not any(str(row.get(c) or "").strip() for c in ("id", "question", "expected_facts")):
            continue  # an empty row the editor added
        facts = [f.strip() for f in str(row.get("expected_facts") or "").split("|") if f.strip()]
        page = row.get("expected_page")
        try:
            page = None if page in (None, "") or page != page else int(page)  # page != page: NaN from the editor
        except (TypeError, ValueError):
            pass  # parse_question_set reports it with its row
        lines.append(
            json.dumps(
                {
                    "id": str(row.get("id") or "").strip(),
                    "question": str(row.get("question") or ""),
                    "expected_facts": facts,
                    "expected_source": str(row.get("expected_source") or ""),
                    "expected_page": page,
                    "expected_style": str(row.get("expected_style") or "any"),
                }
            )
        )
    if not lines:
        raise QuestionSetError("The table holds no question.")
    return parse_question_set("\n".join(lines), f"{name}.jsonl")
