"""AppTest: the prompted configurations run on Compare and Evaluate (embedded default), labels are scored."""

from __future__ import annotations

import pytest

from components.compare import view as V
from ragft.configs import THESIS
from ragft.training.presets import PRESETS
from tests.apptest_helpers import embedded_settings, open_page

pytestmark = pytest.mark.slow  # loads a model


def test_compare_runs_base_plus_prompt_with_shots_from_the_training_set(data_dir):
    at = open_page("pages/compare.py", embedded_settings(data_dir), timeout=300)
    for cfg in THESIS:
        assert at.session_state[f"cmp_on_{cfg.key}"] is True
    assert at.session_state["cmp_on_base_prompt"] is False  # one toggle away, not run by default
    for cfg in THESIS:
        at.toggle(key=f"cmp_on_{cfg.key}").set_value(False)
    at.toggle(key="cmp_on_base_prompt").set_value(True)
    at.toggle(key="cmp_on_base_nearest").set_value(True)
    at.text_input(key="cmp_question").set_value("How much does the Kestrel 2 Tent cost?")
    at.button(key="FormSubmitter:cmp_form-Ask").click().run()
    assert not at.exception, at.exception
    comparison = at.session_state[V.HISTORY_KEY].get(at.session_state[V.CURRENT_KEY])
    assert comparison.configurations == ("base_prompt", "base_nearest")
    train = {(e.prompt, e.response) for e in PRESETS["brandvoice"].shipped_examples()}
    for key in comparison.configurations:
        panel = comparison.panels[key]
        assert panel.error is None, panel.error
        msgs = panel.messages
        shots = [(msgs[i]["content"], msgs[i + 1]["content"]) for i in range(1, len(msgs) - 1, 2)]
        assert len(shots) == 6 and all(s in train for s in shots)
        assert PRESETS["brandvoice"].instructions in msgs[0]["content"]
        assert panel.prompt_tokens and panel.prompt_tokens > 200  # the examples are paid on every call


def test_evaluate_scores_ticket_labels_for_prompted_configurations(data_dir):
    at = open_page("pages/evaluate.py", embedded_settings(data_dir), timeout=600)
    at.segmented_control(key="eval_source").set_value("tickets").run()
    at.multiselect(key="eval_configs").set_value(["base_prompt", "base_nearest"]).run()
    at.number_input(key="eval_subset").set_value(2)
    at.button(key="eval_go").click().run()
    assert not at.exception, at.exception
    ev = at.session_state["eval_result"]
    assert ev.finished and len(ev.records) == 4
    assert all({f for f, _, _ in r.fields} == {"category", "priority"} for r in ev.records)
    tables = [d.value for d in at.dataframe if "valid JSON" in d.value.columns]
    assert len(tables) == 1 and list(tables[0]["configuration"]) == ["Base + prompt", "Base + nearest examples"]
    confusion = [d.value for d in at.dataframe if "expected" in d.value.columns]
    assert confusion and int(confusion[0].drop(columns="expected").to_numpy().sum()) == 2
