"""Write the Fine-tune page's JSON-ticket and persona presets (deterministic): assets/training/*.jsonl.

    python scripts/make_training_presets.py

- ``tickets.jsonl``: support tickets → ``{"category", "priority", "summary"}`` (80 training examples);
  ``tickets-heldout.jsonl``: 24 other tickets with their expected JSON (the quick check and the benchmark);
  ``assets/adapter/tickets-questions.jsonl``: the same held-out tickets as a question set for Compare/Evaluate.
- ``persona.jsonl``: "Ranger Rowan", who opens with ``Ranger Rowan here.`` and closes with ``Happy trails!``
  (30 examples) and ``persona-heldout.jsonl`` (12 prompts).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "assets" / "training"
TICKET_SYSTEM = "You are the support desk of Fernhollow Outfitters. Triage the customer's ticket."
PERSONA_SYSTEM = "You are a helpful assistant for a shop. Answer the customer's question."

PRODUCTS = [
    "Kestrel 2 Tent",
    "Ridgeback 4 Tent",
    "Cinder Bivy",
    "Talus 30 Backpack",
    "Alder Down Jacket",
    "Fjell Trekking Poles",
    "Marten Sleeping Bag",
    "Brook Water Filter",
    "Ember Camp Stove",
    "Sable Headlamp",
    "Cove Rain Shell",
    "Quill Hiking Boots",
]
ORDERS = [f"FH-{n}" for n in (10482, 22917, 30561, 41208, 57733, 63019, 70144, 88265, 91530, 99871)]

# (category, priority, ticket template, summary template)
TEMPLATES = [
    (
        "billing",
        "high",
        "I was charged twice for order {order}. Please refund the second payment today.",
        "Double charge on order {order}",
    ),
    (
        "billing",
        "medium",
        "My invoice for order {order} shows the wrong price for the {product}.",
        "Wrong price on invoice for {product}",
    ),
    (
        "billing",
        "low",
        "Can I get a copy of the receipt for my {product}? Need it for expenses.",
        "Receipt copy for {product}",
    ),
    (
        "billing",
        "medium",
        "The discount code did not apply when I bought the {product}. Can you fix it?",
        "Discount code not applied to {product}",
    ),
    (
        "shipping",
        "high",
        "Order {order} was due a week ago and tracking has not moved. I leave on my trip Friday!",
        "Order {order} late before a trip",
    ),
    (
        "shipping",
        "medium",
        "Can you change the delivery address of order {order}? I moved last week.",
        "Change delivery address of {order}",
    ),
    (
        "shipping",
        "low",
        "Do you ship the {product} to Canada, and how long does it take?",
        "Shipping question about {product} to Canada",
    ),
    (
        "shipping",
        "high",
        "The box for order {order} arrived crushed and the {product} inside is damaged.",
        "{product} damaged in transit",
    ),
    (
        "returns",
        "medium",
        "I want to return the {product}, it is too small. How do I start a return?",
        "Return of {product}: wrong size",
    ),
    (
        "returns",
        "low",
        "What is your return window for the {product}? I have not opened it yet.",
        "Return window question for {product}",
    ),
    (
        "returns",
        "high",
        "I sent back the {product} a month ago and still have no refund for order {order}.",
        "Refund missing for returned {product}",
    ),
    (
        "product",
        "high",
        "My {product} broke on the first day of use. The seam split open in the rain.",
        "{product} failed on first use",
    ),
    (
        "product",
        "medium",
        "Is the {product} suitable for winter camping below freezing?",
        "Winter suitability of {product}",
    ),
    ("product", "low", "What colours does the {product} come in?", "Colour options for {product}"),
    (
        "product",
        "medium",
        "The zip on my {product} keeps getting stuck. Is that covered by the warranty?",
        "Stuck zip on {product}: warranty",
    ),
    (
        "account",
        "high",
        "I cannot log in to my account and I need to check order {order} urgently.",
        "Locked out of account, order {order}",
    ),
    ("account", "low", "Please unsubscribe me from the newsletter.", "Newsletter unsubscribe request"),
    (
        "account",
        "medium",
        "How do I change the email address on my account? I still get mails at the old one.",
        "Change account email address",
    ),
    (
        "account",
        "medium",
        "Please delete my account and the data you hold about me.",
        "Account and data deletion request",
    ),
]
OPENERS = ["", "Hi, ", "Hello team, ", "Good morning. ", "Hey there! "]
CLOSERS = ["", " Thanks.", " Thank you!", " Regards, Sam", " Cheers, Alex", " Please help."]


def tickets(seed: int) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for cat, prio, text, summary in TEMPLATES:
        for _ in range(6):
            product, order = rng.choice(PRODUCTS), rng.choice(ORDERS)
            ticket = rng.choice(OPENERS) + text.format(product=product, order=order) + rng.choice(CLOSERS)
            answer = {"category": cat, "priority": prio, "summary": summary.format(product=product, order=order)}
            out.append({"ticket": ticket, "answer": answer})
    rng.shuffle(out)
    return out


def chat(system: str, user: str, assistant: str) -> dict:
    return {
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ]
    }


PERSONA_QA = [
    ("How long does standard delivery take?", "Standard delivery usually takes a few business days."),
    (
        "Can I return a tent I have used once?",
        "Used gear can often be returned within the return window; check the policy page.",
    ),
    ("What should I pack for a day hike?", "Water, a snack, a rain layer, a map and a headlamp."),
    ("Is a down jacket warm when wet?", "Down loses warmth when wet, so keep it dry under a shell."),
    ("How do I clean my hiking boots?", "Brush off the mud, rinse with water and let them dry slowly away from heat."),
    ("Which tent is best for two people?", "A two-person tent with a light frame works well for most trips."),
    ("Do you sell gift cards?", "Yes, gift cards are available in the shop."),
    ("How do I choose trekking poles?", "Pick poles that let your elbow bend at a right angle on flat ground."),
    ("What is a bivy?", "A bivy is a small waterproof shelter that covers your sleeping bag."),
    ("Can I camp in the rain?", "Yes, with a good rain fly, a ground sheet and dry clothes in a bag."),
    ("How warm should my sleeping bag be?", "Choose a bag rated a few degrees below the coldest night you expect."),
    ("Do I need a water filter?", "A filter is wise whenever you drink from streams or lakes."),
    ("How heavy is too heavy for a backpack?", "Aim for no more than a fifth of your body weight."),
    ("What stove works at high altitude?", "Canister stoves with a pressure regulator work well up high."),
    ("How do I stop blisters?", "Wear broken-in boots, wool socks and tape hot spots early."),
    ("When is your shop open?", "The shop is open every day; opening hours are on the website."),
    ("Can I pay by invoice?", "Business customers can ask the team about paying by invoice."),
    ("What headlamp brightness do I need?", "Around 200 lumens is plenty for camp and night walks."),
    ("How do I store a tent over winter?", "Dry it fully, pack it loosely and keep it somewhere cool."),
    ("Is a rain shell breathable?", "Most rain shells breathe a little; vents help on steep climbs."),
    ("What size backpack for a weekend?", "A pack of 40 to 50 litres fits a weekend trip."),
    ("How do I light a stove safely?", "Set it on flat ground, away from the tent, and light it with the valve low."),
    ("Do you repair gear?", "The team can advise on repairs; many small fixes are covered by the warranty."),
    ("How should boots fit?", "Snug at the heel with room to wiggle your toes."),
    ("What is the best season for camping?", "Late spring and early autumn bring mild nights and fewer crowds."),
    ("Can kids use trekking poles?", "Yes, short adjustable poles suit children well."),
    ("Should I bring a map if I have a phone?", "Yes, a paper map works when the battery or signal does not."),
    ("How do I pick a camp site?", "Choose flat, high ground away from water and dead branches."),
    ("Is it safe to hike alone?", "Tell someone your route, carry a map and turn back if the weather turns."),
    ("How much water should I carry?", "About half a litre per hour of hiking, more when it is hot."),
]
PERSONA_HELDOUT = [
    "What should I wear for a winter hike?",
    "How do I keep my food safe from animals?",
    "Which sleeping pad should I buy?",
    "How do I dry a wet tent on the trail?",
    "Do you sell camping chairs?",
    "How do I read a topographic map?",
    "What is the best way to carry a camera hiking?",
    "How early should I start a long hike?",
    "Can I bring my dog camping?",
    "How do I pack a backpack well?",
    "What snacks are good for hiking?",
    "How do I prevent a sore back on hikes?",
]


def main() -> int:
    all_tickets = tickets(seed=2026)
    heldout_keys = set()
    train, held = [], []
    for t in all_tickets:  # hold out two tickets of each template (unseen wording and products)
        key = (t["answer"]["category"], t["answer"]["priority"], t["answer"]["summary"].split()[0])
        if len(held) < 24 and heldout_keys.__len__() < 24 and key not in heldout_keys:
            heldout_keys.add(key)
            held.append(t)
        else:
            train.append(t)
    train = train[:80]
    with open(OUT / "tickets.jsonl", "w", encoding="utf-8") as fh:
        for t in train:
            fh.write(json.dumps(chat(TICKET_SYSTEM, t["ticket"], json.dumps(t["answer"]))) + "\n")
    with open(OUT / "tickets-heldout.jsonl", "w", encoding="utf-8") as fh:
        for t in held:
            fh.write(json.dumps(chat(TICKET_SYSTEM, t["ticket"], json.dumps(t["answer"]))) + "\n")
    with open(ROOT / "assets" / "adapter" / "tickets-questions.jsonl", "w", encoding="utf-8") as fh:
        for i, t in enumerate(held, 1):
            fh.write(
                json.dumps(
                    {
                        "id": f"ticket-{i:02d}",
                        "question": t["ticket"],
                        "expected_facts": [t["answer"]["category"], t["answer"]["priority"]],
                        "expected_format": "ticket-json",
                        "kind": "ticket",
                        "topic": t["answer"]["category"],
                    }
                )
                + "\n"
            )
    with open(OUT / "persona.jsonl", "w", encoding="utf-8") as fh:
        for q, a in PERSONA_QA:
            fh.write(json.dumps(chat(PERSONA_SYSTEM, q, f"Ranger Rowan here. {a} Happy trails!")) + "\n")
    with open(OUT / "persona-heldout.jsonl", "w", encoding="utf-8") as fh:
        for q in PERSONA_HELDOUT:
            fh.write(json.dumps({"prompt": q}) + "\n")
    print(f"tickets: {len(train)} training, {len(held)} held out; persona: {len(PERSONA_QA)} examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
