"""Today's date, the one place the app asks for it: ``RAGFT_TODAY`` (an ISO date) for tests and demos, else the
machine's date.

Dated facts (OpenAI's fine-tuning ends on 2027-01-06, which hosted training rows remain) are computed from a
``today`` argument; callers take it from :func:`today`, so setting ``RAGFT_TODAY=2027-01-06`` shows the app as it
will be on that day.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date

from ragft.errors import ConfigError

TODAY_ENV = "RAGFT_TODAY"


def parse_day(text: str, what: str = TODAY_ENV) -> date:
    """``"2027-01-06"`` → ``date(2027, 1, 6)``; anything else is a :class:`ConfigError` naming ``what``."""
    try:
        return date.fromisoformat(text.strip())
    except (ValueError, AttributeError):
        raise ConfigError(f"{what} must be a date written YYYY-MM-DD, got {text!r}.") from None


def today(env: Mapping[str, str] | None = None) -> date:
    """``RAGFT_TODAY`` when set (and not empty), else ``date.today()``."""
    src = os.environ if env is None else env
    value = (src.get(TODAY_ENV) or "").strip()
    return parse_day(value) if value else date.today()
