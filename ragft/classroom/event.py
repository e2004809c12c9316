"""The event's defaults, set by the facilitator while the app runs and kept in the class database.

What they change: the model of the base and fine-tuned slots (one of the models the server's policy allows), the
retrieval top-k, the cap per participant, and which pages participants see. :func:`apply` lays them over the
server's settings; sessions pick them up on their next page run.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass, field, replace
from decimal import Decimal, InvalidOperation

from ragft.errors import ConfigError, RagftError
from ragft.settings import Settings
from ragft.store.db import ClassStore

logger = logging.getLogger(__name__)

META_KEY = "event_defaults"
ALWAYS_SHOWN = ("pages/home.py",)  # a participant always has somewhere to land


@dataclass(frozen=True)
class EventDefaults:
    base_model: str | None = None
    ft_model: str | None = None
    top_k: int | None = None
    participant_cap_usd: str | None = None  # decimal text; None: the server's
    hidden_pages: tuple[str, ...] = field(default_factory=tuple)  # page files, e.g. "pages/finetune.py"

    def to_json(self) -> str:
        d = asdict(self)
        d["hidden_pages"] = list(self.hidden_pages)
        return json.dumps(d, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> EventDefaults:
        d = json.loads(text)
        return cls(
            d.get("base_model"),
            d.get("ft_model"),
            d.get("top_k"),
            d.get("participant_cap_usd"),
            tuple(d.get("hidden_pages") or ()),
        )

    @property
    def participant_cap(self) -> Decimal | None:
        return None if self.participant_cap_usd is None else Decimal(self.participant_cap_usd)


def validate(ev: EventDefaults, allowed: dict[str, tuple[str, ...]]) -> EventDefaults:
    """Check the values (ConfigError naming the one that is wrong); ``allowed``: slot -> the server's models."""
    for slot, model in (("base", ev.base_model), ("finetuned", ev.ft_model)):
        if model is not None and model not in allowed.get(slot, ()):
            raise ConfigError(f"The model {model!r} is not one the server offers for the {slot} slot.")
    if ev.top_k is not None and not 1 <= int(ev.top_k) <= 50:
        raise ConfigError("Top-k must be between 1 and 50.")
    if ev.participant_cap_usd is not None:
        try:
            cap = Decimal(ev.participant_cap_usd)
        except InvalidOperation:
            raise ConfigError(f"The cap {ev.participant_cap_usd!r} is not an amount in dollars.") from None
        if cap < 0:
            raise ConfigError("The cap per participant cannot be negative.")
    return replace(ev, hidden_pages=tuple(p for p in ev.hidden_pages if p not in ALWAYS_SHOWN))


def load(store: ClassStore) -> EventDefaults:
    try:
        with store.read() as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (META_KEY,)).fetchone()
    except RagftError:
        logger.exception("cannot read the event's defaults; using the server's")
        return EventDefaults()
    if not row:
        return EventDefaults()
    try:
        return EventDefaults.from_json(row[0])
    except (ValueError, TypeError):
        logger.exception("the event's defaults in the class database are malformed; using the server's")
        return EventDefaults()


def save(store: ClassStore, ev: EventDefaults) -> None:
    with store.write() as conn:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (META_KEY, ev.to_json()),
        )
    logger.info("event defaults set: %s", ev.to_json())


def apply(server: Settings, ev: EventDefaults) -> Settings:
    """The server's settings with the event's defaults laid over them."""
    s = server
    if ev.base_model:
        s = replace(s, base=replace(s.base, model=ev.base_model))
    if ev.ft_model:
        s = replace(s, finetuned=replace(s.finetuned, model=ev.ft_model))
    if ev.top_k is not None:
        s = replace(s, top_k=int(ev.top_k))
    if ev.participant_cap_usd is not None:
        s = replace(s, participant_budget_usd=ev.participant_cap)
    return s
