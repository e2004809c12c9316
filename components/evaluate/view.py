"""Glue between the Evaluate page and the core: question-set choice, starting a run, live progress, results.

Models, retrieval, ledger, budget and price overrides come from :class:`session.wiring.RunWiring` (the
same wiring as the Compare page: one knowledge base, one ledger, one budget per session).
Session keys are prefixed ``eval_``; the finished run's evidence goes to ``session.keys.add_evidence``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import streamlit as st
from streamlit.elements.lib.column_types import ColumnConfig

from components.evaluate import history as eval_history
from components.evaluate import judge as eval_judge
from components.evaluate import paired as eval_paired
from components.evaluate.charts import accuracy_cost_chart
from components.shared.cost_meter import refresh_cost_meter
from components.shared.safe_text import inline, show_answer
from components.shared.sources import render_sources
from ragft import evaluation as EV
from ragft.configs import BY_KEY
from ragft.costs.money import format_usd
from ragft.evaluation.history import describe_settings
from ragft.evaluation.promptfoo import endpoints_for, to_promptfoo_yaml
from ragft.settings import Settings
from session import classroom, config, keys
from session.retrieval import session_retriever
from session.wiring import RunWiring

RUN_KEY = "eval_run"
RESULT_KEY = "eval_result"
EVIDENCE_DONE_KEY = "eval_evidence_done"
ERROR_KEY = "eval_error"


# ---- question sets --------------------------------------------------------------------------------------------
@st.cache_data(show_spinner=False, ttl=3600, max_entries=2)
def shipped_set(which: str = "scenario") -> EV.QuestionSet:
    """A question set shipped with the app: the sample scenario's (facts, voice) or the tickets (JSON format)."""
    return EV.tickets_question_set() if which == "tickets" else EV.default_question_set()


@st.cache_data(show_spinner=False, ttl=3600, max_entries=16)
def uploaded_set(data: bytes, name: str) -> EV.QuestionSet:
    """Parse an uploaded set (raises QuestionSetError; Streamlit does not cache exceptions)."""
    return EV.parse_question_set(data, name)


def preview(qs: EV.QuestionSet) -> None:
    with st.expander(f"The questions ({len(qs)})"):
        st.dataframe(
            [
                {
                    "id": q.id,
                    "question": q.question,
                    "expected facts": " | ".join(q.expected_facts),
                    "source": q.expected_source,
                    "style": q.expected_style,
                }
                for q in qs.questions
            ],
            hide_index=True,
            width="stretch",
        )


# ---- running --------------------------------------------------------------------------------------------------
def start(qs: EV.QuestionSet, keys: list[str], s: Settings) -> EV.EvalRun:
    """Start an evaluation in the background for this session (raises RagftError for bad input)."""
    wiring = RunWiring.build(s, keys, session_retriever, preset=EV.preset_of(qs))
    evaluation = EV.Evaluation.new(qs, wiring.configurations)
    evaluation.settings["knowledge_base"] = wiring.knowledge_base
    evaluation.settings["models"] = dict(wiring.model_labels)
    evaluation.settings["run_settings"] = describe_settings(s)  # what a saved run keeps: no key, no server path
    classroom.check_free(wiring.owner, "evaluation")
    run = EV.start_evaluation(evaluation, **wiring.run_kwargs())
    classroom.track(run)  # its summaries go to the class database when it ends
    st.session_state[RUN_KEY] = run
    st.session_state.pop(ERROR_KEY, None)
    return run


def stop() -> None:
    run = st.session_state.get(RUN_KEY)
    if run is not None:
        run.cancel()


def follow(run: EV.EvalRun) -> None:
    """Progress bar and Stop button until the run is done; then keep the result and hand over the evidence."""
    ev = run.evaluation
    total = max(1, ev.total_steps)
    stopping = run.cancelled
    st.button("Stop", icon=":material/stop_circle:", on_click=stop, key="eval_stop", disabled=stopping)
    bar = st.progress(0.0, text="Starting…")
    n = len(ev.question_set)
    for event in run.events(poll_s=0.25):
        # Redraw on every tick: it shows the run is alive, and lets a click on Stop interrupt this loop at once.
        last = event.data if event.kind == EV.PROGRESS else run.last
        waited = f" · {(datetime.now(tz=UTC) - ev.created).total_seconds():.0f} s"
        if run.cancelled:
            bar.progress(
                0.0 if last is None else min(1.0, last.done / total),
                text="Stopping: the question in flight is cut short and left out…" + waited,
            )
        elif last is None:
            bar.progress(0.0, text=f"Answering question 1 of {n}…" + waited)
        else:
            q = ev.question_set.questions[last.question_index - 1]
            bar.progress(
                min(1.0, last.done / total),
                text=f"{last.done}/{total} answers scored · question {last.question_index} of {n}: "
                f"{BY_KEY[last.record.configuration].label} on “{inline(q.question[:60])}”" + waited,
            )
        refresh_cost_meter()
    finish(run)


def finish(run: EV.EvalRun) -> None:
    st.session_state.pop(RUN_KEY, None)
    if run.error:
        st.session_state[ERROR_KEY] = run.error
    ev = run.evaluation
    if not ev.records:
        return
    st.session_state[RESULT_KEY] = ev
    eval_history.save(ev)
    done: set = st.session_state.setdefault(EVIDENCE_DONE_KEY, set())
    if ev.id not in done:
        done.add(ev.id)
        keys.add_evidence(EV.evidence_rows(ev))


# ---- results --------------------------------------------------------------------------------------------------
def _pct(x: float | None) -> float | None:
    return None if x is None else round(x * 100, 1)


def _money(s: EV.ConfigSummary, value: Any) -> str:
    if value is None:
        return "unknown price"
    if s.local and not value:
        return "$0 · local"
    return format_usd(value)


def failures(ev: EV.Evaluation) -> None:
    """One line per configuration that never answered (a missing adapter, a dead endpoint...)."""
    for s in ev.summaries():
        if s.questions and s.errors == s.questions:
            first = next(r.error for r in ev.records if r.configuration == s.configuration and r.error)
            st.warning(f"**{s.label}** did not answer any question: {inline(first)}", icon=":material/warning:")


def _band(s: EV.ConfigSummary, name: str) -> str | None:
    """The 95% interval of a rate as text ("63–90%"), None without data."""
    iv = s.interval(name)
    if not iv.known:
        return None
    return f"{iv.low * 100:.0f}–{iv.high * 100:.0f}%"  # type: ignore[operator]


def _ms_band(s: EV.ConfigSummary, name: str) -> str | None:
    iv = s.interval(name)
    return None if not iv.known else f"{iv.low * 1000:,.0f}–{iv.high * 1000:,.0f}"  # type: ignore[operator]


def summary_table(ev: EV.Evaluation) -> None:
    summaries = ev.summaries()
    judged = any(s.faithfulness is not None for s in summaries)
    rows = []
    for s in summaries:
        row = {
            "Configuration": s.label,
            "Fact accuracy": _pct(s.fact_accuracy),
            "± facts": _band(s, "fact_accuracy"),
            "Style adherence": _pct(s.style_adherence),
            "± style": _band(s, "style_adherence"),
            "hit@k": _pct(s.hit_at_k),
            "± hit@k": _band(s, "hit_at_k"),
            "page hit@k": _pct(s.page_hit_at_k),
            "Stale answers": _pct(s.stale_rate),
            "± stale": _band(s, "stale_rate"),
            "Grounded": _pct(s.groundedness),
            "± grounded": _band(s, "groundedness"),
        }
        if judged:
            row.update({"Faithfulness (judge)": _pct(s.faithfulness), "± judge": _band(s, "faithfulness")})
        row.update(
            {
                "Questions": s.questions,
                "Errors": s.errors,
                "ms/question": None if s.mean_total_s is None else round(s.mean_total_s * 1000),
                "± ms": _ms_band(s, "mean_total_s"),
                "First token (ms)": None if s.mean_ttft_s is None else round(s.mean_ttft_s * 1000),
                "Tokens/question": round(s.tokens_per_question),
                "Cost/question": _money(s, s.cost_per_question),
                "Total cost": _money(s, s.total_cost),
            }
        )
        rows.append(row)

    def pct(label: str, help: str) -> ColumnConfig:
        return st.column_config.ProgressColumn(label, min_value=0, max_value=100, format="%.0f%%", help=help)

    ci = "95% interval: the range the true rate plausibly lies in, given this many questions"
    st.dataframe(
        rows,
        hide_index=True,
        width="stretch",
        key="eval_table",
        column_config={
            "Fact accuracy": pct("Fact accuracy", "Share of expected facts stated (normalised)"),
            "Style adherence": pct("Style adherence", "Answers in the trained brand voice"),
            "hit@k": st.column_config.NumberColumn(
                "hit@k", format="%.0f%%", help="Expected source among the retrieved chunks (RAG only)"
            ),
            "page hit@k": st.column_config.NumberColumn(
                "page hit@k", format="%.0f%%", help="Expected source AND page retrieved (the right product's page)"
            ),
            "Stale answers": st.column_config.NumberColumn(
                "Stale answers", format="%.0f%%", help="Answers stating last season's value (a stale fine-tune)"
            ),
            "Grounded": st.column_config.NumberColumn(
                "Grounded",
                format="%.0f%%",
                help="RAG answers: share of the figures and names an answer states that "
                "appear in its retrieved context (an offline check)",
            ),
            "Faithfulness (judge)": st.column_config.NumberColumn(
                "Faithfulness (judge)",
                format="%.0f%%",
                help="The LLM judge: share of the answer's claims the retrieved context supports",
            ),
            **{
                k: st.column_config.TextColumn(k, help=ci)
                for k in ("± facts", "± style", "± hit@k", "± stale", "± grounded", "± judge")
            },
            "± ms": st.column_config.TextColumn("± ms", help="95% bootstrap interval of the mean latency"),
        },
    )
    n = max((s.questions for s in summaries), default=0)
    if n:
        st.caption(
            f"± columns: 95% intervals (Wilson for rates, a seeded bootstrap for means). With {n} questions "
            f"a rate is only known to within about ±{_half_width(n):.0f} points: two configurations whose "
            "intervals overlap may not really differ — the paired comparison below tells."
        )


def _half_width(n: int) -> float:
    iv = EV.wilson(n // 2, n)
    return ((iv.high or 0) - (iv.low or 0)) * 50


def chart(ev: EV.Evaluation) -> None:
    summaries = [s for s in ev.summaries() if s.questions > s.errors]  # a configuration that never answered
    if not summaries:  # has no cost to plot
        return
    measure = "tokens"
    st.session_state.setdefault("eval_axis", "tokens")
    if not EV.is_paid(summaries):
        measure = (
            st.segmented_control(
                "Cost axis",
                ["tokens", "seconds"],
                key="eval_axis",
                required=True,
                format_func=lambda v: "Tokens/question" if v == "tokens" else "Compute seconds/question",
            )
            or "tokens"
        )
    axis = EV.cost_axis(summaries, measure)
    st.plotly_chart(accuracy_cost_chart(summaries, axis), key="eval_chart")
    if axis.note:
        st.caption(axis.note)


def downloads(ev: EV.Evaluation) -> None:
    with st.container(horizontal=True):
        st.download_button(
            "Results as CSV",
            EV.to_csv(ev),
            f"evaluation-{ev.id}.csv",
            "text/csv",
            key="eval_dl_csv",
            icon=":material/download:",
            on_click="ignore",
        )
        st.download_button(
            "Results as JSON",
            EV.to_json(ev),
            f"evaluation-{ev.id}.json",
            "application/json",
            key="eval_dl_json",
            icon=":material/data_object:",
            help="The whole run (settings, figures with 95% intervals, every answer): import it "
            "again under Runs over time",
            on_click="ignore",
        )
        st.download_button(
            "promptfoo configuration (YAML)",
            to_promptfoo_yaml(ev, endpoints_for(ev, config.settings())),
            f"promptfoo-{ev.id}.yaml",
            "application/yaml",
            key="eval_dl_promptfoo",
            icon=":material/integration_instructions:",
            help="The questions, the exact prompts (retrieved context included), the configurations as providers "
            "and the app's scorers as assertions: run it with `npx promptfoo eval -c promptfoo-….yaml`",
            on_click="ignore",
        )
        st.download_button(
            "Summary with 95% intervals (CSV)",
            EV.summary_csv(ev),
            f"evaluation-{ev.id}-summary.csv",
            "text/csv",
            key="eval_dl_summary",
            icon=":material/table:",
            on_click="ignore",
        )


def drill_down(ev: EV.Evaluation) -> None:
    questions = ev.answered_questions()
    if not questions:
        return
    ids = [q.id for q in questions]
    if st.session_state.get("eval_pick") not in ids:
        st.session_state["eval_pick"] = ids[0]
    by_id = {q.id: q for q in questions}
    qid = st.selectbox("Question", ids, key="eval_pick", format_func=lambda i: f"{i} · {by_id[i].question[:90]}")
    q = by_id[qid]
    st.caption(
        "Expected: "
        + " · ".join(f"**{inline(f)}**" for f in q.expected_facts)
        + (f" · from **{inline(q.expected_source)}**" if q.expected_source else "")
        + (f" · last season: {inline(', '.join(q.stale_facts))}" if q.stale_facts else "")
    )
    records = ev.records_for(qid)
    for col, rec in zip(st.columns(len(records)), records, strict=True):
        with col, st.container(border=True):
            st.markdown(f"**{inline(rec.label)}**")
            if rec.error:
                st.error(inline(rec.error))
                continue
            if (rec.answer or "").strip():
                show_answer(rec.answer)
            else:
                st.caption("(empty answer)")
            found = inline(", ".join(rec.facts_found)) or "none"
            missing = inline(", ".join(rec.facts_missing)) or "none"
            st.markdown(f":green[facts found: {found}]  \n:red[missing: {missing}]")
            if rec.stale_found:
                st.markdown(":orange[stale: says " + inline(", ".join(rec.stale_found)) + " (last season)]")
            if rec.style_applicable:
                if rec.style_ok:
                    st.markdown(":green[style: in the brand voice]")
                else:
                    st.markdown(":red[style: off]  \n" + "  \n".join(f"- {inline(r)}" for r in rec.style_reasons))
            eval_judge.show_record(rec)
            if rec.rag:
                hit = {True: "hit", False: "miss", None: "—"}[rec.hit]
                if rec.page_hit is not None:
                    hit += " · right page" if rec.page_hit else " · wrong page"
                with st.expander(f"Sources ({len(rec.sources)}) · {hit}"):
                    render_sources(list(rec.sources), max_chars=300)
            cost = "$0 · local" if rec.local and rec.cost == 0 else format_usd(rec.cost, unknown="unknown price")
            st.caption(
                f"first token {_s(rec.ttft_s)} · total {_s(rec.total_s)} · "
                f"{rec.prompt_tokens or 0} in / {rec.completion_tokens or 0} out · {cost}".replace("$", "\\$")
            )


def _s(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f} s"


def fields_section(ev: EV.Evaluation) -> None:
    """Classification: accuracy per labelled field (95% Wilson) and the confusion table of one field."""
    names = EV.field_names(ev.records)
    if not names:
        return
    st.subheader("Labels (classification)")
    rows = []
    for k in ev.configurations:
        row: dict[str, object] = {"configuration": BY_KEY[k].label}
        for name in names:
            acc = EV.field_accuracy(ev.records, k, name)
            row[name] = f"{acc.correct}/{acc.n} = {acc.interval.pct()}" if acc.n else "—"
        valid = EV.json_validity(ev.records, k)
        row["valid JSON"] = f"{valid.correct}/{valid.n} = {valid.interval.pct()}" if valid.n else "—"
        rows.append(row)
    st.dataframe(rows, hide_index=True, width="stretch")
    st.caption("Each answer's JSON field against the ticket's label, with its 95% Wilson interval.")
    c1, c2 = st.columns(2)
    field = c1.selectbox("Confusion table of", names, key="eval_confusion_field")
    key = c2.selectbox(
        "Configuration", list(ev.configurations), key="eval_confusion_config", format_func=lambda k: BY_KEY[k].label
    )
    table = EV.confusion(ev.records, key, field or names[0])
    st.dataframe(table.rows(), hide_index=True, width="stretch")
    st.caption(
        f"Rows: the label; columns: what {inline(BY_KEY[key].label)} answered ({table.correct}/{table.total} on the "
        "diagonal). “(not JSON)” is an answer that is not one JSON object."
    )


def results(ev: EV.Evaluation) -> None:
    status = (
        f"stopped after {ev.questions_done} of {len(ev.question_set)} questions"
        if ev.stopped
        else f"{ev.questions_done} questions"
    )
    st.subheader("Results")
    st.caption(
        f"{inline(ev.question_set.name)} · {status} · {len(ev.configurations)} configuration(s) · "
        f"{ev.wall_s:.0f} s wall time"
        + (f" · knowledge base: {inline(ev.settings['knowledge_base'])}" if ev.settings.get("knowledge_base") else "")
    )
    failures(ev)
    summary_table(ev)
    fields_section(ev)
    chart(ev)
    downloads(ev)
    eval_judge.section(ev, config.settings(), on_judged=lambda e: eval_history.save(e, again=True))
    eval_paired.configurations_section(ev)
    st.subheader("Per question")
    drill_down(ev)
