"""Untrusted text renders as text: the answer sanitiser and the inline escape, checked on hostile input."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from components.safe_text import ANSWER_TAGS, WORD_JOINER, answer_html, as_plain, inline

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
