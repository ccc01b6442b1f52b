"""The sans-I/O DTLS 1.2 connection (RFC 6347) in memory: handshakes per suite,
the HelloVerifyRequest exchange (stateless, CookieGate), connection IDs (RFC
9146: tls12_cid records), resumption, retransmission of the last flight,
version fallback and dtls_iot_profile()'s DTLS 1.2 suites.

Interop with stacks written by others: tests/interop/test_dtls12_openssl.py,
test_dtls12_gnutls.py, test_dtls12_wolfssl.py; loss and reordering in
tests/test_dtls_lossy.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers_tls import SERVER_NAME, pump_datagrams as pump, certified, client_config, server_config

from ferrotls.dtls import DTLSClientConnection, DTLSConfig, DTLSServerConnection, dtls_iot_profile
from ferrotls.dtls.config import DTLS_1_2, DTLS_1_3
from ferrotls.dtls.cookie import CookieGate
from ferrotls.events import ApplicationData, ConnectionClosed, HandshakeComplete, SessionTicket
from ferrotls.psk import ExternalPsk
from ferrotls.suites import Tls12CipherSuite as S

PSK = ExternalPsk(b"device-12", bytes(range(16)))
D12 = DTLSConfig(versions=(DTLS_1_2,))
_CCS, _HANDSHAKE, _TLS12_CID = 20, 22, 25


def record_types(datagram: bytes, cid_len: int = 0) -> list[tuple[int, int]]:
    """(content type, epoch) of each DTLS 1.2 record in a datagram (``cid_len``:
    the length of the CID in tls12_cid records)."""
    out, pos = [], 0
    while pos < len(datagram):
        at = pos + 11 + (cid_len if datagram[pos] == _TLS12_CID else 0)
        length = int.from_bytes(datagram[at : at + 2], "big")
        out.append((datagram[pos], int.from_bytes(datagram[pos + 3 : pos + 5], "big")))
        pos = at + 2 + length
    return out


def _psk_server(backend: Any, **kw: Any) -> Any:
    return server_config(backend, psk_callback=lambda i: PSK if i == PSK.identity else None, **kw)


SUITE_CASES = [
    (S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, "p256"),
    (S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, "p256"),
    (S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, "p256"),
    (S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, "p256"),
    (S.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, "rsa2048"),
    (S.TLS_PSK_WITH_AES_128_CCM_8, "psk"),
    (S.TLS_PSK_WITH_AES_128_GCM_SHA256, "psk"),
]


@pytest.mark.parametrize(("suite", "kind"), SUITE_CASES, ids=lambda v: f"{v:#06x}" if isinstance(v, int) else v)
def test_handshake_and_data_per_suite(backend: Any, suite: int, kind: str) -> None:
    if kind == "psk":
        c = DTLSClientConnection(client_config(backend, external_psks=(PSK,), tls12_cipher_suites=(suite,)),
                                 SERVER_NAME, dtls=D12)
        s = DTLSServerConnection(_psk_server(backend, tls12_cipher_suites=(suite,)), dtls=D12)
    else:
        c = DTLSClientConnection(client_config(backend, tls12_cipher_suites=(suite,)), SERVER_NAME, dtls=D12)
        s = DTLSServerConnection(server_config(backend, (kind,), tls12_cipher_suites=(suite,)), dtls=D12)
    log: list[tuple[str, bytes]] = []
    pump(c, s, log=log)
    assert c.version == s.version == "DTLSv1.2"
    ci, si = c.events()[0], s.events()[0]
    assert isinstance(ci, HandshakeComplete) and isinstance(si, HandshakeComplete)
    assert ci.cipher_suite == si.cipher_suite == suite
    assert (ci.psk_identity == PSK.identity) == (kind == "psk")
    # the record layer of RFC 6347: DTLSPlaintext records with version fe fd or fe ff,
    # each side's CCS in epoch 0 and its Finished in epoch 1
    for who in ("c", "s"):
        types = [t for side, d in log if side == who for t in record_types(d)]
        assert (_CCS, 0) in types and types.index((_CCS, 0)) < types.index((_HANDSHAKE, 1))
    c.send(b"ping")
    for d in c.datagrams_to_send():
        assert d[0] == 23 and d[1:3] == b"\xfe\xfd" and d[3:5] == b"\x00\x01"  # application data, epoch 1
        s.receive_datagram(d, 0.0)
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"ping"]
    s.send(b"pong")
    for d in s.datagrams_to_send():
        c.receive_datagram(d, 0.0)
    assert [e.data for e in c.events() if isinstance(e, ApplicationData)] == [b"pong"]
    c.close()
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    assert any(isinstance(e, ConnectionClosed) for e in s.events())
    assert c.dropped.total == s.dropped.total == 0


def test_stateless_hello_verify_request(backend: Any) -> None:
    """CookieGate answers the first ClientHello with a HelloVerifyRequest from the
    datagram alone; the client repeats its ClientHello with the cookie, and the
    connection made from the returned cookie completes the handshake."""
    scfg = server_config(backend)
    gate = CookieGate(scfg, D12, secret=bytes(32))
    c = DTLSClientConnection(client_config(backend), SERVER_NAME, dtls=D12, now=100.0)
    (hello1,) = c.datagrams_to_send()
    first = gate.handle(hello1, b"10.0.0.1:5684", 100.0)
    assert first.state is None and len(first.reply) == 1
    (hvr,) = first.reply
    assert hvr[0] == _HANDSHAKE and hvr[13] == 3  # HelloVerifyRequest
    assert hvr[1:3] == b"\xfe\xff"  # RFC 6347 4.2.1: DTLS 1.0's version in the HVR
    assert hvr[5:11] == hello1[5:11]  # the ClientHello's record sequence number
    c.receive_datagram(hvr, 100.1)
    (hello2,) = c.datagrams_to_send()
    assert gate.handle(hello2, b"10.0.0.2:5684", 100.2).state is None  # another address
    second = gate.handle(hello2, b"10.0.0.1:5684", 100.2)
    assert second.state is not None and second.state.version == DTLS_1_2 and gate.answered == 1
    s = DTLSServerConnection.from_cookie(scfg, second.state, dtls=D12, now=100.2)
    s.receive_datagram(hello2, 100.2)
    pump(c, s, now=100.3)
    assert c.handshake_complete and s.handshake_complete and s.version == "DTLSv1.2"
    # a stale or forged cookie gets nothing
    assert gate.handle(hello2, b"10.0.0.1:5684", 200.0).state is None
    tampered = bytearray(hello2)
    tampered[13 + 12 + 2 + 5] ^= 1  # a byte of the random, which the cookie covers
    assert gate.handle(bytes(tampered), b"10.0.0.1:5684", 100.2).state is None


@pytest.mark.parametrize(("client_cid", "server_cid"), [(b"\x01\x02", b"srv-7"), (b"", b"srv-7"), (b"c", b"")])
def test_connection_ids(backend: Any, client_cid: bytes, server_cid: bytes) -> None:
    """RFC 9146: each side's records carry the CID the other asked for, as tls12_cid
    (25) records from epoch 1 on -- the Finished included -- and none before."""
    c = DTLSClientConnection(client_config(backend), SERVER_NAME,
                             dtls=DTLSConfig(versions=(DTLS_1_2,), connection_id=client_cid))
    s = DTLSServerConnection(server_config(backend), dtls=D12, connection_id=server_cid)
    log: list[tuple[str, bytes]] = []
    pump(c, s, log=log)
    assert c.version == "DTLSv1.2"
    assert (c.own_connection_id, c.peer_connection_id) == (client_cid, server_cid)
    assert (s.own_connection_id, s.peer_connection_id) == (server_cid, client_cid)
    for side, cid in (("c", server_cid), ("s", client_cid)):
        records = [r for who, d in log if who == side for r in record_types(d, len(cid))]
        assert all(kind != _TLS12_CID for kind, epoch in records if epoch == 0)  # hellos, CCS: plaintext
        assert [kind for kind, epoch in records if epoch == 1] == [_TLS12_CID if cid else _HANDSHAKE]  # Finished
    c.send(b"via cid")
    (d,) = c.datagrams_to_send()
    if server_cid:
        assert d[0] == _TLS12_CID and d[11 : 11 + len(server_cid)] == server_cid
    else:
        assert d[0] == 23
    s.receive_datagram(d, 0.0)
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"via cid"]
    s.send(b"back")
    (d,) = s.datagrams_to_send()
    assert (d[0] == _TLS12_CID) == bool(client_cid)
    c.receive_datagram(d, 0.0)
    assert [e.data for e in c.events() if isinstance(e, ApplicationData)] == [b"back"]
    # a record with another CID is not ours: dropped, never an error
    if server_cid:
        c.send(b"x")
        (d,) = c.datagrams_to_send()
        forged = d[:11] + bytes(b ^ 0xFF for b in d[11 : 11 + len(server_cid)]) + d[11 + len(server_cid) :]
        before = s.dropped.total
        s.receive_datagram(forged, 0.0)
        assert s.dropped.total == before + 1 and not s.events()


def test_resumption_by_ticket(backend: Any) -> None:
    ccfg = client_config(backend)
    scfg = server_config(backend, ticket_count=1)
    c = DTLSClientConnection(ccfg, SERVER_NAME, dtls=D12)
    s = DTLSServerConnection(scfg, dtls=D12)
    pump(c, s)
    ticket = next(e for e in c.events() if isinstance(e, SessionTicket))
    assert ticket.session is not None
    c2 = DTLSClientConnection(ccfg, SERVER_NAME, dtls=D12, session=ticket.session)
    s2 = DTLSServerConnection(scfg, dtls=D12)
    log: list[tuple[str, bytes]] = []
    pump(c2, s2, log=log)
    info = c2.info
    assert info is not None and info.resumed and info.version == "DTLSv1.2"
    assert sum(len(d) for side, d in log if side == "s") < 400  # no certificate


def test_last_flight_is_resent_when_the_peer_repeats_its_own(backend: Any) -> None:
    """RFC 6347 4.2.4: the server's last flight (CCS, Finished) has no timer; if it is
    lost, the client's retransmission of its flight makes the server send it again,
    and once the client's application data arrives the server forgets it."""
    c = DTLSClientConnection(client_config(backend), SERVER_NAME, dtls=D12, now=0.0)
    s = DTLSServerConnection(server_config(backend), dtls=D12, now=0.0)
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    for d in s.datagrams_to_send():
        c.receive_datagram(d, 0.0)
    client_flight = c.datagrams_to_send()  # ClientKeyExchange, CCS, Finished
    for d in client_flight:
        s.receive_datagram(d, 0.0)
    assert s.handshake_complete
    lost = s.datagrams_to_send()  # the server's CCS and Finished: lost
    assert lost and s.next_timeout() is None  # no timer on the last flight
    assert not c.handshake_complete and c.next_timeout() == pytest.approx(1.0)
    c.handle_timeout(1.0)
    repeat = c.datagrams_to_send()
    assert repeat and c.retransmissions > 0
    for d in repeat:
        s.receive_datagram(d, 1.0)
    again = s.datagrams_to_send()
    assert again and s.retransmissions > 0
    for d in again:
        c.receive_datagram(d, 1.1)
    assert c.handshake_complete
    c.send(b"data")
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 1.2)
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"data"]
    for d in repeat:  # a late copy of the client's flight: nothing to resend now
        s.receive_datagram(d, 1.3)
    assert s.datagrams_to_send() == []


@pytest.mark.parametrize(("client_versions", "server_versions", "expected"), [
    ((DTLS_1_3, DTLS_1_2), (DTLS_1_2,), "DTLSv1.2"),
    ((DTLS_1_2,), (DTLS_1_3, DTLS_1_2), "DTLSv1.2"),
    ((DTLS_1_3, DTLS_1_2), (DTLS_1_3, DTLS_1_2), "DTLSv1.3"),
])
def test_version_negotiation(backend: Any, client_versions: tuple[int, ...], server_versions: tuple[int, ...],
                             expected: str) -> None:
    c = DTLSClientConnection(client_config(backend), SERVER_NAME, dtls=DTLSConfig(versions=client_versions))
    s = DTLSServerConnection(server_config(backend), dtls=DTLSConfig(versions=server_versions))
    pump(c, s)
    assert c.version == s.version == expected
    c.send(b"hi")
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"hi"]


def test_dtls13_only_client_refuses_a_dtls12_server(backend: Any) -> None:
    from ferrotls.errors import ProtocolError

    c = DTLSClientConnection(client_config(backend), SERVER_NAME, dtls=DTLSConfig(versions=(DTLS_1_3,)))
    s = DTLSServerConnection(server_config(backend), dtls=D12)
    with pytest.raises(ProtocolError):
        pump(c, s)  # the 1.2 server refuses a 1.3-only ClientHello with protocol_version
    assert not c.handshake_complete and not s.handshake_complete


# --------------------------------------------------------------------------- the IoT profile


def test_iot_profile_psk_falls_back_to_dtls12_ccm8(backend: Any) -> None:
    """A dtls_iot_profile() device with a PSK meets a DTLS 1.2-only server: RFC 7925's
    TLS_PSK_WITH_AES_128_CCM_8, the CIDs, and every datagram within the 512-byte MTU."""
    client = dtls_iot_profile(psk=PSK, backend=backend)
    assert client.config.tls12_cipher_suites == (S.TLS_PSK_WITH_AES_128_CCM_8,)
    server = dtls_iot_profile(server=True, psks=[PSK], backend=backend, versions=(DTLS_1_2,))
    c = DTLSClientConnection(client.config, SERVER_NAME, dtls=client.dtls)  # type: ignore[arg-type]
    s = DTLSServerConnection(server.config, dtls=server.dtls)  # type: ignore[arg-type]
    log: list[tuple[str, bytes]] = []
    pump(c, s, log=log)
    info = c.info
    assert info is not None and info.version == "DTLSv1.2"
    assert info.cipher_suite == S.TLS_PSK_WITH_AES_128_CCM_8 and info.psk_identity == PSK.identity
    assert len(c.own_connection_id) == 4 and len(c.peer_connection_id) == 8
    assert all(len(d) <= 512 for _, d in log)
    c.send(b"meter 17: 4.2 kWh")
    (d,) = c.datagrams_to_send()
    assert d[0] == _TLS12_CID and len(d) == 13 + 8 + 8 + (17 + 1) + 8  # header, CID, explicit nonce, inner, tag
    s.receive_datagram(d, 0.0)
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"meter 17: 4.2 kWh"]


def test_iot_profile_certificates_fall_back_to_ecdhe_ecdsa_ccm8(backend: Any) -> None:
    from helpers_tls import verifier

    client = dtls_iot_profile(verifier=verifier(), backend=backend)
    assert client.config.tls12_cipher_suites == (S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,)
    server = dtls_iot_profile(server=True, certificates=[certified("p256")], backend=backend, versions=(DTLS_1_2,))
    assert server.config.tls12_cipher_suites == (S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,)
    c = DTLSClientConnection(client.config, SERVER_NAME, dtls=client.dtls)  # type: ignore[arg-type]
    s = DTLSServerConnection(server.config, dtls=server.dtls)  # type: ignore[arg-type]
    log: list[tuple[str, bytes]] = []
    pump(c, s, log=log)
    info = c.info
    assert info is not None and info.version == "DTLSv1.2"
    assert info.cipher_suite == S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 and info.peer_certificates
    assert all(len(d) <= 512 for _, d in log)


def test_iot_profile_prefers_dtls13(backend: Any) -> None:
    client = dtls_iot_profile(psk=PSK, backend=backend)
    server = dtls_iot_profile(server=True, psks=[PSK], certificates=[certified("p256")], backend=backend)
    assert server.config.tls12_cipher_suites == (S.TLS_PSK_WITH_AES_128_CCM_8, S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8)
    c = DTLSClientConnection(client.config, SERVER_NAME, dtls=client.dtls)  # type: ignore[arg-type]
    s = DTLSServerConnection(server.config, dtls=server.dtls)  # type: ignore[arg-type]
    pump(c, s)
    info = c.info
    assert info is not None and info.version == "DTLSv1.3" and info.cipher_suite == 0x1305
    only13 = dtls_iot_profile(psk=PSK, backend=backend, versions=(DTLS_1_3,))
    assert only13.dtls.versions == (DTLS_1_3,)


# --------------------------------------------------------------------------- integrity limits


@pytest.mark.parametrize("version", ["DTLSv1.3", "DTLSv1.2"])
def test_forgeries_count_against_the_integrity_limit(backend: Any, version: str) -> None:
    """RFC 9147 4.5.3: records failing authentication are dropped and counted per read
    key; at half the limit DTLS 1.3 asks for new keys (KeyUpdate, update_requested),
    at the limit the connection closes (KeyLimitReached) -- DTLS 1.2 cannot rekey."""
    from ferrotls.errors import KeyLimitReached

    dtls = DTLSConfig(versions=(DTLS_1_3,) if version == "DTLSv1.3" else (DTLS_1_2,), max_failed_decryptions=4)
    c = DTLSClientConnection(client_config(backend), SERVER_NAME, dtls=dtls)
    s = DTLSServerConnection(server_config(backend), dtls=dtls)
    pump(c, s)
    assert s.version == version
    def forgery() -> bytes:
        c.send(b"to be forged")
        (d,) = c.datagrams_to_send()
        return d[:-1] + bytes([d[-1] ^ 1])  # a fresh sequence number; the tag no longer matches

    for i in range(3):
        s.receive_datagram(forgery(), 0.0)  # dropped silently, counted
        assert s.dropped.unauthentic == i + 1
        if i == 1 and version == "DTLSv1.3":
            assert s.key_update_pending  # half the limit: the server asked for new keys
            assert s.datagrams_to_send()  # (its KeyUpdate)
    if version == "DTLSv1.2":
        assert s.datagrams_to_send() == []  # nothing to ask for in DTLS 1.2
    c.send(b"genuine")
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)  # a genuine record still opens
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"genuine"]
    with pytest.raises(KeyLimitReached):
        s.receive_datagram(forgery(), 0.0)
    assert s.dropped.unauthentic == 4
