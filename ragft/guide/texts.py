"""The facilitator-editable Markdown explanations of the guide, read from ``assets/guide``."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ragft.configs import APPROACHES
from ragft.guide.factors import FACTOR_BY_KEY, FACTORS, GuideError, GuideInputError
from ragft.paths import GUIDE_DIR

logger = logging.getLogger(__name__)


class GuideAssetMissing(GuideError):
    """An explanation file of the guide is missing or unreadable."""

    hint = "Restore the file under assets/guide (see assets/guide/README.md)."


RESULT_TOPICS = ("intro", "scores", "quadrant", "costs", "evidence", "lifecycle")


@dataclass(frozen=True)
class GuideText:
    """One Markdown file: its title, the first paragraph (short help), the intro, and its ``##`` sections."""

    path: Path
    title: str
    summary: str
    intro: str
    sections: Mapping[str, str]  # lower-cased heading → body

    def section(self, name: str) -> str:
        return self.sections.get(name.strip().lower(), "")


def parse_guide_markdown(text: str, path: Path = Path("<text>")) -> GuideText:
    title = ""
    intro_lines: list[str] = []
    sections: dict[str, list[str]] = {}
    current: list[str] = intro_lines
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)  # notes for facilitators, never shown
    for line in text.splitlines():
        if not title and line.startswith("# "):
            title = line[2:].strip()
            continue
        m = re.match(r"^##\s+(.+?)\s*$", line)
        if m:
            current = sections.setdefault(m.group(1).strip().lower(), [])
            continue
        current.append(line)
    intro = "\n".join(intro_lines).strip()
    summary = re.split(r"\n\s*\n", intro, maxsplit=1)[0].strip() if intro else ""
    return GuideText(path, title, summary, intro, {k: "\n".join(v).strip() for k, v in sections.items()})


def guide_text_path(kind: str, key: str, guide_dir: Path | None = None) -> Path:
    root = Path(guide_dir) if guide_dir is not None else GUIDE_DIR
    if kind == "factor":
        if key not in FACTOR_BY_KEY:
            raise GuideInputError(f"No question named '{key}'.")
        return root / "factors" / f"{key}.md"
    if kind == "approach":
        if key not in APPROACHES:
            raise GuideInputError(f"No approach named '{key}'.")
        return root / "approaches" / f"{key}.md"
    if kind == "topic":
        if key not in RESULT_TOPICS:
            raise GuideInputError(f"No guide topic named '{key}'.")
        return root / f"{key}.md"
    raise GuideInputError(f"Unknown kind of guide text '{kind}'.")


def load_guide_text(kind: str, key: str, guide_dir: Path | None = None) -> GuideText:
    """Read ``assets/guide/{factors|approaches}/<key>.md`` or ``assets/guide/<topic>.md``."""
    path = guide_text_path(kind, key, guide_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GuideAssetMissing(f"The guide text {path.name} is missing ({path}).") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GuideAssetMissing(f"The guide text {path.name} cannot be read: {exc}.") from None
    return parse_guide_markdown(text, path)


@dataclass(frozen=True)
class GuideTexts:
    factors: Mapping[str, GuideText]
    approaches: Mapping[str, GuideText]
    topics: Mapping[str, GuideText]
    missing: tuple[str, ...] = ()  # files that could not be read (only when loaded with strict=False)

    @property
    def problem(self) -> str:
        """One line for the page when some files are missing, else ''."""
        if not self.missing:
            return ""
        return GuideAssetMissing(f"Guide text missing: {', '.join(self.missing)}.").message


def load_all_guide_texts(guide_dir: Path | None = None, strict: bool = True) -> GuideTexts:
    """Every explanation file at once.

    ``strict``: one :class:`GuideAssetMissing` naming all the missing files. Otherwise the files that
    exist are returned and the others are listed in ``missing`` (the page still works without them).
    """
    missing: list[str] = []

    def grab(kind: str, keys: Sequence[str]) -> dict[str, GuideText]:
        out: dict[str, GuideText] = {}
        for k in keys:
            try:
                out[k] = load_guide_text(kind, k, guide_dir)
            except GuideAssetMissing as exc:
                logger.warning("%s", exc.message)
                p = guide_text_path(kind, k, guide_dir)
                missing.append(f"{p.parent.name}/{p.name}" if kind != "topic" else p.name)
        return out

    texts = GuideTexts(
        grab("factor", [f.key for f in FACTORS]),
        grab("approach", APPROACHES),
        grab("topic", RESULT_TOPICS),
        tuple(missing),
    )
    if missing and strict:
        raise GuideAssetMissing(f"Guide text missing: {', '.join(missing)}.")
    return texts
