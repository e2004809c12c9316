"""Running an evaluation: every question through the configurations, each as one comparison, scored.

Shape::

    ev = Evaluation.new(default_question_set().subset(4), ["base", "base_rag", "ft", "ft_rag"])
    for p in run_evaluation(ev, model_for=..., retrieve=..., ledger=ledger, cancel=stop):
        print(p.done, "/", p.total, p.record.configuration, p.record.fact_score)
    run = start_evaluation(ev, model_for=..., retrieve=...)   # the same in a background thread

Each question goes through :func:`ragft.answering.compare.start_comparison` (shared retrieval, budget, ledger
metering, prompts from :func:`ragft.answering.prompts.build_messages`), so an evaluation costs and meters exactly
like the Compare page.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ragft.answering import compare as C
from ragft.costs.budget import Budget
from ragft.costs.ledger import SessionLedger
from ragft.evaluation.questions import QuestionSet, QuestionSetError
from ragft.evaluation.records import ConfigSummary, EvalRecord, score_panel, summarise
from ragft.knowledge.scenario import Question
from ragft.models import fair
from ragft.runs import BackgroundRun
from ragft.settings import DEFAULTS

logger = logging.getLogger(__name__)

PROGRESS = "progress"  # the event kind of an EvalRun: one answer scored


@dataclass
class Evaluation:
    """A question set through some configurations: settings, the records so far, and whether it was stopped."""

    question_set: QuestionSet
    configurations: tuple[str, ...]
    records: list[EvalRecord] = field(default_factory=list)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:10])
    created: datetime = field(default_factory=lambda: datetime.now(tz=UTC))
    settings: dict[str, Any] = field(default_factory=dict)
    questions_done: int = 0
    stopped: bool = False
    finished: bool = False
    wall_s: float = 0.0
    retrieval: dict[str, Any] = field(default_factory=dict)  # question id -> retrieval summary

    @classmethod
    def new(cls, question_set: QuestionSet, configurations: Sequence[str], **settings: Any) -> Evaluation:
        configs = C.resolve_configurations(configurations)
        if not question_set.questions:
            raise QuestionSetError("The question set is empty.")
        return cls(question_set, tuple(c.key for c in configs), settings=dict(settings))

    @property
    def total_steps(self) -> int:
        return len(self.question_set) * len(self.configurations)

    def summaries(self) -> list[ConfigSummary]:
        return [summarise(self.records, k) for k in self.configurations]

    def records_for(self, question_id: str) -> list[EvalRecord]:
        return [r for r in self.records if r.question_id == question_id]

    def answered_questions(self) -> list[Question]:
        done = {r.question_id for r in self.records}
        return [q for q in self.question_set.questions if q.id in done]


@dataclass(frozen=True)
class EvalProgress:
    """One (question, configuration) scored. ``done``/``total`` count such steps."""

    done: int
    total: int
    question_index: int  # 1-based
    record: EvalRecord


def run_evaluation(
    evaluation: Evaluation,
    *,
    model_for: C.ModelFactory,
    retrieve: C.Retriever | None,
    ledger: SessionLedger | None = None,
    budget: Budget | None = None,
    cancel: threading.Event | None = None,
    system_prompt: str | None = C.DEFAULT_SYSTEM_PROMPT,
    max_tokens: int = DEFAULTS.max_tokens,
    temperature: float = DEFAULTS.temperature,
    top_k: int | None = None,
    price_overrides: Mapping[str, Any] | None = None,
    model_labels: Mapping[str, str] | None = None,
    poll_s: float = 0.2,
    fewshot: C.FewShot | None = None,
) -> Iterator[EvalProgress]:
    """Run every question through the configurations (each question as one comparison), yielding a progress
    per scored (question, configuration). ``cancel`` is checked between questions and while one runs: a
    question cut short is dropped (its spend stays in the ledger), and ``evaluation.stopped`` is set."""
    started = time.perf_counter()
    evaluation.settings.update(
        {"system_prompt": system_prompt, "max_tokens": max_tokens, "temperature": temperature, "top_k": top_k}
    )
    ledger = ledger if ledger is not None else SessionLedger()
    done = 0
    total = evaluation.total_steps
    try:
        for qi, q in enumerate(evaluation.question_set.questions, 1):
            if cancel is not None and cancel.is_set():
                evaluation.stopped = True
                return
            run = C.start_comparison(
                q.question,
                evaluation.configurations,
                model_for=model_for,
                retrieve=retrieve,
                ledger=ledger,
                budget=budget,
                system_prompt=system_prompt,
                max_tokens=max_tokens,
                temperature=temperature,
                top_k=top_k,
                price_overrides=price_overrides,
                model_labels=model_labels,
                fewshot=fewshot,
            )
            while True:
                try:
                    run.wait(poll_s)
                    break
                except TimeoutError:
                    if cancel is not None and cancel.is_set():
                        run.cancel()  # every panel stops after its current token; the spend is recorded
                        run.wait()
                        evaluation.stopped = True
                        return
            comparison = run.comparison
            r = comparison.retrieval
            if r is not None:
                evaluation.retrieval[q.id] = {
                    "collection": r.collection,
                    "error": r.error,
                    "sources": [c.citation for c in r.chunks],
                }
            for key in comparison.configurations:
                record = score_panel(q, comparison.panels[key])
                evaluation.records.append(record)
                done += 1
                yield EvalProgress(done, total, qi, record)
            evaluation.questions_done = qi
        evaluation.finished = True
    finally:
        evaluation.wall_s = time.perf_counter() - started


class EvalRun(BackgroundRun[Evaluation]):
    """:func:`run_evaluation` in a background thread: a ``progress`` event per scored answer (``data`` is the
    :class:`EvalProgress`); ``cancel()`` stops it (the question in flight is cut short and left out)."""

    def __init__(self, evaluation: Evaluation, *, owner: str = "", **kwargs: Any) -> None:
        what = (
            f"{evaluation.question_set.name}: {len(evaluation.question_set)} question(s) × "
            f"{len(evaluation.configurations)} configuration(s)"
        )
        super().__init__(evaluation, kind="evaluation", what=what, owner=owner)
        self.last: EvalProgress | None = None
        self._kwargs = kwargs

    @property
    def evaluation(self) -> Evaluation:
        return self.result

    def _work(self) -> None:
        with fair.calling(self.owner, f"eval:{self.id}"):  # its questions' model calls are the participant's
            for p in run_evaluation(self.evaluation, cancel=self.cancel_event, **self._kwargs):
                self.last = p
                self.post(PROGRESS, data=p)


def start_evaluation(evaluation: Evaluation, *, owner: str = "", **kwargs: Any) -> EvalRun:
    """Start :func:`run_evaluation` in the background and return at once (kwargs as for run_evaluation)."""
    run = EvalRun(evaluation, owner=owner, **kwargs)
    run.start()
    return run
