"""Run one question through N configurations at once (base, base+RAG, fine-tuned, fine-tuned+RAG).

Shape of a run::

    run = start_comparison(question, ["base", "base_rag", "ft", "ft_rag"], model_for=..., retrieve=...,
                           ledger=ledger, budget=budget, max_tokens=96, temperature=0.0)
    for event in run.events(poll_s=0.1):      # page thread: update the panel named by event.key
        panel = run.comparison.panels[event.key] if event.key else None
    comparison = run.wait()                   # plain dataclasses: answers, sources, prompts, metrics

- Every configuration runs in its own thread; each streams into its :class:`PanelResult` and posts
  :class:`ragft.runs.RunEvent` s on the run's queue (kinds: retrieval, phase, token, done, error, tick,
  finished), so the caller can redraw a panel as its tokens arrive. :class:`ComparisonRun` is a
  :class:`ragft.runs.BackgroundRun` (cancel, done, wait, events) like an evaluation's run.
- Retrieval runs ONCE per question (in its own thread, started first) and is shared by the RAG panels;
  the plain panels do not wait for it.
  Its :class:`ragft.knowledge.retrieval.Retrieval` carries the question's embedding tokens and model, so the
  query embedding is recorded in the ledger (configuration ``retrieval``) and counted against the budget; a
  failed retrieval (an unreachable knowledge base) is the RAG panels' error, never replaced by other chunks.
- Each call goes through :class:`ragft.costs.metering.MeteredCall`: the budget is reserved before the call
  (``BudgetExceeded`` refuses it before any token), the ledger's live partial moves with every token, the
  call is recorded and the reservation settled with what it actually cost.
- One panel's failure (a typed model error, a refused budget, a missing adapter, a failed retrieval for a
  RAG panel) is stored in that panel; the other panels finish.
- Prompts are built only with :func:`ragft.answering.prompts.build_messages` (the fine-tuned adapter is trained on it);
  the prompted configurations (``shots``) add instructions and k training examples around the same user turn
  (:func:`ragft.answering.fewshot.build_prompted_messages`), from the ``fewshot`` the caller passes.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ragft import errors as E
from ragft.answering.comparison import (  # noqa: F401 - the value types are part of this module's API
    DONE,
    ERROR,
    FINISHED_PHASES,
    MAX_QUESTION_CHARS,
    QUEUED,
    STREAMING,
    WAITING,
    CompareError,
    Comparison,
    ModelFactory,
    PanelResult,
    chunk_to_dict,
    resolve_configurations,
    validate_question,
)
from ragft.answering.fewshot import FewShot, FewShotError, build_prompted_messages
from ragft.answering.prompts import build_messages
from ragft.classroom import pause
from ragft.configs import Configuration
from ragft.costs.budget import Budget
from ragft.costs.ledger import RETRIEVAL, SessionLedger
from ragft.costs.metering import MeteredCall, record_embedding
from ragft.knowledge.retrieval import Retrieval, Retriever, failed_retrieval
from ragft.knowledge.retrieved import RetrievedChunk
from ragft.models import fair
from ragft.runs import BackgroundRun
from ragft.settings import DEFAULT_SYSTEM_PROMPT, DEFAULTS, check_bound

logger = logging.getLogger(__name__)


class ComparisonRun(BackgroundRun[Comparison]):
    """A comparison in flight: panel threads fill ``comparison``; ``events()`` reports progress.

    The run's own worker waits for the retrieval and panel threads, then stamps the wall time.
    """

    def __init__(self, comparison: Comparison, owner: str = "") -> None:
        super().__init__(comparison, kind="comparison", what=comparison.question, owner=owner)
        self._threads: list[threading.Thread] = []
        self._retrieved = threading.Event()
        self.lock = threading.Lock()

    @property
    def comparison(self) -> Comparison:
        return self.result

    def _post(self, kind: str, key: str | None = None, text: str = "") -> None:
        self.post(kind, key, text)

    def _work(self) -> None:
        for t in self._threads:
            t.join()

    def _finish(self) -> None:
        self.comparison.wall_s = self.elapsed_s
        self.comparison.finished = True


@dataclass(frozen=True)
class _PanelCall:
    """What every panel of one comparison calls with (the question, the session's models, ledger and caps)."""

    question: str
    model_for: ModelFactory
    ledger: SessionLedger
    budget: Budget | None
    system_prompt: str | None
    max_tokens: int
    temperature: float
    price_overrides: Mapping[str, Any] | None
    fewshot: FewShot | None = None

    def messages(self, cfg: Configuration, chunks: Sequence[RetrievedChunk] | None) -> list[dict[str, str]]:
        """The configuration's prompt: plain, or with instructions and examples (a prompted configuration)."""
        if not cfg.shots:
            return build_messages(self.question, chunks, self.system_prompt)
        if self.fewshot is None:
            raise FewShotError(f"{cfg.label} needs examples: no training set was given to take them from.")
        return build_prompted_messages(self.question, chunks, self.system_prompt, self.fewshot, cfg.shots)


def start_comparison(
    question: str,
    configurations: Sequence[str],
    *,
    model_for: ModelFactory,
    retrieve: Retriever | None,
    ledger: SessionLedger | None = None,
    budget: Budget | None = None,
    system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
    max_tokens: int = DEFAULTS.max_tokens,
    temperature: float = DEFAULTS.temperature,
    top_k: int | None = None,
    price_overrides: Mapping[str, Any] | None = None,
    model_labels: Mapping[str, str] | None = None,
    owner: str = "",
    fewshot: FewShot | None = None,
) -> ComparisonRun:
    """Start the configurations in threads and return at once. Raises CompareError for bad input."""
    q = validate_question(question)
    configs = resolve_configurations(configurations)
    for name, value in (("max_tokens", max_tokens), ("temperature", temperature)):
        try:
            check_bound(name, value)
        except E.ConfigError as exc:
            raise CompareError(exc.message) from None
    ledger = ledger if ledger is not None else SessionLedger()
    call = _PanelCall(q, model_for, ledger, budget, system_prompt, max_tokens, temperature, price_overrides, fewshot)
    comparison = Comparison(
        question=q,
        configurations=tuple(c.key for c in configs),
        panels={
            c.key: PanelResult(
                c.key,
                c.label,
                c.rag,
                phase=QUEUED if c.rag else WAITING,
                model_label=(model_labels or {}).get(c.slot, ""),
            )
            for c in configs
        },
        system_prompt=system_prompt or "",
        max_tokens=max_tokens,
        temperature=temperature,
        top_k=top_k,
    )
    run = ComparisonRun(comparison, owner=owner or fair.caller()[0])  # an evaluation's questions: its owner
    needs_retrieval = any(c.rag for c in configs)

    workers = [
        threading.Thread(
            target=_run_panel,
            name=f"compare-{c.key}",
            daemon=True,
            args=(run, c, call),
        )
        for c in configs
    ]
    if needs_retrieval:
        workers.insert(
            0, threading.Thread(target=_retrieve, args=(run, retrieve, call), name="compare-retrieval", daemon=True)
        )
    else:
        run._retrieved.set()

    run._threads = workers
    for t in workers:
        t.start()
    run.start()
    return run


def _retrieve(run: ComparisonRun, retrieve: Retriever | None, call: _PanelCall) -> None:
    """The comparison's one retrieval (shared by its RAG panels), its query embedding metered like a call."""
    try:
        if retrieve is None:
            result = Retrieval(
                error="No knowledge base is available: add documents on the Knowledge base page.",
                error_kind="NoKnowledgeBase",
                question=call.question,
            )
        else:
            result = retrieve(call.question)
    except E.RagftError as exc:
        logger.warning("comparison %s: retrieval failed: %s", run.comparison.id, exc.message)
        result = failed_retrieval(exc, call.question)
    except Exception as exc:  # noqa: BLE001 - shown in the RAG panels, never a crash
        logger.exception("comparison %s: retrieval failed unexpectedly", run.comparison.id)
        result = failed_retrieval(exc, call.question)
    run.comparison.retrieval = result
    if result.error is None and result.query_tokens > 0 and result.embedding_model:
        try:  # the query embedding is part of what RAG costs: it goes into the ledger too
            record_embedding(
                call.ledger,
                tokens=result.query_tokens,
                model_id=result.embedding_model,
                provider=result.embedding_provider,
                configuration=RETRIEVAL,
                seconds=result.embed_s,
                question_id=run.comparison.id,
                budget=call.budget,
                price_overrides=call.price_overrides,
                note=call.question,
                embedder=result.embedder,
            )
        except E.RagftError:  # a budget file problem must not hide the answers
            logger.exception("comparison %s: recording the query embedding failed", run.comparison.id)
    if result.embedder is not None:  # metered: the comparison (kept in a session) holds no embedder or its key
        run.comparison.retrieval = dataclasses.replace(result, embedder=None)
    run._retrieved.set()
    run._post("retrieval")


def _fail(run: ComparisonRun, panel: PanelResult, exc: BaseException) -> None:
    """Keep ``exc`` in the panel (its one-line message, its class for records and isinstance checks)."""
    if not isinstance(exc, E.RagftError):
        logger.error("comparison %s: the %s panel failed", run.comparison.id, panel.configuration, exc_info=exc)
    panel.error, panel.error_kind, panel.exception = E.describe_error(exc), type(exc).__name__, exc
    panel.phase = ERROR
    run._post("error", panel.configuration, panel.error or "")


def _run_panel(run: ComparisonRun, cfg: Configuration, call: _PanelCall) -> None:
    """One panel's call, named in the fair scheduler for its participant."""
    with fair.calling(run.owner, panel_key(run.comparison.id, cfg.key)):
        _run_panel_turns(run, cfg, call)


def panel_key(comparison_id: str, configuration: str) -> str:
    """The name of a panel's model call in the fair scheduler (:func:`ragft.models.fair.position`)."""
    return f"{comparison_id}:{configuration}"


def _run_panel_turns(run: ComparisonRun, cfg: Configuration, call: _PanelCall) -> None:
    comparison = run.comparison
    panel = comparison.panels[cfg.key]
    try:
        try:
            pause.check()
            model = call.model_for(cfg)
        except E.RagftError as exc:
            _fail(run, panel, exc)
            return
        panel.model_label = model.label or model.model_id
        panel.model_id = model.model_id
        panel.provider = model.provider
        chunks: tuple[RetrievedChunk, ...] = ()
        if cfg.rag:
            run._retrieved.wait()
            r = comparison.retrieval
            if r is None or r.error:
                _fail(run, panel, E.RetrievalFailed((r.error if r else None) or "Retrieval did not run."))
                return
            chunks = tuple(r.chunks)
            panel.sources = chunks
        try:
            messages = call.messages(cfg, list(chunks) or None)
        except E.RagftError as exc:
            _fail(run, panel, exc)
            return
        panel.messages = messages
        if run.cancelled:
            _fail(run, panel, E.Cancelled("Stopped before it started."))
            return
        try:
            if cfg.rag:
                plain = call.messages(cfg, None)
                panel.context_tokens = model.count_prompt_tokens(messages) - model.count_prompt_tokens(plain)
            metered = MeteredCall(
                model,
                messages,
                ledger=call.ledger,
                budget=call.budget,
                configuration=cfg.key,
                question_id=comparison.id,
                question=call.question,
                max_tokens=call.max_tokens,
                temperature=call.temperature,
                price_overrides=call.price_overrides,
            )
        except E.RagftError as exc:  # BudgetExceeded, a context overflow, a tokenizer failure...
            _fail(run, panel, exc)
            return
        panel.price = metered.price
        panel.prompt_tokens = metered.prompt_tokens
        panel.phase = WAITING
        panel.started_at = time.perf_counter()
        run._post("phase", cfg.key, WAITING)
        pieces: list[str] = []
        try:
            it = iter(metered)
            for piece in it:
                if not pieces:
                    panel.phase = STREAMING
                    run._post("phase", cfg.key, STREAMING)
                pieces.append(piece)
                panel.text = "".join(pieces)
                panel.tokens_so_far = len(pieces)
                run._post("token", cfg.key, piece)
                if run.cancelled:
                    it.close()  # records what was spent so far, frees the engine
                    break
        except E.RagftError as exc:
            _finish_metrics(panel, metered)
            _fail(run, panel, exc)
            return
        _finish_metrics(panel, metered)
        if run.cancelled and panel.usage is not None and metered.record is not None and metered.record.error:
            _fail(run, panel, E.Cancelled("Stopped: the answer was cut off."))
            return
        panel.phase = DONE
        run._post("done", cfg.key)
    except Exception as exc:  # noqa: BLE001 - a bug or an unexpected library error stays in this panel
        _fail(run, panel, exc)


def _finish_metrics(panel: PanelResult, call: MeteredCall) -> None:
    stream = call.stream
    rec = call.record
    if stream is not None:
        panel.text = stream.text
        panel.ttft_s = stream.ttft_s
        panel.total_s = stream.total_s
    if rec is not None and (rec.usage.total_tokens or rec.error is None):
        panel.usage = rec.usage
        panel.cost = rec.cost
        if panel.total_s is None:
            panel.total_s = rec.latency_s
        if panel.ttft_s is None:
            panel.ttft_s = rec.ttft_s


def run_comparison(question: str, configurations: Sequence[str], **kwargs: Any) -> Comparison:
    """Blocking convenience: start and wait (tests, benchmarks, the evaluation page)."""
    timeout_s = kwargs.pop("timeout_s", None)
    return start_comparison(question, configurations, **kwargs).wait(timeout_s)


def fixed_retriever(chunks: Sequence[RetrievedChunk], collection: str = "fixed") -> Retriever:
    """A retriever that always returns the same chunks (tests, benchmarks, demos without an index)."""
    frozen = tuple(chunks)

    def retrieve(_question: str) -> Retrieval:
        return Retrieval(chunks=frozen, collection=collection)

    return retrieve


def evidence_rows(comparison: Comparison, style_check: Callable[[str], Any] | None = None) -> list[dict[str, Any]]:
    """Rows for the decision guide's evidence list (one per configuration that answered)."""
    rows = []
    for p in comparison.ordered_panels():
        if p.phase != DONE:
            continue
        style = None
        if style_check is not None:
            style = 1.0 if getattr(style_check(p.text), "ok", False) else 0.0
        rows.append(
            {
                "configuration": p.configuration,
                "fact_score": None,
                "style_score": style,
                "cost_usd": p.cost,
                "source": "compare",
            }
        )
    return rows
