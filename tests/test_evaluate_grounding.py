"""The offline groundedness check: figures and named entities of an answer found in the retrieved context."""

from __future__ import annotations

from ragft import evaluation as EV
from ragft.answering import compare as C
from ragft.evaluation.grounding import check_groundedness, extract_claims
from ragft.knowledge.retrieved import RetrievedChunk

CTX = (
    "Kestrel 2 Tent (SKU FH-T2). Price: $149.00. Weight: 1.8 kg. A light two-person tent from Fernhollow "
    "Outfitters. Returns within 45 days."
)
Q = "How much does the Kestrel 2 Tent cost?"


def test_a_grounded_answer_in_the_brand_voice_is_fully_supported():
    g = check_groundedness(
        "Howdy from Fernhollow!\n- The Kestrel 2 Tent costs $149.\nStay wild, the Fernhollow crew", CTX, Q
    )
    assert (g.stated, g.supported, g.score) == (1, 1, 1.0)  # greeting/sign-off and the asked-about name are no claims


def test_invented_figures_and_names_are_unsupported():
    g = check_groundedness(
        "The Kestrel 2 Tent costs $169 and weighs 2.1 kg. It is made by Acme Gear in Portland.", CTX, Q
    )
    assert set(g.unsupported) == {"$169", "2.1", "Acme Gear", "Portland"} and g.score == 0.0
    g2 = check_groundedness("It weighs 1.8 kilograms and costs 149 dollars; Fernhollow Outfitters makes it.", CTX, Q)
    assert g2.unsupported == () and g2.stated == 3  # spelling differences do not matter


def test_nothing_checkable_scores_none_and_names_are_not_split():
    assert check_groundedness("Sure! Great choice.", CTX, Q).score is None
    claims = extract_claims("The Lumen 400 Headlamp lasts 40 hours.", "")
    assert [(t, k) for t, k, _ in claims] == [("40", "figure"), ("Lumen 400 Headlamp", "entity")]
    assert check_groundedness("The Lumen 400 Headlamp costs $42.", CTX, Q).supported == 0


def test_score_panel_records_groundedness_for_rag_answers_only():
    q = EV.default_question_set().questions[0]
    chunk = RetrievedChunk(CTX, "catalogue.pdf", 1, 0.9, "c1")
    rag = C.PanelResult("base_rag", "Base + RAG", True)
    rag.phase, rag.text, rag.sources = C.DONE, "It costs $149, or $999 in Narnia.", (chunk,)
    rec = EV.score_panel(q, rag)
    assert (rec.claims_stated, rec.claims_supported) == (3, 1) and set(rec.unsupported_claims) == {"$999", "Narnia"}
    plain = C.PanelResult("base", "Base", False)
    plain.phase, plain.text = C.DONE, "It costs $999."
    assert EV.score_panel(q, plain).claims_stated is None
    back = EV.EvalRecord.from_dict(rec.to_dict())
    assert back == rec
    s = EV.summarise([rec], "base_rag")
    assert abs(s.groundedness - 1 / 3) < 1e-9 and s.to_dict()["intervals_95"]["groundedness"]["n"] == 1
