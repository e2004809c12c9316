"""The facilitator-editable explanations in assets/guide: complete, parsed, and a clear error when missing."""

from __future__ import annotations

import shutil

import pytest

from ragft.configs import APPROACHES
from ragft.guide import (
    FACTORS,
    RESULT_TOPICS,
    GuideAssetMissing,
    load_all_guide_texts,
    load_guide_text,
    parse_guide_markdown,
)
from ragft.paths import GUIDE_DIR


def test_every_shipped_file_loads_with_a_title_and_a_summary():
    texts = load_all_guide_texts()
    assert set(texts.factors) == {f.key for f in FACTORS}
    assert set(texts.approaches) == set(APPROACHES)
    assert set(texts.topics) == set(RESULT_TOPICS)
    for t in [*texts.factors.values(), *texts.approaches.values(), *texts.topics.values()]:
        assert t.title and t.summary, t.path
        assert "<!--" not in t.intro, t.path


@pytest.mark.parametrize("factor", FACTORS, ids=lambda f: f.key)
def test_each_factor_file_explains_every_option(factor):
    t = load_guide_text("factor", factor.key)
    for value in factor.values[1:]:  # "unknown" needs no text
        assert t.section(value), f"factors/{factor.key}.md lacks '## {value}'"


@pytest.mark.parametrize("approach", APPROACHES)
def test_each_approach_has_a_learn_section(approach):
    t = load_guide_text("approach", approach)
    assert t.section("learn").count("\n- ") >= 2
    assert t.section("try it here")


def test_parse_keeps_sections_and_drops_facilitator_notes():
    t = parse_guide_markdown("# Title\n\nShort help.\n\nLonger text.\n<!-- a note -->\n## Weekly\nIt changes.\n")
    assert (t.title, t.summary) == ("Title", "Short help.")
    assert t.intro == "Short help.\n\nLonger text."
    assert t.section("weekly") == "It changes." and t.section("WEEKLY ") == "It changes."
    assert t.section("daily") == ""


def test_a_missing_file_is_named_in_a_typed_error(tmp_path):
    guide = tmp_path / "guide"
    shutil.copytree(GUIDE_DIR, guide)
    (guide / "factors" / "budget.md").unlink()
    (guide / "approaches" / "rag.md").unlink()
    with pytest.raises(GuideAssetMissing) as exc:
        load_all_guide_texts(guide)
    assert "factors/budget.md" in exc.value.message and "approaches/rag.md" in exc.value.message
    with pytest.raises(GuideAssetMissing, match="budget.md"):
        load_guide_text("factor", "budget", guide)
    lenient = load_all_guide_texts(guide, strict=False)
    assert "budget" not in lenient.factors and "change" in lenient.factors
    assert lenient.missing == ("factors/budget.md", "approaches/rag.md")
    assert "Restore the file" in lenient.problem


def test_edits_by_a_facilitator_are_read_on_the_next_load(tmp_path):
    guide = tmp_path / "guide"
    shutil.copytree(GUIDE_DIR, guide)
    (guide / "scores.md").write_text("# Scores\n\nEdited by the facilitator.\n", encoding="utf-8")
    assert load_guide_text("topic", "scores", guide).summary == "Edited by the facilitator."
