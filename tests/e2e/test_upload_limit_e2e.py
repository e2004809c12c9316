"""Browser e2e: the server's upload limit is RAGFT_MAX_UPLOAD_MB, so a larger file never reaches the app.

The app runs under ``streamlit run`` with ``RAGFT_MAX_UPLOAD_MB=1`` (passed as ``--server.maxUploadSize`` the way
``scripts/run.sh`` does). In Chromium a small file uploads and indexes, a 2 MB file gets Streamlit's own refusal;
then the upload endpoint itself, called with the browser's session, XSRF token and upload URL, answers 413 for
2 MB while it accepts a small body: the limit holds on the server, not only in the widget.
"""

from __future__ import annotations

import pytest

from tests.e2e.app_server import running_app
from tests.e2e.conftest import _skip_reason, wait_idle

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SMALL = b"# Trail notes\n\nThe Osprey headlamp runs for 40 hours on its lowest setting.\n"
BIG = b"# Filler\n\n" + b"lorem ipsum dolor sit amet " * (2 * 1024 * 1024 // 27)


@pytest.fixture(scope="module")
def small_limit_app(tmp_path_factory):
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    with running_app(tmp_path_factory.mktemp("upload-limit-data"), RAGFT_MAX_UPLOAD_MB="1") as url:
        yield url


def _choose(page, name: str, data: bytes, mime: str = "text/plain") -> None:
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files({"name": name, "mimeType": mime, "buffer": data})


def test_server_refuses_a_larger_upload_and_a_small_one_goes_through(small_limit_app, page):
    uploads = []
    page.on("request", lambda r: uploads.append(r) if "/_stcore/upload_file/" in r.url and r.method == "PUT" else None)
    page.goto(small_limit_app)
    wait_idle(page)
    page.get_by_test_id("stSidebarNav").get_by_text("Knowledge base", exact=True).click()
    page.get_by_test_id("stFileUploaderDropzone").wait_for()
    wait_idle(page)

    _choose(page, "notes.md", SMALL, "text/markdown")
    page.get_by_role("button", name="Index 1 file").click()
    page.get_by_text("notes.md: indexed").wait_for(timeout=180_000)
    wait_idle(page)
    assert uploads, "the small file was sent to the server"
    put = uploads[0]
    headers = {k: v for k, v in put.headers.items() if k.lower() == "x-xsrftoken"}

    _choose(page, "big.txt", BIG)
    page.get_by_text("or smaller").first.wait_for()  # Streamlit's own message: "File must be 1.0MB or smaller."
    assert "big.txt" not in " ".join(page.get_by_test_id("stDataFrame").all_inner_texts())

    # The endpoint the browser used: 2 MB is refused by the server itself (413), a small body is accepted.
    big = page.request.put(
        put.url, headers=headers, multipart={"file": {"name": "big.txt", "mimeType": "text/plain", "buffer": BIG}}
    )
    assert big.status == 413, (big.status, big.text()[:200])
    ok = page.request.put(
        put.url,
        headers=headers,
        multipart={"file": {"name": "small.txt", "mimeType": "text/plain", "buffer": b"small"}},
    )
    assert ok.status in (200, 204), (ok.status, ok.text()[:200])
