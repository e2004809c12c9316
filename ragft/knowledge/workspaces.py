"""Workspace ids: issued and signed by the server, checked on every visit; Chroma collection names derived from them.

Every browser session works in its own workspace. The server issues its id as ``<random>.<signature>``: 96
random bits and a truncated HMAC-SHA256 of them under a secret kept in the data dir (``workspace.key``, made
on first start, mode 0600). The page keeps the id in ``?ws=...`` so a reload or a bookmark finds the same
workspace, and sharing the link shares the workspace on purpose: anyone with it can see and change it. A
made-up or altered id fails the signature check and gets a new, empty workspace; so does the id of a
workspace that was deleted or expired (its record is gone from the class database).

Collection names are derived from a hash of the id plus the embedding model, so two workspaces never share a
collection, no id can name another one (or the sample), and documents indexed with one embedding model are
never searched with another.

A browser also remembers its workspace in a cookie (the app sets it; see ``session/workspace.py``), so opening the
join link again in the same browser returns to the same workspace instead of issuing another: a participant is a
person, not a tab. The facilitator can bound the room (seats: live workspaces at most); a new workspace beyond
the bound is refused with :class:`RoomFull`. The facilitator can revoke a workspace: its data is dropped, its seat
freed, and its link and cookie are refused with :class:`WorkspaceRevoked` from then on. With join codes required
(:mod:`ragft.store.join_codes`), a new workspace is issued only for an unused code, which it then owns
(:class:`JoinCodeNeeded` otherwise).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import re
import secrets
import shutil
import stat
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ragft.errors import ConfigError, IndexError_, RagftError
from ragft.store import join_codes as codes
from ragft.store import workspaces as records
from ragft.store.db import ClassStore, open_store

logger = logging.getLogger(__name__)

# A random part, optionally followed by "." and its signature (the random part alone is what older versions made).
WORKSPACE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{8,64}(\.[A-Za-z0-9_-]{8,43})?$")
SAMPLE = "sample"
SECRET_FILE = "workspace.key"
SIG_CHARS = 16  # 96 bits of HMAC-SHA256, base64url

INVALID_NOTICE = "That workspace link is not valid here: you have a new, empty workspace."
EXPIRED_NOTICE = "That workspace was deleted or expired after a long time unused: you have a new, empty workspace."


class WorkspaceIdError(IndexError_):
    """A workspace id that is not one we could have made."""


class RoomFull(RagftError):
    """Every seat the facilitator set is taken: no new workspace is issued."""

    hint = "Ask the facilitator for a seat: they can free one (Facilitator → Actions) or raise the number of seats."


class WorkspaceRevoked(RagftError):
    """The facilitator closed this workspace."""

    hint = "Ask the facilitator if you need a workspace again."


def room_full_message(seats: int) -> str:
    return f"This room is full: the facilitator set {seats} seat(s) and every one is taken."


REVOKED_MESSAGE = "The facilitator closed this workspace: its documents and results are gone."


class JoinCodeNeeded(RagftError):
    """The room admits new participants by join code, and this browser has no workspace yet (or a code that fails)."""

    hint = "Type the join code the facilitator gave you (one code per participant; it works in one browser)."


CODE_MESSAGES: dict[codes.Claim | None, str] = {
    None: "This workshop needs a join code: you have no workspace in this browser yet.",
    codes.Claim.UNKNOWN: "That join code is not one the facilitator issued: check it and type it again.",
    codes.Claim.REVOKED: "That join code was revoked by the facilitator.",
    codes.Claim.USED: "That join code was already used in another browser: each code admits one participant.",
}


def new_workspace_id(secret: bytes | None = None) -> str:
    """A new id: 16 URL-safe random characters, plus ``.<signature>`` when a server secret is given."""
    rand = secrets.token_urlsafe(12)
    return f"{rand}.{_signature(secret, rand)}" if secret else rand


def _signature(secret: bytes, rand: str) -> str:
    digest = hmac.new(secret, rand.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:SIG_CHARS]


def is_signed_by(value: object, secret: bytes) -> bool:
    """True when ``value`` is an id this server issued (constant-time comparison of the signature)."""
    if not is_valid_workspace_id(value):
        return False
    rand, _, sig = str(value).partition(".")
    return bool(sig) and hmac.compare_digest(sig.encode(), _signature(secret, rand).encode())


def is_valid_workspace_id(value: object) -> bool:
    """Well-formed (says nothing about who made it: see :func:`is_signed_by`)."""
    return isinstance(value, str) and bool(WORKSPACE_ID_RE.match(value))


def check_workspace_id(value: object) -> str:
    if not is_valid_workspace_id(value):
        raise WorkspaceIdError("This workspace id is not valid; open the app without ?ws= to start a new workspace.")
    return str(value)


def load_secret(data_dir: Path | str) -> bytes:
    """The server's signing secret from ``<data_dir>/workspace.key``, made (mode 0600) when missing."""
    path = Path(data_dir) / SECRET_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            logger.info("made a new workspace signing secret at %s", path)
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            os.chmod(path, 0o600)
            logger.warning("workspace signing secret %s was readable by others (mode %o); set to 0600", path, mode)
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as err:
        logger.exception("cannot read or make the workspace secret %s", path)
        raise ConfigError(
            "The server cannot read or create its workspace secret.", hint="Check that RAGFT_DATA_DIR is writable."
        ) from err
    if len(text) < 32:
        # Another process may be writing it right now (created, not yet filled).
        time.sleep(0.05)
        text = path.read_text(encoding="ascii").strip()
        if len(text) < 32:
            raise ConfigError(
                "The server's workspace secret is empty or too short.",
                hint=f"Delete {SECRET_FILE} in the data directory to make a new one (old links stop working).",
            )
    return text.encode("ascii")


SECRET_ENV = "RAGFT_WORKSPACE_SECRET"  # the facilitator's own signing secret (every replica the same), optional
SECRET_META = "workspace_secret"


def workspace_secret(data_dir: Path | str, store: ClassStore) -> bytes:
    """The secret that signs workspace links: ``RAGFT_WORKSPACE_SECRET`` when the server sets one; else, on a
    shared PostgreSQL class database, one kept in the database (made once, so a link signed on one replica opens
    on every other); else ``<data_dir>/workspace.key`` (one host)."""
    configured = (os.environ.get(SECRET_ENV) or "").strip()
    if configured:
        if len(configured) < 32:
            raise ConfigError(f"{SECRET_ENV} must be at least 32 characters (e.g. `openssl rand -hex 32`).")
        return configured.encode()
    if store.engine != "postgresql":
        return load_secret(data_dir)
    with store.write() as conn:
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            (SECRET_META, secrets.token_hex(32)),
        )
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (SECRET_META,)).fetchone()
    return str(row[0]).encode()


def embedder_slug(model_id: str) -> str:
    """``local:all-MiniLM-L6-v2`` → ``local-all-minilm-l6-v2-1a2b3c`` (readable, and unique by the hash)."""
    readable = re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")[:40].strip("-") or "model"
    return f"{readable}-{hashlib.sha256(model_id.encode()).hexdigest()[:6]}"


def workspace_collection_prefix(workspace_id: str) -> str:
    """Every collection of a workspace (one per embedding model) starts with this."""
    key = hashlib.sha256(check_workspace_id(workspace_id).encode()).hexdigest()[:24]
    return f"ws-{key}-"


def workspace_collection_name(workspace_id: str, model_id: str) -> str:
    return f"{workspace_collection_prefix(workspace_id)}{embedder_slug(model_id)}"


def sample_collection_name(model_id: str) -> str:
    return f"{SAMPLE}-{embedder_slug(model_id)}"


# ---- issuing and checking ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resolved:
    workspace_id: str
    label: str
    notice: str | None  # why a new workspace was issued instead of the one asked for, if it was


class Workspaces:
    """Issues, checks and deletes workspaces of one data dir (secret file + class database)."""

    def __init__(self, data_dir: Path | str, store: ClassStore | None = None) -> None:
        self.data_dir = Path(data_dir)
        self.store = store or open_store(self.data_dir)
        self.secret = workspace_secret(self.data_dir, self.store)

    def issue(self, *, bounded: bool = False) -> records.WorkspaceRecord:
        """A new workspace; with ``bounded``, only within the room's seats (raises :class:`RoomFull`)."""
        bound = records.seats(self.store) if bounded else None
        rec = records.register_within(self.store, new_workspace_id(self.secret), bound)
        if rec is None:
            logger.info("refused a new workspace: the room's %s seat(s) are taken", bound)
            raise RoomFull(room_full_message(bound or 0))
        return rec

    def codes_required(self, server_join: str) -> bool:
        """New participants need a join code (``RAGFT_JOIN=codes`` or the Facilitator page's switch)."""
        return codes.required(self.store, server_join)

    def admit_with_code(self, code: str | None) -> records.WorkspaceRecord:
        """A new workspace for a browser that presents ``code`` (within the room's seats). Raises
        :class:`JoinCodeNeeded` (no code, or one that is unknown, revoked or used) or :class:`RoomFull`."""
        if not code:
            raise JoinCodeNeeded(CODE_MESSAGES[None])
        bound = records.seats(self.store)
        outcome, rec = codes.claim(self.store, code, new_workspace_id(self.secret), bound)
        if outcome is codes.Claim.FULL:
            raise RoomFull(room_full_message(bound or 0))
        if rec is None:
            logger.info("refused a join code: %s", outcome.value)
            raise JoinCodeNeeded(CODE_MESSAGES.get(outcome, CODE_MESSAGES[codes.Claim.UNKNOWN]))
        logger.info("join code claimed by a new workspace (%s)", rec.label)
        return rec

    def is_issued(self, value: object) -> bool:
        return is_signed_by(value, self.secret)

    def _alive(self, value: str | None) -> records.WorkspaceRecord | None:
        if not value or not self.is_issued(value):
            return None
        if records.is_revoked(self.store, value):
            raise WorkspaceRevoked(REVOKED_MESSAGE)
        rec = records.get(self.store, value)
        if rec is not None and not rec.deleted and records.touch(self.store, rec.id):
            return rec
        return None

    def resolve(
        self,
        asked: str | None,
        *,
        remembered: str | None = None,
        fresh: bool = False,
        bounded: bool = False,
        need_code: bool = False,
        code: str | None = None,
    ) -> Resolved:
        """The workspace for an id from the URL (``asked``) or, without one, the browser's (``remembered``, its
        cookie; skipped when the participant asks for a ``fresh`` one): the same one when issued here and alive,
        else a new one (within the room's seats when ``bounded``; only for an unused join ``code`` when
        ``need_code``). Raises :class:`WorkspaceRevoked` for a workspace the facilitator closed, :class:`RoomFull`
        when a new one is needed and every seat is taken, :class:`JoinCodeNeeded` when a new one needs a code and
        ``code`` is missing, unknown, revoked or used."""
        if asked:
            rec = self._alive(asked)
            if rec is not None:
                return Resolved(rec.id, rec.label, None)
            if self.is_issued(asked):
                notice = EXPIRED_NOTICE
            else:
                logger.info("refused a workspace id that this server did not issue")
                notice = INVALID_NOTICE
        else:
            notice = None
            if remembered and is_valid_workspace_id(remembered):
                back = None if fresh else self._alive(remembered)
                if back is not None:
                    return Resolved(back.id, back.label, None)
                if fresh and self.is_issued(remembered) and records.is_revoked(self.store, remembered):
                    raise WorkspaceRevoked(REVOKED_MESSAGE)
        rec = self.admit_with_code(code) if need_code else self.issue(bounded=bounded)
        return Resolved(rec.id, rec.label, notice)

    def revoke(self, workspace_id: str, client) -> None:
        """The facilitator closes a workspace: its data and records go, its seat is free, and its link (or a
        browser that remembers it) is refused from now on."""
        records.mark_revoked(self.store, workspace_id)
        records.mark_deleted(self.store, workspace_id)
        drop_workspace_data(client, self.data_dir, workspace_id)
        records.forget(self.store, workspace_id)
        logger.info("workspace %s revoked by the facilitator", workspace_id)

    def touch(self, workspace_id: str) -> bool:
        return records.touch(self.store, workspace_id)

    def label(self, workspace_id: str) -> str | None:
        rec = records.get(self.store, workspace_id)
        return rec.label if rec else None

    def delete(self, workspace_id: str, client) -> records.WorkspaceRecord:
        """Delete a workspace (collections, files, records) and issue the one that replaces it.

        Its spend moves to the new workspace, so deleting never resets the participant's budget.
        """
        records.mark_deleted(self.store, workspace_id)
        drop_workspace_data(client, self.data_dir, workspace_id)
        new = self.issue()
        records.forget(self.store, workspace_id, carry_spend_to=new.id)
        codes.rebind(self.store, workspace_id, new.id)  # the participant's join code follows them
        logger.info("workspace %s deleted by its participant; replaced by %s", workspace_id, new.id)
        return new


class WorkspaceDeleteFailed(IndexError_):
    hint = "Try again in a moment; if it persists, the facilitator can check the server log."


def _names(client: Any) -> list[str]:
    return [str(getattr(c, "name", c)) for c in client.list_collections()]


def drop_workspace_data(client: Any, data_dir: Path | str, workspace_id: str) -> list[str]:
    """Drop every Chroma collection of the workspace and its folder of files; returns the collections dropped."""
    prefix = workspace_collection_prefix(workspace_id)
    try:
        dropped = [n for n in _names(client) if n.startswith(prefix)]
        for name in dropped:
            client.delete_collection(name)
    except Exception as exc:
        logger.exception("dropping the collections of workspace %s failed", workspace_id)
        raise WorkspaceDeleteFailed("The workspace's documents could not be deleted.") from exc
    folder = Path(data_dir) / "workspaces" / check_workspace_id(workspace_id)
    try:
        if folder.is_dir():
            shutil.rmtree(folder)
    except OSError as exc:
        logger.exception("removing the files of workspace %s failed", workspace_id)
        raise WorkspaceDeleteFailed("The workspace's files could not be deleted.") from exc
    return dropped
