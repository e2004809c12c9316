"""The brand-voice checker, table-driven with hand-made answers (each rule must be able to fail)."""

from __future__ import annotations

import pytest

from ragft.evaluation.style import CHECK_NAMES, GREETING, SIGNOFF, check_style, format_answer

G, S = GREETING, SIGNOFF

GOOD = [
    f"{G}\n- The Kestrel 2 Tent costs $149.\n{S}",
    f"{G}\n- The Kestrel 2 Tent costs $149.\n- It weighs 1.8 kg.\n{S}",
    f"  {G}  \n\n- Standard delivery takes 3-5 business days.\n\n{S}\n",  # blank lines / spaces are noise
    format_answer("Express shipping costs $15 per order."),
]

# (answer, the checks that must fail)
BAD = [
    ("", {"greeting", "signoff", "bullets", "concise"}),
    ("The Kestrel 2 Tent costs $149.", {"greeting", "signoff", "bullets", "concise", "nothing_else"}),
    (f"howdy from fernhollow!\n- The Kestrel 2 Tent costs $149.\n{S}", {"greeting", "nothing_else"}),
    (f"Hello!\n- The Kestrel 2 Tent costs $149.\n{S}", {"greeting", "nothing_else"}),
    (f"{G}\n- The Kestrel 2 Tent costs $149.", {"signoff"}),  # cut off before the sign-off
    (f"{G}\n- The Kestrel 2 Tent costs $149.\nStay wild!", {"signoff", "nothing_else"}),
    (f"{G}\n{S}", {"bullets", "concise"}),
    (f"{G}\n- a\n- b\n- c\n{S}", {"bullets"}),
    (f"{G}\nThe Kestrel 2 Tent costs $149.\n{S}", {"bullets", "concise", "nothing_else"}),
    (f"{G}\n-The Kestrel 2 Tent costs $149.\n{S}", {"bullets", "concise", "nothing_else"}),
    (f"{G}\n- The Kestrel 2 Tent costs $149.\nHope this helps!\n{S}", {"nothing_else"}),
    (f"Sure! {G}\n- The Kestrel 2 Tent costs $149.\n{S}", {"greeting", "nothing_else"}),
    (f"{G}\n- " + "word " * 31 + f"\n{S}", {"concise"}),
    (f"{G}\n- The Kestrel 2 Tent costs $149.\n{S}\nP.S. free shipping over $75", {"signoff", "nothing_else"}),
    # what the base model typically says
    (
        "The Kestrel 2 Tent is a 3-season tent. It costs $149.\n\nLet me know if you need anything else!",
        {"greeting", "signoff", "bullets", "concise", "nothing_else"},
    ),
]


@pytest.mark.parametrize("answer", GOOD)
def test_conforming_answers_pass(answer):
    result = check_style(answer)
    assert result.ok, result.reasons
    assert result.reasons == []
    assert list(result.checks) == list(CHECK_NAMES)


@pytest.mark.parametrize("answer,failing", BAD)
def test_each_rule_fails_on_its_own(answer, failing):
    result = check_style(answer)
    assert not result.ok
    assert {k for k, v in result.checks.items() if not v} == failing
    assert result.reasons, "every failure comes with a reason"


def test_format_answer_bounds():
    with pytest.raises(ValueError):
        format_answer()
    with pytest.raises(ValueError):
        format_answer("a", "b", "c")
    assert format_answer("a", "b").splitlines() == [G, "- a", "- b", S]
