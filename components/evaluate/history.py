"""Runs over time on the Evaluate page: every finished run saved in the workspace, a baseline to compare with,
export and re-import.

Saved runs live in :class:`ragft.evaluation.history.RunHistory` (a JSON file per run in the workspace's folder);
nothing here keeps them in a module-level variable. Session keys are prefixed ``eval_hist_``.
"""

from __future__ import annotations

import logging

import streamlit as st

from components.evaluate.paired import render_comparison
from components.shared.safe_text import inline
from ragft import errors as E
from ragft import evaluation as EV
from ragft.configs import BY_KEY
from ragft.evaluation import history as H
from ragft.evaluation import paired as P
from ragft.settings import Settings
from session import config
from session.workspace import current_workspace

logger = logging.getLogger(__name__)

SAVED_KEY = "eval_hist_saved"  # ids of runs this session already saved


def history(s: Settings | None = None) -> H.RunHistory:
    s = s or config.settings()
    return H.RunHistory(s.data_dir, current_workspace())


def save(ev: EV.Evaluation, again: bool = False) -> None:
    """Save a finished (or stopped) run once (``again``: after the judge added scores); a failure to save is
    logged and shown, never fatal."""
    saved: set = st.session_state.setdefault(SAVED_KEY, set())
    if (ev.id in saved and not again) or not ev.records:
        return
    try:
        history().save(H.SavedRun.from_evaluation(ev))
        saved.add(ev.id)
    except (OSError, E.RagftError) as exc:
        logger.exception("saving evaluation run %s failed", ev.id)
        st.warning(
            f"This run could not be saved in the workspace: {inline(getattr(exc, 'message', str(exc)))}",
            icon=":material/warning:",
        )


def _settings_line(changes: list[tuple[str, object, object]]) -> str:
    if not changes:
        return "Same settings as the baseline."
    parts = [f"{k}: {str(a)[:40]!r} → {str(b)[:40]!r}" for k, a, b in changes[:8]]
    return "Settings changed: " + "; ".join(parts) + (" …" if len(changes) > 8 else "")


def section(current: EV.Evaluation | None) -> None:
    """The saved runs: compare one (the baseline) with the current run or another saved run; import; export."""
    st.subheader("Runs over time")
    hist = history()
    _import(hist)
    runs = hist.runs()
    if not runs:
        st.caption(
            "Every run you finish is saved here in your workspace (with its models, adapter, top-k, prompt "
            "and question set), so you can compare a later run with it."
        )
        return
    by_id = {r.id: r for r in runs}
    ids = list(by_id)
    c1, c2 = st.columns(2)
    if st.session_state.get("eval_hist_base") not in ids:
        st.session_state["eval_hist_base"] = ids[1] if len(ids) > 1 else ids[0]
    if st.session_state.get("eval_hist_new") not in ids:
        st.session_state["eval_hist_new"] = current.id if current is not None and current.id in by_id else ids[0]
    base_id = c1.selectbox("Baseline run", ids, key="eval_hist_base", format_func=lambda i: by_id[i].title)
    new_id = c2.selectbox("Compared with", ids, key="eval_hist_new", format_func=lambda i: by_id[i].title)
    base, new = by_id[base_id], by_id[new_id]
    with st.container(horizontal=True):
        st.download_button(
            "Export baseline run as JSON",
            base.to_json(),
            f"evaluation-run-{base.id}.json",
            "application/json",
            key="eval_hist_dl",
            icon=":material/download:",
            on_click="ignore",
        )
        if st.button("Delete baseline run", key="eval_hist_del", icon=":material/delete:"):
            hist.delete(base.id)
            st.rerun()
    if base_id == new_id:
        st.caption("Pick two different runs to see what changed.")
        return
    if not H.same_questions(base, new):
        st.warning(
            "These runs used different question sets: only the questions they share are compared.",
            icon=":material/warning:",
        )
    st.caption(inline(_settings_line(H.settings_changes(base.settings, new.settings))))
    common = H.common_configurations(base, new)
    if not common:
        st.info("These runs share no configuration.", icon=":material/info:")
        return
    st.session_state.setdefault("eval_hist_cfg", common[-1])
    if st.session_state["eval_hist_cfg"] not in common:
        st.session_state["eval_hist_cfg"] = common[-1]
    cfg = st.segmented_control(
        "Configuration",
        common,
        key="eval_hist_cfg",
        required=True,
        format_func=lambda k: inline(BY_KEY[k].label if k in BY_KEY else k),
    )
    metrics = P.metrics_for([*base.records, *new.records]) or ["facts"]
    if st.session_state.get("eval_hist_metric") not in metrics:
        st.session_state["eval_hist_metric"] = metrics[0]
    metric = (
        st.segmented_control("Right means", metrics, key="eval_hist_metric", required=True, format_func=P.metric_name)
        or metrics[0]
    )
    cmp = EV.compare_runs(
        base.records,
        new.records,
        cfg or common[-1],
        metric,
        baseline_name="the baseline",
        current_name="the later run",
    )
    render_comparison(cmp, "eval_hist_cmp")


def _import(hist: H.RunHistory) -> None:
    with st.expander("Import a run (JSON exported from this page)"):
        up = st.file_uploader("Run file", type=["json"], key="eval_hist_upload")
        if up is not None and st.session_state.get("eval_hist_imported") != up.file_id:
            try:
                run = hist.import_bytes(up.getvalue(), up.name)
            except E.RagftError as exc:
                st.error(f"{inline(up.name)}: {inline(exc.message)}", icon=":material/error:")
            else:
                st.session_state["eval_hist_imported"] = up.file_id
                st.session_state["eval_hist_base"] = run.id
                st.success(f"Imported {inline(run.title)}.", icon=":material/check:")
