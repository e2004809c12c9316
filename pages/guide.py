"""Decision guide: answer a few questions → recommendation, why, needs and risks, cost, evidence, export.

Thin page: the rules, texts and numbers come from ``ragft.guide`` (and ``ragft.costs.projection``), the charts
from ``components.guide.charts``, the cost section from ``components.guide.costs``. Page-local state keys start
with ``guide_``; the shared evidence (``session.keys.EVIDENCE``) is filled by the Compare and Evaluate pages.
"""

from __future__ import annotations

import logging

import streamlit as st

import ragft.guide as G
from components.guide import charts as guide_charts
from components.guide import costs as guide_costs
from components.shared.shell import page_shell
from ragft.configs import APPROACH_CONFIG, APPROACH_LABELS, BY_KEY
from ragft.costs.money import format_usd
from ragft.errors import RagftError
from session import config, keys

logger = logging.getLogger(__name__)

page_shell(__file__)

# ---- state ---------------------------------------------------------------------------------------------
for _f in G.FACTORS:
    st.session_state.setdefault(f"guide_q_{_f.key}", G.UNKNOWN)
    if st.session_state[f"guide_q_{_f.key}"] not in _f.values:  # e.g. an option renamed since
        st.session_state[f"guide_q_{_f.key}"] = G.UNKNOWN
st.session_state.setdefault("guide_today", config.today_or_stop())


def _load_preset(key: str) -> None:
    for name, value in G.PRESET_BY_KEY[key].answers.as_dict().items():
        st.session_state[f"guide_q_{name}"] = value
    st.session_state["guide_preset_loaded"] = key


def _clear() -> None:
    for f in G.FACTORS:
        st.session_state[f"guide_q_{f.key}"] = G.UNKNOWN
    st.session_state["guide_preset_loaded"] = None


texts = G.load_all_guide_texts(strict=False)


def _topic(key: str) -> G.GuideText | None:
    return texts.topics.get(key)


def _explain(key: str, label: str = "More about this") -> None:
    """The summary of a topic file as a caption, the rest in an expander."""
    t = _topic(key)
    if t is None:
        return
    st.caption(t.summary)
    rest = t.intro[len(t.summary) :].strip()
    if rest:
        with st.expander(label, icon=":material/school:"):
            st.markdown(rest)


# ---- header ----------------------------------------------------------------------------------------------
st.title("Decision guide")
intro = _topic("intro")
if intro is not None:
    st.markdown(intro.summary)
    with st.expander("The idea behind the rules", icon=":material/lightbulb:"):
        st.markdown(intro.intro[len(intro.summary) :].strip())
if texts.problem:
    st.warning(texts.problem, icon=":material/warning:")

st.markdown("**Start from an example** (then change any answer):")
cols = st.columns(len(G.PRESETS) + 1)
for col, preset in zip(cols, G.PRESETS, strict=False):
    col.button(
        preset.label,
        key=f"guide_preset_{preset.key}",
        on_click=_load_preset,
        args=(preset.key,),
        help=preset.story,
        width="stretch",
    )
cols[-1].button("Clear answers", key="guide_clear", on_click=_clear, icon=":material/restart_alt:", width="stretch")
loaded = st.session_state.get("guide_preset_loaded")
if loaded in G.PRESET_BY_KEY:
    st.caption(f"Example loaded: *{G.PRESET_BY_KEY[loaded].story}*")

left, right = st.columns([2, 3], gap="large")

# ---- questionnaire -----------------------------------------------------------------------------------------
with left:
    st.subheader("Your case")
    for group, group_label in G.GROUP_LABELS.items():
        with st.container(border=True):
            st.markdown(f"**{group_label}**")
            group_factors = [f for f in G.FACTORS if f.group == group]
            for f in group_factors:
                ft = texts.factors.get(f.key)
                value = st.selectbox(
                    f.label,
                    f.values,
                    format_func=f.option_label,
                    key=f"guide_q_{f.key}",
                    help=ft.summary if ft else None,
                )
                note = ft.section(value) if ft and value != G.UNKNOWN else ""
                if note:
                    st.caption(note)
            with st.expander("Why these questions matter", icon=":material/school:"):
                for f in group_factors:
                    ft = texts.factors.get(f.key)
                    if ft:
                        st.markdown(f"**{ft.title or f.label}**\n\n{ft.intro}")

    with st.expander("Date for the lifecycle facts", icon=":material/event:"):
        st.date_input(
            "Today is",
            key="guide_today",
            help="Vendor deadlines depend on the date: change it to see the advice in the future.",
        )

# ---- results -----------------------------------------------------------------------------------------------
answers_raw = {f.key: st.session_state.get(f"guide_q_{f.key}", G.UNKNOWN) for f in G.FACTORS}
today = st.session_state.get("guide_today") or config.today_or_stop()
try:
    answers = G.Answers.from_mapping(answers_raw)
except RagftError as exc:
    logger.exception("guide answers in the session are invalid")
    st.error(exc.message)
    answers = G.Answers()
rec = G.recommend(answers, today)

with right:
    # 1. the recommendation
    st.subheader(f"Recommendation: {rec.label}")
    badge = {"high": ":green-badge", "medium": ":orange-badge", "low": ":gray-badge"}[rec.confidence]
    st.markdown(f"{badge}[{rec.confidence} confidence] :gray-badge[{rec.answered} of {len(G.FACTORS)} answered]")
    st.success(rec.summary(), icon=":material/recommend:")
    approach_text = texts.approaches.get(rec.best)
    if approach_text is not None:
        st.markdown(approach_text.summary)
    if rec.conflicts:
        st.warning("**Check these answers:**\n\n" + "\n".join(f"- {c}" for c in rec.conflicts), icon=":material/help:")

    c1, c2 = st.columns(2)
    with c1:
        st.markdown("**Score per option**")
        st.plotly_chart(guide_charts.score_chart(rec), key="guide_chart_scores", config={"displayModeBar": False})
        _explain("scores", "How the scores work")
    with c2:
        st.markdown("**Know versus act**")
        st.plotly_chart(
            guide_charts.quadrant_chart(rec.position, rec.best),
            key="guide_chart_quadrant",
            config={"displayModeBar": False},
        )
        _explain("quadrant", "How to read the quadrant")

    # 2. why
    st.subheader(f"Why {rec.label}")
    why = rec.why()
    if why:
        st.markdown("\n".join(f"- {r.text} `{r.delta(rec.best):+d}`" for r in why[:5]))
        if len(why) > 5:
            with st.expander(f"{len(why) - 5} more reason(s) for it", icon=":material/add:"):
                st.markdown("\n".join(f"- {r.text} `{r.delta(rec.best):+d}`" for r in why[5:]))
    else:
        st.markdown("No answer favours another option more: the simplest option wins.")
    against = rec.assessments[rec.best].reasons_against
    if against:
        st.markdown("**Against it:**\n" + "\n".join(f"- {r.text} `{r.delta(rec.best):+d}`" for r in against))
    why_not = rec.why_not(rec.runner_up)
    with st.expander(f"Why not {APPROACH_LABELS[rec.runner_up]} (the runner-up)?", icon=":material/compare_arrows:"):
        if why_not:
            st.markdown("\n".join(f"- {r.text}" for r in why_not))
        else:
            st.markdown(f"It scores the same; {rec.label} wins as the simpler option.")

    # needs, risks, learn
    st.subheader("What each option needs and risks")
    tabs = st.tabs([APPROACH_LABELS[k] + (" ★" if k == rec.best else "") for k in rec.ranking])
    for tab, k in zip(tabs, rec.ranking, strict=True):
        a = rec.assessments[k]
        with tab:
            n1, n2 = st.columns(2)
            with n1:
                st.markdown("**Data**\n" + "\n".join(f"- {x}" for x in a.needs.data))
                st.markdown("**Skills**\n" + "\n".join(f"- {x}" for x in a.needs.skills))
            with n2:
                st.markdown("**Infrastructure**\n" + "\n".join(f"- {x}" for x in a.needs.infrastructure))
                st.markdown("**Risks**\n" + "\n".join(f"- {x}" for x in a.risks))
            at = texts.approaches.get(k)
            if at is not None and (at.section("learn") or at.section("try it here")):
                with st.expander(f"Learn: {at.title or APPROACH_LABELS[k]}", icon=":material/school:"):
                    st.markdown(at.intro)
                    st.markdown(at.section("learn"))
                    if at.section("try it here"):
                        st.info(at.section("try it here"), icon=":material/science:")

    lifecycle_relevant = rec.best in ("finetuning", "hybrid") or answers.lifecycle != G.UNKNOWN
    with st.expander(
        "Model lifecycle: a fine-tune dies with its base model",
        expanded=lifecycle_relevant,
        icon=":material/hourglass_bottom:",
    ):
        st.markdown("\n".join(f"- {t}" for t in rec.lifecycle))
        lt = _topic("lifecycle")
        if lt is not None:
            st.caption(lt.intro)

    # 3. costs
    st.subheader("What it costs per month")
    costs_for_export = None
    cost_note = ""
    try:
        inputs = G.projection_inputs_from(answers, today)
        costs_for_export, cost_note = guide_costs.render(answers, rec, inputs)
    except RagftError as exc:
        logger.exception("guide cost projection failed")
        cost_note = exc.message
        st.info(cost_note, icon=":material/info:")
    _explain("costs", "What the projection counts")

    # 4. evidence
    st.subheader("Evidence from your runs")
    try:
        evidence = G.summarize_evidence(keys.evidence())
    except RagftError as exc:
        logger.exception("guide evidence in the session is malformed")
        st.warning(exc.message)
        evidence = G.summarize_evidence([])
    ev_text = _topic("evidence")
    if evidence.empty:
        st.info(
            ev_text.section("none") if ev_text else "No runs yet: use the Compare or Evaluate page.",
            icon=":material/science:",
        )
    else:
        if ev_text is not None:
            st.caption(ev_text.summary)
        for s in evidence.sentences:
            st.markdown(f"- {s}")
        mine = APPROACH_CONFIG[rec.best]
        rows = [
            {
                "Configuration": ev.label + (" ★" if ev.configuration == mine else ""),
                "Runs": ev.n,
                "Fact accuracy": f"{ev.fact:.0%}" if ev.fact is not None else "–",
                "Style": f"{ev.style:.0%}" if ev.style is not None else "–",
                "Cost per question": format_usd(ev.cost_usd, unknown="–"),
            }
            for ev in evidence.by_config.values()
        ]
        st.dataframe(rows, hide_index=True, key="guide_evidence_table")
        st.caption(
            f"★ {BY_KEY[mine].label} is how the Compare page demonstrates {rec.label}. "
            f"Sources: {', '.join(evidence.sources) or 'unknown'}."
            + (f" {evidence.n_skipped} malformed record(s) left out." if evidence.n_skipped else "")
        )
        if ev_text is not None and ev_text.intro != ev_text.summary:
            with st.expander("How to read your evidence", icon=":material/school:"):
                st.markdown(ev_text.intro[len(ev_text.summary) :].strip())

    # 5. export
    st.divider()
    report = G.to_markdown(answers, rec, evidence, costs_for_export, cost_note)
    st.download_button(
        "Download this recommendation (Markdown)",
        data=report,
        file_name=f"decision-guide-{rec.best}.md",
        mime="text/markdown",
        key="guide_download",
        icon=":material/download:",
        on_click="ignore",
    )
    with st.expander("Preview the export", icon=":material/description:"):
        st.code(report, language="markdown")
