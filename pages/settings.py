"""Settings: endpoints and models per slot, embeddings, generation defaults, test connection."""

from __future__ import annotations

import logging

import streamlit as st

from components.costs.price_overrides import price_override_editor
from components.settings import form as F
from components.shared.safe_text import inline
from components.shared.shell import page_shell
from ragft import errors as E
from ragft import settings_input as SI
from ragft.access import SERVER_ONLY
from ragft.settings import Settings, bound, int_bound
from session import config, models

logger = logging.getLogger(__name__)

page_shell(__file__)

st.title("Settings")
st.caption(
    "Choose what answers in each slot: the embedded offline model (no key), OpenAI, Azure OpenAI, Ollama, "
    "vLLM, LM Studio, a llama.cpp server or any OpenAI-compatible URL. Changes apply to this browser "
    "session only; API keys typed here are never saved."
)


if config.policy().mode == SERVER_ONLY:
    st.info(
        "This event uses the server's models: you can pick among them, but not point a slot elsewhere.",
        icon=":material/lock:",
    )

try:
    policy = config.policy()
    server = policy.participant_settings()
    current = config.settings()
except E.RagftError as exc:
    st.error(f"The server configuration has an error: {inline(exc.message)}")
    st.stop()

F.init_endpoint_state("base", current.base)
F.init_endpoint_state("finetuned", current.finetuned)
F.init_embedding_state(current.embedding)
for name in ("temperature", "max_tokens", "top_k", "score_threshold", "system_prompt"):
    st.session_state.setdefault(f"set_gen_{name}", getattr(current, name))


def _reset() -> None:
    for key in [k for k in st.session_state if str(k).startswith("set_")]:
        del st.session_state[key]
    config.set_settings(config.default_settings())
    st.session_state["set_notice"] = "Back to the server defaults."


def _form_values() -> dict:
    return {
        "base": {n: st.session_state.get(f"set_base_{n}") for n in SI.values_from_endpoint(current.base)},
        "finetuned": {n: st.session_state.get(f"set_finetuned_{n}") for n in SI.values_from_endpoint(current.base)},
        "embedding": {
            n: st.session_state.get(f"set_emb_{n}") for n in ("provider", "model", "base_url", "api_key", "api_version")
        },
        "generation": {
            n: st.session_state.get(f"set_gen_{n}")
            for n in ("temperature", "max_tokens", "top_k", "score_threshold", "system_prompt")
        },
    }


def _test(slot: str, s: Settings) -> None:
    try:
        with st.spinner("Testing…"):
            msg = models.chat_model(slot, s=s).check()
    except E.RagftError as exc:
        st.error(f"**{type(exc).__name__}** · {inline(exc.message)}", icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - an unexpected library error: report, never crash the page
        logger.exception("test connection of the %s slot failed unexpectedly", slot)
        st.error(f"Unexpected error: {type(exc).__name__}: {inline(exc)}", icon=":material/error:")
    else:
        st.success(inline(msg), icon=":material/check_circle:")


notice = st.session_state.pop("set_notice", None)
if notice:
    st.success(notice, icon=":material/check_circle:")

cols = st.columns(2)
for col, (slot, title) in zip(cols, SI.SLOTS.items()):
    with col, st.container(border=True):
        st.subheader(title)
        F.endpoint_editor(slot, policy)
        if st.button("Test connection", key=f"set_test_{slot}", icon=":material/network_check:"):
            try:
                tentative = SI.build_settings(current, _form_values(), policy)
            except E.RagftError as exc:
                st.error(inline(exc.message), icon=":material/error:")
            else:
                _test(slot, tentative)

c1, c2 = st.columns(2)
with c1, st.container(border=True):
    st.subheader("Embeddings")
    F.embedding_editor(policy)
with c2, st.container(border=True):
    st.subheader("Generation and retrieval")
    a, b = st.columns(2)
    a.slider("Temperature", *bound("temperature"), step=0.1, key="set_gen_temperature")
    b.number_input("Max tokens per answer", *int_bound("max_tokens"), step=16, key="set_gen_max_tokens")
    a.number_input(
        "Top-k chunks",
        *int_bound("top_k"),
        step=1,
        key="set_gen_top_k",
        help="The small embedded model is easily led astray by extra chunks: keep this small.",
    )
    b.slider(
        "Score threshold",
        *bound("score_threshold"),
        step=0.05,
        key="set_gen_score_threshold",
        help="Chunks scoring below this are not given to the model.",
    )
    st.text_area(
        "System prompt",
        key="set_gen_system_prompt",
        height=80,
        help="The fine-tuned adapter was trained with the default prompt; changing it is an experiment.",
    )

c1, c2, _ = st.columns([1, 1, 3])
if c1.button("Apply", type="primary", icon=":material/save:", key="set_apply"):
    try:
        new = SI.build_settings(current, _form_values(), policy)
    except E.RagftError as exc:
        st.error(inline(exc.message), icon=":material/error:")
    else:
        config.set_settings(new)
        st.session_state["set_notice"] = "Settings applied to this session."
        st.rerun()
c2.button("Reset to server defaults", on_click=_reset, key="set_reset", icon=":material/restart_alt:")

with st.expander("Prices (overrides for this session)", icon=":material/sell:"):
    st.caption(
        "Your overrides price only the calls you pay for (your own key, or an endpoint you chose). Calls on "
        "the server's key are priced by the server's table and the facilitator's overrides."
    )
    price_override_editor(key="set_prices")

with st.expander("Server defaults (from environment variables and secrets)", icon=":material/dns:"):
    st.markdown(
        f"- **Base:** {F.describe_endpoint(server.base)}\n"
        f"- **Fine-tuned:** {F.describe_endpoint(server.finetuned)}\n"
        f"- **Embeddings:** `{server.embedding.provider}:{server.embedding.model}`\n"
        f"- **Generation:** temperature {server.temperature:g}, max tokens {server.max_tokens}, "
        f"top-k {server.top_k}, score threshold {server.score_threshold:g}\n"
        f"- **Budget caps:** session {server.participant_budget_usd if server.participant_budget_usd is not None else 'none'}"
        f", app {server.app_budget_usd if server.app_budget_usd is not None else 'none'}"
    )
    st.caption(
        "A facilitator pre-configures an event with `RAGFT_BASE_PROVIDER`, `RAGFT_BASE_MODEL`, `RAGFT_BASE_URL`, "
        "`RAGFT_FT_*`, `OPENAI_API_KEY`, ... in the environment or `.streamlit/secrets.toml` (see the README)."
    )
st.caption(
    f"In use now: base {F.describe_endpoint(current.base)} · fine-tuned {F.describe_endpoint(current.finetuned)}"
)
