"""Runs over time: every evaluation saved in its workspace, listed, compared with a baseline, exported, re-imported.

One JSON file per run under ``<data dir>/workspaces/<workspace id>/evaluations/`` (deleted with the workspace).
A saved run carries its settings (models, adapter name, top-k, prompt, generation settings, the question set's
hash) and every scored record. It never carries a key or a server path: settings are built from an allowlist
(:func:`describe_settings`) and every free text (errors, labels) goes through :func:`scrub`.

    history = RunHistory(data_dir, workspace_id)
    saved = history.save(SavedRun.from_evaluation(ev, describe_settings(settings)))
    baseline = history.load(run_id)
    compare_runs(baseline.records, saved.records, "ft_rag")      # what changed, question by question
    data = saved.to_json(); RunHistory(...).import_bytes(data)   # export and re-import
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import Any

from ragft.errors import RagftError
from ragft.evaluation.paired import PairedComparison, compare_records
from ragft.evaluation.questions import QuestionSet
from ragft.evaluation.records import ConfigSummary, EvalRecord, summarise
from ragft.knowledge.workspaces import check_workspace_id

logger = logging.getLogger(__name__)

FORMAT = "ragft-evaluation-run"
VERSION = 1
MAX_RUN_BYTES = 20_000_000
MAX_RUNS = 50  # per workspace: the oldest beyond this are deleted
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_PATH_RE = re.compile(r"(?:[A-Za-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]?")
_KEY_RE = re.compile(r"\b(?:sk|pk|rk|key|api)[-_][A-Za-z0-9_-]{8,}\b|\bBearer\s+\S+", re.IGNORECASE)


class RunFileError(RagftError):
    """A run file cannot be imported (not JSON, not a run, a field of the wrong type...)."""

    hint = "Import a file exported from this page (Export run as JSON)."


class RunNotFound(RagftError):
    hint = "It may have been deleted; pick another run."


def scrub(text: str | None) -> str | None:
    """Free text fit to save: file-system paths become their last part, anything key-like becomes ``[key]``."""
    if text is None:
        return None
    text = _KEY_RE.sub("[key]", str(text))
    return _PATH_RE.sub(lambda m: "…/" + PurePath(m.group(0).rstrip("/\\").replace("\\", "/")).name, text)


def question_set_hash(qs: QuestionSet) -> str:
    """A short hash of the questions and what they expect (the same set hashes the same, whatever its name)."""
    rows = [
        [
            q.id,
            q.question,
            list(q.expected_facts),
            q.expected_source,
            q.expected_style,
            q.expected_page,
            list(q.stale_facts),
        ]
        for q in qs.questions
    ]
    return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode()).hexdigest()[:16]


def _adapter_name(lora: str | None) -> str | None:
    if not lora:
        return None
    return "default (brand voice)" if lora == "default" else PurePath(str(lora).replace("\\", "/")).stem


def describe_settings(s: Any) -> dict[str, Any]:
    """What a run was made with, from an allowlist: providers and model names, the adapter's name (never its path),
    embedding model, top-k, threshold, chunking, generation settings and the system prompt. No key, no URL."""

    def slot(e: Any) -> dict[str, Any]:
        d = {"provider": e.provider, "model": e.model}
        if e.is_embedded:
            d["adapter"] = _adapter_name(e.lora_path)
        return d

    return {
        "base": slot(s.base),
        "finetuned": slot(s.finetuned),
        "embedding": {"provider": s.embedding.provider, "model": s.embedding.model},
        "top_k": s.top_k,
        "score_threshold": s.score_threshold,
        "chunk_tokens": s.chunk_tokens,
        "chunk_overlap": s.chunk_overlap,
        "max_tokens": s.max_tokens,
        "temperature": s.temperature,
        "system_prompt": s.system_prompt,
    }


@dataclass
class SavedRun:
    id: str
    created: datetime
    question_set: str
    question_set_hash: str
    question_ids: tuple[str, ...]
    configurations: tuple[str, ...]
    settings: dict[str, Any]
    records: list[EvalRecord]
    stopped: bool = False
    wall_s: float = 0.0
    note: str = ""
    imported: bool = False
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. the judge used

    @classmethod
    def from_evaluation(cls, ev: Any, settings: Mapping[str, Any] | None = None, note: str = "") -> SavedRun:
        """``settings``: :func:`describe_settings` of the session; default: what the evaluation recorded itself
        (``ev.settings["run_settings"]`` when the page put it there, else the generation settings), scrubbed."""
        if settings is None:
            settings = ev.settings.get("run_settings") or {
                k: ev.settings.get(k) for k in ("system_prompt", "max_tokens", "temperature", "top_k")
            }
            settings = json.loads(scrub(json.dumps(settings, default=str)) or "{}")
        records = [_scrubbed(r) for r in ev.records]
        judge = ev.settings.get("judge")
        return cls(
            id=ev.id,
            created=ev.created,
            question_set=scrub(ev.question_set.name) or "",
            question_set_hash=question_set_hash(ev.question_set),
            question_ids=tuple(q.id for q in ev.question_set.questions),
            configurations=tuple(ev.configurations),
            settings=dict(settings),
            records=records,
            stopped=bool(ev.stopped),
            wall_s=float(ev.wall_s),
            note=note,
            extra={"judge": scrub(str(judge))} if judge else {},
        )

    def summaries(self) -> list[ConfigSummary]:
        return [summarise(self.records, k) for k in self.configurations]

    @property
    def title(self) -> str:
        when = self.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return (
            f"{when} · {self.question_set} · {len(self.configurations)} config(s)"
            + (" · imported" if self.imported else "")
            + (f" · {self.note}" if self.note else "")
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": VERSION,
            "id": self.id,
            "created": self.created.isoformat(),
            "question_set": self.question_set,
            "question_set_hash": self.question_set_hash,
            "question_ids": list(self.question_ids),
            "configurations": list(self.configurations),
            "settings": self.settings,
            "stopped": self.stopped,
            "wall_s": round(self.wall_s, 3),
            "note": self.note,
            "imported": self.imported,
            "extra": self.extra,
            "summary": [s.to_dict() for s in self.summaries()],
            "paired": [c.to_dict() for c in self.pairs()],
            "records": [r.to_dict() for r in self.records],
        }

    def pairs(self, metric: str = "facts") -> list[PairedComparison]:
        """Every later configuration against every earlier one (``ft_rag`` vs ``base_rag``, ...)."""
        keys = self.configurations
        return [compare_records(self.records, a, b, metric) for i, a in enumerate(keys) for b in keys[i + 1 :]]

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def _scrubbed(r: EvalRecord) -> EvalRecord:
    d = r.to_dict()
    d["error"], d["judge_error"] = scrub(d["error"]), scrub(d["judge_error"])
    return EvalRecord.from_dict(d)


def parse_run(data: bytes | str, name: str = "run.json") -> SavedRun:
    """A run from exported JSON; :class:`RunFileError` naming what is wrong."""
    if isinstance(data, bytes):
        if len(data) > MAX_RUN_BYTES:
            raise RunFileError(
                f"{name} is {len(data) / 1e6:.1f} MB; a run file is at most {MAX_RUN_BYTES / 1e6:.0f} MB."
            )
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise RunFileError(f"{name} is not UTF-8 text.") from None
    try:
        d = json.loads(data)
    except json.JSONDecodeError as exc:
        raise RunFileError(f"{name} is not valid JSON ({exc.msg} at line {exc.lineno}).") from None
    if not isinstance(d, dict) or d.get("format") != FORMAT:
        raise RunFileError(f"{name} is not an evaluation run exported by this app.")
    if d.get("version") != VERSION:
        raise RunFileError(f"{name} is a run file of version {d.get('version')!r}; this app reads version {VERSION}.")
    try:
        run_id = str(d["id"])
        if not _ID_RE.match(run_id):
            raise ValueError(f"the id {run_id!r} is not a run id")
        created = datetime.fromisoformat(str(d["created"]))
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        configs = tuple(str(c) for c in d["configurations"])
        records = []
        for i, r in enumerate(d["records"], 1):
            if not isinstance(r, dict):
                raise ValueError(f"record {i} is not an object")
            try:
                records.append(EvalRecord.from_dict(r))
            except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
                raise ValueError(f"record {i}: {exc.__class__.__name__} {exc}") from None
        settings = d.get("settings") or {}
        if not isinstance(settings, dict):
            raise ValueError("settings must be an object")
        return SavedRun(
            id=run_id,
            created=created,
            question_set=str(d.get("question_set") or ""),
            question_set_hash=str(d.get("question_set_hash") or ""),
            question_ids=tuple(str(q) for q in d.get("question_ids") or ()),
            configurations=configs,
            settings=settings,
            records=records,
            stopped=bool(d.get("stopped")),
            wall_s=float(d.get("wall_s") or 0),
            note=str(d.get("note") or ""),
            imported=bool(d.get("imported")),
            extra=dict(d.get("extra") or {}),
        )
    except (KeyError, TypeError, ValueError) as exc:
        what = f"the field {exc.args[0]!r} is missing" if isinstance(exc, KeyError) else str(exc)
        raise RunFileError(f"{name}: {what}.") from None


class RunHistory:
    """The saved runs of one workspace (a folder of JSON files)."""

    def __init__(self, data_dir: Path | str, workspace_id: str) -> None:
        self.folder = Path(data_dir) / "workspaces" / check_workspace_id(workspace_id) / "evaluations"

    def _path(self, run_id: str) -> Path:
        if not _ID_RE.match(run_id or ""):
            raise RunNotFound(f"{run_id!r} is not a run id.")
        return self.folder / f"{run_id}.json"

    def save(self, run: SavedRun) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(run.id)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(run.to_json(), encoding="utf-8")
        os.replace(tmp, path)
        self._prune()
        return path

    def _prune(self) -> None:
        files = sorted(self.folder.glob("*.json"), key=lambda p: p.stat().st_mtime)
        for old in files[:-MAX_RUNS]:
            old.unlink(missing_ok=True)

    def runs(self) -> list[SavedRun]:
        """Every saved run, newest first (an unreadable file is logged and skipped)."""
        out: list[SavedRun] = []
        if not self.folder.is_dir():
            return out
        for p in self.folder.glob("*.json"):
            try:
                out.append(parse_run(p.read_bytes(), p.name))
            except (OSError, RunFileError) as exc:
                logger.warning("skipping the saved run %s: %s", p.name, exc)
        return sorted(out, key=lambda r: r.created, reverse=True)

    def load(self, run_id: str) -> SavedRun:
        path = self._path(run_id)
        try:
            return parse_run(path.read_bytes(), path.name)
        except FileNotFoundError:
            raise RunNotFound(f"The run {run_id} is not saved in this workspace.") from None

    def delete(self, run_id: str) -> None:
        self._path(run_id).unlink(missing_ok=True)

    def import_bytes(self, data: bytes | str, name: str = "run.json") -> SavedRun:
        """Parse an exported run (RunFileError when bad), mark it imported, scrub it and save it here."""
        run = parse_run(data, name)
        run.imported = True
        run.records = [_scrubbed(r) for r in run.records]
        run.settings = json.loads(scrub(json.dumps(run.settings)) or "{}")
        if not run.note:
            run.note = f"from {scrub(PurePath(name).name)}"
        self.save(run)
        return run


def same_questions(a: SavedRun, b: SavedRun) -> bool:
    return bool(a.question_set_hash) and a.question_set_hash == b.question_set_hash


def settings_changes(a: Mapping[str, Any], b: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any, Any]]:
    """``(setting, before, after)`` for every setting that differs between two runs (nested keys dotted)."""
    out: list[tuple[str, Any, Any]] = []
    for k in sorted(set(a) | set(b)):
        va, vb = a.get(k), b.get(k)
        if isinstance(va, Mapping) and isinstance(vb, Mapping):
            out += settings_changes(va, vb, f"{prefix}{k}.")
        elif va != vb:
            out.append((f"{prefix}{k}", va, vb))
    return out


def common_configurations(a: SavedRun, b: SavedRun) -> list[str]:
    return [k for k in b.configurations if k in a.configurations]
