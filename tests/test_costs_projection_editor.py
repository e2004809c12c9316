"""AppTest of the one projection editor (components.shared.projection) on both pages that use it: the Costs page
(every input, with model names) and the decision guide (the assumptions its answers prefill)."""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.guide.costs import GUIDE_FIELDS
from components.shared.projection import COSTS_PAGE_DEFAULTS, MODEL_FIELDS, NUMBER_FIELDS
from ragft.costs.money import format_usd
from ragft.costs.projection import examples_break_even

pytestmark = pytest.mark.slow  # the pages load the embedded model (sidebar status, answers)

ROOT = Path(__file__).resolve().parent.parent
GUIDE = str(ROOT / "pages" / "guide.py")


def _costs_page(data_dir) -> AppTest:
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/costs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def test_costs_page_edits_every_input_and_the_chart_follows(data_dir):
    at = _costs_page(data_dir)
    for name in NUMBER_FIELDS:
        assert at.number_input(key=f"costs_proj_{name}").value == getattr(COSTS_PAGE_DEFAULTS, name)
    for name in MODEL_FIELDS:
        assert at.text_input(key=f"costs_proj_{name}").value == getattr(COSTS_PAGE_DEFAULTS, name)
    assert "At **10,000** queries a month the cheapest is" in _markdown(at)

    at.number_input(key="costs_proj_queries_per_month").set_value(2_000_000)
    at = _run(at)
    assert "At **2,000,000** queries a month the cheapest is" in _markdown(at)
    assert at.number_input(key="costs_proj_queries_per_month").value == 2_000_000  # kept across reruns

    at.text_input(key="costs_proj_finetuned_model").set_value("ft:no-such-model")
    at = _run(at)
    assert "Prices unknown for: inference" in _markdown(at)


def test_guide_edits_only_its_assumptions_and_a_new_answer_resets_them():
    at = AppTest.from_file(GUIDE, default_timeout=60)
    at.session_state["guide_q_volume"] = "medium"
    at = _run(at)
    for name in GUIDE_FIELDS:
        assert at.number_input(key=f"guide_cost_{name}") is not None
    with pytest.raises(KeyError):
        at.text_input(key="guide_cost_base_model")  # the guide prices the default models, not editable there
    with pytest.raises(KeyError):
        at.number_input(key="guide_cost_epochs")
    assert at.number_input(key="guide_cost_queries_per_month").value == 20_000

    at.number_input(key="guide_cost_context_tokens").set_value(3_000)
    at = _run(at)
    assert at.number_input(key="guide_cost_context_tokens").value == 3_000
    at = _run(at)
    assert at.number_input(key="guide_cost_context_tokens").value == 3_000, "an edit survives a rerun"

    at.selectbox(key="guide_q_volume").set_value("high")
    at = _run(at)
    assert at.number_input(key="guide_cost_queries_per_month").value == 300_000
    assert at.number_input(key="guide_cost_context_tokens").value == 600, "a new prefill replaces the edits"
    assert any("At 300,000 queries a month" in m.value for m in at.markdown)


def test_coming_back_to_the_guide_shows_the_prefill_not_zero(data_dir):
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/guide.py")
    at = _run(at)
    assert at.number_input(key="guide_cost_queries_per_month").value == 5_000
    at.switch_page("pages/home.py")  # the guide's widgets are not drawn: Streamlit drops their state
    at = _run(at)
    at.switch_page("pages/guide.py")
    at = _run(at)
    assert at.number_input(key="guide_cost_queries_per_month").value == 5_000
    assert at.number_input(key="guide_cost_corpus_tokens").value == 200_000


def test_guide_cost_hover_and_labels_use_the_money_formatter():
    at = AppTest.from_file(GUIDE, default_timeout=60)
    at.session_state["guide_q_volume"] = "low"
    at = _run(at)
    text = _markdown(at)
    assert "At 500 queries a month" in text
    # a sub-cent cost per query keeps its significant digits (never "$0.00")
    per_query = re.search(r"\((\$[0-9.,]+) per query", text)
    assert per_query, text
    assert per_query.group(1) != "$0.00" and Decimal(per_query.group(1)[1:]) > 0
    assert per_query.group(1) == format_usd(Decimal(per_query.group(1)[1:]))


def _break_even_line(at: AppTest) -> str:
    lines = [m.value for m in at.markdown if "tokens of instructions and examples cost" in m.value]
    assert len(lines) == 1, lines
    return lines[0]


def test_costs_page_says_when_the_examples_cost_more_than_training_once(data_dir):
    at = _costs_page(data_dir)
    be = examples_break_even(COSTS_PAGE_DEFAULTS, COSTS_PAGE_DEFAULTS.style_prompt_tokens)
    # the page's defaults: the fine-tuned price per token eats what a few hundred tokens of examples cost
    assert be.calls is None and be.finetuned_per_call is not None and be.prompted_per_call is not None
    assert be.finetuned_per_call > be.prompted_per_call
    assert "training never pays back on price alone" in _break_even_line(at)

    # long examples on every call: training once pays back, sooner the longer they are
    found = {}
    for tokens in (2_000, 4_000):
        at.number_input(key="costs_proj_style_prompt_tokens").set_value(tokens)
        at = _run(at)
        found[tokens] = examples_break_even(replace(COSTS_PAGE_DEFAULTS, style_prompt_tokens=tokens), tokens)
        calls = found[tokens].calls
        assert calls is not None and calls > 0
        line = _break_even_line(at)
        assert f"At {float(calls):,.0f} calls a month the prompt's examples cost more than training once" in line
        assert format_usd(found[tokens].training_cost) in line
    assert found[4_000].calls < found[2_000].calls

    at.number_input(key="costs_proj_style_prompt_tokens").set_value(0)
    at = _run(at)
    assert "No instructions or examples in the prompt" in _markdown(at)


def test_guide_projection_shows_the_examples_break_even():
    at = AppTest.from_file(GUIDE, default_timeout=60)
    at.session_state["guide_q_volume"] = "medium"
    at.session_state["guide_q_behaviour"] = "brand_voice"
    at = _run(at)
    tokens = at.number_input(key="guide_cost_style_prompt_tokens").value
    assert tokens == 500  # prefilled from the behaviour answer
    assert f"The prompt's **{tokens:,}** tokens of instructions and examples cost" in _break_even_line(at)
