"""Regression tests for the RFC 8446 conformance and security findings (issue #11).

Each test here failed on the code before the fix it names; the alert asserted is
the one RFC 8446 asks for.  End-to-end versions of the truncation attack over
sockets and asyncio are in ``test_truncation_attack.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.errors import (
    AlertReceived,
    DecodeError,
    ProtocolError,
    UnexpectedMessage,
)
from ferrotls.events import ApplicationData, ConnectionClosed
from ferrotls.limits import Limits
from ferrotls.record import ContentType
from helpers_tls import (
    CLIENT_SECRETS,
    SERVER_NAME,
    SERVER_SECRETS,
    ConnectionPair,
    KeyLog,
    client_config,
    read_alert,
    seal_record,
    server_config,
    split_records,
)

SUITE = 0x1301
PLAINTEXT_CLOSE_NOTIFY = b"\x15\x03\x03\x00\x02\x01\x00"
PLAINTEXT_FATAL = b"\x15\x03\x03\x00\x02\x02\x28"  # handshake_failure


def _pair(backend: Any, client_kw: dict[str, Any] | None = None,
          server_kw: dict[str, Any] | None = None) -> tuple[ConnectionPair, KeyLog, KeyLog]:
    c_log, s_log = KeyLog(), KeyLog()
    pair = ConnectionPair(
        client_config(backend, cipher_suites=(SUITE,), key_log=c_log, **(client_kw or {})),
        server_config(backend, key_log=s_log, **(server_kw or {})),
    )
    return pair, c_log, s_log


def _expect(conn: Any, data: bytes, exc: type[ProtocolError], description: int, log: KeyLog,
            labels: tuple[str, ...]) -> ProtocolError:
    with pytest.raises(exc) as info:
        conn.receive_data(data)
    assert type(info.value) is exc
    alert = read_alert(conn.data_to_send(), SUITE, log, labels)
    assert alert.payload == bytes((2, description))
    assert alert.encrypted
    return info.value


# --------------------------------------------------------------------------- 1. plaintext alerts


@pytest.mark.parametrize("alert", [PLAINTEXT_CLOSE_NOTIFY, PLAINTEXT_FATAL], ids=["close_notify", "fatal"])
def test_plaintext_alert_after_handshake_is_refused_by_the_client(backend: Any, alert: bytes) -> None:
    """The truncation attack: part of a response, then 7 bytes of plaintext
    close_notify from someone without the keys.  The client must not see a clean
    end of stream (or a fatal alert) but fail with unexpected_message."""
    pair, c_log, _ = _pair(backend)
    pair.handshake()
    pair.server.send(b"first half of the response")
    wire = pair.server.data_to_send() + alert
    with pytest.raises(UnexpectedMessage):
        pair.client.receive_data(wire)
    events = pair.client.events()
    assert ApplicationData(b"first half of the response") in events
    assert not any(isinstance(e, ConnectionClosed) for e in events)
    assert not pair.client.peer_closed
    out = read_alert(pair.client.data_to_send(), SUITE, c_log, CLIENT_SECRETS)
    assert out.payload == b"\x02\x0a" and out.encrypted


@pytest.mark.parametrize("alert", [PLAINTEXT_CLOSE_NOTIFY, PLAINTEXT_FATAL], ids=["close_notify", "fatal"])
def test_plaintext_alert_after_handshake_is_refused_by_the_server(backend: Any, alert: bytes) -> None:
    pair, _, s_log = _pair(backend)
    pair.handshake()
    pair.client.send(b"request")
    pair.server.receive_data(pair.client.data_to_send())
    _expect(pair.server, alert, UnexpectedMessage, 10, s_log, SERVER_SECRETS)
    assert not pair.server.peer_closed


def test_plaintext_alert_split_anywhere(backend: Any) -> None:
    """The same outcome however the relay cuts the stream (a fresh pair per cut:
    the failure is final)."""
    for cut in range(1, 5 + 4 + 17 + len(PLAINTEXT_CLOSE_NOTIFY)):
        pair, _, _ = _pair(backend)
        pair.handshake()
        pair.server.send(b"data")
        wire = pair.server.data_to_send() + PLAINTEXT_CLOSE_NOTIFY
        with pytest.raises(UnexpectedMessage):
            pair.client.receive_data(wire[:cut])
            pair.client.receive_data(wire[cut:])
        assert not pair.client.peer_closed


def test_plaintext_alert_before_the_peer_protects_is_accepted(backend: Any) -> None:
    """A client that fails on the server's first flight before it has keys sends its
    alert in the clear; the server (which reads with the client's handshake keys
    already) must still take it (tlsfuzzer test-tls13-unencrypted-alert)."""
    pair, _, _ = _pair(backend)
    pair.server.receive_data(pair.client.data_to_send())
    pair.server.data_to_send()
    with pytest.raises(AlertReceived) as info:
        pair.server.receive_data(PLAINTEXT_FATAL)
    assert info.value.description == 40


def test_protected_close_notify_still_closes_cleanly(backend: Any) -> None:
    pair, _, _ = _pair(backend)
    pair.handshake()
    pair.server.send(b"all of it")
    pair.server.close()
    pair.client.receive_data(pair.server.data_to_send())
    assert pair.client.events() == [ApplicationData(b"all of it"), ConnectionClosed()]
    pair.client.receive_data(b"")  # EOF after close_notify: no TruncationError


# --------------------------------------------------------------------------- 7. empty records


def test_empty_records_in_one_call_are_each_counted(backend: Any) -> None:
    """33 empty records in one receive_data call against max_empty_records=32."""
    pair, _, s_log = _pair(backend, server_kw={"limits": Limits(max_empty_records=32)})
    pair.handshake()
    secret = s_log.secret("CLIENT_TRAFFIC_SECRET_0")
    records = [seal_record(SUITE, secret, seq, ContentType.APPLICATION_DATA, b"") for seq in range(33)]
    pair.server.receive_data(b"".join(records[:32]))  # 32 is the limit: still fine
    _expect(pair.server, records[32], UnexpectedMessage, 10, s_log, SERVER_SECRETS)
    pair, _, s_log = _pair(backend, server_kw={"limits": Limits(max_empty_records=32)})
    pair.handshake()
    secret = s_log.secret("CLIENT_TRAFFIC_SECRET_0")
    records = [seal_record(SUITE, secret, seq, ContentType.APPLICATION_DATA, b"") for seq in range(33)]
    _expect(pair.server, b"".join(records), UnexpectedMessage, 10, s_log, SERVER_SECRETS)


def test_hundred_thousand_empty_records_in_one_call(backend: Any) -> None:
    pair, _, _ = _pair(backend, server_kw={"limits": Limits(max_empty_records=32)})
    pair.handshake()
    records = pair.client._records  # the client's sealer makes the flood
    for _ in range(100_000 if backend == "native" else 2_000):
        records.write(ContentType.APPLICATION_DATA, b"")
    flood = pair.client.data_to_send()
    with pytest.raises(UnexpectedMessage, match="more than 32 consecutive records"):
        pair.server.receive_data(flood)


def test_empty_records_between_data_are_not_a_flood(backend: Any) -> None:
    pair, _, _ = _pair(backend, server_kw={"limits": Limits(max_empty_records=3)})
    pair.handshake()
    records = pair.client._records
    for i in range(20):
        for _ in range(3):
            records.write(ContentType.APPLICATION_DATA, b"")
        pair.client.send(bytes([65 + i]))
    pair.server.receive_data(pair.client.data_to_send())
    got = b"".join(e.data for e in pair.server.events() if isinstance(e, ApplicationData))
    assert got == bytes(range(65, 85))


# --------------------------------------------------------------------------- 10. zero-length records


@pytest.mark.parametrize("content_type", [ContentType.HANDSHAKE, ContentType.ALERT], ids=["handshake", "alert"])
def test_zero_length_protected_record(backend: Any, content_type: int) -> None:
    pair, _, s_log = _pair(backend)
    pair.handshake()
    secret = s_log.secret("CLIENT_TRAFFIC_SECRET_0")
    record = seal_record(SUITE, secret, 0, content_type, b"")
    _expect(pair.server, record, UnexpectedMessage, 10, s_log, SERVER_SECRETS)


def test_zero_length_protected_handshake_record_during_the_handshake(backend: Any) -> None:
    pair, _, s_log = _pair(backend)
    pair.server.receive_data(pair.client.data_to_send())
    pair.server.data_to_send()
    secret = s_log.secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
    record = seal_record(SUITE, secret, 0, ContentType.HANDSHAKE, b"")
    _expect(pair.server, record, UnexpectedMessage, 10, s_log, SERVER_SECRETS)


# --------------------------------------------------------------------------- 11. interleaving


@pytest.mark.parametrize("between", ["application_data", "alert", "ccs"])
def test_record_between_fragments_of_a_post_handshake_message(backend: Any, between: str) -> None:
    """A KeyUpdate split across two records with another record between them."""
    pair, _, s_log = _pair(backend)
    pair.handshake()
    secret = s_log.secret("CLIENT_TRAFFIC_SECRET_0")
    key_update = b"\x18\x00\x00\x01\x00"
    middle = {
        "application_data": seal_record(SUITE, secret, 1, ContentType.APPLICATION_DATA, b"hi"),
        "alert": seal_record(SUITE, secret, 1, ContentType.ALERT, b"\x01\x5a"),  # user_canceled
        "ccs": b"\x14\x03\x03\x00\x01\x01",
    }[between]
    seq_after = 1 if between == "ccs" else 2
    wire = (
        seal_record(SUITE, secret, 0, ContentType.HANDSHAKE, key_update[:2])
        + middle
        + seal_record(SUITE, secret, seq_after, ContentType.HANDSHAKE, key_update[2:])
    )
    _expect(pair.server, wire, UnexpectedMessage, 10, s_log, SERVER_SECRETS)


def test_fragments_with_nothing_between_are_fine(backend: Any) -> None:
    pair, _, s_log = _pair(backend)
    pair.handshake()
    secret = s_log.secret("CLIENT_TRAFFIC_SECRET_0")
    key_update = b"\x18\x00\x00\x01\x00"
    wire = b"".join(
        seal_record(SUITE, secret, i, ContentType.HANDSHAKE, key_update[i : i + 1]) for i in range(5)
    )
    pair.server.receive_data(wire)
    assert [type(e).__name__ for e in pair.server.events()] == ["KeyUpdated"]


def test_ccs_between_fragments_of_the_client_hello(backend: Any) -> None:
    client = ClientConnection(client_config(backend), SERVER_NAME)
    ((_, record),) = split_records(client.data_to_send())
    body = record[5:]
    half = len(body) // 2

    def plain(chunk: bytes) -> bytes:
        return b"\x16\x03\x01" + len(chunk).to_bytes(2, "big") + chunk

    server = ServerConnection(server_config(backend))
    with pytest.raises(UnexpectedMessage):
        server.receive_data(plain(body[:half]) + b"\x14\x03\x03\x00\x01\x01" + plain(body[half:]))
    assert server.data_to_send() == b"\x15\x03\x03\x00\x02\x02\x0a"
    server = ServerConnection(server_config(backend))  # without the CCS it is one ClientHello
    server.receive_data(plain(body[:half]) + plain(body[half:]))
    assert server.data_to_send()


@pytest.mark.parametrize("when", ["handshake", "established"])
def test_protected_change_cipher_spec(backend: Any, when: str) -> None:
    pair, _, s_log = _pair(backend)
    if when == "established":
        pair.handshake()
        secret = s_log.secret("CLIENT_TRAFFIC_SECRET_0")
    else:
        pair.server.receive_data(pair.client.data_to_send())
        pair.server.data_to_send()
        secret = s_log.secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
    record = seal_record(SUITE, secret, 0, ContentType.CHANGE_CIPHER_SPEC, b"\x01")
    _expect(pair.server, record, UnexpectedMessage, 10, s_log, SERVER_SECRETS)


def test_plaintext_ccs_during_the_handshake_is_still_dropped(backend: Any) -> None:
    pair, _, _ = _pair(backend)
    pair.server.receive_data(pair.client.data_to_send())
    pair.server.receive_data(b"\x14\x03\x03\x00\x01\x01")
    pair.pump()
    assert any(type(e).__name__ == "HandshakeComplete" for e in pair.server.events())


# --------------------------------------------------------------------------- 3. insecure backend


def test_python_backend_connection_warns() -> None:
    import ferrotls

    with pytest.warns(ferrotls.InsecureBackendWarning, match="not constant-time"):
        ClientConnection(client_config("python"), SERVER_NAME)
    with pytest.warns(ferrotls.InsecureBackendWarning):
        ServerConnection(server_config("python"))


def test_native_backend_connection_does_not_warn(recwarn: pytest.WarningsRecorder) -> None:
    import ferrotls

    ClientConnection(client_config("native"), SERVER_NAME)
    ServerConnection(server_config("native"))
    assert not [w for w in recwarn if issubclass(w.category, ferrotls.InsecureBackendWarning)]


def _run_python(code: str, **env: str) -> Any:
    import os
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-W", "default", "-c", code], capture_output=True, text=True, timeout=60,
        env={**os.environ, **env},
    )


def test_auto_fallback_warns_that_native_is_missing() -> None:
    code = (
        "import sys; sys.modules['ferrotls._native'] = None\n"
        "import ferrotls\n"
        "assert ferrotls.get_backend().name == 'python'\n"
        "ferrotls.ServerConnection(ferrotls.ServerConfig(psk_callback=lambda i: None))\n"
    )
    done = _run_python(code, FERROTLS_BACKEND="auto")
    assert done.returncode == 0, done.stderr
    assert "InsecureBackendWarning" in done.stderr
    assert "native module is not built" in done.stderr


def test_forced_python_backend_warns_and_info_knows_native_is_built() -> None:
    done = _run_python(
        "import ferrotls; ferrotls.ServerConnection(ferrotls.ServerConfig(psk_callback=lambda i: None))",
        FERROTLS_BACKEND="python",
    )
    assert done.returncode == 0, done.stderr
    assert "InsecureBackendWarning: the pure-Python backend is not constant-time" in done.stderr
    info = _run_python("from ferrotls.apps.cli import main; main(['info'])", FERROTLS_BACKEND="python")
    assert "backend native: built, not loaded (FERROTLS_BACKEND=python)" in info.stdout
    assert "not built" not in info.stdout
    assert "warning: the pure-Python backend is not constant-time" in info.stdout


# --------------------------------------------------------------------------- 4. secrets in reprs


def test_config_reprs_hold_no_private_keys(backend: Any) -> None:
    from ferrotls.config import ClientConfig, ServerConfig
    from ferrotls.psk import ExternalPsk

    private = bytes(range(1, 33))
    psk = bytes(range(100, 132))
    configs = [
        ClientConfig(backend=backend, key_share_private_keys={0x001D: private},
                     external_psks=(ExternalPsk(b"id", psk),)),
        ServerConfig(backend=backend, key_share_private_keys={0x001D: private},
                     psk_callback=lambda identity: psk),
        server_config(backend, key_share_private_keys={0x001D: private}),
    ]
    for config in configs:
        for text in (repr(config), str(config)):
            for secret in (private, psk):
                assert secret.hex() not in text
                assert repr(secret) not in text
                assert secret.hex(":") not in text
            assert "key_share_private_keys" not in text
            assert "PRIVATE KEY" not in text


# --------------------------------------------------------------------------- 5. wildcards


@pytest.mark.parametrize(
    ("pattern", "host", "ok"),
    [
        ("*.com", "example.com", False),
        ("*.example.com", "www.example.com", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "a.b.example.com", False),
        ("*.co.uk", "foo.co.uk", True),  # no public-suffix list, as OpenSSL
        ("example.com", "example.com", True),
    ],
)
def test_wildcard_rules(pattern: str, host: str, ok: bool) -> None:
    import datetime

    from certs import TestCA
    from cryptography.hazmat.primitives.serialization import Encoding
    from ferrotls.config import CertifiedKey
    from ferrotls.errors import BadCertificate
    from ferrotls.x509 import DefaultVerifier, TrustStore

    ca = TestCA("wildcard CA", key_index=31)
    leaf = ca.issue(pattern, key_kind="p256", key_index=32)
    chain = [c.public_bytes(Encoding.DER) for c in leaf.chain]
    now = datetime.datetime.now(datetime.timezone.utc)
    for profile in ("webpki", "compatible"):
        verifier = DefaultVerifier(TrustStore.from_certificates([ca.cert]), profile=profile)  # type: ignore[arg-type]
        if ok:
            verifier.verify_server_chain(chain, host, now)
        else:
            with pytest.raises(BadCertificate, match="not valid for"):
                verifier.verify_server_chain(chain, host, now)
    assert CertifiedKey(leaf.chain, leaf.key).matches_name(host) is ok


def test_single_label_wildcard_fails_the_handshake(backend: Any) -> None:
    from certs import TestCA
    from ferrotls.config import CertifiedKey
    from ferrotls.errors import BadCertificate
    from ferrotls.x509 import DefaultVerifier, TrustStore

    ca = TestCA("wildcard CA", key_index=31)
    leaf = ca.issue("*.com", key_kind="p256", key_index=33)
    pair = ConnectionPair(
        client_config(backend, verifier=DefaultVerifier(TrustStore.from_certificates([ca.cert]))),
        server_config(backend, certificates=(CertifiedKey(leaf.chain, leaf.key),)),
        server_hostname="example.com",
    )
    with pytest.raises(BadCertificate):
        pair.pump()


# --------------------------------------------------------------------------- 2. resumption and client auth


def _client_auth_setup(backend: Any, ca_index: int = 41) -> tuple[Any, Any, Any]:
    from certs import TestCA
    from ferrotls.config import CertifiedKey
    from ferrotls.x509 import DefaultVerifier, TrustStore

    ca = TestCA(f"client CA {ca_index}", key_index=ca_index)
    leaf = ca.issue("client.test", key_kind="p256", key_index=ca_index + 1)
    return (
        ca,
        CertifiedKey(leaf.chain, leaf.key),
        DefaultVerifier(TrustStore.from_certificates([ca.cert])),
    )


def _resume(cc: Any, sc: Any) -> tuple[Any, ConnectionPair]:
    from ferrotls.events import HandshakeComplete

    pair = ConnectionPair(cc, sc)
    pair.pump()
    info = [e for e in pair.server.events() if isinstance(e, HandshakeComplete)]
    return info[0], pair


@pytest.mark.parametrize("first_mode", ["none", "optional"])
def test_ticket_without_client_identity_does_not_resume_on_a_requiring_server(
    backend: Any, first_mode: str
) -> None:
    """Two servers share a TicketKeyManager; the first does not get a client
    certificate (client_auth none, or optional and the client has none); the second
    requires one.  The ticket must not resume there: a full handshake asks for the
    certificate and the client without one is refused."""
    from ferrotls.config import ClientAuth
    from ferrotls.errors import AlertReceived, CertificateRequired
    from resumption_helpers import configs, full_handshake

    _, _, client_verifier = _client_auth_setup(backend)
    cc, lenient = configs(backend, server={
        "client_auth": ClientAuth(first_mode), "client_verifier": client_verifier,
    })
    _, sessions = full_handshake(cc, lenient)
    assert sessions
    strict = server_config(
        backend, clock=lenient.clock, ticket_keys=lenient.ticket_keys, ticket_count=2,
        client_auth=ClientAuth.REQUIRED, client_verifier=client_verifier,
    )
    pair = ConnectionPair(cc, strict)
    with pytest.raises(CertificateRequired):
        pair.pump()
    # the client did offer the ticket; the server answered with a full handshake
    with pytest.raises(AlertReceived):
        pair.client.receive_data(pair.server.data_to_send())


def test_ticket_with_client_identity_resumes_under_the_same_policy(backend: Any) -> None:
    from ferrotls.config import ClientAuth
    from resumption_helpers import configs, full_handshake

    _, client_cert, client_verifier = _client_auth_setup(backend)
    cc, sc = configs(backend, client={"certificate": client_cert}, server={
        "client_auth": ClientAuth.REQUIRED, "client_verifier": client_verifier,
    })
    _, sessions = full_handshake(cc, sc)
    info, _ = _resume(cc, sc)
    assert info.resumed
    assert info.peer_certificates == (client_cert.chain_der[0],)
    # a second server with an equal verifier (same anchors, same profile) resumes too
    from ferrotls.x509 import DefaultVerifier

    same_policy = DefaultVerifier(client_verifier.trust)
    assert same_policy is not client_verifier and same_policy.binding() == client_verifier.binding()
    twin = server_config(
        backend, clock=sc.clock, ticket_keys=sc.ticket_keys, ticket_count=2,
        client_auth=ClientAuth.REQUIRED, client_verifier=same_policy,
    )
    info, _ = _resume(cc, twin)
    assert info.resumed


def test_ticket_is_bound_to_the_trust_anchors_that_verified_the_client(backend: Any) -> None:
    """A ticket of a client verified under CA 1 offered to a server trusting only CA 2
    (same ticket keys) falls back to a full handshake, where the client's
    certificate is refused as unknown_ca."""
    from ferrotls.config import ClientAuth
    from ferrotls.errors import UnknownCA
    from resumption_helpers import configs, full_handshake

    _, client_cert, verifier1 = _client_auth_setup(backend, 41)
    _, _, verifier2 = _client_auth_setup(backend, 51)
    cc, sc = configs(backend, client={"certificate": client_cert}, server={
        "client_auth": ClientAuth.REQUIRED, "client_verifier": verifier1,
    })
    full_handshake(cc, sc)
    other = server_config(
        backend, clock=sc.clock, ticket_keys=sc.ticket_keys, ticket_count=2,
        client_auth=ClientAuth.REQUIRED, client_verifier=verifier2,
    )
    pair = ConnectionPair(cc, other)
    with pytest.raises(UnknownCA):
        pair.pump()
    # and a profile change binds too
    from ferrotls.x509 import DefaultVerifier

    assert DefaultVerifier(verifier1.trust, profile="webpki").binding() != verifier1.binding()


def test_tightened_server_does_not_resume_its_own_old_tickets(backend: Any) -> None:
    from dataclasses import replace

    from ferrotls.config import ClientAuth
    from ferrotls.errors import CertificateRequired
    from resumption_helpers import configs, full_handshake

    _, _, client_verifier = _client_auth_setup(backend)
    cc, sc = configs(backend, server={"client_auth": ClientAuth.OPTIONAL, "client_verifier": client_verifier})
    full_handshake(cc, sc)
    tightened = replace(sc, client_auth=ClientAuth.REQUIRED)
    with pytest.raises(CertificateRequired):
        ConnectionPair(cc, tightened).pump()


# --------------------------------------------------------------------------- 8. legacy_version


def _plain_handshake(message: bytes, version: bytes = b"\x03\x03") -> bytes:
    return b"\x16" + version + len(message).to_bytes(2, "big") + message


@pytest.mark.parametrize("legacy_version", [0x0300, 0x0200, 0x0002])
def test_client_hello_legacy_version_ssl3_or_lower(backend: Any, legacy_version: int) -> None:
    def hook(hello: Any) -> Any:
        hello.legacy_version = legacy_version
        return hello

    client = ClientConnection(client_config(backend, client_hello_hook=hook), SERVER_NAME)
    server = ServerConnection(server_config(backend))
    from ferrotls.errors import ProtocolVersionError

    with pytest.raises(ProtocolVersionError, match="SSL 3.0 or older"):
        server.receive_data(client.data_to_send())
    assert server.data_to_send() == b"\x15\x03\x03\x00\x02\x02\x46"


def test_client_hello_legacy_version_tls10_and_tls12_still_work(backend: Any) -> None:
    for legacy_version in (0x0301, 0x0303):
        def hook(hello: Any, v: int = legacy_version) -> Any:
            hello.legacy_version = v
            return hello

        pair = ConnectionPair(client_config(backend, client_hello_hook=hook), server_config(backend))
        pair.handshake()


def test_server_hello_legacy_version_ssl3(backend: Any) -> None:
    from helpers_tls import edit_server_flight

    from ferrotls.errors import ProtocolVersionError

    pair, c_log, s_log = _pair(backend)
    pair.server.receive_data(pair.client.data_to_send())
    flight = edit_server_flight(
        pair.server.data_to_send(), SUITE, s_log, lambda m: m,
        edit_server_hello=lambda body: body[:4] + b"\x03\x00" + body[6:],
    )
    with pytest.raises(ProtocolVersionError):
        pair.client.receive_data(flight)
    assert pair.client.data_to_send().endswith(b"\x15\x03\x03\x00\x02\x02\x46")


# --------------------------------------------------------------------------- 9. Finished length


@pytest.mark.parametrize("length", [0, 31, 33, 48])
def test_client_finished_of_the_wrong_length_is_decode_error(backend: Any, length: int) -> None:
    pair, _, s_log = _pair(backend)
    pair.server.receive_data(pair.client.data_to_send())
    pair.server.data_to_send()
    secret = s_log.secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
    finished = b"\x14" + length.to_bytes(3, "big") + bytes(length)
    from ferrotls.errors import DecodeError

    exc = _expect(pair.server, seal_record(SUITE, secret, 0, ContentType.HANDSHAKE, finished),
                  DecodeError, 50, s_log, SERVER_SECRETS)
    assert f"Finished of {length} bytes, expected 32" in str(exc)


def test_client_finished_of_the_right_length_but_wrong_is_decrypt_error(backend: Any) -> None:
    from ferrotls.errors import DecryptError

    pair, _, s_log = _pair(backend)
    pair.server.receive_data(pair.client.data_to_send())
    pair.server.data_to_send()
    secret = s_log.secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
    finished = b"\x14\x00\x00\x20" + bytes(32)
    _expect(pair.server, seal_record(SUITE, secret, 0, ContentType.HANDSHAKE, finished),
            DecryptError, 51, s_log, SERVER_SECRETS)


# --------------------------------------------------------------------------- 12. TLS 1.2 ServerHellos


def _tls12_server_hello(random: bytes, tail: bytes, session_id: bytes) -> bytes:
    body = b"\x03\x03" + random + bytes([len(session_id)]) + session_id + b"\xc0\x2f\x00" + tail
    return b"\x02" + len(body).to_bytes(3, "big") + body


@pytest.mark.parametrize(
    "tail",
    [b"", b"\x00\x00", b"\x00\x05\xff\x01\x00\x01\x00", b"\x00\x09\xff\x01\x00\x01\x00\x00\x17\x00\x00"],
    ids=["no_extensions", "empty_block", "renegotiation_info", "reneg_and_ems"],
)
@pytest.mark.parametrize("sentinel", [None, b"DOWNGRD\x01", b"DOWNGRD\x00"], ids=["plain", "tls12_sentinel", "tls11_sentinel"])
def test_tls12_server_hello_reaches_the_version_checks(backend: Any, tail: bytes, sentinel: bytes | None) -> None:
    """A TLS 1.3-only client: protocol_version, or illegal_parameter for a sentinel."""
    from ferrotls.errors import IllegalParameter, ProtocolVersionError

    client = ClientConnection(client_config(backend, minimum_version=0x0304), SERVER_NAME)
    ((_, record),) = split_records(client.data_to_send())
    session_id = record[5 + 4 + 2 + 32 + 1 : 5 + 4 + 2 + 32 + 1 + record[5 + 4 + 2 + 32]]
    random = bytes(range(24)) + (sentinel or b"\x11" * 8)
    hello = _plain_handshake(_tls12_server_hello(random, tail, session_id))
    if sentinel is None:
        with pytest.raises(ProtocolVersionError, match="peer supports TLS 1.2 at most; ferrotls speaks TLS 1.3"):
            client.receive_data(hello)
        assert client.data_to_send() == b"\x15\x03\x03\x00\x02\x02\x46"
    else:
        with pytest.raises(IllegalParameter, match="downgrade sentinel"):
            client.receive_data(hello)
        assert client.data_to_send() == b"\x15\x03\x03\x00\x02\x02\x2f"


@pytest.mark.parametrize("sentinel", [b"DOWNGRD\x01", b"DOWNGRD\x00"], ids=["tls12_sentinel", "tls11_sentinel"])
def test_tls13_capable_client_refuses_a_downgrade_to_tls12(backend: Any, sentinel: bytes) -> None:
    """The default client speaks TLS 1.2 too, but a downgrade sentinel from a TLS 1.3
    server is illegal_parameter (RFC 8446 section 4.1.3)."""
    from ferrotls.errors import IllegalParameter

    client = ClientConnection(client_config(backend), SERVER_NAME)
    ((_, record),) = split_records(client.data_to_send())
    session_id = record[5 + 4 + 2 + 32 + 1 : 5 + 4 + 2 + 32 + 1 + record[5 + 4 + 2 + 32]]
    hello = _plain_handshake(_tls12_server_hello(bytes(range(24)) + sentinel, b"\x00\x05\xff\x01\x00\x01\x00",
                                                 session_id))
    with pytest.raises(IllegalParameter, match="downgrade sentinel"):
        client.receive_data(hello)


def test_tls12_client_hello_gets_a_clear_protocol_version(backend: Any) -> None:
    from ferrotls.errors import ProtocolVersionError

    def hook(hello: Any) -> Any:
        hello.extensions = [e for e in hello.extensions if e.ext_type != 43]  # no supported_versions
        return hello

    client = ClientConnection(client_config(backend, client_hello_hook=hook), SERVER_NAME)
    server = ServerConnection(server_config(backend, minimum_version=0x0304))  # a TLS 1.3-only server
    with pytest.raises(ProtocolVersionError, match="peer supports TLS 1.2 at most; ferrotls speaks TLS 1.3"):
        server.receive_data(client.data_to_send())
    assert server.data_to_send() == b"\x15\x03\x03\x00\x02\x02\x46"


# --------------------------------------------------------------------------- 13. many extensions


@pytest.mark.parametrize("count", [65, 300, 2000])
def test_client_hello_with_many_unknown_extensions(backend: Any, count: int) -> None:
    from ferrotls.messages.extensions import UnknownExtension

    def hook(hello: Any) -> Any:
        unknown = [UnknownExtension(0x4000 + i, bytes(i % 7)) for i in range(count)]
        hello.extensions = unknown[: count // 2] + hello.extensions + unknown[count // 2 :]
        return hello

    pair = ConnectionPair(client_config(backend, client_hello_hook=hook), server_config(backend))
    pair.handshake()


def test_client_hello_with_a_duplicate_unknown_extension(backend: Any) -> None:
    from ferrotls.errors import IllegalParameter
    from ferrotls.messages.extensions import UnknownExtension

    def hook(hello: Any) -> Any:
        hello.extensions = [UnknownExtension(0x4242, b"a"), *hello.extensions, UnknownExtension(0x4242, b"b")]
        return hello

    client = ClientConnection(client_config(backend, client_hello_hook=hook), SERVER_NAME)
    server = ServerConnection(server_config(backend))
    with pytest.raises(IllegalParameter, match="duplicate extension"):
        server.receive_data(client.data_to_send())
    assert server.data_to_send() == b"\x15\x03\x03\x00\x02\x02\x2f"


@pytest.mark.parametrize(("ext_type", "body"), [
    (11, b""),            # ec_point_formats: a vector of at least one format
    (11, b"\x05\x00"),    # its length runs past the end
    (23, b"\x01"),        # extended_master_secret: empty
    (0xFF01, b""),        # renegotiation_info: one length byte at least
])
def test_malformed_tls12_only_extension(backend: Any, ext_type: int, body: bytes) -> None:
    """tlsfuzzer test-tls13-large-number-of-extensions sends ids it counts as unassigned,
    among them ec_point_formats, extended_master_secret and session_ticket, with empty or
    random bodies: a TLS 1.3 handshake ignores them (they mean nothing there, and OpenSSL
    does not parse them); TLS 1.2 still answers decode_error."""
    from ferrotls.messages.extensions import UnknownExtension

    def hook(hello: Any) -> Any:
        hello.extensions = [UnknownExtension(ext_type, body)] + [
            e for e in hello.extensions if e.ext_type != ext_type
        ]
        return hello

    pair = ConnectionPair(client_config(backend, client_hello_hook=hook), server_config(backend))
    info = pair.handshake()
    assert info[0].version == "TLSv1.3"

    client = ClientConnection(client_config(backend, client_hello_hook=hook, maximum_version=0x0303), SERVER_NAME)
    server = ServerConnection(server_config(backend))
    with pytest.raises(DecodeError):
        server.receive_data(client.data_to_send())
    assert server.data_to_send() == b"\x15\x03\x03\x00\x02\x02\x32"


@pytest.mark.parametrize("maximum_version", [0x0304, 0x0303])
def test_connection_id_means_nothing_in_a_tls_client_hello(backend: Any, maximum_version: int) -> None:
    """connection_id (RFC 9146) is DTLS's: in a TLS ClientHello any body is ignored
    (tlsfuzzer counts 54 as unassigned and sends it empty or random)."""
    from ferrotls.messages.extensions import UnknownExtension

    def hook(hello: Any) -> Any:
        hello.extensions = [UnknownExtension(54, b"\x44\x00"), *hello.extensions]
        return hello

    pair = ConnectionPair(
        client_config(backend, client_hello_hook=hook, maximum_version=maximum_version), server_config(backend)
    )
    assert pair.handshake()[1].version == ("TLSv1.3" if maximum_version == 0x0304 else "TLSv1.2")


# --------------------------------------------------------------------------- 6. AEAD usage limits


def _swap_keys(pair: ConnectionPair, c_log: KeyLog, suite: int, sequence: int) -> None:
    """Give the client's sending key and the server's receiving key the sequence
    number ``sequence``: as if that many records had been sent under them."""
    from ferrotls.keyschedule import traffic_keys
    from ferrotls.suites import suite_info

    info = suite_info(suite)
    secret = c_log.secret("CLIENT_TRAFFIC_SECRET_0")
    for conn, data_limit in ((pair.client, info.max_records), (pair.server, None)):
        keys = traffic_keys(conn.backend, info, secret)
        protector = conn.backend.record_protector(suite, keys.key, keys.iv, sequence, data_limit)
        if conn is pair.client:
            conn._records.write_protector = protector
        else:
            conn._records.read_protector = protector


@pytest.mark.parametrize(
    ("suite", "limit"),
    [(0x1301, 23_726_566), (0x1302, 23_726_566), (0x1304, 11_863_283), (0x1305, 11_863_283),
     (0x1303, (1 << 64) - (1 << 16))],
    ids=["aes128gcm", "aes256gcm", "ccm", "ccm8", "chacha20"],
)
def test_key_update_before_the_aead_limit(backend: Any, suite: int, limit: int) -> None:
    """Two records before the suite's limit, a write of five records: two go under
    the old key, then a KeyUpdate, then the rest under the new key; the server
    reads all of it and updates its receiving key."""
    from ferrotls.events import KeyUpdated
    from ferrotls.suites import suite_info

    assert suite_info(suite).max_records == limit
    c_log = KeyLog()
    pair = ConnectionPair(
        client_config(backend, cipher_suites=(suite,), key_log=c_log),
        server_config(backend, cipher_suites=(suite,)),
    )
    pair.handshake()
    _swap_keys(pair, c_log, suite, limit - 2)
    data = bytes(range(256)) * 256 + b"!" * 3  # 65,539 bytes: five records
    pair.client.send(data)
    wire = pair.client.data_to_send()
    assert pair.client._records.write_protector.sequence == 3  # type: ignore[union-attr]
    pair.server.receive_data(wire)
    events = pair.server.events()
    got = b"".join(e.data for e in events if isinstance(e, ApplicationData))
    assert got == data
    assert KeyUpdated(update_requested=False) in events
    assert len(split_records(wire)) == 2 + 1 + 3
    pair.client.close()  # and the connection still closes cleanly
    pair.server.receive_data(pair.client.data_to_send())
    assert ConnectionClosed() in pair.server.events()


def test_key_update_for_a_small_write_at_the_limit(backend: Any) -> None:
    from ferrotls.events import KeyUpdated

    c_log = KeyLog()
    pair = ConnectionPair(client_config(backend, cipher_suites=(SUITE,), key_log=c_log), server_config(backend))
    pair.handshake()
    _swap_keys(pair, c_log, SUITE, 23_726_566)  # exactly at the limit: nothing more under this key
    for message in (b"one", b"", b"two"):
        pair.client.send(message)
    pair.server.receive_data(pair.client.data_to_send())
    events = pair.server.events()
    assert events[0] == KeyUpdated(update_requested=False)
    assert b"".join(e.data for e in events if isinstance(e, ApplicationData)) == b"onetwo"


def test_close_at_the_last_sequence_number(backend: Any) -> None:
    """At sequence 2**64 - 1 a write still goes out (after a KeyUpdate under the last
    number) and close() still works."""
    from ferrotls.keyschedule import traffic_keys
    from ferrotls.suites import suite_info

    for send_first in (True, False):
        c_log = KeyLog()
        pair = ConnectionPair(client_config(backend, cipher_suites=(0x1303,), key_log=c_log),
                              server_config(backend, cipher_suites=(0x1303,)))
        pair.handshake()
        info = suite_info(0x1303)
        keys = traffic_keys(pair.client.backend, info, c_log.secret("CLIENT_TRAFFIC_SECRET_0"))
        last = (1 << 64) - 1
        pair.client._records.write_protector = pair.client.backend.record_protector(
            0x1303, keys.key, keys.iv, last, info.max_records)
        pair.server._records.read_protector = pair.server.backend.record_protector(
            0x1303, keys.key, keys.iv, last)
        if send_first:
            pair.client.send(b"late data")
        pair.client.close()
        pair.server.receive_data(pair.client.data_to_send())
        events = pair.server.events()
        assert ConnectionClosed() in events
        if send_first:
            assert ApplicationData(b"late data") in events


# --------------------------------------------------------------------------- 15. tlsfuzzer findings


@pytest.mark.parametrize("group", [0x001D, 0x0017, 0x001E])
def test_empty_key_share_is_illegal_parameter(backend: Any, group: int) -> None:
    """tlsfuzzer crfg-curves "empty x25519 key share": an invalid public value of the
    group (RFC 8446 4.2.8), not a syntax error."""
    from ferrotls.errors import IllegalParameter
    from ferrotls.messages.extensions import KeyShareClientHello, KeyShareEntry, SupportedGroups

    def hook(hello: Any) -> Any:
        for i, e in enumerate(hello.extensions):
            if isinstance(e, KeyShareClientHello):
                hello.extensions[i] = KeyShareClientHello([KeyShareEntry(group, b"")])
            elif isinstance(e, SupportedGroups):
                hello.extensions[i] = SupportedGroups([group])
        return hello

    client = ClientConnection(client_config(backend, client_hello_hook=hook), SERVER_NAME)
    server = ServerConnection(server_config(backend))
    with pytest.raises(IllegalParameter):
        server.receive_data(client.data_to_send())
    assert server.data_to_send() == b"\x15\x03\x03\x00\x02\x02\x2f"


@pytest.mark.parametrize("length", [65, 1 << 17, (1 << 24) - 1])
def test_finished_announcing_a_huge_length_is_decode_error(backend: Any, length: int) -> None:
    """tlsfuzzer finished "pad_right 131072" and up: a Finished cannot be that long;
    decode_error, before our 128 KiB handshake limit (illegal_parameter) applies."""
    from ferrotls.errors import DecodeError

    pair, _, s_log = _pair(backend)
    pair.server.receive_data(pair.client.data_to_send())
    pair.server.data_to_send()
    secret = s_log.secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
    header = b"\x14" + length.to_bytes(3, "big")
    _expect(pair.server, seal_record(SUITE, secret, 0, ContentType.HANDSHAKE, header + bytes(32)),
            DecodeError, 50, s_log, SERVER_SECRETS)


def test_other_huge_messages_stay_illegal_parameter(backend: Any) -> None:
    from ferrotls.errors import IllegalParameter

    pair, _, s_log = _pair(backend)
    pair.server.receive_data(pair.client.data_to_send())
    pair.server.data_to_send()
    secret = s_log.secret("CLIENT_HANDSHAKE_TRAFFIC_SECRET")
    header = b"\x0b" + (1 << 20).to_bytes(3, "big")  # a 1 MiB Certificate
    _expect(pair.server, seal_record(SUITE, secret, 0, ContentType.HANDSHAKE, header + bytes(32)),
            IllegalParameter, 47, s_log, SERVER_SECRETS)


def _hrr_pair(backend: Any, hook: Any) -> tuple[ClientConnection, ServerConnection]:
    """A client with a hook on its second ClientHello only, a server forcing an HRR."""
    calls = []

    def second_only(hello: Any) -> Any:
        calls.append(hello)
        return hook(hello) if len(calls) == 2 else hello

    client = ClientConnection(
        client_config(backend, key_share_groups=(0x001D,), client_hello_hook=second_only), SERVER_NAME
    )
    server = ServerConnection(server_config(backend, groups=(0x0017,)))  # no share for it: an HRR
    return client, server


@pytest.mark.parametrize("change", ["reverse", "drop_alpn_like", "add_extension", "suites"])
def test_second_client_hello_must_match_the_first(backend: Any, change: str) -> None:
    """tlsfuzzer shuffled-extentions "HRR reversed order of known extensions": RFC 8446
    4.1.2 lets the second ClientHello change only key_share, early_data, cookie,
    pre_shared_key and padding."""
    from ferrotls.errors import IllegalParameter
    from ferrotls.messages.extensions import UnknownExtension

    def hook(hello: Any) -> Any:
        if change == "reverse":
            hello.extensions = list(reversed(hello.extensions))
        elif change == "drop_alpn_like":
            hello.extensions = [e for e in hello.extensions if e.ext_type != 13]  # signature_algorithms
        elif change == "add_extension":
            hello.extensions = [UnknownExtension(0x5A5A, b"new"), *hello.extensions]
        else:
            hello.cipher_suites = list(reversed(hello.cipher_suites))
        return hello

    client, server = _hrr_pair(backend, hook)
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())  # the HelloRetryRequest
    with pytest.raises(IllegalParameter, match="second ClientHello"):
        server.receive_data(client.data_to_send())


def test_second_client_hello_with_allowed_changes_completes(backend: Any) -> None:
    from ferrotls.messages.extensions import Padding

    def hook(hello: Any) -> Any:
        hello.extensions = [*hello.extensions, Padding(17)]  # padding may change
        return hello

    client, server = _hrr_pair(backend, hook)
    for _ in range(6):
        if (data := client.data_to_send()):
            server.receive_data(data)
        if (data := server.data_to_send()):
            client.receive_data(data)
    assert client.handshake_complete and server.handshake_complete
