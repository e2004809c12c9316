"""Budget caps: one per participant (their workspace) and one for the whole app, enforced before every call.

Before a call the caller reserves its worst case (prompt tokens + max output tokens at the model's
price). A reservation that could cross either cap is refused with :class:`BudgetExceeded`, so a refused
call spends nothing. After the call, :meth:`Reservation.settle` replaces the reservation by what the
call actually cost.

The spend of every workspace, the app-wide spend and the in-flight reservations live in the class database
(:mod:`ragft.store`), so a reload, a new tab on the same workspace link or a restart does not reset them.
Every read-check-write is one ``BEGIN IMMEDIATE`` transaction, so concurrent calls from several sessions,
threads or processes sharing the data dir cannot jointly overshoot a cap. Reservations left by a process
that died are dropped (same host, dead pid) or expire after ``stale_after_s``.

The participant cap is the facilitator's (``RAGFT_PARTICIPANT_BUDGET_USD``, or a per-workspace cap the
facilitator set in the database); a participant may lower their own cap, never raise it above that.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from ragft.costs.prices import format_usd
from ragft.errors import BudgetExceeded
from ragft.store import spend as S
from ragft.store.db import ClassStore, StoreError, open_store

logger = logging.getLogger(__name__)

ZERO = Decimal(0)


class PriceUnknownForBudget(BudgetExceeded):
    """A budget cap is set but the call's price is unknown, so its worst case cannot be checked."""

    hint = "Set a price override for this model in Settings, or remove the budget cap."


@dataclass(frozen=True)
class BudgetStatus:
    session_spent: Decimal  # this workspace's spend (every tab and reload of it)
    session_reserved: Decimal
    session_cap: Decimal | None  # the cap in force: the lower of the facilitator's and the participant's own
    app_spent: Decimal
    app_reserved: Decimal
    app_cap: Decimal | None
    facilitator_cap: Decimal | None = None  # the most this participant's cap may be
    own_cap: Decimal | None = None  # what the participant chose, if anything

    @property
    def session_fraction(self) -> float | None:
        return _fraction(self.session_spent + self.session_reserved, self.session_cap)

    @property
    def app_fraction(self) -> float | None:
        return _fraction(self.app_spent + self.app_reserved, self.app_cap)


def _fraction(used: Decimal, cap: Decimal | None) -> float | None:
    if cap is None:
        return None
    if cap == 0:
        return 1.0
    return float(used / cap)


def effective_cap(facilitator: Decimal | None, own: Decimal | None) -> Decimal | None:
    """The lower of the two caps that are set (None: no cap)."""
    set_ = [c for c in (facilitator, own) if c is not None]
    return min(set_) if set_ else None


class Reservation:
    """Money held for one call. Settle it with the actual cost, or release it if nothing was spent."""

    def __init__(self, budget: Budget, rid: str, amount: Decimal) -> None:
        self.budget = budget
        self.id = rid
        self.amount = amount
        self.settled: Decimal | None = None
        self._done = False
        self._lock = threading.Lock()

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
        stale_after_s: float = 900.0,
        session_cap: Decimal | None = None,
    ) -> None:
        if participant_cap is None:
            participant_cap = session_cap  # older keyword of the same cap
        self.store: ClassStore = open_store(data_dir)
        self.data_dir = Path(data_dir)
        self.workspace_id = workspace_id or f"session-{uuid.uuid4().hex}"
        self.app_cap = _cap(app_cap)
        self.participant_cap = _cap(participant_cap)
        self.stale_after_s = stale_after_s
        self._lock = threading.Lock()

    @property
    def session_cap(self) -> Decimal | None:
        """The facilitator's cap for participants (before a per-workspace override or the participant's own)."""
        return self.participant_cap

    def set_caps(self, app_cap: Decimal | None, participant_cap: Decimal | None) -> None:
        with self._lock:
            self.app_cap = _cap(app_cap)
            self.participant_cap = _cap(participant_cap)

    # ---- caps in the database ---------------------------------------------------------------------
    def _caps(self, conn) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
        """(cap in force, facilitator's cap for this workspace, participant's own cap)."""
        own, per_ws = S.caps(conn, self.workspace_id)
        facilitator = per_ws if per_ws is not None else self.participant_cap
        return effective_cap(facilitator, own), facilitator, own

    def set_own_cap(self, cap: Decimal | None) -> Decimal | None:
        """Lower this participant's cap (persisted per workspace); a value above the facilitator's is clamped.

        Returns the cap now in force. ``None`` removes the participant's own cap.
        """
        cap = _cap(cap)
        with self.store.read() as conn:
            _, facilitator, _ = self._caps(conn)
        if cap is not None and facilitator is not None and cap > facilitator:
            cap = facilitator
        S.set_own_cap(self.store, self.workspace_id, cap)
        return effective_cap(facilitator, cap)

    # ---- the public API ---------------------------------------------------------------------------
    def reserve(self, amount: Decimal | None, *, label: str = "this call") -> Reservation:
        """Hold ``amount`` (the call's worst case) or raise :class:`BudgetExceeded` if it could cross a cap.

        ``None`` (unknown price) passes only when no cap is set.
        """
        if amount is not None and amount < 0:
            raise ValueError("a reservation cannot be negative")
        rid = uuid.uuid4().hex
        with self._lock, self.store.write() as conn:
            S.prune_reservations(conn, self.stale_after_s)
            cap, _, _ = self._caps(conn)
            if amount is None:
                if self.app_cap is not None or cap is not None:
                    raise PriceUnknownForBudget(
                        f"The price of {label} is unknown, so it cannot be checked against the budget cap."
                    )
                amount = ZERO
            if cap is not None:
                mine, _ = S.spent(conn, self.workspace_id)
                held = S.reserved(conn, self.workspace_id)
                if mine + held + amount > cap:
                    raise BudgetExceeded(
                        f"Refused: {label} could cost up to {format_usd(amount)}, which would cross your budget "
                        f"of {format_usd(cap)} ({format_usd(mine)} spent"
                        f"{', ' + format_usd(held) + ' in flight' if held else ''})."
                    )
            if self.app_cap is not None:
                spent, _ = S.spent(conn, S.APP)
                reserved = S.reserved(conn)
                if spent + reserved + amount > self.app_cap:
                    raise BudgetExceeded(
                        f"Refused: {label} could cost up to {format_usd(amount)}, which would cross the app-wide "
                        f"budget of {format_usd(self.app_cap)} ({format_usd(spent)} spent by everyone"
                        f"{', ' + format_usd(reserved) + ' in flight' if reserved else ''})."
                    )
            S.add_reservation(conn, rid, self.workspace_id, amount)
        return Reservation(self, rid, amount)

    def _settle(self, res: Reservation, actual: Decimal) -> None:
        with self._lock, self.store.write() as conn:
            S.drop_reservation(conn, res.id)
            S.add_spend(conn, S.APP, actual)
            S.add_spend(conn, self.workspace_id, actual)

    def record_spend(self, amount: Decimal | None) -> None:
        """Add money spent without a reservation (e.g. embeddings at ingest, priced after the fact)."""
        if amount is None or amount <= 0:
            return
        self._settle(Reservation(self, uuid.uuid4().hex, ZERO), amount)

    def app_spent(self) -> tuple[Decimal, Decimal]:
        """(spent, reserved in flight) app-wide."""
        with self.store.write() as conn:
            S.prune_reservations(conn, self.stale_after_s)
            return S.spent(conn, S.APP)[0], S.reserved(conn)

    def status(self) -> BudgetStatus:
        """Spend and caps now; an unreadable database shows as $0 (the error is in the server log)."""
        try:
            with self.store.write() as conn:
                S.prune_reservations(conn, self.stale_after_s)
                cap, facilitator, own = self._caps(conn)
                mine, held = S.spent(conn, self.workspace_id)[0], S.reserved(conn, self.workspace_id)
                app, app_held = S.spent(conn, S.APP)[0], S.reserved(conn)
        except StoreError:
            logger.exception("budget status unavailable")
            cap, facilitator, own = self.participant_cap, self.participant_cap, None
            mine = held = app = app_held = ZERO
        return BudgetStatus(
            session_spent=mine,
            session_reserved=held,
            session_cap=cap,
            app_spent=app,
            app_reserved=app_held,
            app_cap=self.app_cap,
            facilitator_cap=facilitator,
            own_cap=own,
        )


def _cap(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    value = Decimal(str(value))
    if not value.is_finite() or value < 0:
        raise ValueError("a budget cap cannot be negative")
    return value
