"""An evaluation as a promptfoo configuration (YAML) that ``npx promptfoo eval -c <file>`` runs unchanged.

- **providers**: one per configuration that was run, labelled with its key (``base``, ``base_rag``, ``ft``,
  ``ft_rag``, ...), as promptfoo's ``openai:chat:<model>`` with ``apiBaseUrl`` for the OpenAI-compatible endpoint
  (:class:`Endpoint`), temperature and max tokens from the run. The embedded model has no URL: it is exported for a
  llama.cpp server on 127.0.0.1:8000 serving the same GGUF under the same names (the README's recipe).
- **prompts**: one, ``{{ messages | dump }}``: every test carries the exact chat messages the app sent for that
  (question, configuration), so a RAG configuration's retrieved context is baked into the prompt vars.
- **tests**: one per answered (question, configuration), limited to its provider, with three ``javascript``
  assertions (metrics ``facts``, ``stale`` and ``style``) that port the app's scorers
  (``promptfoo_scorers.js``, beside this file): promptfoo counts a test as passed exactly when
  :func:`app_passes` says the app's scores pass.

What does not map, and why, is said in the file's header (:data:`NOT_MAPPED`) and in the README.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ragft.answering.prompts import build_messages
from ragft.configs import BY_KEY
from ragft.evaluation.records import EvalRecord
from ragft.evaluation.run import Evaluation
from ragft.settings import DEFAULT_SYSTEM_PROMPT, PROVIDERS

SCORERS_JS = (Path(__file__).with_name("promptfoo_scorers.js")).read_text(encoding="utf-8")
LOCAL_LLAMA_URL = "http://127.0.0.1:8000/v1"  # llama_cpp.server's default port

# Native promptfoo assertions that look equivalent but are not, and the app's figures with no promptfoo assertion.
NOT_MAPPED: tuple[tuple[str, str], ...] = (
    (
        "facts via contains / icontains / contains-all",
        "the app matches normalised tokens ($1,299.00 = $1299 = 1299 dollars, litres = l, '3 to 5' = 3-5) and whole "
        "tokens only ($149 is not found in $1499); promptfoo's substring checks differ on exactly those answers, so "
        "a `javascript` port of the scorer is used instead",
    ),
    (
        "ticket shape via is-json (with a schema)",
        "the app first strips a Markdown ``` fence around the answer; is-json does not, contains-json accepts JSON "
        "anywhere in the text: a `javascript` port of the check is used instead",
    ),
    (
        "brand voice via regex",
        "'at most 30 words per bullet, blank lines ignored' is clearer and exact as a `javascript` port",
    ),
    (
        "retrieval hit@k and page hit@k",
        "promptfoo does not retrieve: the app's retrieved chunks are fixed in the prompt, so retrieval is not "
        "re-measured (the app's figures stay in its CSV/JSON export)",
    ),
    (
        "groundedness (figures and names found in the context)",
        "its claim extraction is the app's own heuristic; not ported",
    ),
    (
        "the LLM judge's faithfulness",
        "promptfoo's context-faithfulness is model-graded with its own prompt and grader: not the same measure",
    ),
    (
        "latency and cost",
        "promptfoo's latency and cost assertions need thresholds the app never sets; both are in its own report",
    ),
)


@dataclass(frozen=True)
class Endpoint:
    """Where promptfoo sends one model slot's requests. ``api_key_env`` names the environment variable holding the
    key (never the key itself); empty for a local server that needs none."""

    model: str
    base_url: str
    api_key_env: str = ""


def endpoints_from_settings(settings: Any) -> dict[str, Endpoint]:
    """``{"base": ..., "finetuned": ...}`` from a :class:`ragft.settings.Settings`: the slot's model and URL, the
    embedded engine as a llama.cpp server on 127.0.0.1:8000 under the same model names."""
    out: dict[str, Endpoint] = {}
    for slot, endpoint in (("base", settings.base), ("finetuned", settings.finetuned)):
        if endpoint.is_embedded:
            out[slot] = Endpoint(endpoint.model, LOCAL_LLAMA_URL)
            continue
        url = endpoint.base_url or PROVIDERS.get(endpoint.provider, {}).get("base_url") or LOCAL_LLAMA_URL
        keyed = bool(endpoint.api_key) or endpoint.key_source != "none" or endpoint.provider in ("openai", "azure")
        if not keyed:
            key_env = ""  # a server that needs no key (llama.cpp, Ollama, vLLM without --api-key)
        elif endpoint.provider == "openai":
            key_env = "OPENAI_API_KEY"
        else:
            key_env = f"RAGFT_{'BASE' if slot == 'base' else 'FT'}_API_KEY"
        out[slot] = Endpoint(endpoint.model, str(url), key_env)
    return out


def endpoints_for(evaluation: Evaluation, settings: Any) -> dict[str, Endpoint]:
    """:func:`endpoints_from_settings`, with each slot's model name as the run recorded it (when it did)."""
    out = endpoints_from_settings(settings)
    run = evaluation.settings.get("run_settings") or {}
    for slot, ep in list(out.items()):
        model = (run.get(slot) or {}).get("model")
        if model and model != ep.model:
            out[slot] = Endpoint(str(model), ep.base_url, ep.api_key_env)
    return out


def _messages(record: EvalRecord, system_prompt: str | None) -> list[dict[str, str]]:
    if record.messages:
        return [{"role": str(m["role"]), "content": str(m["content"])} for m in record.messages]
    # a run saved before records kept their messages: rebuild them from the chunks it kept
    return build_messages(record.question, list(record.sources) or None, system_prompt)


def app_passes(record: EvalRecord) -> bool:
    """What a promptfoo test passes on, in the app's own scores: every expected fact stated, no stale fact, and
    the style (where the question checks one) kept."""
    return (
        record.error is None
        and not record.facts_missing
        and not record.stale_found
        and (not record.style_applicable or bool(record.style_ok))
    )


def _assertion(metric: str, body: str) -> dict[str, Any]:
    return {"type": "javascript", "metric": metric, "value": f"{SCORERS_JS}\n{body.strip()}\n"}


FACTS_JS = """
const expected = JSON.parse(context.vars.expected_facts || "[]");
const r = facts(output, expected);
return {pass: r.missing.length === 0, score: expected.length ? r.found.length / expected.length : 0,
  reason: r.missing.length ? "missing: " + r.missing.join(" | ") : "all facts stated"};
"""
STALE_JS = """
const stale = JSON.parse(context.vars.stale_facts || "[]");
const r = facts(output, stale);
return {pass: r.found.length === 0, score: r.found.length ? 0 : 1,
  reason: r.found.length ? "states last season's " + r.found.join(" | ") : "no stale fact"};
"""
STYLE_JS = """
const style = context.vars.expected_style || "any";
if (style === "brand") { const r = brand(output); return {pass: r.pass, score: r.pass ? 1 : 0, reason: r.reason}; }
if (style === "ticket-json") { const r = ticket(output); return {pass: r.pass, score: r.pass ? 1 : 0, reason: r.reason}; }
return {pass: true, score: 1, reason: "style not scored for this question"};
"""


class _Literal(str):
    """A string dumped as a YAML literal block (readable JavaScript and prompts)."""


def _literal(dumper: yaml.SafeDumper, value: _Literal) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Literal, _literal)


def promptfoo_config(
    evaluation: Evaluation, endpoints: Mapping[str, Endpoint], *, description: str = ""
) -> dict[str, Any]:
    """The configuration as a plain mapping (see the module docstring); records that failed in the app are left
    out (there is no answer to compare)."""
    settings = evaluation.settings
    system_prompt = settings.get("system_prompt", DEFAULT_SYSTEM_PROMPT)
    temperature = float(settings.get("temperature") or 0.0)
    max_tokens = int(settings.get("max_tokens") or 96)
    providers = []
    for key in evaluation.configurations:
        cfg = BY_KEY.get(key)
        slot = cfg.slot if cfg is not None else ("finetuned" if key.startswith("ft") else "base")
        ep = endpoints[slot]
        config: dict[str, Any] = {"apiBaseUrl": ep.base_url, "temperature": temperature, "max_tokens": max_tokens}
        if ep.api_key_env:
            config["apiKeyEnvar"] = ep.api_key_env
        else:
            config["apiKey"] = "no-key-needed"  # a local server: promptfoo still wants some key
        providers.append({"id": f"openai:chat:{ep.model}", "label": key, "config": config})
    tests = []
    for r in evaluation.records:
        if r.error is not None:
            continue
        q = next((q for q in evaluation.question_set.questions if q.id == r.question_id), None)
        tests.append(
            {
                "description": f"{r.question_id} · {r.label}",
                "providers": [r.configuration],
                "vars": {
                    "question_id": r.question_id,
                    "configuration": r.configuration,
                    "messages": [
                        {"role": m["role"], "content": _Literal(m["content"])} for m in _messages(r, system_prompt)
                    ],
                    # JSON text, not YAML lists: promptfoo runs a test once per item of a list var
                    "expected_facts": json.dumps(list(r.expected_facts), ensure_ascii=False),
                    "stale_facts": json.dumps(list(q.stale_facts) if q is not None else [], ensure_ascii=False),
                    "expected_style": q.expected_style if q is not None else "any",
                },
                "metadata": {"app_passes": app_passes(r), "app_fact_score": round(r.fact_score, 4)},
            }
        )
    return {
        "description": description or f"{evaluation.question_set.name}: exported from the RAG vs Fine-Tuning Explorer",
        "prompts": [{"id": "app-messages", "label": "app-messages", "raw": "{{ messages | dump }}"}],
        "providers": providers,
        "defaultTest": {
            "assert": [
                _assertion("facts", FACTS_JS),
                _assertion("stale", STALE_JS),
                _assertion("style", STYLE_JS),
            ]
        },
        "evaluateOptions": {"cache": False, "maxConcurrency": 1},
        "tests": tests,
    }


def _header(evaluation: Evaluation, n_tests: int, n_pass: int) -> str:
    lines = [
        "# promptfoo configuration exported by the RAG vs Fine-Tuning Explorer.",
        "# Run it unchanged:  npx promptfoo@latest eval -c this-file.yaml",
        "# Each test is one (question, configuration) the app answered, with the exact messages the app sent",
        "# (retrieved context included) and the app's scorers ported as javascript assertions:",
        "#   facts  every expected fact stated (score = the app's fact score)",
        "#   stale  no last-season value stated",
        "#   style  the brand voice or the ticket JSON shape, where the question checks one",
        f"# On the app's own answers {n_pass} of {n_tests} tests pass (metadata.app_passes per test); at",
        "# temperature 0 against the same endpoint, promptfoo's pass count should agree.",
        "# Keys are never written here: providers name the environment variable that holds one (apiKeyEnvar).",
        "# The embedded model is exported as a llama.cpp server on 127.0.0.1:8000 with the app's model names:",
        "#   python -m llama_cpp.server --config_file <config naming smollm2-135m-instruct (+ the LoRA alias)>",
        "#",
        "# Not mapped to a promptfoo assertion, and why:",
    ]
    for what, why in NOT_MAPPED:
        lines.append(f"#   - {what}: {why}")
    return "\n".join(lines) + "\n"


def to_promptfoo_yaml(evaluation: Evaluation, endpoints: Mapping[str, Endpoint], *, description: str = "") -> str:
    """The YAML text of :func:`promptfoo_config`, with a header saying how to run it and what does not map."""
    cfg = promptfoo_config(evaluation, endpoints, description=description)
    n_pass = sum(1 for t in cfg["tests"] if t["metadata"]["app_passes"])
    body = yaml.dump(cfg, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)
    return _header(evaluation, len(cfg["tests"]), n_pass) + body


def promptfoo_results(output_json: str | bytes) -> list[dict[str, Any]]:
    """Rows ``{question_id, configuration, output, pass, facts, stale, style}`` from ``promptfoo eval -o x.json``."""
    raw = json.loads(output_json)
    results = raw.get("results", {})
    rows: Sequence[Any] = results.get("results", []) if isinstance(results, dict) else results
    out = []
    for r in rows:
        vars_ = r.get("vars") or (r.get("testCase") or {}).get("vars") or {}
        named = r.get("namedScores") or {}
        out.append(
            {
                "question_id": vars_.get("question_id"),
                "configuration": vars_.get("configuration"),
                "output": ((r.get("response") or {}).get("output")),
                "pass": bool(r.get("success")),
                "facts": named.get("facts"),
                "stale": named.get("stale"),
                "style": named.get("style"),
                # failureReason 1 = an assertion failed (its reason is in "error"), 2 = the call itself failed
                "error": r.get("error") if r.get("failureReason") == 2 else None,
            }
        )
    return out
