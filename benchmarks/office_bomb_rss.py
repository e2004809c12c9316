"""Peak RSS of loading the worst Office archives the limits let through (issue 20, item 6).

Each case is parsed in a fresh subprocess (``resource.getrusage(RUSAGE_SELF).ru_maxrss``, minus the RSS after
importing the loaders). Cases: a DOCX whose document.xml is the largest member allowed, made of the smallest
elements (one ``<w:p/>`` each: the most lxml nodes per byte), deflated at a ratio just under the limit; and an
XLSX sheet of as many tiny cells as fit. Run: ``python benchmarks/office_bomb_rss.py``.
"""

from __future__ import annotations

import io
import json
import random
import string
import subprocess
import sys
import zipfile

from ragft.knowledge.loaders.base import Limits

CT = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/word/document.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
    'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="word/document.xml"/></Relationships>'
)
W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def docx_bomb(member_bytes: int, noise: int = 0) -> bytes:
    """document.xml of ``member_bytes``: tiny paragraphs; one in 64 carries ``noise`` random letters, which is
    how the deflate ratio is brought just under the limit."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="{W}"><w:body>'
    tail = "</w:body></w:document>"
    rng = random.Random(7)
    parts, size = [head], len(head) + len(tail)
    i = 0
    while True:
        text = "".join(rng.choices(string.ascii_letters, k=noise)) if noise and i % 64 == 0 else "a"
        unit = f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"
        if size + len(unit) > member_bytes:
            break
        parts.append(unit)
        size += len(unit)
        i += 1
    body = "".join(parts) + tail
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CT)
        z.writestr("_rels/.rels", RELS)
        z.writestr("word/document.xml", body)
    return buf.getvalue()


CHILD = """
import json, resource, sys
from ragft.knowledge.documents import load_document
from ragft.knowledge.loaders.base import Limits
data = open(sys.argv[1], "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    doc = load_document(sys.argv[2], data, limits=Limits())
    outcome = f"loaded: {len(doc.pages)} page(s), {sum(len(p.text) for p in doc.pages):,} chars"
except Exception as exc:
    outcome = f"refused: {type(exc).__name__}: {exc}"
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"before_mb": before / 1024, "peak_mb": peak / 1024, "outcome": outcome[:160]}))
"""


def measure(name: str, data: bytes, path: str) -> dict:
    with open(path, "wb") as fh:
        fh.write(data)
    out = subprocess.run([sys.executable, "-c", CHILD, path, name], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    lim = Limits()
    lo, hi = 0, 4000  # the least noise that brings the ratio under the limit: the most nodes that pass
    while lo < hi:
        mid = (lo + hi) // 2
        d = docx_bomb(lim.max_zip_member_bytes - 1024, mid)
        if (lim.max_zip_member_bytes - 1024) / len(d) < lim.max_zip_ratio:
            hi = mid
        else:
            lo = mid + 1
    cases = {
        "docx: largest member, smallest elements, ratio just under the limit": docx_bomb(
            lim.max_zip_member_bytes - 1024, lo
        ),
        "docx: the same, just over the member limit": docx_bomb(lim.max_zip_member_bytes + 1024, lo),
        "docx: the same at 10x less noise (ratio over the limit)": docx_bomb(lim.max_zip_member_bytes - 1024, lo // 10),
    }
    for label, data in cases.items():
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            inflated = sum(i.file_size for i in z.infolist())
        r = measure("bomb.docx", data, "/tmp/ragft-bomb.docx")
        print(
            f"{label}: upload {len(data) / 1e6:.2f} MB, inflates to {inflated / 1e6:.1f} MB "
            f"({inflated / len(data):.0f}x); RSS after imports {r['before_mb']:.0f} MB, peak {r['peak_mb']:.0f} MB; "
            f"{r['outcome']}"
        )
