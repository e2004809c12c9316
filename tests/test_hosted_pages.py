"""AppTest of the Fine-tune page's "cost elsewhere" on both sides of 2027-01-06 (``RAGFT_TODAY``).

Slow: the page counts the examples' tokens with the embedded model's own tokenizer (a vocab-only llama.cpp load).
"""

from __future__ import annotations

import pytest

from tests.apptest_helpers import embedded_settings, open_page

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser


def _open(tmp_path, monkeypatch, day: str):
    monkeypatch.setenv("RAGFT_TODAY", day)
    return open_page("pages/finetune.py", embedded_settings(tmp_path))


def _cost_tables(at) -> list[str]:
    """The "cost elsewhere" tables as CSV text: the open services, then (when any) the ended ones."""
    return [d.value.to_csv() for d in at.dataframe if "status" in d.value.columns]


def _markdown(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


def test_before_the_end_openai_and_fireworks_are_both_offered(tmp_path, monkeypatch):
    at = _open(tmp_path, monkeypatch, "2026-12-02")
    text = _markdown(at)
    assert "**Elsewhere, as of 2026-12-02:** OpenAI self-serve fine-tuning, Fireworks AI fine-tuning." in text
    assert "ends for everyone on 2027-01-06 (in 35 days)" in text
    tables = _cost_tables(at)
    assert len(tables) == 1, "nothing has ended yet"
    assert "gpt-4o-mini" in tables[0] and "closed to new users, ends 2027-01-06" in tables[0]
    assert "open models up to 16B" in tables[0] and "https://fireworks.ai/pricing" in tables[0]


def test_from_the_end_date_openai_is_history_and_the_rest_remains(tmp_path, monkeypatch):
    at = _open(tmp_path, monkeypatch, "2027-01-06")
    text = _markdown(at)
    assert "**Elsewhere, as of 2027-01-06:** Fireworks AI fine-tuning (plus 6 ended price row(s) below" in text
    assert "ended for everyone on 2027-01-06" in text
    table, ended = _cost_tables(at)
    assert "Fireworks AI fine-tuning" in table and "OpenAI" not in table
    assert "gpt-4o-mini" in ended and "ended 2027-01-06" in ended and "Fireworks" not in ended
