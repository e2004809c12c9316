"""Budget caps, enforced before every call, each counting only the money of the one who pays.

Who pays decides which cap:

- the server's key (:data:`SERVER`): the facilitator's money. Counted against the facilitator's cap for this
  participant (``RAGFT_PARTICIPANT_BUDGET_USD``, or a per-workspace cap set on the Facilitator page) and the
  app-wide cap (``RAGFT_APP_BUDGET_USD``). These are the only calls in the app-wide total.
- the participant's own key or endpoint (:data:`OWN`): their money, counted against their own optional cap
  (set on the Costs page), never against the facilitator's. Without an own cap an unknown price passes.
- a free call (the embedded engine, the local embedder, the server's loopback endpoints) that someone priced
  to see what it would cost hosted (:data:`HYPOTHETICAL`): recorded and shown beside real spend, never held,
  never refused, never counted against any cap.

Before a call the caller reserves its worst case (prompt tokens + max output tokens at the model's price). A
reservation that could cross a cap of its payer is refused with :class:`BudgetExceeded`, so a refused call
spends nothing. After the call, :meth:`Reservation.settle` replaces the reservation by what the call cost.

The spend of every workspace and app-wide, by payer, and the in-flight reservations live in the class database
(:mod:`ragft.store`), so a reload, a new tab on the same workspace link or a restart does not reset them.
Every read-check-write is one ``BEGIN IMMEDIATE`` transaction, so concurrent calls from several sessions,
threads or processes sharing the data dir cannot jointly overshoot a cap. Reservations left by a process
that died are dropped (same host, dead pid); others expire only after the call they hold for could still be
running (``hold_s``: the caller's longest call, kept alive while the call makes progress), never sooner than
``stale_after_s``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ragft.costs.prices import format_usd
from ragft.errors import BudgetExceeded
from ragft.store import spend as S
from ragft.store.db import ClassStore, StoreError, open_store
from ragft.store.spend import HYPOTHETICAL, OWN, PAYERS, SERVER

logger = logging.getLogger(__name__)

ZERO = Decimal(0)
DEFAULT_STALE_AFTER_S = 900.0


class PriceUnknownForBudget(BudgetExceeded):
    """A budget cap is set but the call's price is unknown, so its worst case cannot be checked."""

    hint = "Set a price override for this model in Settings, or remove the budget cap."


class OwnPriceUnknown(PriceUnknownForBudget):
    """A call the participant pays for, whose price is unknown, while they set a cap of their own."""

    hint = "Set a price for this model on Costs → Prices, or remove your own cap on Costs → Budget."


class OwnCapExceeded(BudgetExceeded):
    """A call the participant pays for would cross the cap they set themselves."""

    hint = "Raise or remove your own cap on Costs → Budget."


@dataclass(frozen=True)
class BudgetStatus:
    """Spend and caps of one workspace and the app. ``session_*`` and ``app_*``: the server's key only."""

    workspace_spent: Decimal  # this workspace's spend on the server's key (every tab and reload of it)
    workspace_reserved: Decimal
    workspace_cap: Decimal | None  # the facilitator's cap for this workspace
    app_spent: Decimal  # everyone's spend on the server's key: what RAGFT_APP_BUDGET_USD counts
    app_reserved: Decimal
    app_cap: Decimal | None
    own_cap: Decimal | None = None  # the participant's cap on what they pay themselves, if any
    own_spent: Decimal = ZERO  # this workspace's spend on its own key / endpoint
    own_reserved: Decimal = ZERO
    hypothetical: Decimal = ZERO  # free calls of this workspace at the prices someone gave them (not paid)
    app_own_spent: Decimal = ZERO  # every participant's own-key spend (shown to the facilitator, no cap)
    app_hypothetical: Decimal = ZERO

    @property
    def workspace_fraction(self) -> float | None:
        return share(self.workspace_spent + self.workspace_reserved, self.workspace_cap)

    @property
    def own_fraction(self) -> float | None:
        return share(self.own_spent + self.own_reserved, self.own_cap)

    @property
    def app_fraction(self) -> float | None:
        return share(self.app_spent + self.app_reserved, self.app_cap)


def share(used: Decimal, cap: Decimal | None) -> float | None:
    """How much of ``cap`` is used (1.0 = all of it); None without a cap. A $0 cap: full once anything is used.

    Whether a call may run is :meth:`Budget.reserve`'s decision, never this figure's (it is what the meters draw).
    """
    if cap is None:
        return None
    if cap <= 0:
        return 1.0 if used > 0 else 0.0
    return float(used / cap)


@dataclass(frozen=True)
class _Limit:
    """One cap a reservation must fit: this workspace's spend (``workspace``) or everyone's, of one payer."""

    cap: Decimal | None
    workspace: bool
    error: type[BudgetExceeded]
    refusal: str  # str.format with label, amount, cap, spent and held (", $x in flight" or "")


_WORKSPACE_REFUSAL = (
    "Refused: {label} could cost up to {amount}, which would cross your budget of {cap} on the server's key "
    "({spent} spent{held})."
)
_APP_REFUSAL = (
    "Refused: {label} could cost up to {amount}, which would cross the app-wide budget of {cap} "
    "({spent} spent by everyone{held})."
)
_OWN_REFUSAL = (
    "Refused: {label} could cost up to {amount} on your own key, which would cross your own cap of {cap} "
    "({spent} spent{held})."
)


class Reservation:
    """Money held for one call. Settle it with the actual cost, or release it if nothing was spent.

    ``payer``: who pays the call (:data:`SERVER`, :data:`OWN`, :data:`HYPOTHETICAL`; a hypothetical one holds
    nothing in the database). ``hold_s``: how long the hold lasts after it is made or last kept alive.
    """

    def __init__(
        self, budget: Budget, rid: str, amount: Decimal, payer: str = SERVER, hold_s: float | None = None
    ) -> None:
        self.budget = budget
        self.id = rid
        self.amount = amount
        self.payer = payer
        self.hold_s = budget.hold_for(hold_s)
        self.settled: Decimal | None = None
        self._done = False
        self._lock = threading.Lock()
        self._kept = time.monotonic()

    def keep_alive(self, *, every_s: float | None = None) -> bool:
        """The call is still running: move the hold's expiry to ``hold_s`` from now (at most once per ``every_s``,
        by default a quarter of the hold). True when the database was written."""
        if self._done or self.payer == HYPOTHETICAL:
            return False
        every = self.hold_s / 4 if every_s is None else every_s
        if time.monotonic() - self._kept < every:
            return False
        self._kept = time.monotonic()
        return self.budget._extend(self)

    @property
    def done(self) -> bool:
        return self._done

    def settle(self, actual: Decimal | None) -> None:
        """Replace the hold by the actual cost (``None``: unknown price, nothing added). Idempotent."""
        with self._lock:
            if self._done:
                return
            self._done = True
        amount = max(ZERO, actual) if actual is not None else ZERO
        self.settled = amount
        self.budget._settle(self, amount)

    def release(self) -> None:
        """The call spent nothing (refused by the server before any token, cancelled...)."""
        self.settle(ZERO)

    def __enter__(self) -> Reservation:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # Not settled by the caller: we cannot know what was billed, so keep the worst case.
        if not self._done:
            self.settle(self.amount)


class Budget:
    """The caps of one workspace + the app, counted in the class database under ``data_dir``.

    ``workspace_id`` keys the participant's spend; without one, the budget gets a private key of its own (a
    one-off session, e.g. a script or a test).
    """

    def __init__(
        self,
        data_dir: Path,
        app_cap: Decimal | None,
        participant_cap: Decimal | None = None,
        *,
        workspace_id: str | None = None,
        stale_after_s: float = DEFAULT_STALE_AFTER_S,
    ) -> None:
        self.store: ClassStore = open_store(data_dir)
        self.data_dir = Path(data_dir)
        self.workspace_id = workspace_id or f"session-{uuid.uuid4().hex}"
        self.app_cap = _cap(app_cap)
        self.participant_cap = _cap(participant_cap)
        self.stale_after_s = stale_after_s
        self._lock = threading.Lock()

    def set_caps(self, app_cap: Decimal | None, participant_cap: Decimal | None) -> None:
        with self._lock:
            self.app_cap = _cap(app_cap)
            self.participant_cap = _cap(participant_cap)

    # ---- caps in the database ---------------------------------------------------------------------
    def _caps(self, conn) -> tuple[Decimal | None, Decimal | None]:
        """(the facilitator's cap for this workspace, the participant's own cap)."""
        own, per_ws = S.caps(conn, self.workspace_id)
        return (per_ws if per_ws is not None else self.participant_cap), own

    def set_own_cap(self, cap: Decimal | None) -> Decimal | None:
        """The participant's cap on what they pay themselves (persisted per workspace); ``None`` removes it.

        It counts only their own-key spend, so it is independent of the facilitator's caps. Returns it.
        """
        cap = _cap(cap)
        S.set_own_cap(self.store, self.workspace_id, cap)
        return cap

    # ---- the public API ---------------------------------------------------------------------------
    def reserve(
        self,
        amount: Decimal | None,
        *,
        label: str = "this call",
        payer: str = SERVER,
        hold_s: float | None = None,
    ) -> Reservation:
        """Hold ``amount`` (the call's worst case) or raise :class:`BudgetExceeded` if it could cross a cap of
        ``payer``. ``hold_s``: the longest the call may run (the hold lasts at least that long).

        ``None`` (unknown price) passes only when no cap of that payer is set; a hypothetical call always passes.
        """
        if payer not in PAYERS:
            raise ValueError(f"unknown payer {payer!r}")
        if amount is not None and amount < 0:
            raise ValueError("a reservation cannot be negative")
        rid = uuid.uuid4().hex
        if payer == HYPOTHETICAL:  # nobody pays: nothing to hold, nothing to check
            return Reservation(self, rid, amount or ZERO, payer, hold_s)
        with self._lock, self.store.write() as conn:
            S.prune_reservations(conn, self.stale_after_s)
            facilitator, own = self._caps(conn)
            if payer == SERVER:
                server = (
                    _Limit(facilitator, True, BudgetExceeded, _WORKSPACE_REFUSAL),
                    _Limit(self.app_cap, False, BudgetExceeded, _APP_REFUSAL),
                )
                amount = self._check(conn, amount, label, SERVER, server, PriceUnknownForBudget, "the budget cap")
            else:
                mine = (_Limit(own, True, OwnCapExceeded, _OWN_REFUSAL),)
                amount = self._check(conn, amount, label, OWN, mine, OwnPriceUnknown, "your own cap")
            S.add_reservation(conn, rid, self.workspace_id, amount, payer, time.time() + self.hold_for(hold_s))
        return Reservation(self, rid, amount, payer, hold_s)

    def hold_for(self, hold_s: float | None) -> float:
        """How long a reservation is held: the call's longest run, never less than ``stale_after_s``."""
        return self.stale_after_s if hold_s is None else max(float(hold_s), self.stale_after_s)

    def _check(
        self,
        conn,
        amount: Decimal | None,
        label: str,
        payer: str,
        limits: tuple[_Limit, ...],
        unknown: type[PriceUnknownForBudget],
        against: str,
    ) -> Decimal:
        """``amount`` (ZERO for an unknown price) if it fits every limit of ``payer``, else that limit's error.

        An unknown price passes only when none of the limits has a cap: then ``unknown`` names ``against``.
        """
        if amount is None:
            if any(limit.cap is not None for limit in limits):
                raise unknown(f"The price of {label} is unknown, so it cannot be checked against {against}.")
            return ZERO
        for limit in limits:
            if limit.cap is None:
                continue
            spent, _ = S.spent(conn, self.workspace_id if limit.workspace else S.APP, payer)
            held = S.reserved(conn, self.workspace_id if limit.workspace else None, payer)
            if spent + held + amount > limit.cap:
                raise limit.error(
                    limit.refusal.format(
                        label=label,
                        amount=format_usd(amount),
                        cap=format_usd(limit.cap),
                        spent=format_usd(spent),
                        held=f", {format_usd(held)} in flight" if held else "",
                    )
                )
        return amount

    def _extend(self, res: Reservation) -> bool:
        with self._lock, self.store.write() as conn:
            return S.extend_reservation(conn, res.id, time.time() + res.hold_s)

    def _settle(self, res: Reservation, actual: Decimal) -> None:
        with self._lock, self.store.write() as conn:
            if res.payer != HYPOTHETICAL:
                S.drop_reservation(conn, res.id)
            S.add_spend(conn, S.APP, actual, payer=res.payer)
            S.add_spend(conn, self.workspace_id, actual, payer=res.payer)

    def record_spend(self, amount: Decimal | None, payer: str = SERVER) -> None:
        """Add money spent without a reservation (e.g. embeddings at ingest, priced after the fact)."""
        if amount is None or amount <= 0:
            return
        self._settle(Reservation(self, uuid.uuid4().hex, ZERO, payer), amount)

    def app_spent(self) -> tuple[Decimal, Decimal]:
        """(spent, reserved in flight) app-wide on the server's key."""
        with self.store.write() as conn:
            S.prune_reservations(conn, self.stale_after_s)
            return S.spent(conn, S.APP, SERVER)[0], S.reserved(conn, None, SERVER)

    def status(self) -> BudgetStatus:
        """Spend and caps now; an unreadable database shows as $0 (the error is in the server log)."""
        ws = self.workspace_id
        try:
            with self.store.write() as conn:
                S.prune_reservations(conn, self.stale_after_s)
                facilitator, own = self._caps(conn)
                return BudgetStatus(
                    workspace_spent=S.spent(conn, ws, SERVER)[0],
                    workspace_reserved=S.reserved(conn, ws, SERVER),
                    workspace_cap=facilitator,
                    app_spent=S.spent(conn, S.APP, SERVER)[0],
                    app_reserved=S.reserved(conn, None, SERVER),
                    app_cap=self.app_cap,
                    own_cap=own,
                    own_spent=S.spent(conn, ws, OWN)[0],
                    own_reserved=S.reserved(conn, ws, OWN),
                    hypothetical=S.spent(conn, ws, HYPOTHETICAL)[0],
                    app_own_spent=S.spent(conn, S.APP, OWN)[0],
                    app_hypothetical=S.spent(conn, S.APP, HYPOTHETICAL)[0],
                )
        except StoreError:
            logger.exception("budget status unavailable")
            return BudgetStatus(ZERO, ZERO, self.participant_cap, ZERO, ZERO, self.app_cap, self.participant_cap)


def _cap(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    value = Decimal(str(value))
    if not value.is_finite() or value < 0:
        raise ValueError("a budget cap cannot be negative")
    return value
