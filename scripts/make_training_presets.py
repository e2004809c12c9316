"""Write the Fine-tune page's JSON-ticket and persona presets (deterministic): assets/training/*.jsonl.

    python scripts/make_training_presets.py

- ``tickets.jsonl``: support tickets → ``{"category", "priority", "summary"}``: 20 intents in 4 wordings,
  240 training examples;
  ``tickets-heldout.jsonl``: 80 other tickets (one per intent and wording) with their expected JSON (the quick check and the benchmark);
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

# (category, priority, summary template, four wordings)
INTENTS = [
    (
        "billing",
        "high",
        "Double charge on order {order}",
        [
            "I was charged twice for order {order}. Please refund the second payment today.",
            "My card shows two payments for order {order}, I only placed it once.",
            "You took the money for {order} two times! Refund one of them now please.",
            "There are two identical charges on my statement for order {order}.",
        ],
    ),
    (
        "billing",
        "medium",
        "Wrong price on invoice for {product}",
        [
            "My invoice for order {order} shows the wrong price for the {product}.",
            "The {product} was on the site for less than what my invoice says.",
            "I paid more for the {product} than the price shown at checkout (order {order}).",
            "The amount billed for the {product} does not match the advertised price.",
        ],
    ),
    (
        "billing",
        "low",
        "Receipt copy for {product}",
        [
            "Can I get a copy of the receipt for my {product}? Need it for expenses.",
            "Could you email me an invoice for the {product} I bought? For my records.",
            "I lost the receipt for order {order}, can you send another one?",
            "Please send a VAT invoice for my {product} purchase, no rush.",
        ],
    ),
    (
        "billing",
        "medium",
        "Discount code not applied to {product}",
        [
            "The discount code did not apply when I bought the {product}. Can you fix it?",
            "My coupon was not taken off the total for order {order}.",
            "I entered the promo code at checkout but paid full price for the {product}.",
            "The 10% voucher from your newsletter did not work on the {product}.",
        ],
    ),
    (
        "shipping",
        "high",
        "Order {order} late before a trip",
        [
            "Order {order} was due a week ago and tracking has not moved. I leave on my trip Friday!",
            "My {product} still has not arrived and I need it for a hike this weekend. Order {order}.",
            "Tracking for {order} has been stuck for ten days, I depart in three days!",
            "Where is my package? Order {order} is very late and my expedition starts Monday.",
        ],
    ),
    (
        "shipping",
        "medium",
        "Change delivery address of {order}",
        [
            "Can you change the delivery address of order {order}? I moved last week.",
            "Please send order {order} to my work address instead of home.",
            "I typed the wrong street for order {order}, can the courier deliver elsewhere?",
            "Is it possible to redirect parcel {order} to a new address?",
        ],
    ),
    (
        "shipping",
        "low",
        "Shipping question about {product} to Canada",
        [
            "Do you ship the {product} to Canada, and how long does it take?",
            "How much is delivery of a {product} to Toronto?",
            "Can I order the {product} from Vancouver? What are the shipping times?",
            "Just wondering whether you deliver the {product} to Canada at some point.",
        ],
    ),
    (
        "shipping",
        "high",
        "{product} damaged in transit",
        [
            "The box for order {order} arrived crushed and the {product} inside is damaged.",
            "My {product} came broken, the parcel was torn open by the courier.",
            "Order {order} was delivered with the {product} smashed, the packaging was wet.",
            "The courier dropped the parcel and the {product} is bent. Order {order}.",
        ],
    ),
    (
        "returns",
        "medium",
        "Return of {product}: wrong size",
        [
            "I want to return the {product}, it is too small. How do I start a return?",
            "The {product} does not fit, I would like to send it back.",
            "How can I exchange the {product} for a bigger size? Order {order}.",
            "I need a return label for the {product}, it is the wrong size.",
        ],
    ),
    (
        "returns",
        "low",
        "Return window question for {product}",
        [
            "What is your return window for the {product}? I have not opened it yet.",
            "How many days do I have to send back the {product} if I change my mind?",
            "Until when can I return an unused {product}?",
            "Is there a time limit for returning the {product}? Still in its box.",
        ],
    ),
    (
        "returns",
        "high",
        "Refund missing for returned {product}",
        [
            "I sent back the {product} a month ago and still have no refund for order {order}.",
            "You received my returned {product} weeks ago but the money never came back.",
            "Still waiting for the refund of order {order}, the {product} was returned in October!",
            "My return of the {product} was delivered to you but no refund has been issued.",
        ],
    ),
    (
        "product",
        "high",
        "{product} failed on first use",
        [
            "My {product} broke on the first day of use. The seam split open in the rain.",
            "The {product} fell apart on my first trip, this is dangerous.",
            "First night out and the {product} failed completely. Unacceptable.",
            "The {product} stopped working the first time I used it on the trail.",
        ],
    ),
    (
        "product",
        "medium",
        "Winter suitability of {product}",
        [
            "Is the {product} suitable for winter camping below freezing?",
            "Can I use the {product} in snow at minus ten degrees?",
            "Would the {product} work for a winter trip in the mountains?",
            "How does the {product} perform in cold weather below zero?",
        ],
    ),
    (
        "product",
        "low",
        "Colour options for {product}",
        [
            "What colours does the {product} come in?",
            "Is the {product} available in green?",
            "Do you have the {product} in any other colour than black?",
            "Which colour choices are there for the {product}?",
        ],
    ),
    (
        "product",
        "medium",
        "Stuck zip on {product}: warranty",
        [
            "The zip on my {product} keeps getting stuck. Is that covered by the warranty?",
            "A buckle on my {product} snapped after a few months, will the warranty cover it?",
            "The zipper of the {product} jams all the time. Can I get it repaired under warranty?",
            "Does the warranty cover a broken zip on the {product}?",
        ],
    ),
    (
        "account",
        "high",
        "Locked out of account, order {order}",
        [
            "I cannot log in to my account and I need to check order {order} urgently.",
            "My password reset link does not work and I must see order {order} today.",
            "Locked out of my account! I need access now to track {order}.",
            "The site says my account is blocked and I urgently need my order {order} details.",
        ],
    ),
    (
        "account",
        "low",
        "Newsletter unsubscribe request",
        [
            "Please unsubscribe me from the newsletter.",
            "Stop sending me marketing emails, thanks.",
            "I no longer want the weekly newsletter, take me off the list.",
            "How do I opt out of your promotional mails?",
        ],
    ),
    (
        "account",
        "medium",
        "Change account email address",
        [
            "How do I change the email address on my account? I still get mails at the old one.",
            "I want to update the email linked to my customer account.",
            "My account still uses my old work email, can you switch it to my new one?",
            "Where can I edit the email address of my profile?",
        ],
    ),
    (
        "account",
        "medium",
        "Account and data deletion request",
        [
            "Please delete my account and the data you hold about me.",
            "I want my customer profile and personal data removed under GDPR.",
            "Close my account and erase all my personal information, please.",
            "Remove my account and every record you keep about me.",
        ],
    ),
    (
        "product",
        "low",
        "Care instructions for {product}",
        [
            "How should I wash the {product}?",
            "What is the best way to clean and store my {product}?",
            "Can the {product} go in the washing machine?",
            "Any care tips to make my {product} last longer?",
        ],
    ),
]
OPENERS = ["", "Hi, ", "Hello team, ", "Good morning. ", "Hey there! "]
CLOSERS = ["", " Thanks.", " Thank you!", " Regards, Sam", " Cheers, Alex", " Please help."]
PER_WORDING = 4  # tickets per (intent, wording): 3 for training, 1 held out


def tickets(seed: int) -> tuple[list[dict], list[dict]]:
    """(training, held out): every intent in every wording; held out: one ticket per (intent, wording), with
    products, order numbers, openers and closers drawn afresh (no held-out text occurs in the training set)."""
    rng = random.Random(seed)
    train: list[dict] = []
    held: list[dict] = []
    seen: set[str] = set()
    for cat, prio, summary, wordings in INTENTS:
        for w, text in enumerate(wordings):
            made = 0
            while made < PER_WORDING:
                product, order = rng.choice(PRODUCTS), rng.choice(ORDERS)
                ticket = rng.choice(OPENERS) + text.format(product=product, order=order) + rng.choice(CLOSERS)
                if ticket in seen:
                    continue
                seen.add(ticket)
                answer = {"category": cat, "priority": prio, "summary": summary.format(product=product, order=order)}
                (held if made == PER_WORDING - 1 else train).append(
                    {"ticket": ticket, "answer": answer, "intent": summary.split(" {")[0], "wording": w}
                )
                made += 1
    rng.shuffle(train)
    rng.shuffle(held)
    return train, held


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
    train, held = tickets(seed=2026)
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
                        "expected_fields": {
                            "category": t["answer"]["category"],
                            "priority": t["answer"]["priority"],
                        },
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
