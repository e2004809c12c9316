"""No server-side request forgery: a URL typed in a session reaches only public addresses or what the facilitator allows.

Real stub servers on 127.0.0.1 (and 127.0.0.2) count every request they receive. Each path that connects to a
participant's URL (a chat answer, "Test connection", embeddings, the judge, question drafting) is built the way the
session builds it (the facilitator's policy resolves the participant's configuration, then the real client calls):
a loopback URL in any spelling reaches nothing, a 302 from an allowed host to a loopback port is not followed, a
DNS answer that changes after the check cannot steer the connection, and an allowed private host answers.
"""

from __future__ import annotations

import datetime
import ipaddress
import socket
import ssl
from dataclasses import replace

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from streamlit.testing.v1 import AppTest

from components.shared.safe_text import as_plain
from ragft import errors as E
from ragft.access import AccessDenied, policy_from
from ragft.costs.ledger import SessionLedger
from ragft.evaluation import drafting as D
from ragft.evaluation import judge as J
from ragft.models.chat import make_chat_model
from ragft.models.embeddings import make_embedding_function
from ragft.net import egress as G
from ragft.net.addresses import classify, parse_host
from ragft.net.egress import Egress, check_url_shape, parse_allowed_hosts
from ragft.paths import ROOT
from ragft.settings import EmbeddingConfig, EndpointConfig, load_settings
from session import keys
from tests.counting_stub import CountingStub

PATHS = ("chat", "test connection", "embeddings", "judge", "drafting")
EXCERPT = D.Excerpt("The Kestrel 2 Tent costs $149 and weighs 1.8 kg.", "catalogue.pdf", 3)


def _reply(body: dict) -> str:
    system = body["messages"][0]["content"]
    if system == J.EXTRACT_PROMPT:
        return '["The Kestrel 2 Tent costs $149."]'
    if system == J.VERIFY_PROMPT:
        return '[{"claim": 1, "supported": true}]'
    if system == D.DRAFT_PROMPT:
        return '{"question": "How much is the Kestrel 2 Tent?", "fact": "$149"}'
    return "OK"


@pytest.fixture
def stub():
    with CountingStub(reply=_reply) as s:
        yield s


def policy(allowed: str = "", **env: str):
    return policy_from(load_settings({"RAGFT_ALLOWED_HOSTS": allowed, **env}, {}))


def build(p, path: str, url: str):
    """What the session builds for ``path`` from a participant's ``url`` (see session/models.py)."""
    if path == "embeddings":
        return make_embedding_function(
            p.resolve_embedding(EmbeddingConfig(provider="custom", model="stub-emb", base_url=url))
        )
    cfg = EndpointConfig(provider="custom", model="stub-model", base_url=url, timeout_s=5, max_retries=0)
    return make_chat_model(p.resolve_endpoint("base", cfg))


def attempt(path: str, make) -> str:
    """``"ok"`` when the path answered, else the typed error's class and message (drafting: the draft's problem)."""
    try:
        thing = make()
        if path == "chat":
            assert thing.stream([{"role": "user", "content": "hi"}], max_tokens=4, temperature=0.0).consume().text
        elif path == "test connection":
            assert thing.check().startswith("Connected")
        elif path == "embeddings":
            assert thing.embed(["a tent", "a lamp"]).shape == (2, 3)
        elif path == "judge":
            verdict = J.judge_answer(
                thing, "How much?", "The tent costs $149.", ["Tent: $149."], ledger=SessionLedger()
            )
            assert verdict.score == 1.0
        elif path == "drafting":
            (draft,) = D.draft_questions(thing, [EXCERPT], 1, ledger=SessionLedger())
            if draft.row is None:
                return f"draft problem: {draft.problem}"
            assert draft.row["expected_facts"] == "$149"
    except E.RagftError as exc:
        return f"{type(exc).__name__}: {exc.message}"
    return "ok"


# ---- the classifier --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "host, address, why",
    [
        ("127.0.0.1", "127.0.0.1", "loopback"),
        ("2130706433", "127.0.0.1", "loopback"),  # decimal
        ("0x7f000001", "127.0.0.1", "loopback"),  # hex
        ("0177.0.0.1", "127.0.0.1", "loopback"),  # octal
        ("127.1", "127.0.0.1", "loopback"),  # short
        ("0x7f.1", "127.0.0.1", "loopback"),
        ("[::1]", "::1", "loopback"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1", "loopback"),  # IPv4-mapped
        ("::ffff:7f00:1", "::ffff:7f00:1", "loopback"),
        ("64:ff9b::7f00:1", "64:ff9b::7f00:1", "loopback"),  # NAT64
        ("64:ff9b::a00:1", "64:ff9b::a00:1", "private"),
        ("2002:7f00:1::", "2002:7f00:1::", "loopback"),  # 6to4
        ("::127.0.0.1", "::7f00:1", "loopback"),  # IPv4-compatible
        ("10.1.2.3", "10.1.2.3", "private"),
        ("172.16.0.1", "172.16.0.1", "private"),
        ("192.168.1.1", "192.168.1.1", "private"),
        ("3232235777", "192.168.1.1", "private"),
        ("fd00::1", "fd00::1", "private"),
        ("169.254.169.254", "169.254.169.254", "link-local"),  # cloud metadata
        ("[fe80::1]", "fe80::1", "link-local"),
        ("100.64.0.1", "100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "100.127.255.254", "carrier-grade NAT"),
        ("0.0.0.0", "0.0.0.0", "unspecified"),
        ("0", "0.0.0.0", "unspecified"),
        ("[::]", "::", "unspecified"),
        ("224.0.0.251", "224.0.0.251", "multicast"),
        ("[ff02::1]", "ff02::1", "multicast"),
        ("240.0.0.1", "240.0.0.1", "reserved"),
        ("255.255.255.255", "255.255.255.255", "reserved"),
        ("8.8.8.8", "8.8.8.8", None),
        ("134744072", "8.8.8.8", None),
        ("100.128.0.1", "100.128.0.1", None),
        ("[2606:4700::1111]", "2606:4700::1111", None),
        ("::ffff:8.8.8.8", "::ffff:808:808", None),
        ("64:ff9b::808:808", "64:ff9b::808:808", None),
    ],
)
def test_classify_every_spelling(host, address, why):
    ip = parse_host(host)
    assert ip == ipaddress.ip_address(address)
    assert classify(ip) == why


@pytest.mark.parametrize("host", ["localhost", "api.openai.com", "08.1.1.1", "256.1.1.1", "1.2.3.4.5", "0x1g", ""])
def test_names_are_not_addresses(host):
    assert parse_host(host) is None


@pytest.mark.parametrize(
    "url, expected",
    [
        ("http://user:pw@api.example.com/v1", "user name or password"),
        ("http://user@api.example.com/v1", "user name or password"),
        ("https://api.example.com/v1?key=1", "query"),
        ("https://api.example.com/v1?", "query"),
        ("https://api.example.com/v1#frag", "fragment"),
        ("https://api.example.com/v1#", "fragment"),
        ("http://api.example.com\\@127.0.0.1/v1", "user name or password"),
        ("http://api.example.com%2f@127.0.0.1/", "user name or password"),
        ("http://exämple.com/v1", "non-ASCII"),
        ("http://api.example.com:99999/v1", "check the port"),
        ("ftp://api.example.com/v1", "must look like"),
        ("localhost:8000", "must look like"),
        ("http:///v1", "must look like"),
    ],
)
def test_url_shapes_that_are_refused(url, expected):
    with pytest.raises(E.UnsafeURL, match=expected):
        check_url_shape(url)


def test_a_plain_url_passes_with_its_effective_port():
    t = check_url_shape(" https://API.example.com/v1 ")
    assert (t.scheme, t.host, t.port) == ("https", "api.example.com", 443)


def test_the_allowlist_reads_names_addresses_blocks_and_ports():
    rules = parse_allowed_hosts("ollama.lan, 10.0.0.0/8, 127.0.0.1:11434, [fd00::5]:8000, http://gpu-box:8001/v1")
    e = Egress(rules)
    ten, loop, v6 = (ipaddress.ip_address(a) for a in ("10.9.9.9", "127.0.0.1", "fd00::5"))
    assert e.refusal("ollama.lan", 80, [ipaddress.ip_address("192.168.1.5")]) is None  # a name: whatever it is
    assert e.refusal("anything", 80, [ten]) is None  # a block: whichever name leads there
    assert e.refusal("127.0.0.1", 11434, [loop]) is None
    assert "loopback" in (e.refusal("127.0.0.1", 11435, [loop]) or "")  # another port of an allowed address
    assert e.refusal("[::ffff:127.0.0.1]", 11434, [ipaddress.ip_address("::ffff:127.0.0.1")]) is None
    assert e.refusal("fd00::5", 8000, [v6]) is None and e.refusal("fd00::5", 8001, [v6]) is not None
    assert e.refusal("gpu-box", 8001, [ten]) is None
    with pytest.raises(E.ConfigError, match="RAGFT_ALLOWED_HOSTS"):
        parse_allowed_hosts("ok.lan, not a host")
    with pytest.raises(E.ConfigError, match="RAGFT_ALLOWED_HOSTS"):
        load_settings({"RAGFT_ALLOWED_HOSTS": "10.0.0.0/33"}, {})


def test_a_name_with_a_public_and_a_loopback_address_is_refused():
    both = [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("127.0.0.1")]
    assert "resolves to a loopback address" in (Egress().refusal("mixed.example", 443, both) or "")


def test_participants_never_see_the_allowlist():
    p = policy("10.0.0.0/8, ollama.lan")
    assert p.server.allowed_hosts and p.participant_settings().allowed_hosts == ()


# ---- every path, against a stub that counts ----------------------------------------------------------------------
FORMS = (
    "http://localhost:{port}/v1",
    "http://127.0.0.1:{port}/v1",
    "http://2130706433:{port}/v1",
    "http://0x7f000001:{port}/v1",
    "http://0177.0.0.1:{port}/v1",
    "http://127.1:{port}/v1",
    "http://[::ffff:127.0.0.1]:{port}/v1",
    "http://[::1]:{port}/v1",
    "http://0.0.0.0:{port}/v1",
    "http://app.localhost:{port}/v1",
    "http://LOCALHOST.:{port}/v1",
    "http://[::ffff:7f00:1]:{port}/v1",
    "http://[64:ff9b::7f00:1]:{port}/v1",
)


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("form", FORMS)
def test_loopback_in_any_spelling_reaches_nothing(stub, path, form):
    url = form.format(port=stub.port)
    outcome = attempt(path, lambda: build(policy(), path, url))
    assert outcome.startswith("AddressNotAllowed") and "address" in outcome, outcome
    assert "RAGFT_ALLOWED_HOSTS" in outcome  # the message says who can allow it
    assert stub.requests == 0


@pytest.mark.parametrize("path", PATHS)
def test_the_connection_itself_is_checked(stub, path):
    """A client whose URL was never pre-checked (as if the check had been passed earlier): refused when it connects."""
    url = f"http://localhost:{stub.port}/v1"
    if path == "embeddings":
        make = lambda: make_embedding_function(  # noqa: E731
            EmbeddingConfig(provider="custom", model="stub-emb", base_url=url, egress=Egress())
        )
    else:
        make = lambda: make_chat_model(  # noqa: E731
            EndpointConfig(provider="custom", model="stub-model", base_url=url, max_retries=0, egress=Egress())
        )
    outcome = attempt(path, make)
    assert "localhost resolves to a loopback address" in outcome, outcome
    assert stub.requests == 0


@pytest.mark.parametrize("path", PATHS)
def test_a_redirect_from_an_allowed_host_is_not_followed(stub, path):
    with CountingStub(redirect_to=stub.base_url) as allowed:
        p = policy(f"127.0.0.1:{allowed.port}")  # the facilitator allows this port only
        outcome = attempt(path, lambda: build(p, path, allowed.base_url))
        assert "redirect (302)" in outcome, outcome
        assert allowed.requests >= 1 and stub.requests == 0


@pytest.mark.parametrize("path", PATHS)
def test_an_allowed_private_host_answers(stub, path):
    p = policy(f"127.0.0.1:{stub.port}")
    assert attempt(path, lambda: build(p, path, stub.base_url)) == "ok"
    assert stub.requests >= 1


def test_an_allowed_name_is_reached_by_name(stub):
    p = policy("localhost")
    assert attempt("chat", lambda: build(p, "chat", f"http://localhost:{stub.port}/v1")) == "ok"
    assert stub.requests >= 1


def test_the_server_urls_stay_allowed_without_the_allowlist(stub):
    p = policy(RAGFT_BASE_PROVIDER="custom", RAGFT_BASE_URL=stub.base_url, RAGFT_BASE_MODEL="stub-model")
    cfg = p.participant_endpoint("base")
    assert p.resolve_endpoint("base", cfg).egress is None
    # the fine-tuned slot pointed at the server's base URL: a URL the server configured, so allowed too
    ft = EndpointConfig(provider="custom", model="stub-model", base_url=stub.base_url + "/")
    assert p.resolve_endpoint("finetuned", ft).egress is None
    assert attempt("chat", lambda: make_chat_model(p.resolve_endpoint("base", cfg))) == "ok"
    # another path on the same server is a URL the participant chose
    other = replace(cfg, base_url=f"http://127.0.0.1:{stub.port}/api")
    with pytest.raises(E.AddressNotAllowed):
        p.resolve_endpoint("base", other)


def test_server_only_mode_still_refuses_any_other_url_first(stub):
    p = policy(RAGFT_PARTICIPANT_ENDPOINTS="server-only")
    cfg = EndpointConfig(provider="custom", model="m", base_url=f"http://localhost:{stub.port}/v1", api_key="sk-mine")
    with pytest.raises(AccessDenied, match="only lets participants use the server's models"):
        p.resolve_endpoint("base", replace(cfg, key_source="own"))
    assert stub.requests == 0


# ---- DNS rebinding ---------------------------------------------------------------------------------------------
class Rebinding:
    """``name`` answers ``first`` once, then ``then`` for every later lookup (a DNS server changing its answer)."""

    def __init__(self, monkeypatch, name: str, first: str, then: str) -> None:
        self.lookups = 0
        real = socket.getaddrinfo

        def getaddrinfo(host, port, *args, **kwargs):
            if host != name:
                return real(host, port, *args, **kwargs)
            self.lookups += 1
            ip = first if self.lookups == 1 else then
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, int(port or 0)))]

        monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def two_loopbacks():
    """A stub on 127.0.0.1 (not allowed) and one on 127.0.0.2 on the same port (allowed by the facilitator)."""
    with CountingStub("127.0.0.1", reply=_reply) as forbidden:
        with CountingStub("127.0.0.2", port=forbidden.port, reply=_reply) as allowed:
            yield forbidden, allowed


def test_a_changed_dns_answer_cannot_steer_the_connection(monkeypatch, two_loopbacks):
    forbidden, allowed = two_loopbacks
    dns = Rebinding(monkeypatch, "rebind-a.test", "127.0.0.2", "127.0.0.1")
    p = policy("127.0.0.2/32")
    url = f"http://rebind-a.test:{allowed.port}/v1"  # the same port on both addresses: only the address differs
    assert attempt("test connection", lambda: build(p, "test connection", url)) == "ok"
    assert allowed.requests >= 2  # GET /models and the one-token call, both at the address that was checked
    assert dns.lookups == 1  # the connection used the checked answer: no second lookup that could say 127.0.0.1
    assert forbidden.requests == 0


def test_a_dns_answer_that_changes_before_the_connection_is_refused(monkeypatch, stub):
    monkeypatch.setattr(G, "RESOLVE_TTL_S", 0.0)  # every lookup asks again
    dns = Rebinding(monkeypatch, "rebind-b.test", "127.0.0.2", "127.0.0.1")
    p = policy("127.0.0.2/32")
    outcome = attempt("chat", lambda: build(p, "chat", f"http://rebind-b.test:{stub.port}/v1"))
    assert "rebind-b.test resolves to a loopback address" in outcome, outcome
    assert dns.lookups >= 2 and stub.requests == 0


# ---- the real Settings page ------------------------------------------------------------------------------------
def open_settings(data_dir, monkeypatch) -> AppTest:
    """The Settings page with both server slots on a closed loopback port (no model is loaded, nothing is called)."""
    for slot in ("BASE", "FT"):
        monkeypatch.setenv(f"RAGFT_{slot}_PROVIDER", "custom")
        monkeypatch.setenv(f"RAGFT_{slot}_URL", "http://127.0.0.1:9/v1")
        monkeypatch.setenv(f"RAGFT_{slot}_MODEL", f"server-{slot.lower()}")
    at = AppTest.from_file(str(ROOT / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/settings.py")
    at.run()
    assert not at.exception, at.exception
    return at


def fill_base(at: AppTest, url: str) -> AppTest:
    at.selectbox(key="set_base_provider").set_value("custom").run()
    at.text_input(key="set_base_base_url").set_value(url)
    at.text_input(key="set_base_model").set_value("stub-model")
    at.number_input(key="set_base_max_retries").set_value(0)
    return at


def test_settings_page_refuses_a_loopback_url_with_a_clear_message(data_dir, monkeypatch, stub):
    monkeypatch.setenv("RAGFT_ALLOWED_HOSTS", "")  # this facilitator allows nothing private
    at = fill_base(open_settings(data_dir, monkeypatch), f"http://localhost:{stub.port}/v1")
    at.button(key="set_test_base").click().run()
    assert not at.exception
    assert len(at.error) == 1, [e.value for e in at.error]
    shown = as_plain(at.error[0].value)
    assert "localhost resolves to a loopback address" in shown and "RAGFT_ALLOWED_HOSTS" in shown
    at.text_input(key="set_base_base_url").set_value(f"http://2130706433:{stub.port}/v1")
    at.button(key="set_apply").click().run()
    assert "2130706433 (that is 127.0.0.1) is a loopback address" in as_plain(at.error[0].value)
    assert at.session_state[keys.SETTINGS].base.base_url == "http://127.0.0.1:9/v1"  # nothing applied
    at.text_input(key="set_base_base_url").set_value(f"http://user:pw@example.com:{stub.port}/v1")
    at.button(key="set_apply").click().run()
    assert "must not contain a user name or password" in as_plain(at.error[0].value)
    assert stub.requests == 0


def test_settings_page_reaches_a_host_the_facilitator_allowed(data_dir, monkeypatch, stub):
    monkeypatch.setenv("RAGFT_ALLOWED_HOSTS", f"127.0.0.1:{stub.port}")
    at = fill_base(open_settings(data_dir, monkeypatch), stub.base_url)
    at.button(key="set_test_base").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert "Connected to" in at.success[0].value
    assert stub.requests >= 2


# ---- https: the pinned connection keeps the name for SNI, the certificate check and the Host header ----------------
def _certificates(tmp_path, name: str):
    """A throwaway CA and a server certificate for ``name`` (no IP address in it), as PEM files."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ragft test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem, cert_pem, key_pem = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_pem, cert_pem, key_pem


def test_https_to_a_pinned_address_keeps_the_name_for_sni_certificate_and_host(tmp_path, monkeypatch):
    name = "tls-pin.test"
    ca_pem, cert_pem, key_pem = _certificates(tmp_path, name)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(cert_pem, key_pem)
    sni: list[str | None] = []
    server_tls.sni_callback = lambda sock, server_name, ctx: sni.append(server_name)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_pem))  # the client trusts the test CA (and only it)
    with CountingStub(reply=_reply, tls=server_tls) as stub:
        Rebinding(monkeypatch, name, "127.0.0.1", "127.0.0.1")
        p = policy(name)  # the facilitator allows this name
        assert attempt("chat", lambda: build(p, "chat", f"https://{name}:{stub.port}/v1")) == "ok"
        assert stub.requests >= 2 and set(sni) == {name}
        assert set(stub.hosts) == {f"{name}:{stub.port}"}
        # the certificate is checked against the name: by address (allowed, but not in the certificate) it fails
        seen = stub.requests
        outcome = attempt("chat", lambda: build(policy("127.0.0.1"), "chat", f"https://127.0.0.1:{stub.port}/v1"))
        assert outcome.startswith("EndpointUnreachable"), outcome
        assert stub.requests == seen
