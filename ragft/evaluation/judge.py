"""An LLM judge of faithfulness (optional): claim extraction, then verification against the retrieved context.

The method RAG evaluation frameworks use (RAGAS' faithfulness): one call lists the answer's factual claims, a
second says, claim by claim, whether the context supports it; faithfulness = supported / claims. Both calls go
through :class:`ragft.costs.metering.MeteredCall`, so a judge is metered, priced and capped like any answer (its
configuration in the ledger is ``judge``). Only an OpenAI-compatible endpoint can judge: the embedded 135M model
cannot follow these prompts.

    for rec in judge_evaluation(ev, judge_model, ledger=ledger, budget=budget):
        print(rec.question_id, rec.faithfulness)
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

logger = logging.getLogger(__name__)

JUDGE_CONFIGURATION = "judge"
MAX_CLAIMS = 12
MAX_CONTEXT_CHARS = 6000

EXTRACT_PROMPT = (
    "You extract factual claims. List every factual claim the ANSWER makes (prices, numbers, names, policies), "
    "each as one short self-contained sentence. Ignore greetings and sign-offs. Reply with a JSON array of "
    "strings and nothing else; [] when there is none."
)
VERIFY_PROMPT = (
    "You check claims against a CONTEXT. For each numbered claim, decide whether the CONTEXT states or directly "
    'implies it. Reply with a JSON array of objects {"claim": <number>, "supported": true|false} in the same '
    "order, and nothing else."
)

_ARRAY_RE = re.compile(r"\[.*\]", re.DOTALL)


class JudgeError(RagftError):
    """The judge's reply could not be read."""

    hint = "Use a stronger judge model, or rerun: the judge must reply with JSON."


@dataclass(frozen=True)
class Verdict:
    claims: tuple[dict[str, Any], ...]  # {"claim": str, "supported": bool}

    @property
    def score(self) -> float | None:
        if not self.claims:
            return None
        return sum(1 for c in self.claims if c["supported"]) / len(self.claims)


def _json_array(text: str, what: str) -> list[Any]:
    m = _ARRAY_RE.search(text or "")
    if not m:
        raise JudgeError(f"The judge's {what} is not a JSON array: {(text or '').strip()[:80]!r}.")
    try:
        value = json.loads(m.group(0))
    except json.JSONDecodeError:
        raise JudgeError(f"The judge's {what} is not valid JSON: {m.group(0)[:80]!r}.") from None
    if not isinstance(value, list):
        raise JudgeError(f"The judge's {what} is not a list.")
    return value


def _call(
    model: Any,
    system: str,
    user: str,
    *,
    ledger: SessionLedger,
    budget: Budget | None,
    question_id: str,
    question: str,
    max_tokens: int,
    price_overrides: Mapping[str, Any] | None,
) -> str:
    call = MeteredCall(
        model,
        [{"role": "system", "content": system}, {"role": "user", "content": user}],
        ledger=ledger,
        budget=budget,
        configuration=JUDGE_CONFIGURATION,
        question_id=question_id,
        question=question,
        max_tokens=max_tokens,
        temperature=0.0,
        price_overrides=price_overrides,
    )
    return call.consume().text


def judge_answer(
    model: Any,
    question: str,
    answer: str,
    context: Sequence[str],
    *,
    ledger: SessionLedger,
    budget: Budget | None = None,
    question_id: str = "",
    price_overrides: Mapping[str, Any] | None = None,
) -> Verdict:
    """Two metered calls: extract the answer's claims, then verify each against ``context``."""
    raw = _call(
        model,
        EXTRACT_PROMPT,
        f"QUESTION: {question}\n\nANSWER:\n{answer}",
        ledger=ledger,
        budget=budget,
        question_id=question_id,
        question=question,
        max_tokens=400,
        price_overrides=price_overrides,
    )
    claims = [str(c).strip() for c in _json_array(raw, "list of claims") if str(c).strip()][:MAX_CLAIMS]
    if not claims:
        return Verdict(())
    ctx = "\n\n".join(context)[:MAX_CONTEXT_CHARS]
    numbered = "\n".join(f"{i}. {c}" for i, c in enumerate(claims, 1))
    raw = _call(
        model,
        VERIFY_PROMPT,
        f"CONTEXT:\n{ctx}\n\nCLAIMS:\n{numbered}",
        ledger=ledger,
        budget=budget,
        question_id=question_id,
        question=question,
        max_tokens=40 + 20 * len(claims),
        price_overrides=price_overrides,
    )
    verdicts: dict[int, bool] = {}
    for item in _json_array(raw, "verification"):
        if isinstance(item, dict) and isinstance(item.get("supported"), bool):
            try:
                verdicts[int(item["claim"])] = item["supported"]
            except (KeyError, TypeError, ValueError):
                continue
    if not verdicts:
        raise JudgeError("The judge's verification names no claim with a true/false verdict.")
    # a claim the judge left out counts as not supported
    return Verdict(tuple({"claim": c, "supported": verdicts.get(i, False)} for i, c in enumerate(claims, 1)))


def judge_evaluation(
    evaluation: Any,
    model: Any,
    *,
    ledger: SessionLedger,
    budget: Budget | None = None,
    price_overrides: Mapping[str, Any] | None = None,
    cancel: threading.Event | None = None,
) -> Iterator[Any]:
    """Judge every answered RAG record of ``evaluation`` in place (``faithfulness``, ``judge_claims`` or
    ``judge_error``), yielding each record once judged. Stops at the budget cap (that record keeps the message)."""
    evaluation.settings["judge"] = getattr(model, "model_id", "judge")
    for rec in evaluation.records:
        if cancel is not None and cancel.is_set():
            return
        if not rec.rag or rec.error or not (rec.answer or "").strip():
            continue
        try:
            verdict = judge_answer(
                model,
                rec.question,
                rec.answer,
                [c.text for c in rec.sources],
                ledger=ledger,
                budget=budget,
                question_id=rec.question_id,
                price_overrides=price_overrides,
            )
        except BudgetExceeded as exc:
            rec.judge_error = exc.message
            yield rec
            return
        except RagftError as exc:
            logger.info("the judge failed on %s/%s: %s", rec.configuration, rec.question_id, exc.message)
            rec.faithfulness, rec.judge_claims, rec.judge_error = None, (), exc.message
        else:
            rec.faithfulness, rec.judge_claims, rec.judge_error = verdict.score, verdict.claims, None
        yield rec
