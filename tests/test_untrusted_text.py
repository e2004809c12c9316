"""Untrusted text is text everywhere (issue 20, item 5): hostile strings walked through each rendering path the
issue lists (the real widgets under AppTest, the real class report) and every CSV export neutralises formulas."""

from __future__ import annotations

import csv
import io
import re
from decimal import Decimal

from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from ragft.classroom import results as RS
from ragft.store.records import QuestionCount
from ragft.text import csv_cell, csv_dict, csv_row

HOSTILE = [
    "![x](http://evil.example/a.png)",
    "[link](javascript:alert(1))",
    '<img src="http://evil.example/b.png">',
    ":red[coloured]",
    "$$\\href{http://evil.example/c}{x}$$",
    "<http://evil.example/auto> www.evil.example",
]
EVIL = " ".join(HOSTILE)

_MD = MarkdownIt("commonmark", {"html": True, "linkify": False})
_LIVE = {"image", "link_open", "html_inline", "html_block"}


def assert_inert(body: str) -> None:
    """``body`` as Streamlit's Markdown would parse it: no image, link, raw HTML, LaTeX or colour directive."""
    tokens = _MD.parse(body)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    assert not kinds & _LIVE, (kinds & _LIVE, body)
    assert not re.search(r"(?<!\\)\$", body), body
    assert ":red[coloured" not in body, body  # the app's own :green[...] / :red[...] stay
    assert "http://evil" not in body and "www.evil" not in body, body  # bare links broken by escapes / joiners


def _bodies(at: AppTest) -> list[str]:
    out = []
    for kind in ("markdown", "caption", "error", "warning", "info", "success"):
        out += [e.value for e in getattr(at, kind)]
    out += [m.proto.help for m in at.metric if m.proto.help]
    return out


def _run(script, **state) -> AppTest:
    at = AppTest.from_function(script, default_timeout=60)
    for k, v in state.items():
        at.session_state[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def test_training_upload_roles_and_csv_headers_in_the_error_are_text():
    def script():
        import json

        import streamlit as st

        from components.finetune import examples as FX
        from ragft.training import examples as X

        evil = st.session_state["evil"]
        _, p1 = X.parse_upload("x.csv", f"{evil},other\na,b\n".encode())
        line = json.dumps({"messages": [{"role": evil, "content": "hi"}, {"role": "assistant", "content": "ok"}]})
        _, p2 = X.parse_upload("x.jsonl", line.encode())
        st.session_state["ft_upload_problems"] = [str(p) for p in p1 + p2]
        FX.init()
        FX.source_picker()

    at = _run(script, evil=EVIL)
    [err] = at.error
    assert "role" in err.value and "header" in err.value  # both problems are listed
    for body in _bodies(at):
        assert_inert(body)


def test_held_out_prompts_and_check_errors_in_the_fine_tune_result_are_text():
    def script():
        import streamlit as st

        from components.finetune import result as FR

        evil = st.session_state["evil"]
        FR._check_table(
            {
                "n": 2,
                "check": evil,
                "base": {"ok": 0.5},
                "adapter": {"ok": 1.0},
                "samples": [{"prompt": evil, "base": evil, "adapter": evil}],
            }
        )
        FR._check_table({"error": evil})

    at = _run(script, evil=EVIL)
    assert any(c.value.startswith("Prompt: ") for c in at.caption)
    for body in _bodies(at):
        assert_inert(body)


def test_configuration_names_and_tooltips_of_an_imported_run_are_text():
    def script():
        import streamlit as st

        from components.evaluate.paired import render_comparison
        from ragft.evaluation.paired import PairedComparison, QuestionDiff

        evil = st.session_state["evil"]
        rows = (QuestionDiff("q1", evil, False, True, evil, evil), QuestionDiff("q2", evil, True, True, "a", "b"))
        render_comparison(PairedComparison(evil, evil, "facts", rows), "t")

    at = _run(script, evil=EVIL)
    assert any(m.proto.help for m in at.metric)
    for body in _bodies(at):
        assert_inert(body)


def test_the_class_report_shows_participants_questions_as_text():
    md = RS.report_markdown([], [], [], [QuestionCount(EVIL + "\n| x |", 3, 2)], participants=2)
    row = next(line for line in md.splitlines() if "evil" in line)
    assert row.endswith("| 3 | 2 |") and row.count("|") - row.count("\\|") == 4  # still one cell
    assert_inert(row)


def test_csv_cells_that_a_spreadsheet_would_run_get_a_quote():
    for bad in ('=HYPERLINK("http://evil.example")', "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"):
        assert csv_cell(bad) == "'" + bad
    for ok in ("plain", "-0.5", "+3", "1e-3", 7, -1.5, Decimal("-0.25"), None, ""):
        assert csv_cell(ok) == ok
    assert csv_row(["=1", 2]) == ["'=1", 2]
    assert csv_dict({"a": "@x", "b": "y"}) == {"a": "'@x", "b": "y"}


def test_the_class_results_csv_neutralises_labels():
    row = RS.LeaderRow("=cmd|'/c calc'!A1", "=cmd|'/c calc'!A1", 1, 2, 0.5, 0.1, 0.9, 1000.0)
    rows = list(csv.reader(io.StringIO(RS.report_csv([row], []))))
    assert rows[1][0] == rows[1][1] == "'=cmd|'/c calc'!A1"
