"""Typed errors of the core. Every error carries a one-line human message naming what to fix."""

from __future__ import annotations


class RagftError(Exception):
    """Base class. ``str(err)`` is a one-line message fit to show a person."""

    hint: str = ""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    @property
    def message(self) -> str:
        text = str(self.args[0]) if self.args else self.__class__.__name__
        return f"{text} {self.hint}".strip() if self.hint else text


# --- configuration -----------------------------------------------------------------------------
class ConfigError(RagftError):
    """A setting is missing or malformed."""


class UnsafeURL(ConfigError):
    """A base URL typed in a session has a shape the app refuses (userinfo, query, fragment, odd characters)."""

    hint = "Enter a plain base URL such as https://host:port/v1."


# --- models and endpoints ------------------------------------------------------------------------
class ModelError(RagftError):
    """A chat or embedding call failed."""


class EndpointUnreachable(ModelError):
    hint = "Check the base URL and that the server is running."


class AuthenticationFailed(ModelError):
    hint = "Check the API key in Settings."


class ModelNotFound(ModelError):
    hint = "Check the model name in Settings (the server does not serve it)."


class RateLimited(ModelError):
    hint = "The provider is rate limiting: wait a moment or lower the load."


class EndpointTimeout(ModelError):
    hint = "The server took too long: raise the timeout or use a smaller model."


class ServerError(ModelError):
    hint = "The server failed (5xx): try again or check its logs."


class BadRequest(ModelError):
    hint = "The server refused the request: check the model name and parameters."


class AddressNotAllowed(ModelError):
    """A URL typed in a session leads to an address the app's server must not connect to (see ragft.net)."""

    hint = "Use a public endpoint, or ask the facilitator to allow this host (RAGFT_ALLOWED_HOSTS)."


class RedirectRefused(ModelError):
    hint = "Enter the endpoint's final URL: redirects from a URL typed in a session are not followed."


class EmbeddedModelUnavailable(ModelError):
    hint = "Install the offline stack with `pip install -r requirements.txt`."


class AdapterMissing(ModelError):
    hint = "Train one with scripts/train_adapter.py or point RAGFT_FT_LORA at a GGUF LoRA."


# --- documents and index (issue: knowledge base) ---------------------------------------------------
class DocumentError(RagftError):
    """A file could not be loaded. The message names the file and the reason."""


class IndexError_(RagftError):
    """The vector index refused an operation (wrong embedding model, server gone, ...)."""


# --- budget (issue: cost engine) ------------------------------------------------------------------
class BudgetExceeded(RagftError):
    hint = "Raise the cap in Settings or ask the facilitator."


# --- runs -----------------------------------------------------------------------------------------
class Cancelled(RagftError):
    """The person stopped the run; what was spent so far is recorded."""


class RetrievalFailed(RagftError):
    """Retrieval gave no context, so a RAG configuration could not answer."""


# --- showing an error ------------------------------------------------------------------------------
def short_message(exc: BaseException, limit: int = 160) -> str:
    """One line fit to show a person: a typed error's message, else the first line of the exception's text
    (its class name when it has none), cut at ``limit`` characters."""
    text = exc.message if isinstance(exc, RagftError) else str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe_error(exc: BaseException, limit: int = 300) -> str:
    """A typed error's message; an unexpected exception as ``ClassName: first line`` (a bug or library error)."""
    if isinstance(exc, RagftError):
        return short_message(exc, limit)
    return f"{type(exc).__name__}: {short_message(exc, limit)}"


_LABELS: tuple[tuple[type[BaseException], str], ...] = (
    (BudgetExceeded, "Refused by the budget"),
    (AddressNotAllowed, "Address not allowed"),
    (RedirectRefused, "Redirect refused"),
    (RateLimited, "Rate limited"),
    (EndpointTimeout, "Timed out"),
    (EndpointUnreachable, "Unreachable"),
    (AuthenticationFailed, "Wrong API key"),
    (ModelNotFound, "Unknown model"),
    (ServerError, "Server error"),
    (AdapterMissing, "No fine-tuned adapter"),
    (BadRequest, "Request refused"),
    (RetrievalFailed, "No context"),
    (Cancelled, "Stopped"),
)


def error_label(exc: BaseException | None) -> str:
    """A short heading for an error (``Refused by the budget``, ``Timed out``...), matched by class."""
    if exc is None:
        return "Error"
    for cls, label in _LABELS:
        if isinstance(exc, cls):
            return label
    return type(exc).__name__


def redact(text: str, secrets: list[str | None] | tuple[str | None, ...]) -> str:
    """``text`` with every secret value (4+ characters) replaced by ``***``."""
    out = text
    for s in secrets:
        if s and len(s) >= 4:
            out = out.replace(s, "***")
    return out
