"""Upload → index, with per-file progress, a report per file, and a password field for encrypted PDFs.

``render_uploader(kb, chunk_tokens=..., overlap=...)`` draws the drop zone and the "Index" button, runs the
ingest in the script thread (so progress bars move as pages are parsed and chunks embedded) with the session's
ledger, budget and price overrides (the core's ingest reserves, records and settles each file's embedding; a
refused file is its report's error), and keeps the reports in ``st.session_state["kb_reports"]`` so
they survive the rerun that refreshes the documents table. Encrypted PDFs wait in ``kb_locked`` until a
password is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from components.shared.safe_text import inline
from ragft.costs.prices import format_usd
from ragft.knowledge.base import KnowledgeBase
from ragft.knowledge.documents import FORMATS_TEXT, UPLOAD_TYPES
from ragft.knowledge.ingest import FileReport
from session import prices, spend

REPORTS_KEY = "kb_reports"
LOCKED_KEY = "kb_locked"  # {file name: bytes} of encrypted PDFs waiting for a password
GEN_KEY = "kb_uploader_gen"  # bumping it gives a fresh (empty) uploader after indexing

_STAGE_SPAN = {
    "checking": (0.0, 0.02),
    "reading": (0.02, 0.3),
    "chunking": (0.3, 0.35),
    "embedding": (0.35, 0.9),
    "storing": (0.9, 1.0),
    "done": (1.0, 1.0),
    "error": (1.0, 1.0),
    "ocr": (0.02, 0.3),
}
_STAGE_TEXT = {
    "checking": "checking",
    "reading": "reading page {done}/{total}",
    "chunking": "chunking",
    "embedding": "embedding chunk {done}/{total}",
    "storing": "storing {done}/{total}",
    "done": "done",
    "error": "failed",
    "ocr": "OCR of page {done}/{total} (no text layer)",
}


def _init() -> None:
    st.session_state.setdefault(REPORTS_KEY, [])
    st.session_state.setdefault(LOCKED_KEY, {})
    st.session_state.setdefault(GEN_KEY, 0)


def ingest_with_progress(
    kb: KnowledgeBase,
    files: list[tuple[str, bytes]],
    *,
    chunk_tokens: int,
    overlap: int,
    password: dict[str, str] | None = None,
) -> list[FileReport]:
    """Run the ingest with one progress bar per file inside a status box."""
    label = f"Indexing {len(files)} file{'s' if len(files) != 1 else ''}…"
    with st.status(label, expanded=True) as box:
        bars: dict[str, DeltaGenerator] = {}
        for name, _ in files:
            bars.setdefault(name, st.progress(0.0, text=f"{inline(name)}: waiting"))

        def progress(name: str, stage: str, done: int, total: int) -> None:
            lo, hi = _STAGE_SPAN.get(stage, (0.0, 1.0))
            frac = lo + (hi - lo) * (done / total if total else 1.0)
            text = _STAGE_TEXT.get(stage, stage).format(done=done, total=total)
            bars[name].progress(min(1.0, max(0.0, frac)), text=f"{inline(name)}: {text}")

        reports = kb.ingest_files(
            files,
            chunk_tokens=chunk_tokens,
            overlap=overlap,
            password=password,
            progress=progress,
            ledger=spend.get_ledger(),
            budget=spend.get_budget(),
            price_overrides=prices.price_overrides(),
        )
        ok = sum(r.ok for r in reports)
        bad = sum(r.status in ("error", "needs_password") for r in reports)
        state: Literal["complete", "error"] = "error" if bad and not ok else "complete"
        box.update(
            label=f"Indexed {ok} of {len(files)} file{'s' if len(files) != 1 else ''}", state=state, expanded=bool(bad)
        )
    return reports


def cost_text(cost) -> str:
    if cost is None:
        return "embedding price unknown"
    if cost == 0:
        return "free (local model)"
    return format_usd(cost)


def render_reports(reports: Sequence[FileReport]) -> None:
    for r in reports:
        if r.status == "ok":
            st.success(
                inline(f"{r.message} Embedded in {r.embed_seconds:.2f} s, {cost_text(r.embed_cost)}."),
                icon=":material/check_circle:",
            )
        elif r.status == "duplicate":
            st.info(inline(r.message), icon=":material/content_copy:")
        elif r.status == "needs_password":
            st.warning(inline(r.message), icon=":material/lock:")
        else:
            st.error(inline(r.message), icon=":material/error:")
        for w in r.warnings:
            st.warning(inline(w), icon=":material/warning:")


def _locked_files(kb: KnowledgeBase, chunk_tokens: int, overlap: int) -> None:
    locked: dict[str, bytes] = st.session_state[LOCKED_KEY]
    for i, name in enumerate(sorted(locked)):
        with st.container(border=True):
            st.markdown(f":material/lock: **{inline(name)}** is encrypted.")
            pw = st.text_input(
                "Password",
                type="password",
                key=f"kb_pw_{i}_{name}",
                help="Used once to open the file; it is not stored.",
            )
            c1, c2 = st.columns(2)
            if c1.button("Unlock and index", key=f"kb_unlock_{i}_{name}", type="primary", disabled=not pw):
                (r,) = ingest_with_progress(
                    kb, [(name, locked[name])], chunk_tokens=chunk_tokens, overlap=overlap, password={name: pw}
                )
                if r.status != "needs_password":
                    locked.pop(name, None)
                st.session_state[REPORTS_KEY] = [r]
                st.rerun()
            if c2.button("Forget this file", key=f"kb_forget_{i}_{name}"):
                locked.pop(name, None)
                st.rerun()


def render_uploader(kb: KnowledgeBase, *, chunk_tokens: int, overlap: int) -> list[FileReport]:
    """Draw the uploader; returns the reports of the last indexing (also kept in session state)."""
    _init()
    lim = kb.limits
    # no `type=` filter: Streamlit would refuse other files silently-ish; our loader names the problem per file
    files = st.file_uploader(
        "Add documents (" + ", ".join(t.upper() for t in UPLOAD_TYPES if t not in ("markdown", "htm")) + ")",
        accept_multiple_files=True,
        max_upload_size=max(1, lim.max_bytes // (1024 * 1024)),
        key=f"kb_uploader_{st.session_state[GEN_KEY]}",
        help=f"{FORMATS_TEXT}. Up to {lim.max_bytes // (1024 * 1024)} MB and {lim.max_pages} pages "
        "per file; scanned PDF pages are read by OCR. The same content is never indexed twice; a new version "
        "of a file replaces the old one.",
    )
    if files:
        n = len(files)
        if st.button(
            f"Index {n} file{'s' if n != 1 else ''}", type="primary", icon=":material/upload:", key="kb_index"
        ):
            batch = [(f.name, f.getvalue()) for f in files]
            reports = ingest_with_progress(kb, batch, chunk_tokens=chunk_tokens, overlap=overlap)
            data = dict(batch)
            for r in reports:
                if r.status == "needs_password":
                    st.session_state[LOCKED_KEY][r.name] = data[r.name]
            st.session_state[REPORTS_KEY] = reports
            st.session_state[GEN_KEY] += 1  # clear the drop zone
            st.rerun()
    _locked_files(kb, chunk_tokens, overlap)
    reports = st.session_state[REPORTS_KEY]
    if reports:
        render_reports(reports)
    return reports
