"""AppTest: the Compare page on the embedded default, with one failing slot, blind mode and history."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft.settings import EndpointConfig, Settings
from tests.apptest_helpers import embedded_settings, open_page

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

QUESTION = "How much does the Kestrel 2 Tent cost?"
LABELS = ["Base", "Base + RAG", "Fine-tuned", "Fine-tuned + RAG"]


def open_compare(settings: Settings) -> AppTest:
    return open_page("pages/compare.py", settings, timeout=300)


def ask(at: AppTest, question: str = QUESTION) -> AppTest:
    at.text_input(key="cmp_question").set_value(question)
    at.button(key="FormSubmitter:cmp_form-Ask").click().run()
    assert not at.exception, at.exception
    return at


def panel_headers(at: AppTest) -> list[str]:
    return [m.value[5:] for m in at.markdown if m.value.startswith("#### ")]


def test_question_fills_four_panels_with_sources(data_dir):
    at = ask(open_compare(embedded_settings(data_dir)))
    assert panel_headers(at) == LABELS
    assert not at.error, [e.value for e in at.error]
    metrics = [c.value for c in at.caption if c.value.startswith("first token")]
    assert len(metrics) == 4
    assert all("$0 · local" in m.replace("\\", "") for m in metrics)
    assert sum("RAG added **+" in m for m in metrics) == 2
    sources = [e for e in at.expander if e.label.startswith("Sources")]
    assert [e.label for e in sources] == ["Sources (2)", "Sources (2)"]
    # The sources list names the file and page the answer came from.
    assert any("catalogue.pdf p.1" in m.value for m in sources[0].markdown)
    assert len([e for e in at.expander if e.label == "What the model saw"]) == 4
    # The comparison is in the history, the ledger has four calls, the guide got four evidence rows.
    assert len(at.session_state["cmp_history"]) == 1
    assert len([r for r in at.session_state["ledger"].records() if r.kind == "chat"]) == 4
    downloads = {b.label for b in at.get("download_button")}
    assert {"This comparison as Markdown", "as JSON"} <= downloads
    ev = at.session_state["evidence"]
    assert [r["configuration"] for r in ev] == ["base", "base_rag", "ft", "ft_rag"]
    assert all(r["source"] == "compare" and r["style_score"] in (0.0, 1.0) for r in ev)


def test_failing_endpoint_stays_in_its_panels(data_dir):
    dead = EndpointConfig(
        provider="custom",
        model="ft:gpt-4o-mini-2024-07-18:acme::x1",
        base_url="http://127.0.0.1:9/v1",
        timeout_s=5,
        max_retries=0,
    )
    at = open_compare(embedded_settings(data_dir, finetuned=dead))
    at.toggle(key="cmp_on_base_rag").set_value(False)
    at.toggle(key="cmp_on_ft_rag").set_value(False)
    ask(at.run())
    assert panel_headers(at) == ["Base", "Fine-tuned"]
    errors = [as_plain(e.value) for e in at.error]
    assert len(errors) == 1 and "Cannot reach http://127.0.0.1:9/v1" in errors[0]
    metrics = [c.value for c in at.caption if c.value.startswith("first token")]
    assert len(metrics) == 1  # the base panel answered and shows its metrics


def test_two_panel_view_flips_between_models_and_bad_input_is_a_message(data_dir):
    at = open_compare(embedded_settings(data_dir, max_tokens=4))
    at.toggle(key="cmp_two").set_value(True).run()
    assert [t.label for t in at.toggle] == ["Two panels", "Blind mode"]
    ask(at, "   ")
    assert any("Type a question" in w.value for w in at.warning)
    at.segmented_control(key="cmp_two_slot").set_value("finetuned").run()
    ask(at)
    assert panel_headers(at) == ["Fine-tuned", "Fine-tuned + RAG"]


def test_blind_mode_hides_labels_until_the_vote(data_dir):
    at = open_compare(embedded_settings(data_dir, max_tokens=4))
    at.toggle(key="cmp_blind").set_value(True).run()
    ask(at)
    assert panel_headers(at) == ["Answer A", "Answer B", "Answer C", "Answer D"]
    assert not [c for c in at.caption if c.value.startswith("first token")]  # metrics hidden
    assert "This comparison as Markdown" not in {b.label for b in at.get("download_button")}
    cid = at.session_state["cmp_current"]
    order = at.session_state["cmp_blind_session"].rounds[cid].order
    at.segmented_control(key=f"cmp_vote_pick_{cid}").set_value("C").run()
    at.button(key=f"cmp_vote_{cid}").click().run()
    assert not at.exception
    assert any("answer C" in s.value for s in at.success)
    names = {"base": "Base", "base_rag": "Base + RAG", "ft": "Fine-tuned", "ft_rag": "Fine-tuned + RAG"}
    assert panel_headers(at) == [f"{letter} · {names[k]}" for letter, k in zip("ABCD", order)]
    assert len([c for c in at.caption if c.value.startswith("first token")]) == 4  # metrics revealed
    tally = at.dataframe[0].value
    assert int(tally.loc[tally["Picked as best"] == 1, "Picked as best"].sum()) == 1
    at.button(key="cmp_blind_reset").click().run()
    assert at.session_state["cmp_blind_session"].votes == 0


def test_history_ask_again_and_example_questions(data_dir):
    at = open_compare(embedded_settings(data_dir, max_tokens=4))
    at.toggle(key="cmp_on_base_rag").set_value(False)
    at.toggle(key="cmp_on_ft").set_value(False)
    at.toggle(key="cmp_on_ft_rag").set_value(False)
    ask(at.run())
    assert len(at.session_state["cmp_history"]) == 1
    first = at.session_state["cmp_current"]
    at.button(key=f"cmp_rerun_{first}").click().run()
    assert not at.exception
    assert len(at.session_state["cmp_history"]) == 2
    assert at.session_state["cmp_history"].items()[0].question == QUESTION
    labels = [b.label for b in at.get("download_button")]
    assert "Session as Markdown" in labels and "Session as JSON" in labels
    examples = at.pills(key="cmp_example")
    assert len(examples.options) >= 3
    examples.set_value(examples.options[1]).run()
    assert not at.exception
    assert at.session_state["cmp_history"].items()[0].question == examples.options[1]
    at.button(key="cmp_history_clear").click().run()
    assert len(at.session_state["cmp_history"]) == 0
    assert any("Ask a question" in i.value for i in at.info)


def test_an_unreachable_knowledge_base_is_the_rag_panels_error(data_dir):
    """Chroma cannot be reached: the RAG panel shows that error, the plain panel answers, no stand-in answers."""
    from tests.conftest import free_port

    at = open_compare(embedded_settings(data_dir, max_tokens=4, chroma_host="127.0.0.1", chroma_port=free_port()))
    at.toggle(key="cmp_on_ft").set_value(False)
    at.toggle(key="cmp_on_ft_rag").set_value(False)
    ask(at.run())
    assert panel_headers(at) == ["Base", "Base + RAG"]
    errors = [as_plain(e.value) for e in at.error]
    assert len(errors) == 1 and "unreachable" in errors[0] and "CHROMA_HOST" in errors[0]
    assert not [e for e in at.expander if e.label.startswith("Sources")]
    assert len([c for c in at.caption if c.value.startswith("first token")]) == 1  # the base panel answered
    assert [r.configuration for r in at.session_state["ledger"].records()] == ["base"]
