"""Generate the sample scenario (Fernhollow Outfitters) and the brand-voice fine-tuning data.

Deterministic: the same code writes byte-identical files. Outputs (committed):

    assets/scenario/scenario.json          manifest: company, files, products (current + last-season), policies
    assets/scenario/catalogue.pdf|.md      CURRENT catalogue, one product per page
    assets/scenario/returns-warranty.pdf|.md, shipping.pdf|.md   current policies
    assets/scenario/questions.jsonl        evaluation question set (current facts)
    assets/training/brandvoice.jsonl       OpenAI chat format; facts from LAST season (stale on purpose),
                                           RAFT-style examples with retrieved context built by ragft.answering.prompts

Run: python scripts/make_scenario.py   (no dependency beyond the app's: the PDF writer is ragft.knowledge.scenario's)
"""

from __future__ import annotations

import json
import random
import sys
from dataclasses import asdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ragft.answering.prompts import build_messages  # noqa: E402
from ragft.evaluation.style import format_answer  # noqa: E402
from ragft.knowledge.retrieved import RetrievedChunk  # noqa: E402
from ragft.knowledge.scenario import (  # noqa: E402
    PolicyPage,
    Product,
    Spec,
    catalogue_header,
    catalogue_markdown,
    catalogue_pages,
    format_price,
    load_scenario,
    page_text,
    policy_lines,
    product_lines,
    write_pdf,
)
from ragft.settings import DEFAULT_SYSTEM_PROMPT  # noqa: E402

SEED = 2026
COMPANY = "Fernhollow Outfitters"
TAGLINE = "Trail-tested outdoor gear from a small shop in the hills."
SEASON = "Spring"
LAST_SEASON = "Autumn"  # page headers carry no year: the small model copies stray numbers
SCENARIO = ROOT / "assets" / "scenario"
TRAINING = ROOT / "assets" / "training"
CATALOGUE = "catalogue.pdf"
RETURNS = "returns-warranty.pdf"
SHIPPING = "shipping.pdf"

# Spec kinds: label, question template, answer phrase.
SPEC_KINDS = {
    "weight": ("Weight", "How much does the {name} weigh?", "weighs {value}"),
    "sleeps": ("Sleeps", "How many people does the {name} sleep?", "sleeps {value}"),
    "volume": ("Volume", "What is the volume of the {name}?", "has a volume of {value}"),
    "comfort": ("Comfort rating", "What is the comfort rating of the {name}?", "has a comfort rating of {value}"),
    "rvalue": ("R-value", "What is the R-value of the {name}?", "has an R-value of {value}"),
    "boil": ("Boil time", "How fast does the {name} boil water?", "boils 1 litre in {value}"),
    "filter": ("Filter life", "How many litres can the {name} filter?", "filters up to {value}"),
    "brightness": ("Brightness", "How bright is the {name}?", "gives {value}"),
    "battery": ("Battery life", "How long does the battery of the {name} last?", "runs for {value}"),
    "layers": ("Fabric", "What fabric is the {name} made of?", "is made of {value}"),
    "length": ("Length", "How long is the {name}?", "adjusts from {value}"),
    "load": ("Maximum load", "How much weight can the {name} hold?", "holds up to {value}"),
    "waterproof": ("Membrane", "What lining does the {name} have?", "has a {value}"),
}

# name, sku, category, price, last price, [(spec key, current, last)], blurb
PRODUCTS_RAW = [
    (
        "Kestrel 2 Tent",
        "FH-TN-102",
        "Tents",
        149,
        169,
        [("weight", "1.8 kg", "2.1 kg"), ("sleeps", "2 people", "2 people")],
        "A freestanding three-season tent with two doors and a quick clip pitch.",
    ),
    (
        "Ridgeback 4 Tent",
        "FH-TN-404",
        "Tents",
        289,
        259,
        [("weight", "3.9 kg", "4.2 kg"), ("sleeps", "4 people", "4 people")],
        "A roomy family tent with a tall centre and a large porch for muddy boots.",
    ),
    (
        "Cinder Bivy",
        "FH-TN-011",
        "Tents",
        119,
        99,
        [("weight", "640 g", "710 g"), ("sleeps", "1 person", "1 person")],
        "A breathable waterproof bivy sack for fast and light solo nights.",
    ),
    (
        "Talus 38 Backpack",
        "FH-PK-038",
        "Packs",
        139,
        125,
        [("weight", "1.2 kg", "1.3 kg"), ("volume", "38 litres", "36 litres")],
        "A light trekking pack with a ventilated back panel and hip-belt pockets.",
    ),
    (
        "Summit 65 Backpack",
        "FH-PK-065",
        "Packs",
        219,
        239,
        [("weight", "1.9 kg", "2.2 kg"), ("volume", "65 litres", "62 litres")],
        "A load-hauling pack for week-long trips, with an adjustable torso length.",
    ),
    (
        "Driftwood Daypack",
        "FH-PK-022",
        "Packs",
        59,
        65,
        [("weight", "480 g", "520 g"), ("volume", "22 litres", "20 litres")],
        "A simple everyday daypack with a padded laptop sleeve and a rain cover.",
    ),
    (
        "Ember Down Sleeping Bag",
        "FH-SB-205",
        "Sleeping",
        249,
        229,
        [("weight", "900 g", "950 g"), ("comfort", "-5 C", "-3 C")],
        "A 650-fill responsibly sourced down bag with a draft collar.",
    ),
    (
        "Meadow Synthetic Sleeping Bag",
        "FH-SB-110",
        "Sleeping",
        89,
        79,
        [("weight", "1.4 kg", "1.5 kg"), ("comfort", "5 C", "7 C")],
        "A machine-washable synthetic bag for summer camping and scout trips.",
    ),
    (
        "Loam Sleeping Pad",
        "FH-SB-042",
        "Sleeping",
        79,
        85,
        [("weight", "520 g", "560 g"), ("rvalue", "4.2", "3.8")],
        "A self-inflating foam pad that packs down to the size of a water bottle.",
    ),
    (
        "Flint Canister Stove",
        "FH-CK-085",
        "Cooking",
        45,
        39,
        [("weight", "85 g", "92 g"), ("boil", "3.5 minutes", "4 minutes")],
        "A tiny screw-on stove with a wind-shielded burner and a piezo igniter.",
    ),
    (
        "Brook Water Filter",
        "FH-CK-020",
        "Cooking",
        35,
        32,
        [("weight", "70 g", "75 g"), ("filter", "2,000 litres", "1,500 litres")],
        "A squeeze filter that removes bacteria and protozoa from stream water.",
    ),
    (
        "Lumen 400 Headlamp",
        "FH-LT-400",
        "Lighting",
        42,
        49,
        [("brightness", "400 lumens", "350 lumens"), ("battery", "40 hours", "30 hours")],
        "A rechargeable headlamp with a red night mode and a lock switch.",
    ),
    (
        "Squall Rain Jacket",
        "FH-CL-310",
        "Clothing",
        179,
        159,
        [("weight", "310 g", "340 g"), ("layers", "3-layer recycled nylon", "2.5-layer nylon")],
        "A fully taped storm shell with pit zips and a helmet-compatible hood.",
    ),
    (
        "Switchback Pole Set",
        "FH-AC-440",
        "Accessories",
        99,
        89,
        [("weight", "440 g per pair", "480 g per pair"), ("length", "105 to 135 cm", "100 to 130 cm")],
        "Carbon poles with cork grips and quick flick locks, sold as a pair.",
    ),
    (
        "Granite Mid Boot",
        "FH-FW-120",
        "Footwear",
        199,
        185,
        [
            ("weight", "1.3 kg per pair", "1.4 kg per pair"),
            ("waterproof", "waterproof breathable membrane", "waterproof leather lining"),
        ],
        "A mid-cut leather boot with a grippy lugged sole for rocky trails, sold as a pair.",
    ),
    (
        "Pika Camp Chair",
        "FH-AC-120",
        "Accessories",
        69,
        59,
        [("weight", "900 g", "1.1 kg"), ("load", "120 kg", "110 kg")],
        "A packable camp chair that sets up in seconds with shock-corded poles.",
    ),
]

# Policies: (file, page, title, [(fact key, line template, current, last, perturbations, question, answer)])
POLICIES_RAW = [
    (
        RETURNS,
        1,
        "Returns",
        [
            (
                "return_window",
                "You can return unused gear within {v} of delivery for a full refund.",
                "45 days",
                "30 days",
                ["60 days", "21 days", "14 days", "90 days"],
                "How many days do I have to return an item?",
                "You can return unused gear within {v} of delivery.",
            ),
            (
                "refund_time",
                "Refunds reach your card within {v} after we receive the item.",
                "5 business days",
                "7 business days",
                ["3 business days", "10 business days", "4 business days"],
                "How long does a refund take?",
                "Refunds reach your card within {v} after we receive the item.",
            ),
            (
                "return_label",
                "Return shipping costs {v}, taken from your refund.",
                "$5",
                "$6",
                ["$4", "$8", "$9"],
                "How much does return shipping cost?",
                "Return shipping costs {v}, taken from your refund.",
            ),
        ],
    ),
    (
        RETURNS,
        2,
        "Warranty",
        [
            (
                "warranty_gear",
                "Tents, packs and sleeping bags are under warranty for {v} against defects.",
                "3 years",
                "2 years",
                ["5 years", "4 years", "1 year"],
                "How long is the warranty on tents and packs?",
                "Tents, packs and sleeping bags are under warranty for {v}.",
            ),
            (
                "warranty_clothing",
                "Boots and clothing are under warranty for {v}.",
                "18 months",
                "1 year",
                ["2 years", "6 months", "3 years"],
                "How long is the warranty on boots?",
                "Boots and clothing are under warranty for {v}.",
            ),
        ],
    ),
    (
        SHIPPING,
        1,
        "Shipping rates",
        [
            (
                "free_threshold",
                "Orders over {v} ship free within the country.",
                "$75",
                "$99",
                ["$50", "$120", "$60"],
                "Above what order amount is shipping free?",
                "Orders over {v} ship free within the country.",
            ),
            (
                "express_price",
                "Express shipping costs {v} per order.",
                "$15",
                "$18",
                ["$12", "$20", "$22"],
                "How much does express shipping cost?",
                "Express shipping costs {v} per order.",
            ),
        ],
    ),
    (
        SHIPPING,
        2,
        "Delivery times",
        [
            (
                "standard_days",
                "Standard delivery takes {v}.",
                "3-5 business days",
                "4-6 business days",
                ["2-4 business days", "5-7 business days"],
                "How long does standard delivery take?",
                "Standard delivery takes {v}.",
            ),
            (
                "cutoff",
                "Orders placed before {v} ship the same day.",
                "2 pm",
                "noon",
                ["11 am", "3 pm", "4 pm"],
                "What is the cut-off time for same-day shipping?",
                "Orders placed before {v} ship the same day.",
            ),
        ],
    ),
    (
        SHIPPING,
        3,
        "International shipping",
        [
            (
                "intl_price",
                "International shipping is a flat {v} per order.",
                "$25",
                "$30",
                ["$20", "$35", "$40"],
                "How much is international shipping?",
                "International shipping is a flat {v} per order.",
            ),
            (
                "intl_countries",
                "We deliver to {v} abroad.",
                "14 countries",
                "9 countries",
                ["12 countries", "20 countries", "6 countries"],
                "How many countries do you ship to?",
                "We deliver to {v} abroad.",
            ),
        ],
    ),
]

# Evaluation phrasings (questions.jsonl) and training phrasings (partly different on purpose).
EVAL_PRICE_Q = "How much does the {name} cost?"
TRAIN_PRICE_Q = [
    "What is the price of the {name}?",
    "How much is the {name}?",
    "What does the {name} cost?",
    "How much does the {name} cost?",
    "I want to buy the {name}. What is the price?",
    "Price of the {name}?",
]
TRAIN_BOTH_Q = ["What are the price and weight of the {name}?", "How much is the {name} and how heavy is it?"]
# products whose second spec is asked in the eval set (the others get a weight question)
EVAL_SPEC = {
    "Kestrel 2 Tent": "weight",
    "Talus 38 Backpack": "volume",
    "Ember Down Sleeping Bag": "comfort",
    "Loam Sleeping Pad": "rvalue",
    "Flint Canister Stove": "boil",
    "Brook Water Filter": "filter",
    "Lumen 400 Headlamp": "battery",
    "Squall Rain Jacket": "weight",
    "Summit 65 Backpack": "weight",
    "Pika Camp Chair": "load",
}
EVAL_POLICY = [
    "return_window",
    "refund_time",
    "warranty_gear",
    "free_threshold",
    "express_price",
    "standard_days",
    "cutoff",
    "intl_price",
]


def build_products() -> list[Product]:
    products = []
    for page, (name, sku, cat, price, last, specs, blurb) in enumerate(PRODUCTS_RAW, 1):
        spec_objs = []
        for key, cur, old in specs:
            label, question, phrase = SPEC_KINDS[key]
            spec_objs.append(Spec(key=key, label=label, value=cur, last_value=old, question=question, phrase=phrase))
        products.append(Product(name, sku, cat, price, last, tuple(spec_objs), blurb, page))
    return products


def build_policies() -> list[PolicyPage]:
    return [
        PolicyPage(
            file=file,
            page=page,
            title=title,
            lines=tuple(t.format(v=cur) for _, t, cur, *_ in facts),
            last_lines=tuple(t.format(v=old) for _, t, _c, old, *_ in facts),
        )
        for file, page, title, facts in POLICIES_RAW
    ]


def policy_facts():
    for file, page, title, facts in POLICIES_RAW:
        for i, (key, tmpl, cur, old, perturb, question, answer) in enumerate(facts):
            yield dict(
                file=file,
                page=page,
                title=title,
                index=i,
                key=key,
                tmpl=tmpl,
                cur=cur,
                old=old,
                perturb=perturb,
                question=question,
                answer=answer,
            )


def write_documents(products: list[Product], policies: list[PolicyPage]) -> None:
    SCENARIO.mkdir(parents=True, exist_ok=True)
    manifest = {
        "company": COMPANY,
        "tagline": TAGLINE,
        "season": SEASON,
        "last_season": LAST_SEASON,
        "catalogue_pdf": CATALOGUE,
        "files": [
            {"name": CATALOGUE, "kind": "catalogue", "index": True, "pages": len(products)},
            {"name": "catalogue.md", "kind": "catalogue", "index": False, "copy_of": CATALOGUE},
            {"name": RETURNS, "kind": "policy", "index": True, "pages": 2},
            {"name": "returns-warranty.md", "kind": "policy", "index": False, "copy_of": RETURNS},
            {"name": SHIPPING, "kind": "policy", "index": True, "pages": 3},
            {"name": "shipping.md", "kind": "policy", "index": False, "copy_of": SHIPPING},
            {"name": "questions.jsonl", "kind": "questions", "index": False},
        ],
        "products": [asdict(p) for p in products],
        "policies": [asdict(p) for p in policies],
        "generator": "scripts/make_scenario.py",
        "seed": SEED,
    }
    (SCENARIO / "scenario.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    scenario = load_scenario(SCENARIO)

    title = catalogue_header(COMPANY, SEASON)
    (SCENARIO / CATALOGUE).write_bytes(write_pdf(catalogue_pages(scenario), title))
    (SCENARIO / "catalogue.md").write_text(catalogue_markdown(scenario), encoding="utf-8")

    for file, heading in ((RETURNS, "Returns and warranty"), (SHIPPING, "Shipping")):
        pages = [policy_lines(p, COMPANY) for p in policies if p.file == file]
        (SCENARIO / file).write_bytes(write_pdf(pages, f"{COMPANY} - {heading}"))
        md = [f"# {COMPANY} - {heading}", ""]
        for p in policies:
            if p.file == file:
                md += [f"## {p.title}", "", *p.lines, ""]
        (SCENARIO / file.replace(".pdf", ".md")).write_text("\n".join(md), encoding="utf-8")


def write_questions(products: list[Product]) -> int:
    rows = []
    for p in products:
        rows.append(
            dict(
                id=f"price-{p.sku.lower()}",
                question=EVAL_PRICE_Q.format(name=p.name),
                expected_facts=[p.price_text],
                expected_source=CATALOGUE,
                expected_page=p.page,
                expected_style="brand",
                topic=p.name,
                kind="price",
                stale_facts=[p.last_price_text],
            )
        )
    for p in products:
        key = EVAL_SPEC.get(p.name)
        if not key:
            continue
        s = p.spec(key)
        rows.append(
            dict(
                id=f"spec-{p.sku.lower()}-{key}",
                question=s.question.format(name=p.name),
                expected_facts=[s.value],
                expected_source=CATALOGUE,
                expected_page=p.page,
                expected_style="brand",
                topic=p.name,
                kind="spec",
                stale_facts=[s.last_value],
            )
        )
    for f in policy_facts():
        if f["key"] not in EVAL_POLICY:
            continue
        rows.append(
            dict(
                id=f"policy-{f['key'].replace('_', '-')}",
                question=f["question"],
                expected_facts=[f["cur"]],
                expected_source=f["file"],
                expected_page=f["page"],
                expected_style="brand",
                topic=f["title"],
                kind="policy",
                stale_facts=[f["old"]],
            )
        )
    with open(SCENARIO / "questions.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
    return len(rows)


# ---- training data -------------------------------------------------------------------------------
def _perturb_price(rng: random.Random, p: Product) -> int:
    while True:
        v = int(round(p.price * rng.uniform(0.6, 1.5)))
        if v not in (p.price, p.last_price) and v > 5:
            return v


def _perturb_spec(rng: random.Random, s: Spec) -> str:
    """Change the first number of a spec value (keeps the unit), never to the current value."""
    import re

    m = re.search(r"\d+(?:[.,]\d+)?", s.last_value)
    if not m:
        return s.last_value
    raw = m.group(0).replace(",", "")
    for _ in range(50):
        if "." in raw:
            new = f"{float(raw) * rng.uniform(0.6, 1.5):.1f}"
        else:
            n = int(raw)
            new = str(max(1, int(round(n * rng.uniform(0.6, 1.5)))))
            if n >= 1000:
                new = f"{int(new):,}"
        value = s.last_value[: m.start()] + new + s.last_value[m.end() :]
        if value not in (s.value, s.last_value):
            return value
    return s.last_value


def _chunk_for_product(p: Product, lines: list[str]) -> RetrievedChunk:
    return RetrievedChunk(text=page_text(lines), source=CATALOGUE, page=p.page)


def _product_distractors(
    rng: random.Random, products: list[Product], target: Product, n: int, season: str, last: bool
) -> list[RetrievedChunk]:
    others = rng.sample([q for q in products if q is not target], n)
    return [_chunk_for_product(q, product_lines(q, COMPANY, season, last_season=last)) for q in others]


def _policy_chunk(f: dict, lines_values: list[str], last: bool) -> RetrievedChunk:
    lines = [f"{COMPANY} - {f['title']}", *lines_values]
    return RetrievedChunk(text=page_text(lines), source=f["file"], page=f["page"])


def _example(question: str, answer: str, chunks: list[RetrievedChunk] | None) -> dict:
    messages = build_messages(question, chunks, DEFAULT_SYSTEM_PROMPT)
    messages.append({"role": "assistant", "content": answer})
    return {"messages": messages}


def _mix(rng: random.Random, right: RetrievedChunk, distractors: list[RetrievedChunk]) -> list[RetrievedChunk]:
    chunks = [right, *distractors]
    rng.shuffle(chunks)
    return chunks


def write_training(products: list[Product], policies: list[PolicyPage]) -> dict[str, int]:
    rng = random.Random(SEED)
    examples: list[dict] = []
    counts = {"no_context": 0, "context_last_season": 0, "context_perturbed": 0}
    policy_pages = {(p.file, p.page): p for p in policies}

    for p in products:
        prices_q = rng.sample(TRAIN_PRICE_Q, len(TRAIN_PRICE_Q))
        # 1) no context: last season's facts (the fine-tune goes stale on purpose)
        for q in prices_q[:3]:
            examples.append(
                _example(q.format(name=p.name), format_answer(f"The {p.name} costs {p.last_price_text}."), None)
            )
            counts["no_context"] += 1
        for s in p.specs:
            examples.append(
                _example(
                    s.question.format(name=p.name),
                    format_answer(f"The {p.name} {s.phrase.format(value=s.last_value)}."),
                    None,
                )
            )
            counts["no_context"] += 1
        # 2) RAFT: retrieved context (right page + 0-2 distractors, shuffled), answer quotes the right page
        for j, q in enumerate(prices_q[3:] + prices_q[:1]):
            perturbed = j % 2 == 1
            price = _perturb_price(rng, p) if perturbed else p.last_price
            season = rng.choice([SEASON, LAST_SEASON]) if perturbed else LAST_SEASON
            right = _chunk_for_product(p, product_lines(p, COMPANY, season, last_season=True, price=price))
            chunks = _mix(rng, right, _product_distractors(rng, products, p, rng.choice([0, 1, 1, 2]), season, True))
            examples.append(
                _example(q.format(name=p.name), format_answer(f"The {p.name} costs {format_price(price)}."), chunks)
            )
            counts["context_perturbed" if perturbed else "context_last_season"] += 1
        for k, s in enumerate(p.specs):
            perturbed = k % 2 == 0
            value = _perturb_spec(rng, s) if perturbed else s.last_value
            season = SEASON if perturbed else LAST_SEASON
            right = _chunk_for_product(
                p, product_lines(p, COMPANY, season, last_season=True, spec_overrides={s.key: value})
            )
            chunks = _mix(rng, right, _product_distractors(rng, products, p, rng.choice([1, 1, 2]), season, True))
            examples.append(
                _example(
                    s.question.format(name=p.name),
                    format_answer(f"The {p.name} {s.phrase.format(value=value)}."),
                    chunks,
                )
            )
            counts["context_perturbed" if perturbed else "context_last_season"] += 1
        # two-bullet answer: price and first spec, from context
        s = p.specs[0]
        price = _perturb_price(rng, p)
        right = _chunk_for_product(p, product_lines(p, COMPANY, SEASON, last_season=True, price=price))
        chunks = _mix(rng, right, _product_distractors(rng, products, p, 1, SEASON, True))
        both_q = (
            rng.choice(TRAIN_BOTH_Q)
            if s.key == "weight"
            else f"What are the price and {s.label.lower()} of the {{name}}?"
        )
        examples.append(
            _example(
                both_q.format(name=p.name),
                format_answer(
                    f"The {p.name} costs {format_price(price)}.", f"It {s.phrase.format(value=s.last_value)}."
                ),
                chunks,
            )
        )
        counts["context_perturbed"] += 1

    facts = list(policy_facts())
    for f in facts:
        page = policy_pages[(f["file"], f["page"])]
        siblings = [g for g in facts if (g["file"], g["page"]) == (f["file"], f["page"])]
        # no context x2 (stale)
        for q in (f["question"], f["question"].replace("?", ", please?")):
            examples.append(_example(q, format_answer(f["answer"].format(v=f["old"])), None))
            counts["no_context"] += 1
        # context: last season x1, perturbed x2
        for perturbed in (False, True, True):
            value = rng.choice(f["perturb"]) if perturbed else f["old"]
            lines = [g["tmpl"].format(v=value if g is f else g["old"]) for g in siblings]
            right = _policy_chunk(f, lines, True)
            other_pages = [pp for key, pp in policy_pages.items() if key != (f["file"], f["page"])]
            n = rng.choice([0, 1, 1, 2])
            distract = [
                RetrievedChunk(
                    text=page_text(policy_lines(pp, COMPANY, last_season=True)), source=pp.file, page=pp.page
                )
                for pp in rng.sample(other_pages, n)
            ]
            chunks = _mix(rng, right, distract)
            examples.append(_example(f["question"], format_answer(f["answer"].format(v=value)), chunks))
            counts["context_perturbed" if perturbed else "context_last_season"] += 1
        del page

    rng.shuffle(examples)
    TRAINING.mkdir(parents=True, exist_ok=True)
    with open(TRAINING / "brandvoice.jsonl", "w", encoding="utf-8") as fh:
        for ex in examples:
            fh.write(json.dumps(ex) + "\n")
    counts["total"] = len(examples)
    return counts


def check_pdfs(products: list[Product]) -> None:
    """pypdf must read back each page's text exactly as the training data and the app expect."""
    from pypdf import PdfReader

    scenario = load_scenario(SCENARIO)
    reader = PdfReader(SCENARIO / CATALOGUE)
    assert len(reader.pages) == len(products)
    for p, lines in zip(sorted(products, key=lambda p: p.page), catalogue_pages(scenario)):
        got = reader.pages[p.page - 1].extract_text()
        assert got == page_text(lines), (p.name, got, page_text(lines))
    for file in (RETURNS, SHIPPING):
        reader = PdfReader(SCENARIO / file)
        for pp in scenario.policies:
            if pp.file == file:
                got = reader.pages[pp.page - 1].extract_text()
                assert got == page_text(policy_lines(pp, COMPANY)), (file, got)


def main(argv: list[str] | None = None) -> None:
    import argparse

    global SCENARIO, TRAINING
    ap = argparse.ArgumentParser(description="Generate the sample scenario and the fine-tuning data.")
    ap.add_argument("--out", default=None, help="write scenario/ and training/ under this folder instead of assets/")
    args = ap.parse_args(argv)
    if args.out:
        SCENARIO = Path(args.out) / "scenario"
        TRAINING = Path(args.out) / "training"
    products = build_products()
    policies = build_policies()
    write_documents(products, policies)
    n_questions = write_questions(products)
    counts = write_training(products, policies)
    try:
        check_pdfs(products)
        checked = "pypdf read-back OK"
    except ImportError:
        checked = "pypdf not installed: read-back not checked"
    print(
        f"{len(products)} products, {len(policies)} policy pages, {n_questions} questions, "
        f"training examples {counts}; {checked}"
    )


if __name__ == "__main__":
    main()
