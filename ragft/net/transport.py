"""An HTTP client for a participant's URL: checked at connect time, pinned to the checked address, no redirects.

:class:`PinnedTransport` resolves the request's host through :class:`ragft.net.egress.Egress` (AddressNotAllowed
when any address is refused), then sends the request to the checked address itself: the URL's host is replaced by
the IP literal, so the connection layer never looks the name up again (a DNS answer that changes between the check
and the connection, DNS rebinding, cannot steer it), while the ``Host`` header and, for https, the TLS server name
(SNI, and so certificate verification) keep the name that was typed. A transport serves one origin: the client is
built per endpoint, and a request for any other host (a redirect someone tried to follow) is refused.

:func:`guarded_http_client` wraps it in an ``httpx2.Client`` (the ``openai`` client's HTTP library) with redirects
off and no proxy from the environment, for ``openai.OpenAI(http_client=...)``.
"""

from __future__ import annotations

import logging
import socket

import httpx2

from ragft import errors as E
from ragft.net.addresses import parse_host
from ragft.net.egress import DEFAULT_PORTS, Egress, check_url_shape

logger = logging.getLogger(__name__)

LIMITS = httpx2.Limits(max_connections=200, max_keepalive_connections=40)


class PinnedTransport(httpx2.HTTPTransport):
    """``httpx2.HTTPTransport`` that checks and pins every request to ``origin`` (scheme, host, port)."""

    def __init__(self, egress: Egress, origin: tuple[str, str, int], what: str = "This URL") -> None:
        super().__init__(limits=LIMITS)
        self.egress = egress
        self.origin = origin
        self.what = what

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        scheme = request.url.scheme
        host = request.url.host
        port = request.url.port or DEFAULT_PORTS.get(scheme, 0)
        if (scheme, host.lower(), port) != self.origin:
            raise E.RedirectRefused(f"{self.what}: a request for {scheme}://{host}:{port} was refused.")
        try:
            addresses = self.egress.addresses(host, port, self.what)
        except socket.gaierror as exc:
            raise httpx2.ConnectError(f"{host} does not resolve", request=request) from exc
        sni = {"sni_hostname": host} if scheme == "https" and parse_host(host) is None else {}
        failed: httpx2.ConnectError | None = None
        headers = request.headers.copy()
        headers.setdefault("Host", request.url.netloc.decode("ascii"))  # the typed name, not the address
        for ip in addresses:
            pinned = httpx2.Request(
                request.method,
                request.url.copy_with(host=str(ip)),
                headers=headers,
                stream=request.stream,
                extensions={**request.extensions, **sni},
            )
            try:
                return super().handle_request(pinned)
            except httpx2.ConnectError as exc:  # nothing was sent: try the host's next checked address
                failed = exc
        assert failed is not None
        raise failed


def guarded_http_client(url: str, egress: Egress, timeout: float, what: str = "This URL") -> httpx2.Client:
    """An ``httpx2.Client`` for ``url``'s origin only: each connection checked by ``egress`` and pinned, redirects
    returned as responses (never followed), no proxy from the environment (a proxy would resolve the name itself)."""
    target = check_url_shape(url, what)
    transport = PinnedTransport(egress, (target.scheme, target.host, target.port), what)
    return httpx2.Client(transport=transport, follow_redirects=False, timeout=timeout, trust_env=False)
