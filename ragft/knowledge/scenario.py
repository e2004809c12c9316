"""The sample scenario: Fernhollow Outfitters, a fictional outdoor-gear shop.

``assets/scenario/scenario.json`` (written by ``scripts/make_scenario.py``) is the manifest: the company,
the files, every product with its current and last-season price and specs, and the policies. This module
loads it and the question set, renders catalogue pages exactly as the generator does, and serves the
freshness demo ("change the price of X"): a new catalogue PDF in which only that product's page differs.

PDFs are written by a tiny built-in writer (Helvetica, one text object per line), so the app can rebuild
a document at run time without any PDF-writing dependency; pypdf reads them back line for line.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ragft.errors import RagftError
from ragft.paths import SCENARIO_DIR


class ScenarioError(RagftError):
    hint = "Regenerate the sample with `python scripts/make_scenario.py`."


# ---- data -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    key: str  # "weight", "capacity", ...
    label: str  # "Weight"
    value: str  # "1.8 kg" (current)
    last_value: str  # last season's value
    question: str  # "How much does the {name} weigh?"
    phrase: str  # "weighs {value}"


@dataclass(frozen=True)
class Product:
    name: str
    sku: str
    category: str
    price: int  # current price, whole dollars
    last_price: int  # last season's price
    specs: tuple[Spec, ...]
    blurb: str
    page: int  # 1-based page in the catalogue PDF

    @property
    def price_text(self) -> str:
        return format_price(self.price)

    @property
    def last_price_text(self) -> str:
        return format_price(self.last_price)

    def spec(self, key: str) -> Spec:
        for s in self.specs:
            if s.key == key:
                return s
        raise KeyError(key)


@dataclass(frozen=True)
class PolicyPage:
    file: str  # pdf file name
    page: int
    title: str
    lines: tuple[str, ...]  # current text lines (after the title)
    last_lines: tuple[str, ...]  # last season's text lines


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    expected_facts: tuple[str, ...]
    expected_source: str
    expected_style: str = "brand"  # "brand" or "any"
    expected_page: int | None = None
    topic: str = ""  # product name or policy title
    kind: str = ""  # "price", "spec" or "policy"
    stale_facts: tuple[str, ...] = ()  # last season's value of the same fact
    expected_fields: tuple[tuple[str, str], ...] = ()  # labelled fields of a JSON answer: (name, value)


@dataclass(frozen=True)
class Scenario:
    company: str
    tagline: str
    season: str
    last_season: str
    catalogue_pdf: str
    products: tuple[Product, ...]
    policies: tuple[PolicyPage, ...]
    files: tuple[dict[str, Any], ...]
    directory: Path = field(default=SCENARIO_DIR, compare=False)

    @property
    def index_files(self) -> list[Path]:
        """The documents to index as the shared sample collection (the PDFs; the Markdown are copies)."""
        return [self.directory / f["name"] for f in self.files if f.get("index")]

    def product(self, name: str) -> Product:
        wanted = _norm(name)
        for p in self.products:
            if _norm(p.name) == wanted or p.sku.lower() == name.strip().lower():
                return p
        raise ScenarioError(f"No product called {name!r} in the {self.company} catalogue.")


def format_price(dollars: int | float | Decimal) -> str:
    value = Decimal(str(dollars))
    return f"${value:,.0f}" if value == value.to_integral_value() else f"${value:,.2f}"


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.strip().lower())


# ---- loading ----------------------------------------------------------------------------------------
def load_scenario(directory: Path | str = SCENARIO_DIR) -> Scenario:
    directory = Path(directory)
    path = directory / "scenario.json"
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"The sample scenario manifest {path} is missing.") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"The sample scenario manifest {path} is not valid JSON ({exc.msg}).") from None
    products = tuple(
        Product(
            name=p["name"],
            sku=p["sku"],
            category=p["category"],
            price=p["price"],
            last_price=p["last_price"],
            specs=tuple(Spec(**s) for s in p["specs"]),
            blurb=p["blurb"],
            page=p["page"],
        )
        for p in raw["products"]
    )
    policies = tuple(
        PolicyPage(
            file=p["file"],
            page=p["page"],
            title=p["title"],
            lines=tuple(p["lines"]),
            last_lines=tuple(p["last_lines"]),
        )
        for p in raw["policies"]
    )
    return Scenario(
        company=raw["company"],
        tagline=raw["tagline"],
        season=raw["season"],
        last_season=raw["last_season"],
        catalogue_pdf=raw["catalogue_pdf"],
        products=products,
        policies=policies,
        files=tuple(raw["files"]),
        directory=directory,
    )


def load_questions(path: Path | str | None = None) -> list[Question]:
    """Read a question set (JSONL). Required fields: id, question, expected_facts; the rest optional."""
    path = Path(path) if path is not None else SCENARIO_DIR / "questions.jsonl"
    questions: list[Question] = []
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(f"The question set {path} is missing.") from None
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            facts = row["expected_facts"]
            if isinstance(facts, str):
                facts = [facts]
            questions.append(
                Question(
                    id=str(row["id"]),
                    question=str(row["question"]),
                    expected_facts=tuple(str(f) for f in facts),
                    expected_source=str(row.get("expected_source", "")),
                    expected_style=str(row.get("expected_style", "any")),
                    expected_page=row.get("expected_page"),
                    topic=str(row.get("topic", "")),
                    kind=str(row.get("kind", "")),
                    stale_facts=tuple(str(f) for f in row.get("stale_facts", ())),
                )
            )
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ScenarioError(f"{path.name} line {n} is not a valid question ({exc}).") from None
    return questions


# ---- page text ------------------------------------------------------------------------------------
def catalogue_header(company: str, season: str) -> str:
    return f"{company} - {season} Catalogue"


def product_lines(
    product: Product,
    company: str,
    season: str,
    *,
    last_season: bool = False,
    price: int | None = None,
    spec_overrides: dict[str, str] | None = None,
) -> list[str]:
    """The text lines of one catalogue page (one product per page).

    Facts are written as full sentences naming the product ("The Kestrel 2 Tent costs $149."): measured
    with the 135M model, this binds each price to its product better than a "Price: $149" field does
    (13/16 vs 11/16 prices right with the page alone as context), which matters when a distractor page
    sits next to it in the context.

    ``last_season=True`` renders last season's price and specs; ``price``/``spec_overrides`` replace
    values (the freshness demo and the perturbed training contexts).
    """
    if price is None:
        price = product.last_price if last_season else product.price
    overrides = spec_overrides or {}
    lines = [
        catalogue_header(company, season),
        product.name,
        f"The {product.name} costs {format_price(price)}.",
    ]
    for s in product.specs:
        value = overrides.get(s.key, s.last_value if last_season else s.value)
        lines.append(f"The {product.name} {s.phrase.format(value=value)}.")
    lines.append(product.blurb)
    lines.append(f"SKU: {product.sku} | Category: {product.category}")
    return lines


def policy_lines(policy: PolicyPage, company: str, *, last_season: bool = False) -> list[str]:
    return [f"{company} - {policy.title}", *(policy.last_lines if last_season else policy.lines)]


def page_text(lines: Sequence[str]) -> str:
    """The text pypdf extracts from a page written by :func:`write_pdf` (one line per text line)."""
    out: list[str] = []
    for i, line in enumerate(lines):
        out.extend(_wrap(line) if i else [line])
    return "\n".join(out)


# ---- a minimal PDF writer -------------------------------------------------------------------------
_PAGE_W, _PAGE_H = 595, 842  # A4 in points
_MARGIN_X, _TOP = 56, 780


def _pdf_escape(text: str) -> str:
    text = text.encode("cp1252", errors="replace").decode("latin-1")
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def _wrap(text: str, width: int = 88) -> list[str]:
    words, lines, current = text.split(), [], ""
    for w in words:
        if current and len(current) + 1 + len(w) > width:
            lines.append(current)
            current = w
        else:
            current = f"{current} {w}".strip()
    if current:
        lines.append(current)
    return lines or [""]


def write_pdf(pages: Sequence[Sequence[str]], title: str = "") -> bytes:
    """A small, deterministic PDF: each page's first line as a heading, the others as body text.

    Long lines are wrapped at about 88 characters. Only cp1252 characters are representable.
    """
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog_id = add(b"")  # placeholder, filled below
    pages_id = add(b"")
    font_regular = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    font_bold = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>")
    page_ids: list[int] = []
    for page_lines in pages:
        ops: list[str] = ["BT"]
        y = _TOP
        for i, line in enumerate(page_lines):
            size, font = (13, "F2") if i == 0 else (11, "F1")
            for part in _wrap(line) if i else [line]:
                ops.append(f"/{font} {size} Tf 1 0 0 1 {_MARGIN_X} {y} Tm ({_pdf_escape(part)}) Tj")
                y -= 22 if i == 0 else 16
        ops.append("ET")
        stream = "\n".join(ops).encode("latin-1")
        content_id = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(
            add(
                (
                    f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {_PAGE_W} {_PAGE_H}] "
                    f"/Resources << /Font << /F1 {font_regular} 0 R /F2 {font_bold} 0 R >> >> "
                    f"/Contents {content_id} 0 R >>"
                ).encode("latin-1")
            )
        )
    kids = " ".join(f"{p} 0 R" for p in page_ids)
    objects[pages_id - 1] = f"<< /Type /Pages /Kids [{kids}] /Count {len(page_ids)} >>".encode("latin-1")
    objects[catalog_id - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode("latin-1")
    info_id = add(f"<< /Title ({_pdf_escape(title)}) /Producer (ragft.scenario) >>".encode("latin-1"))

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % n + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        catalog_id,
        info_id,
        xref,
    )
    return bytes(out)


def catalogue_pages(
    scenario: Scenario, prices: dict[str, int] | None = None, *, last_season: bool = False
) -> list[list[str]]:
    """Every catalogue page's lines, in page order, with optional price changes by product name."""
    prices = {_norm(k): v for k, v in (prices or {}).items()}
    season = scenario.last_season if last_season else scenario.season
    return [
        product_lines(p, scenario.company, season, last_season=last_season, price=prices.get(_norm(p.name)))
        for p in sorted(scenario.products, key=lambda p: p.page)
    ]


def catalogue_markdown(scenario: Scenario, prices: dict[str, int] | None = None) -> str:
    out = [f"# {catalogue_header(scenario.company, scenario.season)}", "", f"_{scenario.tagline}_", ""]
    for lines in catalogue_pages(scenario, prices):
        out += [f"## {lines[1]}", ""]
        out += [f"- {line}" for line in lines[2:-2]]
        out += ["", lines[-2], "", f"_{lines[-1]}_", ""]
    return "\n".join(out)


# ---- freshness demo -----------------------------------------------------------------------------
@dataclass(frozen=True)
class CatalogueUpdate:
    """A catalogue with one price changed: what to re-index and what the RAG panels should now say."""

    product: str
    old_price: int
    new_price: int
    file_name: str  # same file name as the catalogue it replaces
    page: int
    page_text: str  # the changed page, as pypdf extracts it
    pdf: bytes  # the whole new catalogue
    markdown: str


def change_price(
    scenario: Scenario, product_name: str, new_price: int | float, prices: dict[str, int] | None = None
) -> CatalogueUpdate:
    """Build the updated catalogue for "change the price of X to $N" (other earlier changes in ``prices``)."""
    product = scenario.product(product_name)
    try:
        new = int(round(float(new_price)))
    except (TypeError, ValueError):
        raise ScenarioError(f"The new price must be a number of dollars, got {new_price!r}.") from None
    if not 1 <= new <= 100_000:
        raise ScenarioError(f"The new price must be between $1 and $100,000, got {format_price(new)}.")
    changes = dict(prices or {})
    old = changes.get(product.name, product.price)
    changes[product.name] = new
    pages = catalogue_pages(scenario, changes)
    title = catalogue_header(scenario.company, scenario.season)
    return CatalogueUpdate(
        product=product.name,
        old_price=old,
        new_price=new,
        file_name=scenario.catalogue_pdf,
        page=product.page,
        page_text=page_text(pages[product.page - 1]),
        pdf=write_pdf(pages, title),
        markdown=catalogue_markdown(scenario, changes),
    )
