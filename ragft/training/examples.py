"""Training examples: parsing (chat JSONL, CSV, table rows), validation with line/row errors, token counts.

An example is one chat: an optional system turn, one user turn, one assistant turn (the answer the model is
taught). Every problem names where it is (``line 3`` of a JSONL file, ``row 4`` of a CSV or the table) so a
person can fix it; parsing never stops at the first problem.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ragft.errors import RagftError

logger = logging.getLogger(__name__)

MIN_EXAMPLES = 5
MAX_EXAMPLES = 500
MAX_FILE_BYTES = 5 * 1024 * 1024
ROLES = ("system", "user", "assistant")
SMOLLM_DEFAULT_SYSTEM = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"


class ExamplesInvalid(RagftError):
    """The examples cannot be trained on; ``problems`` lists every one with its line or row."""

    hint = "Fix the listed lines or rows and try again."

    def __init__(self, message: str, problems: Sequence[Problem] = (), *, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = list(problems)


@dataclass(frozen=True)
class Example:
    prompt: str
    response: str
    system: str = ""

    @property
    def messages(self) -> list[dict[str, str]]:
        msgs = [{"role": "system", "content": self.system}] if self.system else []
        return msgs + [{"role": "user", "content": self.prompt}, {"role": "assistant", "content": self.response}]

    def row(self) -> dict[str, str]:
        return {"system": self.system, "prompt": self.prompt, "response": self.response}


@dataclass(frozen=True)
class Problem:
    where: str  # "line 3", "row 2", "the file"
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


@dataclass
class Report:
    """Validation result: the examples, their token counts, and what stops (errors) or may hurt (warnings)."""

    examples: list[Example]
    tokens: list[int] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    max_tokens: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def total_tokens(self) -> int:
        return sum(self.tokens)

    def raise_if_invalid(self) -> None:
        if self.errors:
            first = self.errors[0]
            more = f" (and {len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            raise ExamplesInvalid(f"The examples cannot be trained on: {first}{more}.", self.errors)


# ---- parsing -----------------------------------------------------------------------------------------------
def _from_messages(messages: Any, where: str) -> tuple[Example | None, list[Problem]]:
    if not isinstance(messages, list) or not messages:
        return None, [Problem(where, 'needs a non-empty "messages" list')]
    problems: list[Problem] = []
    for i, m in enumerate(messages, 1):
        if not isinstance(m, Mapping):
            return None, [Problem(where, f'message {i} is not an object with "role" and "content"')]
        role = m.get("role")
        if role not in ROLES:
            problems.append(Problem(where, f"message {i} has role {role!r}; use system, user or assistant"))
        content = m.get("content")
        if not isinstance(content, str) or not content.strip():
            problems.append(Problem(where, f"message {i} ({role}) is empty"))
    if problems:
        return None, problems
    roles = [m["role"] for m in messages]
    body = roles[1:] if roles[0] == "system" else roles
    if body != ["user", "assistant"]:
        got = " → ".join(roles)
        return None, [Problem(where, f"roles are {got}; an example is [system →] user → assistant (one turn each)")]
    system = messages[0]["content"].strip() if roles[0] == "system" else ""
    return Example(prompt=messages[-2]["content"].strip(), response=messages[-1]["content"].strip(), system=system), []


def parse_jsonl(data: bytes | str) -> tuple[list[Example], list[Problem]]:
    """Chat JSONL (``{"messages": [{"role": ..., "content": ...}, ...]}`` per line) → examples, problems."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            return [], [Problem("the file", f"is {len(data) / 1e6:.1f} MB; at most {MAX_FILE_BYTES // 10**6} MB")]
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return [], [Problem("the file", f"is not UTF-8 text (byte {exc.start})")]
    examples: list[Example] = []
    problems: list[Problem] = []
    for n, line in enumerate(data.splitlines(), 1):
        if not line.strip():
            continue
        where = f"line {n}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(Problem(where, f"is not valid JSON ({exc.msg} at column {exc.colno})"))
            continue
        if not isinstance(obj, dict):
            problems.append(Problem(where, 'is not a JSON object with a "messages" list'))
            continue
        ex, probs = _from_messages(obj.get("messages"), where)
        problems += probs
        if ex is not None:
            examples.append(ex)
    if not examples and not problems:
        problems.append(Problem("the file", "has no examples"))
    return examples, problems


def parse_csv(data: bytes | str) -> tuple[list[Example], list[Problem]]:
    """CSV with a header row and the columns ``prompt`` and ``response`` (optional ``system``)."""
    if isinstance(data, bytes):
        if len(data) > MAX_FILE_BYTES:
            return [], [Problem("the file", f"is {len(data) / 1e6:.1f} MB; at most {MAX_FILE_BYTES // 10**6} MB")]
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return [], [Problem("the file", f"is not UTF-8 text (byte {exc.start})")]
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        return [], [Problem("row 1", f"is not valid CSV ({exc})")]
    if not header:
        return [], [Problem("the file", "is empty")]
    cols = [h.strip().lower() for h in header]
    if "prompt" not in cols or "response" not in cols:
        found = ", ".join(h for h in cols if h) or "none"
        return [], [Problem("row 1", f"the header needs the columns prompt and response (found: {found})")]
    ip, ir = cols.index("prompt"), cols.index("response")
    isys = cols.index("system") if "system" in cols else None
    rows: list[dict[str, str]] = []
    problems: list[Problem] = []
    try:
        for values in reader:
            n = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) < len(cols):
                problems.append(Problem(f"row {n}", f"has {len(values)} columns, the header has {len(cols)}"))
                continue
            rows.append(
                {
                    "prompt": values[ip],
                    "response": values[ir],
                    "system": values[isys] if isys is not None else "",
                    "_where": f"row {n}",
                }
            )
    except csv.Error as exc:
        problems.append(Problem(f"row {reader.line_num}", f"is not valid CSV ({exc})"))
    examples, row_problems = parse_rows(rows)
    problems += row_problems
    if not examples and not problems:
        problems.append(Problem("the file", "has no examples"))
    return examples, problems


def parse_rows(rows: Iterable[Mapping[str, Any]]) -> tuple[list[Example], list[Problem]]:
    """Table rows (``prompt``, ``response``, optional ``system``) → examples; empty rows are skipped."""
    examples: list[Example] = []
    problems: list[Problem] = []
    for n, row in enumerate(rows, 1):
        where = str(row.get("_where") or f"row {n}")
        prompt = str(row.get("prompt") or "").strip() if row.get("prompt") is not None else ""
        response = str(row.get("response") or "").strip() if row.get("response") is not None else ""
        system = str(row.get("system") or "").strip() if row.get("system") is not None else ""
        if not prompt and not response and not system:
            continue
        if not prompt:
            problems.append(Problem(where, "the prompt (user turn) is empty"))
        if not response:
            problems.append(Problem(where, "the response (assistant turn) is empty"))
        if prompt and response:
            examples.append(Example(prompt=prompt, response=response, system=system))
    return examples, problems


def parse_upload(name: str, data: bytes) -> tuple[list[Example], list[Problem]]:
    """Dispatch on the file name: ``.jsonl``/``.json`` → chat JSONL, ``.csv`` → CSV."""
    lower = name.lower()
    if lower.endswith((".jsonl", ".json", ".ndjson")):
        return parse_jsonl(data)
    if lower.endswith(".csv"):
        return parse_csv(data)
    return [], [Problem("the file", f"{name!r} is neither chat JSONL (.jsonl) nor CSV (.csv)")]


# ---- tokens and validation ---------------------------------------------------------------------------------
def render(example: Example) -> tuple[str, str]:
    """(prompt, completion) as the SmolLM2 GGUF's ChatML template renders them; the loss is on the completion."""
    prompt = ""
    if not example.system:
        prompt += f"<|im_start|>system\n{SMOLLM_DEFAULT_SYSTEM}<|im_end|>\n"
    for m in example.messages[:-1]:
        prompt += f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n"
    prompt += "<|im_start|>assistant\n"
    return prompt, example.response + "<|im_end|>"


def validate(
    examples: Sequence[Example], count: Callable[[str], int], max_tokens: int, *, min_examples: int = MIN_EXAMPLES
) -> Report:
    """Check the set: enough examples, none longer than ``max_tokens`` (rendered), no duplicates."""
    report = Report(examples=list(examples), max_tokens=max_tokens)
    seen: dict[tuple[str, str], int] = {}
    for n, ex in enumerate(examples, 1):
        prompt, completion = render(ex)
        tokens = count(prompt + completion)
        report.tokens.append(tokens)
        if tokens > max_tokens:
            report.errors.append(
                Problem(
                    f"example {n}", f"has {tokens:,} tokens, more than the {max_tokens:,} the training fits; shorten it"
                )
            )
        key = (ex.system, ex.prompt.strip().lower())
        if key in seen:
            same = ex.response.strip() == examples[seen[key] - 1].response.strip()
            what = "is a duplicate of" if same else "has the same prompt as"
            (report.errors if same else report.warnings).append(Problem(f"example {n}", f"{what} example {seen[key]}"))
        else:
            seen[key] = n
    if len(examples) < min_examples:
        report.errors.append(
            Problem(
                "the set",
                f"has {len(examples)} example{'s' if len(examples) != 1 else ''}; "
                f"at least {min_examples} are needed (20-100 work well)",
            )
        )
    if len(examples) > MAX_EXAMPLES:
        report.errors.append(Problem("the set", f"has {len(examples)} examples; at most {MAX_EXAMPLES} here"))
    return report


def to_jsonl(examples: Iterable[Example]) -> str:
    """Chat JSONL, the format OpenAI's and open-model trainers take."""
    return "".join(json.dumps({"messages": ex.messages}, ensure_ascii=False) + "\n" for ex in examples)


def read_jsonl_file(path) -> list[Example]:
    """Examples of a JSONL file; raises ExamplesInvalid listing every bad line."""
    from pathlib import Path

    examples, problems = parse_jsonl(Path(path).read_bytes())
    if problems:
        raise ExamplesInvalid(
            f"{path}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "") + ".", problems
        )
    return examples
