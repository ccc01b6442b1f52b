"""ferrotls.Context against ssl.SSLContext: the same surface, the same behaviour.

Each check does the same thing to a ferrotls Context and to a real ssl.SSLContext
and compares, where ssl's behaviour is the specification.
"""

from __future__ import annotations

import os
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import ferrotls
import pytest
import trustme
from eco_support import LOOPBACK, PKI, TIMEOUT, openssl_client, openssl_server
from ferrotls.errors import UnsupportedFeature

ORIGINAL = ferrotls.inject.STDLIB_SSLCONTEXT


def both(protocol: int = ssl.PROTOCOL_TLS_CLIENT) -> tuple[ferrotls.Context, ssl.SSLContext]:
    return ferrotls.Context(protocol), ORIGINAL(protocol)


def outcome(fn: Any, *args: Any) -> Any:
    try:
        return ("ok", fn(*args))
    except Exception as exc:  # noqa: BLE001 - compared
        return ("raise", exc)


# --------------------------------------------------------------------------- shape


def test_context_is_an_ssl_context() -> None:
    ctx = ferrotls.create_default_context()
    assert isinstance(ctx, ssl.SSLContext)
    assert ctx.protocol == ssl.PROTOCOL_TLS_CLIENT
    assert ferrotls.Context(ssl.PROTOCOL_TLS_SERVER).protocol == ssl.PROTOCOL_TLS_SERVER
    assert ferrotls.Context(ssl.Purpose.CLIENT_AUTH).server_side
    assert ferrotls.Context(ssl.PROTOCOL_TLS_CLIENT).verify_mode == ssl.CERT_REQUIRED


def test_every_sslcontext_attribute_is_ferrotls_own() -> None:
    """Nothing of ssl.SSLContext is inherited unchanged (it would run on OpenSSL)."""
    names = {n for n in dir(ORIGINAL) if not n.startswith("__")} - {
        "_encode_hostname",  # a pure helper (IDNA) of ssl.py
        "_load_windows_store_certs", "_windows_cert_stores",  # Windows only
        "_host_flags", "_set_alpn_protocols",  # C internals reached only through overridden methods
    }
    missing = sorted(n for n in names if n not in ferrotls.Context.__dict__)
    assert not missing, missing


def test_old_protocols_are_refused_by_name() -> None:
    with pytest.raises(UnsupportedFeature, match="PROTOCOL_TLSv1_2"):
        ferrotls.Context(ssl.PROTOCOL_TLSv1_2)  # type: ignore[attr-defined]
    with pytest.raises(NotImplementedError):
        ferrotls.Context(ssl.PROTOCOL_TLSv1)  # type: ignore[attr-defined]


def test_unsupported_things_say_what() -> None:
    ctx = ferrotls.create_default_context()
    for action, word in (
        (lambda: setattr(ctx, "post_handshake_auth", True), "post_handshake_auth"),
        (lambda: setattr(ctx, "verify_flags", ssl.VERIFY_CRL_CHECK_LEAF), "VERIFY_CRL_CHECK_LEAF"),
        (lambda: setattr(ctx, "hostname_checks_common_name", True), "hostname_checks_common_name"),
        (lambda: setattr(ctx, "options", ctx.options | ssl.OP_NO_TLSv1_3 | ssl.OP_NO_TLSv1_2), "OP_NO_TLSv1_2"),
        (lambda: setattr(ctx, "maximum_version", ssl.TLSVersion.TLSv1_1), "maximum_version"),
        (lambda: ctx.set_ciphers("AES128-SHA"), "selects no TLS 1.2 suite ferrotls implements"),
        (lambda: ctx.set_npn_protocols(["h2"]), "NPN"),
        (lambda: ctx._wrap_socket(), "_wrap_socket"),
    ):
        with pytest.raises(UnsupportedFeature, match=word):
            action()
    assert ctx.post_handshake_auth is None  # urllib3 then leaves it alone
    ctx.post_handshake_auth = False


# --------------------------------------------------------------------------- loading


def test_load_cert_chain_refuses_a_mismatched_key(tmp_path: Path) -> None:
    ca = trustme.CA()
    one, two = ca.issue_cert("one.test"), ca.issue_cert("two.test")
    one.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    two.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    ferro, openssl = both(ssl.PROTOCOL_TLS_SERVER)
    results = [outcome(c.load_cert_chain, tmp_path / "cert.pem", tmp_path / "key.pem") for c in (ferro, openssl)]
    assert [r[0] for r in results] == ["raise", "raise"]
    ours, theirs = results[0][1], results[1][1]
    assert isinstance(ours, ssl.SSLError) and type(theirs) is ssl.SSLError
    assert ours.reason == theirs.reason == "KEY_VALUES_MISMATCH"
    assert not ferro._certificates


def test_load_cert_chain_missing_file_is_the_same_oserror(tmp_path: Path) -> None:
    for ctx in both(ssl.PROTOCOL_TLS_SERVER):
        with pytest.raises(FileNotFoundError):
            ctx.load_cert_chain(tmp_path / "nope.pem")
    for ctx in both():
        with pytest.raises(FileNotFoundError):
            ctx.load_verify_locations(tmp_path / "nope.pem")
        with pytest.raises(TypeError):
            ctx.load_verify_locations()


def test_load_verify_locations_does_not_add_the_same_cas_again(pki: PKI, tmp_path: Path) -> None:
    ferro, openssl = both()
    other = trustme.CA()
    other.cert_pem.write_to_path(str(tmp_path / "other.pem"))
    for _ in range(3):
        for ctx in (ferro, openssl):
            ctx.load_verify_locations(pki.ca_pem)
            ctx.load_verify_locations(cadata=pki.ca_pem.read_text())
    assert ferro.cert_store_stats() == openssl.cert_store_stats() == {"x509": 1, "crl": 0, "x509_ca": 1}
    for ctx in (ferro, openssl):
        ctx.load_verify_locations(tmp_path / "other.pem")
    assert ferro.cert_store_stats() == openssl.cert_store_stats()
    assert ferro.get_ca_certs(binary_form=True) == openssl.get_ca_certs(binary_form=True)
    theirs = openssl.get_ca_certs()
    ours = ferro.get_ca_certs()
    assert [c["subject"] for c in ours] == [c["subject"] for c in theirs]
    assert [c["serialNumber"] for c in ours] == [c["serialNumber"] for c in theirs]


def test_ssl_cert_file_replaces_the_default_store(pki: PKI, tmp_path: Path, monkeypatch: Any) -> None:
    """SSL_CERT_FILE / SSL_CERT_DIR replace the default paths (as in ssl), and a CA loaded
    that way verifies trustme's certificates (the profile of cafile=)."""
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("SSL_CERT_FILE", str(pki.ca_pem))
    monkeypatch.setenv("SSL_CERT_DIR", str(empty))
    ferro, openssl = both()
    ferro.load_default_certs()
    openssl.load_default_certs()
    assert ferro.get_ca_certs(True) == openssl.get_ca_certs(True)
    assert len(ferro.get_ca_certs(True)) == 1
    server = openssl_server(pki.server_pem)
    for ctx in (ferro, openssl):
        with _serve_once(server) as port, socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as raw:
            with ctx.wrap_socket(raw, server_hostname=LOOPBACK) as tls:
                assert tls.version() == "TLSv1.3"
    # ssl.create_default_context() does the same through load_default_certs
    with ferrotls.injected():
        assert ssl.create_default_context().get_ca_certs(True) == openssl.get_ca_certs(True)


# --------------------------------------------------------------------------- settings


def test_set_ciphers_checks_like_ssl() -> None:
    for ctx in both():
        ctx.set_ciphers("ECDHE+AESGCM:!aNULL")
        with pytest.raises(ssl.SSLError, match="No cipher can be selected"):
            ctx.set_ciphers("NOT-A-CIPHER")
    assert {c["name"] for c in ferrotls.Context().get_ciphers()} == {
        "TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256",
        "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES128-GCM-SHA256",
        "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305"}
    # OpenSSL reads the string; ferrotls keeps the suites it implements, in OpenSSL's order
    ferro, openssl = both()
    for ctx in (ferro, openssl):
        ctx.set_ciphers("ECDHE+CHACHA20:ECDHE+AESGCM:!aNULL")
    ours = [c["name"] for c in ferro.get_ciphers() if c["protocol"] == "TLSv1.2"]
    theirs = [c["name"] for c in openssl.get_ciphers() if c["protocol"] == "TLSv1.2"]
    assert ours and ours == [n for n in theirs if n in ours]
    assert ours[0].endswith("CHACHA20-POLY1305")


def test_versions_options_flags_accept_what_urllib3_sets() -> None:
    ferro, openssl = both()
    for ctx in (ferro, openssl):  # urllib3's create_urllib3_context
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.options |= ssl.OP_NO_SSLv2 | ssl.OP_NO_SSLv3 | ssl.OP_NO_COMPRESSION | ssl.OP_NO_TICKET
        ctx.verify_flags |= ssl.VERIFY_X509_STRICT | ssl.VERIFY_X509_PARTIAL_CHAIN
        ctx.maximum_version = ssl.TLSVersion.MAXIMUM_SUPPORTED
    assert ferro.minimum_version == openssl.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ferro.options & ssl.OP_NO_TICKET and ferro.verify_flags & ssl.VERIFY_X509_STRICT
    assert isinstance(ferro.options, ssl.Options) and isinstance(ferro.verify_flags, ssl.VerifyFlags)


def test_verify_mode_and_check_hostname_rules_match_ssl() -> None:
    for ctx in both():
        with pytest.raises(ValueError):
            ctx.verify_mode = ssl.CERT_NONE
        ctx.check_hostname = False
        with pytest.warns(ferrotls.InsecureVerificationWarning) if isinstance(ctx, ferrotls.Context) else _nothing():
            ctx.verify_mode = ssl.CERT_NONE
        ctx.check_hostname = True
        assert ctx.verify_mode == ssl.CERT_REQUIRED


def test_num_tickets_and_side_checks_match_ssl() -> None:
    for client, server in (
        (ferrotls.Context(ssl.PROTOCOL_TLS_CLIENT), ferrotls.Context(ssl.PROTOCOL_TLS_SERVER)),
        (ORIGINAL(ssl.PROTOCOL_TLS_CLIENT), ORIGINAL(ssl.PROTOCOL_TLS_SERVER)),
    ):
        assert server.num_tickets == 2
        server.num_tickets = 0
        with pytest.raises(ValueError):
            client.num_tickets = 1
        with pytest.raises(ValueError):
            server.num_tickets = -1
        with pytest.raises(ssl.SSLError, match="Cannot create a server socket"):
            client.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_side=True)
        with socket.socket() as raw, pytest.raises(ValueError, match="check_hostname requires server_hostname"):
            client.wrap_socket(raw)
        if isinstance(client, ferrotls.Context):  # ssl would go on and check no name at all
            with pytest.raises(ValueError, match="check_hostname requires server_hostname"):
                client.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO())
        with socket.socket() as raw, pytest.raises(ValueError, match="only be specified in client mode"):
            server.wrap_socket(raw, server_side=True, server_hostname="x.test")


def test_keylog_filename(pki: PKI, tmp_path: Path) -> None:
    ctx = ferrotls.create_default_context(cafile=pki.ca_pem)
    ctx.keylog_filename = tmp_path / "keys.log"
    with _serve_once(openssl_server(pki.server_pem)) as port, socket.create_connection((LOOPBACK, port)) as raw:
        with ctx.wrap_socket(raw, server_hostname=LOOPBACK):
            pass
    labels = {line.split()[0] for line in (tmp_path / "keys.log").read_text().splitlines()}
    assert {"CLIENT_HANDSHAKE_TRAFFIC_SECRET", "SERVER_TRAFFIC_SECRET_0", "CLIENT_TRAFFIC_SECRET_0"} <= labels


def test_sni_callback_has_ssl_signature_and_switches_context(pki: PKI, tmp_path: Path) -> None:
    """ssl's contract: callback(sslobject, server_name, context); set sslobject.context to
    switch certificates; return an ALERT_DESCRIPTION_* to abort.  An OpenSSL client sees it."""
    other_ca = trustme.CA()
    other = other_ca.issue_cert("other.test")
    other.private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "other.pem"))
    other_ca.cert_pem.write_to_path(str(tmp_path / "other-ca.pem"))
    default = ferrotls.Context(ssl.PROTOCOL_TLS_SERVER)
    default.load_cert_chain(pki.server_pem)
    alternative = ferrotls.Context(ssl.PROTOCOL_TLS_SERVER)
    alternative.load_cert_chain(tmp_path / "other.pem")
    seen: list[tuple[Any, ...]] = []

    def callback(sslobj: Any, name: str | None, ctx: Any) -> int | None:
        seen.append((type(sslobj), name, ctx))
        if name == "other.test":
            sslobj.context = alternative
        if name == "refused.test":
            return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME
        return None

    default.sni_callback = callback
    client = openssl_client(pki)
    client.load_verify_locations(tmp_path / "other-ca.pem")
    for name in ("localhost", "other.test"):
        with _serve_once(default) as port, socket.create_connection((LOOPBACK, port)) as raw:
            with client.wrap_socket(raw, server_hostname=name) as tls:
                assert ("DNS", name) in tls.getpeercert()["subjectAltName"]
    with _serve_once(default) as port, socket.create_connection((LOOPBACK, port)) as raw:
        with pytest.raises(ssl.SSLError) as info:
            client.wrap_socket(raw, server_hostname="refused.test")
    assert info.value.reason == "TLSV1_UNRECOGNIZED_NAME"
    assert [s[1] for s in seen] == ["localhost", "other.test", "refused.test"]
    assert all(s[0] is ferrotls.TLSSocket and s[2] is default for s in seen)
    with pytest.raises(ValueError):
        ferrotls.Context(ssl.PROTOCOL_TLS_CLIENT).sni_callback = callback


def test_session_stats_count_handshakes(pki: PKI) -> None:
    server = ferrotls.Context(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki.server_pem)
    client = ferrotls.create_default_context(cafile=pki.ca_pem)
    for _ in range(2):
        with _serve_once(server) as port, socket.create_connection((LOOPBACK, port)) as raw:
            with client.wrap_socket(raw, server_hostname=LOOPBACK):
                pass
    assert client.session_stats()["connect"] == client.session_stats()["connect_good"] == 2
    assert set(client.session_stats()) == set(ORIGINAL(ssl.PROTOCOL_TLS_CLIENT).session_stats())


# --------------------------------------------------------------------------- helpers


class _nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: Any) -> None:
        return None


class _serve_once:
    """Accept one connection in a thread, handshake with ``context`` and close."""

    def __init__(self, context: ssl.SSLContext) -> None:
        self.context = context
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(TIMEOUT)
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        try:
            sock, _ = self.listener.accept()
        except OSError:
            return
        with sock:
            sock.settimeout(TIMEOUT)
            try:
                with self.context.wrap_socket(sock, server_side=True) as tls:
                    tls.recv(1)
            except OSError:
                pass

    def __enter__(self) -> int:
        self.thread.start()
        port: int = self.listener.getsockname()[1]
        return port

    def __exit__(self, *args: Any) -> None:
        self.thread.join(TIMEOUT)
        self.listener.close()




def test_alpn_both_ways_with_openssl(pki: PKI) -> None:
    server = ferrotls.Context(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(pki.server_pem)
    server.set_alpn_protocols(["h2", "http/1.1"])
    client = openssl_client(pki)
    client.set_alpn_protocols(["http/1.1"])
    with _serve_once(server) as port, socket.create_connection((LOOPBACK, port)) as raw:
        with client.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.selected_alpn_protocol() == "http/1.1"
    openssl = openssl_server(pki.server_pem)
    openssl.set_alpn_protocols(["h2"])
    ferro = ferrotls.create_default_context(cafile=pki.ca_pem)
    ferro.set_alpn_protocols(["h2", "http/1.1"])
    with _serve_once(openssl) as port, socket.create_connection((LOOPBACK, port)) as raw:
        with ferro.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.selected_alpn_protocol() == "h2"


@pytest.mark.skipif(not hasattr(ORIGINAL, "set_psk_client_callback"), reason="ssl's PSK callbacks are 3.13+")
def test_psk_callbacks_both_ways_with_openssl(pki: PKI) -> None:
    """set_psk_client_callback / set_psk_server_callback (ssl's signatures): the external
    PSK is used (session_reused) with OpenSSL on the other end, both ways."""
    key = bytes(range(32))

    def server_callback(identity: str | None) -> bytes:
        return key if identity == "client-1" else b""

    def client_callback(hint: str | None) -> tuple[str | None, bytes]:
        return "client-1", key

    ferro_server = ferrotls.Context(ssl.PROTOCOL_TLS_SERVER)
    ferro_server.load_cert_chain(pki.server_pem)
    ferro_server.set_psk_server_callback(server_callback)  # type: ignore[attr-defined]
    openssl = openssl_client(pki, minimum_version=ssl.TLSVersion.TLSv1_3)
    openssl.set_psk_client_callback(client_callback)  # type: ignore[attr-defined]
    openssl_srv = openssl_server(pki.server_pem)
    openssl_srv.set_psk_server_callback(server_callback)  # type: ignore[attr-defined]
    ferro_client = ferrotls.create_default_context(cafile=pki.ca_pem)
    ferro_client.set_psk_client_callback(client_callback)  # type: ignore[attr-defined]
    for server, client in ((ferro_server, openssl), (openssl_srv, ferro_client)):
        with _serve_once(server) as port, socket.create_connection((LOOPBACK, port)) as raw:
            with client.wrap_socket(raw, server_hostname="localhost") as tls:
                assert tls.session_reused, (server, client)
