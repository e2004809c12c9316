"""Evaluation: question sets, scorers, runs, statistics, export.

- :mod:`~ragft.evaluation.questions`: question sets (JSONL/CSV parsing, typed errors);
- :mod:`~ragft.evaluation.scoring`: fact, style and hit@k scorers; :mod:`~ragft.evaluation.style`: the brand voice;
- :mod:`~ragft.evaluation.records`: scored records, per-configuration summaries, the chart's cost axis;
- :mod:`~ragft.evaluation.run`: :class:`Evaluation`, :func:`run_evaluation` and its background run;
- :mod:`~ragft.evaluation.stats`: 95% intervals (Wilson, bootstrap, Newcombe) and the exact McNemar test;
- :mod:`~ragft.evaluation.paired`: two configurations (or two runs) question by question;
- :mod:`~ragft.evaluation.grounding`: the offline groundedness check (figures and names found in the context);
- :mod:`~ragft.evaluation.judge`: the optional LLM judge of faithfulness (metered);
- :mod:`~ragft.evaluation.history`: runs saved per workspace, baselines, export and re-import;
- :mod:`~ragft.evaluation.drafting`: a question set drafted from uploaded documents by an endpoint model;
- :mod:`~ragft.evaluation.export`: evidence rows for the guide, CSV/JSON, the Markdown table;
- :mod:`~ragft.evaluation.wiring`: the app's models and retrieval without Streamlit (tests, benchmarks, scripts).
"""

from ragft.evaluation.export import (
    CSV_COLUMNS,
    all_pairs,
    evidence_rows,
    format_paired,
    format_table,
    ms,
    pct,
    summary_csv,
    to_csv,
    to_json,
)
from ragft.evaluation.fields import Confusion, FieldAccuracy, confusion, field_accuracy, field_names, json_validity
from ragft.evaluation.paired import PairedComparison, QuestionDiff, compare_records, compare_runs
from ragft.evaluation.questions import (
    DEFAULT_QUESTIONS,
    MAX_QUESTION_SET_BYTES,
    MAX_QUESTIONS,
    STYLES,
    QuestionSet,
    QuestionSetError,
    default_question_set,
    load_question_set,
    parse_question_set,
    preset_of,
    tickets_question_set,
)
from ragft.evaluation.records import (
    ConfigSummary,
    CostAxis,
    EvalRecord,
    cost_axis,
    is_paid,
    score_panel,
    summarise,
)
from ragft.evaluation.run import PROGRESS, EvalProgress, EvalRun, Evaluation, run_evaluation, start_evaluation
from ragft.evaluation.scoring import (
    FactScore,
    StyleScore,
    fact_found,
    fact_tokens,
    page_hit,
    retrieval_hit,
    score_facts,
    score_style,
)
from ragft.evaluation.stats import Interval, McNemar, bootstrap_mean, mcnemar_exact, paired_difference, wilson
from ragft.evaluation.wiring import standalone_wiring

__all__ = [
    "Confusion",
    "FieldAccuracy",
    "confusion",
    "field_accuracy",
    "field_names",
    "json_validity",
    "preset_of",
    "CSV_COLUMNS",
    "DEFAULT_QUESTIONS",
    "MAX_QUESTIONS",
    "MAX_QUESTION_SET_BYTES",
    "PROGRESS",
    "STYLES",
    "ConfigSummary",
    "CostAxis",
    "EvalProgress",
    "EvalRecord",
    "EvalRun",
    "Evaluation",
    "FactScore",
    "QuestionSet",
    "QuestionSetError",
    "StyleScore",
    "cost_axis",
    "default_question_set",
    "tickets_question_set",
    "evidence_rows",
    "fact_found",
    "fact_tokens",
    "format_table",
    "is_paid",
    "load_question_set",
    "page_hit",
    "parse_question_set",
    "pct",
    "retrieval_hit",
    "run_evaluation",
    "score_facts",
    "score_panel",
    "score_style",
    "standalone_wiring",
    "start_evaluation",
    "summarise",
    "to_csv",
    "to_json",
    "Interval",
    "McNemar",
    "PairedComparison",
    "QuestionDiff",
    "all_pairs",
    "bootstrap_mean",
    "compare_records",
    "compare_runs",
    "format_paired",
    "mcnemar_exact",
    "ms",
    "paired_difference",
    "summary_csv",
    "wilson",
]
