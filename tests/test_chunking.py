"""Chunking: size in tokens, overlap, page boundaries, exact slices, recursive separators."""

from __future__ import annotations

import hashlib
import random
import re

import pytest

from ragft.knowledge.chunking import ChunkSettingsError, chunk_pages, chunk_text, count
from ragft.knowledge.documents import Page

WORDS = (
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau "
    "upsilon phi chi psi omega tent kettle lamp pillow warranty refund"
).split()


def prose(seed: int, paragraphs: int) -> str:
    rnd = random.Random(seed)

    def sentence() -> str:
        return " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(4, 22))).capitalize() + "."

    return "\n\n".join(" ".join(sentence() for _ in range(rnd.randint(1, 7))) for _ in range(paragraphs))


def chunks_of(text: str, size: int, overlap: int, page: int | None = 1):
    return chunk_pages([Page(page, text)], doc_id="doc", source="f.txt", chunk_tokens=size, overlap=overlap)


@pytest.mark.parametrize("size,overlap", [(20, 0), (50, 10), (120, 30), (200, 30), (400, 100)])
def test_chunks_fit_are_exact_slices_and_cover_the_text(size, overlap):
    text = prose(size, 25)
    chunks = chunks_of(text, size, overlap)
    assert len(chunks) > 1
    covered = bytearray(len(text))
    for c in chunks:
        assert c.tokens == count(c.text) <= size
        assert text[c.char_start : c.char_end] == c.text == c.text.strip()
        covered[c.char_start : c.char_end] = b"\x01" * (c.char_end - c.char_start)
    missing = "".join(ch for ch, on in zip(text, covered) if not on)
    assert missing.strip() == ""  # only whitespace between chunks is left out


def test_overlap_is_a_word_aligned_tail_of_at_most_overlap_tokens():
    text = prose(7, 30)
    chunks = chunks_of(text, 100, 25)
    overlaps = []
    for a, b in zip(chunks, chunks[1:]):
        assert b.char_start > a.char_start  # progress
        if b.char_start < a.char_end:
            shared = text[b.char_start : a.char_end]
            assert a.text.endswith(shared.rstrip()) and b.text.startswith(shared.strip())
            assert text[b.char_start - 1].isspace()  # starts on a word
            overlaps.append(count(shared))
    assert overlaps and max(overlaps) <= 25
    assert sum(overlaps) / len(overlaps) > 15  # the overlap is used, not just allowed


def test_no_overlap_when_zero():
    chunks = chunks_of(prose(3, 20), 60, 0)
    for a, b in zip(chunks, chunks[1:]):
        assert b.char_start >= a.char_end


def test_paragraphs_are_kept_whole_when_they_fit():
    p1 = " ".join(["Tents keep you dry."] * 6)
    p2 = " ".join(["Kettles boil water."] * 6)
    size = max(count(p1), count(p2)) + 5
    assert count(p1 + "\n\n" + p2) > size
    chunks = chunks_of(p1 + "\n\n" + p2, size, 0)
    assert [c.text for c in chunks] == [p1, p2]


def test_long_paragraph_splits_at_sentences():
    sentences = [f"Sentence number {i} talks about the {w} in some detail." for i, w in enumerate(WORDS[:12])]
    chunks = chunks_of(" ".join(sentences), 40, 0)
    assert len(chunks) > 1
    for c in chunks:
        assert c.text.endswith("."), c.text  # cut after a full stop, never mid-sentence


def test_a_word_longer_than_a_chunk_is_cut_between_tokens():
    blob = "x" * 5000
    chunks = chunks_of(f"start {blob} end", 50, 10)
    assert all(c.tokens <= 50 for c in chunks)
    assert "".join(c.text for c in chunks).replace(" ", "").count("x") >= 5000


def test_chunks_never_cross_pages_and_positions_run_across_pages():
    pages = [Page(i, f"Product {i}\nPrice: {i * 10} dollars.\n\n" + prose(i, 2)) for i in range(1, 6)]
    chunks = chunk_pages(pages, doc_id="d1", source="cat.pdf", chunk_tokens=200, overlap=30)
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert len({c.chunk_id for c in chunks}) == len(chunks)
    for c in chunks:
        names = set(re.findall(r"Product (\d)", c.text))
        assert names <= {str(c.page)}, (c.page, c.text[:80])
    assert {c.page for c in chunks} == {1, 2, 3, 4, 5}


def test_metadata_on_every_chunk():
    chunks = chunk_pages(
        [Page(None, "Hello world. " * 50)], doc_id="abc", source="notes.md", chunk_tokens=40, overlap=5
    )
    for c in chunks:
        assert c.doc_id == "abc" and c.source == "notes.md" and c.page is None
        assert c.content_hash == hashlib.sha256(c.text.encode()).hexdigest()[:16]
        assert c.chunk_id == f"abc:{c.position:05d}"


def test_deterministic():
    text = prose(11, 12)
    assert chunks_of(text, 80, 20) == chunks_of(text, 80, 20)


def test_empty_and_whitespace_pages_give_no_chunks():
    assert chunk_text("   \n\n  ", 50, 5) == []
    assert (
        chunk_pages([Page(1, ""), Page(2, "Only this.")], doc_id="d", source="s", chunk_tokens=50, overlap=5)[0].page
        == 2
    )


@pytest.mark.parametrize("size,overlap", [(10, 0), (9000, 0), (100, 100), (100, -1)])
def test_bad_settings_are_refused(size, overlap):
    with pytest.raises(ChunkSettingsError):
        chunk_text("some text", size, overlap)


def test_cjk_text_splits_at_its_sentence_marks():
    text = "これは最初の文です。" * 40
    chunks = chunks_of(text, 60, 0)
    assert len(chunks) > 1
    assert all(c.tokens <= 60 and c.text.endswith("。") for c in chunks)
