"""One metered model call: budget check, live meter while tokens stream, ledger record, settle.

Use it wherever the app calls a chat model::

    call = MeteredCall(model, messages, ledger=ledger, budget=budget, configuration="base_rag",
                       question_id=qid, question=question, max_tokens=96, temperature=0.0,
                       price_overrides=overrides)      # raises BudgetExceeded before anything is spent
    for piece in call:                               # the ledger's live partial moves with each token
        ...
    call.record                                      # the CallRecord (cost Decimal, or None = unknown)

``MeteredCall`` reserves the worst case (prompt tokens + ``max_tokens`` at the model's price) against the caps of
whoever pays the call (:func:`ragft.costs.billing.payer_of`) when it is created, so a refused call raises before a
single token is generated. The hold lasts at least as long as the call may run (its timeout for every attempt)
and is kept alive while tokens arrive. When the stream ends, fails or is abandoned (a rerun closes the generator),
the ledger gets a record of what was spent and the budget is settled, so nothing already spent goes unrecorded:
an aborted call (stopped, timed out, cut off) is settled at least at its prompt cost, since the provider bills a
prompt it received; only a call the server refused outright (unreachable, 4xx, 5xx) settles at $0.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ragft import errors as E
from ragft.costs.billing import Billed, ServerPriceUnknown, billed_price, payer_of
from ragft.costs.budget import SERVER, Budget, PriceUnknownForBudget, Reservation
from ragft.costs.ledger import INGEST, KIND_CHAT, KIND_EMBEDDING, CallRecord, SessionLedger, new_call_id
from ragft.costs.prices import Price, cost_of, price_for, worst_case_cost
from ragft.errors import RagftError
from ragft.models.usage import Usage

# Errors by which the server refused the call before reading the prompt (nothing billed). Any other end before the
# usage is reported (stopped, cut off, timed out, an unexpected failure) is an aborted call: its prompt was billed.
NOT_BILLED: tuple[type[Exception], ...] = (
    E.ConfigError,
    E.EndpointUnreachable,
    E.AuthenticationFailed,
    E.ModelNotFound,
    E.RateLimited,
    E.BadRequest,
    E.ServerError,
    E.EmbeddedModelUnavailable,
    E.AdapterMissing,
    E.BudgetExceeded,
)
HOLD_MARGIN_S = 60.0  # on top of every attempt's timeout: backoff between retries, the budget's own writes


def call_hold_s(model: Any) -> float | None:
    """The longest a call of ``model`` may wait without progress: its timeout for each attempt (1 + retries), plus
    a margin. ``None`` when the model has no timeout (the embedded engine): the budget's default hold."""
    inner = getattr(model, "inner", model)
    cfg = getattr(inner, "cfg", None)
    timeout = getattr(cfg, "timeout_s", None)
    if not isinstance(timeout, int | float) or timeout <= 0:
        return None
    retries = getattr(cfg, "max_retries", 0)
    retries = retries if isinstance(retries, int) and retries > 0 else 0
    return float(timeout) * (1 + retries) + HOLD_MARGIN_S


class MeteredCall:
    """Iterate for text pieces. Afterwards ``record``, ``text``, ``usage``, ``cost`` are set."""

    def __init__(
        self,
        model: Any,
        messages: Sequence[dict[str, str]],
        *,
        ledger: SessionLedger,
        configuration: str,
        budget: Budget | None = None,
        question_id: str | None = None,
        question: str = "",
        max_tokens: int = 256,
        temperature: float = 0.0,
        price_overrides: Mapping[str, Any] | None = None,
        price: Price | None = None,
        prompt_tokens: int | None = None,
    ) -> None:
        self.model = model
        self.messages = list(messages)
        self.ledger = ledger
        self.configuration = configuration
        self.question_id = question_id
        self.question = question
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.provider = getattr(model, "provider", "openai")
        if price is None:
            carries, price = billed_price(model, None)
            if not carries:
                price = price_for(model.model_id, self.provider, price_overrides)
        self.price = price
        self.prompt_tokens = prompt_tokens if prompt_tokens is not None else _prompt_tokens(model, self.messages)
        self.worst_case = worst_case_cost(self.prompt_tokens, max_tokens, self.price)
        self.call_id = new_call_id()
        self.payer = payer_of(model)
        self.record: CallRecord | None = None
        self.stream: Any = None
        # Raises BudgetExceeded (nothing spent, nothing recorded) when the call could cross a cap.
        self.reservation: Reservation | None = (
            reserve_for(
                budget,
                model,
                self.worst_case,
                f"a {model.model_id} answer ({configuration})",
                hold_s=call_hold_s(model),
            )
            if budget
            else None
        )

    # -- results --
    @property
    def text(self) -> str:
        return self.stream.text if self.stream is not None else ""

    @property
    def usage(self) -> Usage | None:
        return self.record.usage if self.record else None

    @property
    def cost(self) -> Decimal | None:
        return self.record.cost if self.record else None

    def __iter__(self) -> Iterator[str]:
        if self.record is not None:
            return
        ledger, call_id = self.ledger, self.call_id
        ledger.begin_live(
            call_id,
            self.model.model_id,
            self.configuration,
            price=self.price,
            prompt_tokens=self.prompt_tokens,
            question_id=self.question_id,
            payer=self.payer,
        )
        started = time.perf_counter()
        error: str | None = None
        billed = True  # an end before the usage is reported bills the prompt, unless the server refused the call
        n = 0
        pieces: Iterator[str] | None = None
        try:
            self.stream = self.model.stream(self.messages, max_tokens=self.max_tokens, temperature=self.temperature)
            pieces = iter(self.stream)
            for piece in pieces:
                n += 1
                ledger.update_live(call_id, n)
                if self.reservation is not None:
                    self.reservation.keep_alive()
                yield piece
        except GeneratorExit:
            error = "interrupted"
            raise
        except RagftError as exc:
            error = exc.message
            billed = n > 0 or not isinstance(exc, NOT_BILLED)
            raise
        except Exception as exc:  # noqa: BLE001 - recorded, then re-raised
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:  # free the engine (its lock) now, not when garbage collected
                close()
            self._finish(started, n, error, billed)

    def _finish(self, started: float, n: int, error: str | None, billed: bool = True) -> None:
        stream = self.stream
        reported = getattr(stream, "usage", None) if stream is not None else None
        if reported is not None and error is None:
            usage = reported
        elif not billed:
            # The server refused the call before reading it (unreachable, 4xx, 5xx): nothing was spent.
            usage = Usage(0, 0, 0, exact=False)
        else:  # aborted (stopped, cut off, timed out): the prompt and the tokens received so far were spent
            usage = Usage(self.prompt_tokens, n, 0, exact=False)
        cost = cost_of(usage, self.price)
        total_s = getattr(stream, "total_s", None) or (time.perf_counter() - started)
        self.record = CallRecord(
            model_id=self.model.model_id,
            provider=self.provider,
            configuration=self.configuration,
            usage=usage,
            cost=cost,
            latency_s=float(total_s),
            question_id=self.question_id,
            ttft_s=getattr(stream, "ttft_s", None),
            kind=KIND_CHAT,
            local=bool(self.price and self.price.local),
            price_source="price unknown" if self.price is None else self.price.source,
            question=self.question[:500],
            error=error,
            call_id=self.call_id,
            payer=self.payer,
        )
        if billed or reported is not None:
            self.ledger.record(self.record)  # also ends the live partial
        else:
            self.ledger.end_live(self.call_id)
        if self.reservation is not None:
            self.reservation.settle(cost if cost is not None else Decimal(0))

    def consume(self) -> MeteredCall:
        for _ in self:
            pass
        return self


def reserve_for(
    budget: Budget, model: Any, amount: Decimal | None, label: str, *, hold_s: float | None = None
) -> Reservation:
    """Reserve ``amount`` for a call of ``model`` against the caps of whoever pays it; a server-key call with an
    unknown price fails closed while a facilitator's cap is set, an own-key one only under the participant's cap."""
    try:
        return budget.reserve(amount, label=label, payer=payer_of(model), hold_s=hold_s)
    except PriceUnknownForBudget as exc:
        if isinstance(model, Billed) and payer_of(model) == SERVER:
            raise ServerPriceUnknown(
                f"The price of {label} on the server's key is unknown, so it cannot be checked against the budget "
                f"cap: the facilitator can set it with RAGFT_PRICE_OVERRIDES."
            ) from None
        raise exc


def _prompt_tokens(model: Any, messages: list[dict[str, str]]) -> int:
    counter = getattr(model, "count_prompt_tokens", None)
    if counter is not None:
        return int(counter(messages))
    return sum(int(model.count_tokens(m.get("content") or "")) + 4 for m in messages) + 3


def embedding_price(
    embedder: Any, model_id: str, provider: str, price_overrides: Mapping[str, Any] | None = None
) -> Price | None:
    """The price of an embedding call: the session's billing when the embedder carries one, else the catalogue."""
    carries, price = billed_price(embedder, None)
    return price if carries else price_for(model_id, provider, price_overrides)


def record_embedding(
    ledger: SessionLedger,
    *,
    tokens: int,
    model_id: str,
    provider: str,
    configuration: str = INGEST,
    seconds: float = 0.0,
    question_id: str | None = None,
    budget: Budget | None = None,
    price_overrides: Mapping[str, Any] | None = None,
    note: str = "",
    error: str | None = None,
    embedder: Any = None,
) -> CallRecord:
    """Record embedding work (at ingest, or the query embedding of a RAG question) in the ledger.

    ``error``: the embedding failed after spending ``tokens`` (the batches that finished).
    """
    price = embedding_price(embedder, model_id, provider, price_overrides)
    cost = None if price is None else Decimal(max(0, tokens)) * price.input_per_m / Decimal(1_000_000)
    rec = CallRecord(
        model_id=model_id,
        provider=provider,
        configuration=configuration,
        usage=Usage(max(0, tokens), 0, 0, exact=True),
        cost=cost,
        latency_s=seconds,
        question_id=question_id,
        kind=KIND_EMBEDDING,
        local=bool(price and price.local),
        price_source="price unknown" if price is None else price.source,
        question=note[:500],
        error=error,
        payer=payer_of(embedder),
    )
    ledger.record(rec)
    if budget is not None:
        budget.record_spend(cost, payer=payer_of(embedder))
    return rec
