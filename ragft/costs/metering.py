"""One metered model call: budget check, live meter while tokens stream, ledger record, settle.

Use it wherever the app calls a chat model::

    call = MeteredCall(model, messages, ledger=ledger, budget=budget, configuration="base_rag",
                       question_id=qid, question=question, max_tokens=96, temperature=0.0,
                       price_overrides=overrides)      # raises BudgetExceeded before anything is spent
    for piece in call:                               # the ledger's live partial moves with each token
        ...
    call.record                                      # the CallRecord (cost Decimal, or None = unknown)

``MeteredCall`` reserves the worst case (prompt tokens + ``max_tokens`` at the model's price) when it is
created, so a refused call raises before a single token is generated. When the stream ends, fails or is
abandoned (a rerun closes the generator), the ledger gets a record of what was spent and the budget is
settled, so nothing already spent goes unrecorded.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ragft.costs.billing import Billed, ServerPriceUnknown, billed_price
from ragft.costs.budget import Budget, PriceUnknownForBudget, Reservation
from ragft.costs.ledger import INGEST, KIND_CHAT, KIND_EMBEDDING, CallRecord, SessionLedger, new_call_id
from ragft.costs.prices import Price, cost_of, price_for, worst_case_cost
from ragft.errors import RagftError
from ragft.models.usage import Usage


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
        self.record: CallRecord | None = None
        self.stream: Any = None
        # Raises BudgetExceeded (nothing spent, nothing recorded) when the call could cross a cap.
        self.reservation: Reservation | None = (
            reserve_for(budget, model, self.worst_case, f"a {model.model_id} answer ({configuration})")
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
        )
        started = time.perf_counter()
        error: str | None = None
        n = 0
        pieces: Iterator[str] | None = None
        try:
            self.stream = self.model.stream(self.messages, max_tokens=self.max_tokens, temperature=self.temperature)
            pieces = iter(self.stream)
            for piece in pieces:
                n += 1
                ledger.update_live(call_id, n)
                yield piece
        except GeneratorExit:
            error = "interrupted"
            raise
        except RagftError as exc:
            error = exc.message
            raise
        except Exception as exc:  # noqa: BLE001 - recorded, then re-raised
            error = f"{type(exc).__name__}: {exc}"
            raise
        finally:
            close = getattr(pieces, "close", None)
            if close is not None:  # free the engine (its lock) now, not when garbage collected
                close()
            self._finish(started, n, error)

    def _finish(self, started: float, n: int, error: str | None) -> None:
        stream = self.stream
        reported = getattr(stream, "usage", None) if stream is not None else None
        if reported is not None and error is None:
            usage = reported
        elif n == 0:
            # Failed before any token: the prompt may or may not have been billed; we count nothing
            # and release the hold (a refused connection or a 4xx spends nothing).
            usage = Usage(0, 0, 0, exact=False)
        else:  # interrupted mid-answer: the prompt and the tokens received so far were spent
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
        )
        if n > 0 or error is None or reported is not None:
            self.ledger.record(self.record)  # also ends the live partial
        else:
            self.ledger.end_live(self.call_id)
        if self.reservation is not None:
            self.reservation.settle(cost if cost is not None else Decimal(0))

    def consume(self) -> MeteredCall:
        for _ in self:
            pass
        return self


def reserve_for(budget: Budget, model: Any, amount: Decimal | None, label: str) -> Reservation:
    """Reserve ``amount`` for a call of ``model``; a server-key call with an unknown price fails closed."""
    try:
        return budget.reserve(amount, label=label)
    except PriceUnknownForBudget as exc:
        if isinstance(model, Billed) and model.billing.server_key:
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
    )
    ledger.record(rec)
    if budget is not None:
        budget.record_spend(cost)
    return rec
