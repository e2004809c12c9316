"""Untrusted text renders as text: the answer sanitiser and the inline escape, checked on hostile input."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from components.shared.safe_text import ANSWER_TAGS, WORD_JOINER, answer_html, as_plain, inline

BEACON = "http://127.0.0.1:8999/beacon.png?d=secret"
HOSTILE = f"""Here is the **price**: $149 and *maybe* $169.

- first point
- second point with `code`

![x]({BEACON})
<img src="http://127.0.0.1:8999/img.png" onerror="alert(1)">
<script>fetch('http://127.0.0.1:8999/script')</script>
[click me](http://127.0.0.1:8999/link) <http://127.0.0.1:8999/auto> www.evil.example
<a href="http://127.0.0.1:8999/a">raw link</a> <iframe src="http://127.0.0.1:8999/frame"></iframe>
<style>body {{ background: url(http://127.0.0.1:8999/css.png) }}</style>
:red[coloured] :material/home: :smile: $x^2$ &lt;img src=x&gt; &amp;amp;
[ref]: http://127.0.0.1:8999/ref
# A huge heading
"""


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend(attrs)


def _parse(html: str) -> _Tags:
    p = _Tags()
    p.feed(html)
    return p


def test_answer_html_keeps_formatting_and_loads_nothing():
    html = answer_html(HOSTILE)
    parsed = _parse(html)
    assert {"strong", "em", "ul", "li", "code", "p"} <= set(parsed.tags)
    assert set(parsed.tags) <= ANSWER_TAGS
    assert not {"img", "script", "a", "iframe", "style", "h1"} & set(parsed.tags)
    assert parsed.attrs == []  # no src, href, style, onerror, class: nothing a browser would fetch or run
    assert "<li>first point</li>" in html
    # What was an image or a link is shown as its literal text, the full URL included.
    assert f"![x]({BEACON.replace('&', '&amp;')})" in html
    assert "[click me](http://127.0.0.1:8999/link)" in html
    assert "&lt;script&gt;" in html and "&lt;img" in html
    assert "[ref]: http://127.0.0.1:8999/ref" in html  # a link reference definition is text, not swallowed
    assert "$149" in html and ":red[coloured]" in html
    assert "<h4>A huge heading</h4>" in html


def test_answer_html_entities_stay_text():
    html = answer_html("&lt;img src=http://127.0.0.1:8999/e.png&gt; &#60;script&#62;")
    assert "<img" not in html and "<script" not in html
    assert _parse(html).tags == ["p"]


def test_answer_html_empty_and_plain():
    assert answer_html("") == ""
    assert answer_html("The Kestrel 2 Tent costs $149.") == "<p>The Kestrel 2 Tent costs $149.</p>\n"


def test_inline_escapes_every_ascii_punctuation_and_round_trips():
    text = r"a![x](http://h/b.png) :red[x] :material/home: :smile: $1$ www.x.com a@b.co <b>&amp; `c` *e* _u_ \ |"
    out = inline(text)
    assert as_plain(out) == text
    # Every ASCII punctuation character is preceded by a backslash (CommonMark then shows it literally).
    bare = re.sub(r"\\[!-/:-@\[-`{-~]", "", out.replace(WORD_JOINER, ""))
    assert not re.search(r"[!-/:-@\[-`{-~]", bare), bare
    # Patterns Streamlit rewrites after parsing (icons, emoji, bare URLs, e-mail) are broken by a word joiner.
    plainish = out.replace("\\", "")
    for pattern in (":material/", ":smile:", "http://", "www.", "a@b"):
        assert pattern not in plainish, pattern


def test_inline_is_one_line_and_handles_none():
    assert inline("two\n\n# lines") == "two \\# lines"
    assert inline(None) == ""
    assert inline("Kestrel 2 Tent") == "Kestrel 2 Tent"


def test_inline_adds_no_invisible_character_where_none_is_needed():
    assert inline("notes.md: indexed 3 page(s)") == "notes\\.md\\: indexed 3 page\\(s\\)"
    assert WORD_JOINER in inline("a:b") and WORD_JOINER in inline("x@y")


# ---- pages: hostile questions and file names are shown escaped ---------------------------------------------------
HOSTILE_LINE = "![x](http://127.0.0.1:8999/q.png) :red[boom] :material/home: $1$ <img src=x>"


def _unescaped_markup(value: str) -> bool:
    """True when Streamlit would render markup from ``value``: an image/link opener or a directive not escaped."""
    return bool(re.search(r"(?<!\\)!\\?\[|(?<!\\)\[|(?<!\\)<|:(?!\u2060)red", value))


def test_the_markup_check_sees_raw_markup():
    assert _unescaped_markup(HOSTILE_LINE) and not _unescaped_markup(inline(HOSTILE_LINE))


@pytest.mark.slow  # the page loads the embedded model
def test_compare_shows_a_hostile_question_as_text(data_dir):
    from tests.apptest_helpers import embedded_settings, open_page

    at = open_page("pages/compare.py", embedded_settings(data_dir, max_tokens=4), timeout=300)
    for key in ("cmp_on_base_rag", "cmp_on_ft", "cmp_on_ft_rag"):
        at.toggle(key=key).set_value(False)
    at.text_input(key="cmp_question").set_value(HOSTILE_LINE)
    at.button(key="FormSubmitter:cmp_form-Ask").click().run()
    assert not at.exception, at.exception
    shown = [m.value for m in at.markdown if as_plain(m.value) == f"**{HOSTILE_LINE}**"]
    assert shown and not any(_unescaped_markup(v.strip("*")) for v in shown), shown
    titles = [e.label for e in at.expander if HOSTILE_LINE[:40] in as_plain(e.label)]
    assert titles and not any(_unescaped_markup(t) for t in titles), titles


@pytest.mark.slow  # the page loads the embedded model
def test_knowledge_base_shows_a_hostile_file_name_as_text(data_dir):
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    name = "![x](http:__127.0.0.1_8999_f.png) :red[boom].md"
    at = AppTest.from_file(str(Path(__file__).parent.parent / "pages" / "knowledge_base.py"), default_timeout=240)
    at.run()
    at.file_uploader[0].set_value([(name, b"# Notes\n\nThe Osprey headlamp runs 40 hours.", "text/markdown")]).run()
    at.button(key="kb_index").click().run()
    assert not at.exception, at.exception
    reports = [s.value for s in at.success if as_plain(s.value).startswith(f"{name}: indexed")]
    assert reports and not any(_unescaped_markup(r) for r in reports), [s.value for s in at.success]
