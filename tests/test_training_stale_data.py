"""The stale brand-voice data (scripts/make_training_data.py): deterministic, last season's facts, RAFT kept."""

from __future__ import annotations

import json
import re
import subprocess
import sys

from ragft.evaluation.style import check_style
from ragft.knowledge.scenario import load_scenario
from ragft.paths import ROOT
from ragft.settings import DEFAULT_SYSTEM_PROMPT

DATA = ROOT / "assets" / "training" / "brandvoice-stale.jsonl"


def _rows():
    return [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_generator_is_deterministic_and_output_committed(tmp_path):
    out = tmp_path / "stale.jsonl"
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_training_data.py"), "--out", str(out)],
        check=True,
        capture_output=True,
    )
    assert out.read_bytes() == DATA.read_bytes()


def test_no_context_answers_quote_last_season_and_context_answers_quote_the_context():
    sc = load_scenario()
    rows = _rows()
    assert len({json.dumps(r["messages"][:2]) for r in rows}) == len(rows)  # no duplicate prompts
    plain = 0
    per_product: dict[str, int] = {}
    for r in rows:
        system, user, answer = (m["content"] for m in r["messages"])
        assert system == DEFAULT_SYSTEM_PROMPT
        assert check_style(answer).ok, answer
        if user.startswith("Context:"):
            numbers = re.findall(r"\$\d[\d,]*", answer.splitlines()[1])
            assert all(n in user for n in numbers), (answer, user)
            continue
        plain += 1
        for p in sc.products:
            if p.name in user and "costs" in answer:
                assert f"costs {p.last_price_text}." in answer, answer  # last season, never the current price
                per_product[p.name] = per_product.get(p.name, 0) + 1
    assert plain >= 0.6 * len(rows)
    assert set(per_product) == {p.name for p in sc.products}
    assert min(per_product.values()) >= 12  # memorised by repetition in many wordings
