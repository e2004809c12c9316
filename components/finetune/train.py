"""Fine-tune page: what the run would cost elsewhere, the training settings, Train, and the live progress.

The training runs in a separate process (``ragft.training.jobs``); this component only submits, polls the job's
status and loss log from a fragment that reruns every second, and sends Stop.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from components.shared.safe_text import inline
from ragft import errors as E
from ragft.costs.prices import format_usd
from ragft.guide.lifecycle import lifecycle_facts
from ragft.training import estimate, jobs
from ragft.training.config import BOUNDS, TrainConfig, TrainLimits, default_config
from ragft.training.examples import Example
from ragft.training.trainer import TRAIN_COMMAND, training_available
from session import keys

logger = logging.getLogger(__name__)

JOB_KEY = "ft_job"
STATE_LABELS = {
    "queued": "Queued",
    "loading": "Loading the base model",
    "training": "Training",
    "converting": "Converting to GGUF",
    "checking": "Saved · quick check running",
    "done": "Done",
    "failed": "Failed",
    "stopped": "Stopped",
}


def _cost_rows(rows: list[estimate.HostedCost]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "service": r.service or r.provider,
                "hosted base model": r.label or r.base_model,
                "method": r.method,
                "$ per 1M training tokens": str(r.per_m),
                "this run": format_usd(r.cost),
                "tuned model, $ per 1M in / out": (
                    f"{r.tuned_inference.input_per_m} / {r.tuned_inference.output_per_m}" if r.tuned_inference else ""
                ),
                "status": r.status,
                "price read on": r.read_on or r.as_of,
                "source": r.source,
            }
            for r in rows
        ]
    )


def costs(examples: list[Example], tokens: list[int], cfg: TrainConfig, today: date) -> int:
    """Hosted fine-tuning prices (dated table) as of ``today`` next to the local run; returns the training tokens
    counted. Services that ended by ``today`` are listed apart, as history."""
    epochs = st.number_input(
        "Epochs on a hosted service",
        1,
        20,
        3,
        key="ft_cost_epochs",
        help="Hosted services bill training tokens × epochs.",
    )
    hosted_tokens = estimate.hosted_training_tokens(examples)
    rows = estimate.hosted_costs(hosted_tokens, int(epochs), today)
    open_rows = [r for r in rows if not r.ended]
    ended_rows = [r for r in rows if r.ended]
    busy = estimate.busy_factor()
    local_s = estimate.local_seconds(tokens, cfg, busy)
    st.markdown(
        f"**Here:** free, about **{local_s / 60:.1f} minutes** of this CPU "
        f"({cfg.steps} steps, {cfg.epochs(len(examples)):.1f} epochs of {len(examples)} examples)"
        + (f", with the CPU {busy:.1f}× busier than idle right now." if busy > 1.2 else ".")
    )
    remaining = estimate.remaining_services(today)
    st.markdown(
        f"**Elsewhere, as of {today:%Y-%m-%d}:** "
        + (", ".join(remaining) if remaining else "no hosted service with a known price")
        + (f" (plus {len(ended_rows)} ended price row(s) below, as history)." if ended_rows else ".")
    )
    if open_rows:
        st.dataframe(_cost_rows(open_rows), hide_index=True, width="stretch", key="ft_cost_table")
    if ended_rows:
        with st.expander(f"Ended services ({len(ended_rows)} price rows, history)", icon=":material/history:"):
            st.dataframe(_cost_rows(ended_rows), hide_index=True, width="stretch", key="ft_cost_ended")
    st.caption(
        f"{hosted_tokens:,} training tokens × {int(epochs)} epochs. Prices from the dated table "
        f"(compiled {estimate.price_table_date()}). {lifecycle_facts(today)[0]} "
        "The decision guide's projection uses this token count."
    )
    keys.set_training_tokens(hosted_tokens)
    return hosted_tokens


def settings_form(n_examples: int, limits: TrainLimits | None = None) -> TrainConfig:
    """Defaults for the set's size (within the server's step limit); the rest in an 'advanced' expander.
    Raises ConfigError for bad values."""
    limits = limits or TrainLimits()
    base = default_config(max(1, n_examples))
    c1, c2 = st.columns(2)
    steps = c1.number_input(
        "Steps",
        int(BOUNDS["steps"][0]),
        int(BOUNDS["steps"][1]),
        min(base.steps, limits.max_steps),
        key="ft_steps",
        help=f"About 4 epochs by default; the loss curve shows when more stops helping. This server allows "
        f"{limits.describe()}.",
    )
    seed = c2.number_input(
        "Seed",
        0,
        int(BOUNDS["seed"][1]),
        base.seed,
        key="ft_seed",
        help="Same seed, same examples, same settings: the same adapter.",
    )
    values: dict[str, object] = {"steps": steps, "seed": seed}
    with st.expander("Advanced", icon=":material/tune:"):
        a, b, c = st.columns(3)
        values["rank"] = a.number_input("LoRA rank", 1, 64, base.rank, key="ft_rank")
        values["alpha"] = b.number_input("LoRA alpha", 1, 256, base.alpha, key="ft_alpha")
        values["lr"] = c.number_input("Learning rate", 1e-6, 1e-2, base.lr, format="%.5f", key="ft_lr")
        values["batch_size"] = a.number_input("Batch size", 1, 16, base.batch_size, key="ft_batch")
        values["warmup_steps"] = b.number_input("Warm-up steps", 0, 200, base.warmup_steps, key="ft_warmup")
        values["max_len"] = c.number_input("Max tokens per example", 32, 2048, base.max_len, key="ft_max_len")
        values["dropout"] = a.number_input("Dropout", 0.0, 0.5, base.dropout, key="ft_dropout")
        values["targets"] = b.multiselect("LoRA on", list(base.targets), list(base.targets), key="ft_targets")
    return TrainConfig.from_dict(values)


def train_button(
    data_dir: Path, workspace: str, examples: list[Example], cfg: TrainConfig, ready: bool, extra: dict
) -> None:
    ok, why = training_available()
    if not ok:
        st.info(f"{why} Enable training with one command: `{TRAIN_COMMAND}`", icon=":material/download:")
        return
    running = _my_job(data_dir)
    name = st.text_input(
        "Adapter name",
        key="ft_name",
        placeholder="e.g. my-voice",
        help="Lower-case letters, digits and '-'. Saved in your workspace.",
    )
    if st.button(
        "Train",
        type="primary",
        icon=":material/model_training:",
        key="ft_train",
        disabled=not ready or (running is not None and running.active),
    ):
        try:
            job_id = jobs.submit(data_dir, workspace, name, examples, cfg, **extra)
        except E.RagftError as exc:
            st.error(exc.message, icon=":material/error:")
        except OSError as exc:
            logger.exception("could not start the training")
            st.error(f"The training could not be started: {exc.strerror or exc}.", icon=":material/error:")
        else:
            st.session_state[JOB_KEY] = job_id
            st.rerun()


def resume_workspace_job(data_dir: Path, workspace: str) -> None:
    """After a reload (a new browser session on the same ``?ws=``), follow the workspace's running training."""
    if st.session_state.get(JOB_KEY):
        return
    try:
        active = [j for j in jobs.workspace_jobs(data_dir, workspace) if j.active or j.state == "checking"]
    except (E.RagftError, OSError):
        logger.exception("could not list the workspace's training jobs")
        return
    if active:
        st.session_state[JOB_KEY] = active[0].job_id


def _my_job(data_dir: Path) -> jobs.JobStatus | None:
    job_id = st.session_state.get(JOB_KEY)
    if not job_id:
        return None
    try:
        return jobs.status(data_dir, job_id)
    except E.RagftError:
        st.session_state.pop(JOB_KEY, None)
        return None


def loss_figure(rows: list[dict]) -> go.Figure:
    fig = go.Figure()
    fig.add_scatter(x=[r["step"] for r in rows], y=[r["loss"] for r in rows], mode="lines+markers", name="loss")
    fig.update_layout(
        height=260,
        margin=dict(l=10, r=10, t=10, b=10),
        xaxis_title="step",
        yaxis_title="loss (answer tokens)",
        showlegend=False,
    )
    return fig


def rate_and_eta(rows: list[dict], steps: int) -> tuple[float | None, float | None]:
    """(steps per second, seconds left incl. conversion) from the last steps of the loss log."""
    if not rows:
        return None, None
    recent = rows[-10:]
    secs = sum(r.get("seconds", 0) for r in recent)
    rate = len(recent) / secs if secs > 0 else None
    left = (steps - rows[-1]["step"]) / rate + estimate.CONVERT_S if rate else None
    return rate, left


@st.fragment(run_every=1.0)
def progress(data_dir: Path) -> None:
    """Live status of this session's job: state, queue position, loss curve, steps/s, ETA, Stop."""
    job = _my_job(data_dir)
    if job is None:
        return
    if job.state == "queued":
        try:  # the previous training ended: start the next one (also done when its process exits)
            jobs.dispatch(data_dir)
        except OSError:
            logger.exception("could not start the next training")
    label = STATE_LABELS.get(job.state, job.state)
    with st.container(border=True):
        st.markdown(f"**{inline(job.name)}** · {label}")
        if job.state == "queued":
            st.info(
                f"Waiting for the server's trainer: {job.position} training(s) ahead of yours. "
                "One training runs at a time per server.",
                icon=":material/hourglass_top:",
            )
        rows = jobs.loss_log(data_dir, job.job_id)
        if job.steps:
            st.progress(min(1.0, job.step / job.steps), text=f"step {job.step} of {job.steps}")
        rate, left = rate_and_eta(rows, job.steps)
        c1, c2, c3 = st.columns(3)
        c1.metric("Steps/s", f"{rate:.2f}" if rate else "–")
        c2.metric("ETA", f"{left:.0f} s" if left is not None and job.active else "–")
        c3.metric("Last loss", f"{rows[-1]['loss']:.3f}" if rows else "–")
        if rows:
            st.plotly_chart(loss_figure(rows), key=f"ft_loss_{job.job_id}_{len(rows)}")
        if job.state == "failed":
            st.error(job.message, icon=":material/error:")
        elif job.state == "stopped":
            st.warning(job.message, icon=":material/stop_circle:")
        elif job.state in ("checking", "done"):
            st.success(
                f"{job.message} It is listed below and can be used as the fine-tuned model now.",
                icon=":material/check_circle:",
            )
        else:
            st.caption(job.message)
        if job.active and st.button("Stop", icon=":material/stop:", key=f"ft_stop_{job.job_id}"):
            jobs.stop(data_dir, job.job_id)
        if not job.active and job.state != "checking":
            if st.button("Clear", key=f"ft_clear_{job.job_id}", icon=":material/close:"):
                st.session_state.pop(JOB_KEY, None)
                st.rerun(scope="app")
