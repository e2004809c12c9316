"""AppTest of workspaces on the Knowledge base page: a forged link gets a new workspace and a notice, the page says
what sharing the link means and shows no server path, deleting the whole workspace drops its documents."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft.knowledge.workspaces import Workspaces
from ragft.store import workspaces as W

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "knowledge_base.py")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    d = tmp_path_factory.mktemp("ws-page-data")
    old = os.environ.get("RAGFT_DATA_DIR")
    os.environ["RAGFT_DATA_DIR"] = str(d)
    yield d
    if old is None:
        os.environ.pop("RAGFT_DATA_DIR", None)
    else:
        os.environ["RAGFT_DATA_DIR"] = old


def page(ws: str | None = None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=240)
    if ws:
        at.query_params["ws"] = ws
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [
        as_plain(str(x.value))
        for kind in ("caption", "warning", "markdown", "info", "error")
        for x in getattr(at, kind)
    ]
    return " | ".join(parts)


def test_a_made_up_link_gets_a_new_workspace_and_a_notice(data):
    at = page("aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb")
    ws = at.query_params["ws"]
    assert ws != "aaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbb" and Workspaces(data).is_issued(ws)
    assert "That workspace link is not valid here: you have a new, empty workspace" in texts(at)


def test_the_page_says_who_can_use_the_link_and_shows_no_server_path(data):
    at = page()
    shown = texts(at)
    assert "anyone with this link can see and change this workspace" in shown
    assert str(data) not in shown and "chroma" not in shown.lower().replace("chroma server", "")
    label = W.get(Workspaces(data).store, at.query_params["ws"]).label
    assert label in shown and label.startswith("Participant ")
    again = page(at.query_params["ws"])  # a reload keeps the workspace and shows no notice
    assert again.query_params["ws"] == at.query_params["ws"]
    assert "not valid here" not in texts(again)


def test_deleting_the_whole_workspace_needs_a_confirmation_and_issues_a_new_one(data):
    at = page()
    ws = at.query_params["ws"]
    at.file_uploader[0].set_value([("heron.md", b"# Heron\n\nThe vault code is 4711.", "text/markdown")]).run()
    at.button(key="kb_index").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "heron.md" in {f for df in at.dataframe if "file" in df.value for f in df.value["file"]}
    at.button(key="ws_delete").click().run()
    assert W.get(Workspaces(data).store, ws) is not None  # nothing deleted before the confirmation
    at.button(key="ws_delete_no").click().run()
    assert at.query_params["ws"] == ws
    at.button(key="ws_delete").click().run()
    at.button(key="ws_delete_yes").click().run()
    assert not at.exception, [e.value for e in at.exception]
    new = at.query_params["ws"]
    assert new != ws and W.get(Workspaces(data).store, ws) is None
    assert "Your workspace was deleted" in texts(at)
    old_link = page(ws)  # the old link opens an empty, new workspace
    assert old_link.query_params["ws"] not in (ws, new)
    assert "deleted or expired" in texts(old_link)
    files = {f for df in old_link.dataframe if "file" in df.value for f in df.value["file"]}
    assert "heron.md" not in files
    with_doc = page(new)  # nor does the new workspace hold the old documents
    assert "heron.md" not in {f for df in with_doc.dataframe if "file" in df.value for f in df.value["file"]}
