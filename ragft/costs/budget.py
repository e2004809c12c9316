"""Budget caps: one per browser session and one for the whole app, enforced before every call.

Before a call the caller reserves its worst case (prompt tokens + max output tokens at the model's
price). A reservation that could cross either cap is refused with :class:`BudgetExceeded`, so a refused
call spends nothing. After the call, :meth:`Reservation.settle` replaces the reservation by what the
call actually cost.

The app-wide spend and the in-flight reservations live in one JSON file under ``settings.data_dir``, so a
restart does not reset them, and every read-check-write happens under an exclusive ``fcntl.flock`` on a
lock file (plus a thread lock), so concurrent calls from several sessions, threads or Streamlit replicas
on the same host cannot jointly overshoot the cap. Reservations left by a process that died are dropped
(same host, dead pid) or expire after ``stale_after_s``.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Iterator

from ragft.costs.prices import format_usd
from ragft.errors import BudgetExceeded, RagftError

ZERO = Decimal(0)
SPEND_FILE = "app_spend.json"
LOCK_FILE = "app_spend.lock"
_HOST = socket.gethostname()
# Serialises threads of this process around the file lock (flock is per open file description, so it
# would work across threads too; the thread lock keeps the order simple and cheap).
_process_lock = threading.Lock()


class PriceUnknownForBudget(BudgetExceeded):
    """A budget cap is set but the call's price is unknown, so its worst case cannot be checked."""

    hint = "Set a price override for this model in Settings, or remove the budget cap."


class BudgetFileError(RagftError):
    hint = "Check that the data directory is writable."


@dataclass(frozen=True)
class BudgetStatus:
    session_spent: Decimal
    session_reserved: Decimal
    session_cap: Decimal | None
    app_spent: Decimal
    app_reserved: Decimal
    app_cap: Decimal | None
    path: Path

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


def _money(value: object, default: Decimal = ZERO) -> Decimal:
    try:
        out = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return default
    return out if out.is_finite() else default


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Reservation:
    """Money held for one call. Settle it with the actual cost, or release it if nothing was spent."""

    def __init__(self, budget: "Budget", rid: str, amount: Decimal) -> None:
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

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        # Not settled by the caller: we cannot know what was billed, so keep the worst case.
        if not self._done:
            self.settle(self.amount)


class Budget:
    """Session cap (in memory, this object lives in ``st.session_state``) + app-wide cap (file)."""

    def __init__(
        self,
        data_dir: Path,
        app_cap: Decimal | None,
        session_cap: Decimal | None,
        *,
        stale_after_s: float = 900.0,
    ) -> None:
        self.dir = Path(data_dir) / "budget"
        self.path = self.dir / SPEND_FILE
        self.lock_path = self.dir / LOCK_FILE
        self.app_cap = _cap(app_cap)
        self.session_cap = _cap(session_cap)
        self.stale_after_s = stale_after_s
        self._lock = threading.Lock()
        self.session_spent = ZERO
        self.session_reserved = ZERO

    def set_caps(self, app_cap: Decimal | None, session_cap: Decimal | None) -> None:
        with self._lock:
            self.app_cap = _cap(app_cap)
            self.session_cap = _cap(session_cap)

    # ---- the shared file --------------------------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[dict]:
        """Exclusive access to the app-wide state; yields it and writes it back atomically."""
        try:
            self.dir.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise BudgetFileError(f"Cannot create the budget folder {self.dir}: {err.strerror}.") from None
        with _process_lock:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                state = self._read()
                before = json.dumps(state, sort_keys=True)
                self._prune(state)
                yield state
                if json.dumps(state, sort_keys=True) != before:
                    self._write(state)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
                os.close(fd)

    def _read(self) -> dict:
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"spent": "0", "calls": 0, "reservations": {}}
        except (OSError, json.JSONDecodeError) as err:
            raise BudgetFileError(f"The app-wide spend file {self.path} is unreadable: {err}.") from None
        if not isinstance(raw, dict):
            raise BudgetFileError(f"The app-wide spend file {self.path} is not a JSON object.")
        raw.setdefault("spent", "0")
        raw.setdefault("calls", 0)
        if not isinstance(raw.get("reservations"), dict):
            raw["reservations"] = {}
        return raw

    def _write(self, state: dict) -> None:
        state["updated"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        tmp = self.path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            tmp.write_text(json.dumps(state, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)  # readers without the lock see the old or the new file, never half
        except OSError as err:
            raise BudgetFileError(f"Cannot write the app-wide spend file {self.path}: {err.strerror}.") from None

    def _prune(self, state: dict) -> None:
        now = time.time()
        for rid, res in list(state["reservations"].items()):
            stale = now - float(res.get("t", 0)) > self.stale_after_s
            dead = res.get("host") == _HOST and not _pid_alive(int(res.get("pid", 0)))
            if stale or dead:
                del state["reservations"][rid]

    @staticmethod
    def _reserved(state: dict) -> Decimal:
        return sum((_money(r.get("amount")) for r in state["reservations"].values()), ZERO)

    # ---- the public API ---------------------------------------------------------------------------
    def reserve(self, amount: Decimal | None, *, label: str = "this call") -> Reservation:
        """Hold ``amount`` (the call's worst case) or raise :class:`BudgetExceeded` if it could cross a cap.

        ``None`` (unknown price) passes only when no cap is set.
        """
        if amount is None:
            if self.app_cap is not None or self.session_cap is not None:
                raise PriceUnknownForBudget(
                    f"The price of {label} is unknown, so it cannot be checked against the budget cap."
                )
            amount = ZERO
        if amount < 0:
            raise ValueError("a reservation cannot be negative")
        rid = uuid.uuid4().hex
        with self._lock:
            if self.session_cap is not None and self.session_spent + self.session_reserved + amount > self.session_cap:
                raise BudgetExceeded(
                    f"Refused: {label} could cost up to {format_usd(amount)}, which would cross this session's "
                    f"budget of {format_usd(self.session_cap)} ({format_usd(self.session_spent)} spent"
                    f"{', ' + format_usd(self.session_reserved) + ' in flight' if self.session_reserved else ''})."
                )
            with self._locked() as state:
                spent = _money(state["spent"])
                reserved = self._reserved(state)
                if self.app_cap is not None and spent + reserved + amount > self.app_cap:
                    raise BudgetExceeded(
                        f"Refused: {label} could cost up to {format_usd(amount)}, which would cross the app-wide "
                        f"budget of {format_usd(self.app_cap)} ({format_usd(spent)} spent by everyone"
                        f"{', ' + format_usd(reserved) + ' in flight' if reserved else ''})."
                    )
                state["reservations"][rid] = {
                    "amount": str(amount),
                    "pid": os.getpid(),
                    "host": _HOST,
                    "t": time.time(),
                }
            self.session_reserved += amount
        return Reservation(self, rid, amount)

    def _settle(self, res: Reservation, actual: Decimal) -> None:
        with self._lock:
            with self._locked() as state:
                state["reservations"].pop(res.id, None)
                state["spent"] = str(_money(state["spent"]) + actual)
                state["calls"] = int(state.get("calls", 0)) + 1
            self.session_reserved = max(ZERO, self.session_reserved - res.amount)
            self.session_spent += actual

    def record_spend(self, amount: Decimal | None) -> None:
        """Add money spent without a reservation (e.g. embeddings at ingest, priced after the fact)."""
        if amount is None or amount <= 0:
            return
        self._settle(Reservation(self, uuid.uuid4().hex, ZERO), amount)

    def app_spent(self) -> tuple[Decimal, Decimal]:
        """(spent, reserved in flight) app-wide, read under the lock."""
        with self._lock:
            with self._locked() as state:
                return _money(state["spent"]), self._reserved(state)

    def status(self) -> BudgetStatus:
        try:
            app_spent, app_reserved = self.app_spent()
        except BudgetFileError:
            app_spent, app_reserved = ZERO, ZERO
        return BudgetStatus(
            session_spent=self.session_spent,
            session_reserved=self.session_reserved,
            session_cap=self.session_cap,
            app_spent=app_spent,
            app_reserved=app_reserved,
            app_cap=self.app_cap,
            path=self.path,
        )


def _cap(value: Decimal | None) -> Decimal | None:
    if value is None:
        return None
    value = Decimal(str(value))
    if value < 0:
        raise ValueError("a budget cap cannot be negative")
    return value
