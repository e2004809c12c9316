"""Workspace ids and the Chroma collection names derived from them.

Every browser session works in its own workspace. The id is random and URL-safe (the page layer keeps it in
``?ws=...`` so a reload, or a bookmark, finds the same workspace). Collection names are derived from a hash of
the id plus the embedding model, so:

- two workspaces never share a collection, and no id, however crafted, can name another one (or the sample);
- documents indexed with one embedding model are never searched with another.

Anyone who has a workspace URL can open that workspace: the id is the key, like an unlisted link.
"""

from __future__ import annotations

import hashlib
import re
import secrets

from ragft.errors import IndexError_

WORKSPACE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
SAMPLE = "sample"


class WorkspaceIdError(IndexError_):
    """A workspace id that is not one we could have made."""


def new_workspace_id() -> str:
    """16 URL-safe characters (96 random bits)."""
    return secrets.token_urlsafe(12)


def is_valid_workspace_id(value: object) -> bool:
    return isinstance(value, str) and bool(WORKSPACE_ID_RE.match(value))


def check_workspace_id(value: object) -> str:
    if not is_valid_workspace_id(value):
        raise WorkspaceIdError("This workspace id is not valid (8-64 letters, digits, '-' or '_'); "
                               "open the app without ?ws= to start a new workspace.")
    return str(value)


def embedder_slug(model_id: str) -> str:
    """``local:all-MiniLM-L6-v2`` → ``local-all-minilm-l6-v2-1a2b3c`` (readable, and unique by the hash)."""
    readable = re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")[:40].strip("-") or "model"
    return f"{readable}-{hashlib.sha256(model_id.encode()).hexdigest()[:6]}"


def workspace_collection_name(workspace_id: str, model_id: str) -> str:
    key = hashlib.sha256(check_workspace_id(workspace_id).encode()).hexdigest()[:24]
    return f"ws-{key}-{embedder_slug(model_id)}"


def sample_collection_name(model_id: str) -> str:
    return f"{SAMPLE}-{embedder_slug(model_id)}"
