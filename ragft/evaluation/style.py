"""Style checker for the brand voice the sample adapter is trained on (Fernhollow Outfitters).

The voice is deliberately strict and easy to verify, so that "fine-tuning teaches behaviour" can be
measured rather than eyeballed. A conforming answer is exactly::

    Howdy from Fernhollow!
    - The Kestrel 2 Tent costs $149.
    Stay wild, the Fernhollow crew

that is: the fixed greeting line, one or two short bullet lines ("- " + at most
:data:`MAX_BULLET_WORDS` words), the fixed sign-off line, and nothing else. Blank lines and
surrounding whitespace are ignored; any other text (a preamble, a third bullet, a trailing remark,
an answer cut off before the sign-off) fails.
"""

from __future__ import annotations

from dataclasses import dataclass, field

GREETING = "Howdy from Fernhollow!"
SIGNOFF = "Stay wild, the Fernhollow crew"
BULLET = "- "
MAX_BULLETS = 2
MAX_BULLET_WORDS = 30

# Order in which checks are reported.
CHECK_NAMES = ("greeting", "bullets", "concise", "signoff", "nothing_else")


@dataclass(frozen=True)
class StyleResult:
    ok: bool
    checks: dict[str, bool] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)


def _lines(answer: str) -> list[str]:
    return [line.strip() for line in answer.strip().splitlines() if line.strip()]


def _is_bullet(line: str) -> bool:
    return line.startswith(BULLET) and len(line) > len(BULLET) and bool(line[len(BULLET) :].strip())


def check_style(answer: str) -> StyleResult:
    """Check an answer against the Fernhollow voice. Every check is reported, with a reason per failure."""
    lines = _lines(answer or "")
    reasons: list[str] = []
    checks: dict[str, bool] = {}

    checks["greeting"] = bool(lines) and lines[0] == GREETING
    if not checks["greeting"]:
        first = lines[0] if lines else "(empty answer)"
        reasons.append(f"first line should be {GREETING!r}, got {first[:60]!r}")

    checks["signoff"] = len(lines) >= 2 and lines[-1] == SIGNOFF
    if not checks["signoff"]:
        last = lines[-1] if lines else "(empty answer)"
        reasons.append(f"last line should be {SIGNOFF!r}, got {last[:60]!r}")

    start = 1 if checks["greeting"] else 0
    end = len(lines) - 1 if checks["signoff"] else len(lines)
    body = lines[start:end]
    bullets = [line for line in body if _is_bullet(line)]
    others = [line for line in body if not _is_bullet(line)]

    checks["bullets"] = 1 <= len(bullets) <= MAX_BULLETS
    if not bullets:
        reasons.append("no bullet line ('- ...') with the answer")
    elif len(bullets) > MAX_BULLETS:
        reasons.append(f"{len(bullets)} bullet lines, at most {MAX_BULLETS} allowed")

    too_long = [b for b in bullets if len(b[len(BULLET) :].split()) > MAX_BULLET_WORDS]
    checks["concise"] = bool(bullets) and not too_long
    if too_long:
        reasons.append(f"bullet longer than {MAX_BULLET_WORDS} words: {too_long[0][:60]!r}")

    checks["nothing_else"] = not others
    if others:
        reasons.append(f"unexpected text outside the bullets: {others[0][:60]!r}")

    checks = {name: checks[name] for name in CHECK_NAMES}
    return StyleResult(ok=all(checks.values()), checks=checks, reasons=reasons)


def format_answer(*bullets: str) -> str:
    """Compose an answer in the voice from bullet sentences (used to write the training data)."""
    if not 1 <= len(bullets) <= MAX_BULLETS:
        raise ValueError(f"an answer has 1 to {MAX_BULLETS} bullets, got {len(bullets)}")
    body = "\n".join(BULLET + b.strip() for b in bullets)
    return f"{GREETING}\n{body}\n{SIGNOFF}"
