"""llama.cpp's ``convert_lora_to_gguf.py``: where the project installs it, and running it on a PEFT adapter.

The converter ships in the llama-cpp-python sdist (``vendor/llama.cpp``: the script, its ``conversion``
package and the matching ``gguf-py``). ``bash scripts/setup.sh --train`` (and ``--dev``) runs
``python -m ragft.training.converter --install``, which fetches that sdist from PyPI with pip (the version
installed in this environment) and keeps those files in ``<venv>/share/ragft/llama.cpp``. At run time nothing
is downloaded: :func:`find_converter` only looks there (or in ``RAGFT_LLAMA_CPP_DIR``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from ragft import errors as E

logger = logging.getLogger(__name__)

SCRIPT = "convert_lora_to_gguf.py"
KEEP = (SCRIPT, "conversion", "gguf-py", "LICENSE")


class ConversionFailed(E.RagftError):
    hint = "Nothing was saved. Check the training log; press Train to try again."


def default_dir() -> Path:
    return Path(sys.prefix) / "share" / "ragft" / "llama.cpp"


def find_converter() -> Path | None:
    """The installed converter script, or None."""
    for base in (os.environ.get("RAGFT_LLAMA_CPP_DIR"), str(default_dir())):
        if base and (Path(base) / SCRIPT).is_file() and (Path(base) / "gguf-py").is_dir():
            return Path(base) / SCRIPT
    return None


def install_converter(dest: Path | None = None, sdist: Path | None = None) -> Path:
    """Copy the converter files out of the llama-cpp-python sdist (``sdist``, else ``pip download``)."""
    dest = dest or default_dir()
    version = importlib.metadata.version("llama-cpp-python")
    with tempfile.TemporaryDirectory(prefix="ragft-sdist-") as tmp:
        if sdist is None:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "-q",
                    "--no-deps",
                    "--no-binary",
                    ":all:",
                    f"llama-cpp-python=={version}",
                    "-d",
                    tmp,
                ],
                check=True,
            )
            sdist = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            members = [
                m
                for m in tar.getmembers()
                if "/vendor/llama.cpp/" in m.name and m.name.split("/vendor/llama.cpp/", 1)[1].split("/")[0] in KEEP
            ]
            tar.extractall(tmp, members=members, filter="data")
        src = next(Path(tmp).glob("*/vendor/llama.cpp"))
        staging = dest.with_name(dest.name + ".tmp")
        shutil.rmtree(staging, ignore_errors=True)
        staging.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(src, staging)
        (staging / "VERSION").write_text(f"llama-cpp-python {version}\n")
        shutil.rmtree(dest, ignore_errors=True)
        staging.rename(dest)
    return dest / SCRIPT


def convert(
    peft_dir: Path, base_dir: Path, outfile: Path, converter: Path | None = None, log: Path | None = None
) -> Path:
    """PEFT adapter → GGUF LoRA (f16) that llama.cpp loads with ``lora_path``. Raises ConversionFailed."""
    from ragft.training.trainer import TrainingUnavailable

    script = converter or find_converter()
    if script is None:
        raise TrainingUnavailable("llama.cpp's GGUF converter is not installed.")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(script.parent / "gguf-py"), str(script.parent)]))
    out: Any = open(log, "ab") if log else subprocess.DEVNULL  # closed below
    try:
        proc = subprocess.run(
            [
                sys.executable,
                str(script),
                "--base",
                str(base_dir),
                "--outtype",
                "f16",
                "--outfile",
                str(outfile),
                str(peft_dir),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT if log else subprocess.PIPE,
        )
    finally:
        if log:
            out.close()
    if proc.returncode != 0 or not outfile.is_file():
        tail = (proc.stderr or b"").decode(errors="replace").strip().splitlines()[-1:] if not log else []
        raise ConversionFailed(f"The GGUF conversion failed (exit {proc.returncode}){': ' + tail[0] if tail else ''}.")
    return outfile


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Install llama.cpp's convert_lora_to_gguf.py for training.")
    ap.add_argument(
        "--install", action="store_true", help="fetch the llama-cpp-python sdist with pip and keep the converter files"
    )
    ap.add_argument("--sdist", default=None, help="use this llama_cpp_python-*.tar.gz instead of pip download")
    ap.add_argument("--dest", default=None)
    args = ap.parse_args(argv)
    if args.install:
        found = find_converter()
        if found is not None and args.dest is None and args.sdist is None:
            print(f"converter already installed: {found}")
            return 0
        print(
            f"installed {install_converter(Path(args.dest) if args.dest else None, Path(args.sdist) if args.sdist else None)}"
        )
        return 0
    found = find_converter()
    print(found or "not installed: python -m ragft.training.converter --install")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
