"""The freshness demo helper: "change the price of X" rebuilds the catalogue with only that page changed."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader

from ragft.knowledge.scenario import ScenarioError, change_price, load_scenario
from ragft.paths import SCENARIO_DIR


@pytest.fixture(scope="module")
def scenario():
    return load_scenario()


def test_change_price_changes_one_page(scenario):
    product = scenario.product("Kestrel 2 Tent")
    update = change_price(scenario, "kestrel 2 tent", 129)
    assert (update.product, update.old_price, update.new_price) == ("Kestrel 2 Tent", 149, 129)
    assert update.file_name == "catalogue.pdf" and update.page == product.page
    assert "The Kestrel 2 Tent costs $129." in update.page_text
    new = PdfReader(io.BytesIO(update.pdf))
    old = PdfReader(SCENARIO_DIR / "catalogue.pdf")
    assert len(new.pages) == len(old.pages)
    for i, (a, b) in enumerate(zip(old.pages, new.pages), 1):
        if i == product.page:
            assert b.extract_text() == update.page_text
            assert "$149" in a.extract_text() and "$149" not in b.extract_text()
        else:
            assert a.extract_text() == b.extract_text()
    assert "The Kestrel 2 Tent costs $129." in update.markdown


def test_unchanged_price_rebuilds_the_committed_pdf(scenario):
    same = change_price(scenario, "Cinder Bivy", scenario.product("Cinder Bivy").price)
    assert same.pdf == (SCENARIO_DIR / "catalogue.pdf").read_bytes()


def test_changes_accumulate(scenario):
    first = change_price(scenario, "Cinder Bivy", 109)
    second = change_price(scenario, "Pika Camp Chair", 75, prices={first.product: first.new_price})
    reader = PdfReader(io.BytesIO(second.pdf))
    assert "The Cinder Bivy costs $109." in reader.pages[scenario.product("Cinder Bivy").page - 1].extract_text()
    assert "The Pika Camp Chair costs $75." in second.page_text


@pytest.mark.parametrize("name,price", [("Tent of Dreams", 10), ("Cinder Bivy", "cheap"), ("Cinder Bivy", 0)])
def test_bad_requests(scenario, name, price):
    with pytest.raises(ScenarioError):
        change_price(scenario, name, price)
