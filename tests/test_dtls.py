"""The sans-I/O DTLS 1.3 connection in memory: handshakes, fragmentation,
reassembly, ACKs, retransmission timers, KeyUpdate, drops.

Interop with a DTLS stack written by others is in
tests/interop/test_dtls13_wolfssl_handshake.py; loss and reordering in
tests/test_dtls_lossy.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from helpers_tls import SERVER_NAME, pump_datagrams as pump, client_config, server_config

from ferrotls.dtls import DTLSClientConnection, DTLSConfig, DTLSServerConnection, DTLSState
from ferrotls.dtls.reliability import AddResult, Fragment, Reassembler, decode_ack, encode_ack, parse_fragments
from ferrotls.errors import HandshakeTimeout, UsageError
from ferrotls.events import (
    ApplicationData,
    ConnectionClosed,
    HandshakeComplete,
    KeyUpdated,
    SessionTicket,
)
from ferrotls.psk import ExternalPsk

X25519, P256 = 0x001D, 0x0017
PSK = ExternalPsk(b"device-7", bytes(range(32)))


def pair(backend: Any, *, client: dict[str, Any] | None = None, server: dict[str, Any] | None = None,
         dtls: DTLSConfig | None = None, now: float = 0.0) -> tuple[DTLSClientConnection, DTLSServerConnection]:
    c = DTLSClientConnection(client_config(backend, **(client or {})), SERVER_NAME, dtls=dtls, now=now)
    s = DTLSServerConnection(server_config(backend, **(server or {})), dtls=dtls, now=now)
    return c, s


def test_full_handshake_and_data(backend: Any) -> None:
    c, s = pair(backend, server={"ticket_count": 1})
    log: list[tuple[str, bytes]] = []
    pump(c, s, log=log)
    cev, sev = c.events(), s.events()
    assert isinstance(cev[0], HandshakeComplete) and isinstance(sev[0], HandshakeComplete)
    assert cev[0].version == sev[0].version == "DTLSv1.3"
    assert isinstance(cev[1], SessionTicket)
    assert c.state is s.state is DTLSState.ESTABLISHED
    # CH; SH..Finished; client Finished; server ACK + ticket; client ACK of the ticket
    assert [who for who, _ in log] == ["c", "s", "c", "s", "c"]
    assert all(len(d) <= 1200 for _, d in log)
    assert log[0][1][0] == 22 and log[0][1][1:3] == b"\xfe\xfd"  # a plaintext record
    assert all(d[0] & 0xE0 == 0x20 for _, d in log[2:])  # unified headers from then on
    # nothing left to retransmit: every flight acknowledged
    assert c.next_timeout() is None and s.next_timeout() is None
    c.send(b"ping")
    (d,) = c.datagrams_to_send()
    s.receive_datagram(d, 0.0)
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"ping"]
    for payload in (b"a", b"b", b"c"):
        s.send(payload)
    datagrams = s.datagrams_to_send()
    assert len(datagrams) == 3  # one datagram per send
    for d in reversed(datagrams):
        c.receive_datagram(d, 0.0)
    assert [e.data for e in c.events()] == [b"c", b"b", b"a"]
    assert c.export_keying_material("EXPORTER-test", b"", 32) == s.export_keying_material("EXPORTER-test", b"", 32)


def test_dtls_key_schedule_differs_from_tls(backend: Any) -> None:
    """The same handshake inputs give other keys than TLS 1.3 ("dtls13" labels)."""
    from ferrotls.connection import ClientConnection, ServerConnection
    from ferrotls.connection import pump as tls_pump

    fixed = {"rng": lambda n: bytes(n), "key_share_private_keys": {X25519: bytes(range(32))},
             "key_share_groups": (X25519,)}
    c, s = pair(backend, client=dict(fixed), server={"rng": lambda n: bytes(n)})
    pump(c, s)
    tc = ClientConnection(client_config(backend, **fixed, middlebox_compat=False), SERVER_NAME)
    ts = ServerConnection(server_config(backend, rng=lambda n: bytes(n)))
    tls_pump(tc, ts)
    assert c.export_keying_material("x", b"", 16) != tc.export_keying_material("x", b"", 16)


def test_external_psk_and_resumption(backend: Any) -> None:
    c, s = pair(backend, client={"external_psks": (PSK,)},
                server={"psk_callback": lambda ident: PSK if ident == PSK.identity else None, "ticket_count": 1})
    pump(c, s)
    info = c.events()[0]
    assert isinstance(info, HandshakeComplete) and info.psk_identity == PSK.identity and info.resumed
    # resumption with the ticket of a certificate handshake
    server_cfg = server_config(backend, ticket_count=1)
    c1 = DTLSClientConnection(client_config(backend), SERVER_NAME)
    s1 = DTLSServerConnection(server_cfg)
    pump(c1, s1)
    ticket = next(e for e in c1.events() if isinstance(e, SessionTicket))
    assert ticket.session is not None
    c2 = DTLSClientConnection(client_config(backend), SERVER_NAME, session=ticket.session)
    s2 = DTLSServerConnection(server_cfg)
    pump(c2, s2)
    info2 = c2.events()[0]
    assert isinstance(info2, HandshakeComplete) and info2.resumed and info2.version == "DTLSv1.3"


def test_hello_retry_request(backend: Any) -> None:
    c, s = pair(backend, client={"groups": (X25519, P256), "key_share_groups": (X25519,)},
                server={"groups": (P256,)})
    pump(c, s)
    info = c.events()[0]
    assert isinstance(info, HandshakeComplete) and info.group == P256
    assert info.stats is not None and info.stats.hello_retry


@pytest.mark.parametrize("mtu", [200, 576])
def test_small_mtu_fragments_every_flight(backend: Any, mtu: int) -> None:
    c, s = pair(backend, dtls=DTLSConfig(mtu=mtu))
    log: list[tuple[str, bytes]] = []
    pump(c, s, log=log)
    assert c.handshake_complete and s.handshake_complete
    assert all(len(d) <= mtu for _, d in log)
    assert sum(1 for who, _ in log if who == "s") > 3  # the certificate flight is split
    assert c.max_datagram_payload() < mtu
    with pytest.raises(UsageError):
        c.send(bytes(mtu))


def test_reordered_and_duplicated_flight(backend: Any) -> None:
    c, s = pair(backend, dtls=DTLSConfig(mtu=300))
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    flight = s.datagrams_to_send()
    assert len(flight) > 2
    for d in [*reversed(flight), *flight]:  # backwards, then everything again
        c.receive_datagram(d, 0.0)
    assert c.handshake_complete
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    assert s.handshake_complete
    assert c.dropped.replayed > 0  # the second copies


def test_retransmission_schedule_and_timeout(backend: Any) -> None:
    c, _ = pair(backend, dtls=DTLSConfig(max_retransmissions=8), now=100.0)
    first = c.datagrams_to_send()
    assert c.next_timeout() == 101.0
    deadlines = []
    now = 100.0
    for _ in range(8):
        now = c.next_timeout() or 0.0
        c.handle_timeout(now - 0.001)  # early: nothing
        assert c.datagrams_to_send() == []
        c.handle_timeout(now)
        again = c.datagrams_to_send()
        assert [len(d) for d in again] == [len(d) for d in first]  # the whole ClientHello again
        deadlines.append((c.next_timeout() or 0.0) - now)
    assert deadlines == [2, 4, 8, 16, 32, 60, 60, 60]
    with pytest.raises(HandshakeTimeout):
        c.handle_timeout(c.next_timeout() or 0.0)
    assert c.state is DTLSState.ERROR


def test_ack_ends_retransmission_of_the_last_flight(backend: Any) -> None:
    c, s = pair(backend)
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    for d in s.datagrams_to_send():
        c.receive_datagram(d, 0.0)
    assert c.handshake_complete
    finished = c.datagrams_to_send()
    assert c.next_timeout() == 1.0  # the Finished waits for its ACK
    c.handle_timeout(1.0)  # lost once: resent
    again = c.datagrams_to_send()
    assert len(again) == len(finished) and again != finished  # new record numbers
    for d in finished:
        s.receive_datagram(d, 1.1)
    (ack,) = s.datagrams_to_send()
    c.receive_datagram(ack, 1.2)
    assert c.next_timeout() is None


def test_partial_ack_resends_only_what_is_missing(backend: Any) -> None:
    c, s = pair(backend, dtls=DTLSConfig(mtu=300))
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    flight = s.datagrams_to_send()
    for d in flight[:-1]:  # the last datagram of the server's flight is lost
        c.receive_datagram(d, 0.0)
    assert not c.handshake_complete
    timer = c.next_timeout()
    assert timer is not None and timer < 1.0  # a delayed ACK of what arrived
    c.handle_timeout(timer)
    (ack,) = c.datagrams_to_send()
    s.receive_datagram(ack, timer)
    resent = s.datagrams_to_send()
    assert 0 < sum(map(len, resent)) < sum(map(len, flight)) / 2  # not the whole flight
    for d in resent:
        c.receive_datagram(d, timer)
    assert c.handshake_complete


def test_key_update_waits_for_its_ack(backend: Any) -> None:
    c, s = pair(backend)
    pump(c, s)
    c.events()
    s.events()
    c.update_keys(request_peer_update=True)
    assert c.key_update_pending
    (ku,) = c.datagrams_to_send()
    c.send(b"old keys")  # still under epoch 3
    (old,) = c.datagrams_to_send()
    assert ku[0] & 3 == old[0] & 3 == 3
    s.receive_datagram(ku, 0.0)
    assert any(isinstance(e, KeyUpdated) and e.update_requested for e in s.events())
    out = s.datagrams_to_send()  # the ACK, then the server's own KeyUpdate
    for d in out:
        c.receive_datagram(d, 0.0)
    assert not c.key_update_pending
    c.send(b"new keys")
    *acks, new = c.datagrams_to_send()  # (the ACK of the server's KeyUpdate first)
    assert new[0] & 3 == 0  # epoch 4
    s.receive_datagram(old, 0.0)  # a straggler of the old epoch still opens
    for d in [*acks, new]:
        s.receive_datagram(d, 0.0)
    pump(c, s)
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"old keys", b"new keys"]
    assert not s.key_update_pending and not c.key_update_pending


def test_garbage_is_dropped_silently(backend: Any) -> None:
    c, s = pair(backend)
    pump(c, s)
    s.events()
    for junk in (b"", b"\x00", b"\x16\xfe\xfd" + bytes(20), bytes(range(256)), b"\x2f" + bytes(40)):
        s.receive_datagram(junk, 0.0)
    c.send(b"x" * 100)
    (d,) = c.datagrams_to_send()
    s.receive_datagram(d[:-1], 0.0)  # truncated
    s.receive_datagram(d[:10] + bytes([d[10] ^ 1]) + d[11:], 0.0)  # flipped bit
    assert s.events() == []
    assert s.dropped.total >= 5
    s.receive_datagram(d, 0.0)
    assert [e.data for e in s.events()] == [b"x" * 100]
    assert s.state is DTLSState.ESTABLISHED


def test_plaintext_message_in_a_protected_epoch_is_dropped(backend: Any) -> None:
    """A plaintext (epoch 0) Finished is not accepted where epoch 2 is required."""
    c, s = pair(backend)
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    fake = bytes((22, 0xFE, 0xFD, 0, 0)) + (5).to_bytes(6, "big") + (12 + 32).to_bytes(2, "big")
    fake += bytes((20,)) + (32).to_bytes(3, "big") + (1).to_bytes(2, "big") + bytes(3) + (32).to_bytes(3, "big") + bytes(32)
    s.receive_datagram(fake, 0.0)
    assert not s.handshake_complete and s.state is DTLSState.HANDSHAKING
    assert s.dropped.invalid >= 1


def test_send_before_handshake_and_close(backend: Any) -> None:
    c, s = pair(backend)
    with pytest.raises(UsageError):
        c.send(b"early")
    pump(c, s)
    c.close()
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    assert any(isinstance(e, ConnectionClosed) for e in s.events())
    with pytest.raises(UsageError):
        c.send(b"late")


# --------------------------------------------------------------------------- reliability units


def test_reassembly_overlaps_gaps_duplicates() -> None:
    r = Reassembler(max_pending=4, max_bytes=1000, max_message=500)
    body = bytes(range(100))
    frag = lambda off, n, seq=0: Fragment(1, len(body), seq, off, body[off : off + n])  # noqa: E731
    assert r.add(frag(50, 30), 0) is AddResult.NEW
    assert r.pop() is None  # a gap at the start
    assert r.add(frag(60, 10), 0) is AddResult.DUPLICATE  # inside what we have
    assert r.add(frag(0, 55), 0) is AddResult.NEW  # overlapping
    assert r.add(frag(70, 30), 0) is AddResult.NEW
    assert r.pop() == (1, body, 0)
    assert r.add(frag(0, 100), 0) is AddResult.DUPLICATE  # delivered already
    assert r.add(Fragment(1, 10, 9, 0, bytes(10)), 0) is AddResult.DROPPED  # too far ahead
    assert r.add(Fragment(1, 600, 1, 0, bytes(10)), 0) is AddResult.DROPPED  # too large
    assert r.add(Fragment(1, 400, 2, 0, bytes(10)), 0) is AddResult.NEW
    assert r.add(Fragment(1, 400, 3, 0, bytes(10)), 0) is AddResult.NEW
    assert r.add(Fragment(1, 400, 4, 0, bytes(10)), 0) is AddResult.DROPPED  # over max_bytes
    assert r.add(Fragment(2, 400, 2, 10, bytes(10)), 0) is AddResult.DROPPED  # another type, same seq
    assert r.add(Fragment(1, 400, 2, 10, bytes(10)), 2) is AddResult.DROPPED  # another epoch


def test_fragment_and_ack_codecs() -> None:
    from ferrotls.dtls.reliability import dtls_header

    record = dtls_header(2, 5, 7, 0, 3) + b"abc" + dtls_header(2, 5, 7, 3, 2) + b"de"
    assert parse_fragments(record) == [Fragment(2, 5, 7, 0, b"abc"), Fragment(2, 5, 7, 3, b"de")]
    assert parse_fragments(dtls_header(2, 5, 7, 4, 3) + b"abc") is None  # past the message
    assert parse_fragments(dtls_header(2, 5, 7, 0, 3) + b"ab") is None  # past the record
    assert decode_ack(encode_ack([(2, 5), (3, 0)])) == [(2, 5), (3, 0)]
    assert decode_ack(b"\x00\x10" + bytes(15)) is None


# --------------------------------------------------------------------------- connection IDs


@pytest.mark.parametrize(("client_cid", "server_cid"), [(b"\x01\x02", b"srv-7"), (b"", b"srv-7"), (b"c", b"")])
def test_connection_ids(backend: Any, client_cid: bytes, server_cid: bytes) -> None:
    c = DTLSClientConnection(client_config(backend), SERVER_NAME, dtls=DTLSConfig(connection_id=client_cid))
    s = DTLSServerConnection(server_config(backend), connection_id=server_cid)
    log: list[tuple[str, bytes]] = []
    pump(c, s, log=log)
    assert c.handshake_complete and s.handshake_complete
    assert (c.own_connection_id, c.peer_connection_id) == (client_cid, server_cid)
    assert (s.own_connection_id, s.peer_connection_id) == (server_cid, client_cid)
    c.send(b"via cid")
    (d,) = c.datagrams_to_send()
    if server_cid:
        assert d[0] & 0x10 and d[1 : 1 + len(server_cid)] == server_cid  # C bit, then the CID
    else:
        assert not d[0] & 0x10
    s.receive_datagram(d, 0.0)
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"via cid"]
    s.send(b"back")
    (d,) = s.datagrams_to_send()
    assert bool(d[0] & 0x10) == bool(client_cid)


def test_no_connection_ids_unless_both_offer(backend: Any) -> None:
    c = DTLSClientConnection(client_config(backend), SERVER_NAME, dtls=DTLSConfig(connection_id=b"abc"))
    s = DTLSServerConnection(server_config(backend))  # no CID support configured
    pump(c, s)
    assert c.own_connection_id == c.peer_connection_id == b""
    c.send(b"x")
    (d,) = c.datagrams_to_send()
    assert not d[0] & 0x10


def test_dtls_client_hello_has_a_legacy_cookie() -> None:
    from ferrotls.messages.extensions import SupportedVersionsClientHello
    from ferrotls.messages.handshake import ClientHello

    hello = ClientHello(legacy_version=0xFEFD, random=bytes(32), legacy_cookie=b"\x07\x08", cipher_suites=[0x1301],
                        extensions=[SupportedVersionsClientHello([0xFEFC, 0xFEFD])])
    body = hello.to_bytes()
    assert body[34:38] == b"\x00\x02\x07\x08"  # empty session id, then the cookie
    assert ClientHello.from_dtls_bytes(body) == hello
    assert ClientHello.from_bytes(ClientHello(random=bytes(32), cipher_suites=[0x1301], extensions_absent=True).to_bytes()).legacy_cookie is None


# --------------------------------------------------------------------------- stateless cookies


def _through_gate(backend: Any, gate: Any, c: DTLSClientConnection, addr: bytes = b"10.0.0.1:5684",
                  now: float = 0.0) -> DTLSServerConnection:
    (hello1,) = c.datagrams_to_send()
    result = gate.handle(hello1, addr, now)
    assert result.state is None and len(result.reply) == 1
    c.receive_datagram(result.reply[0], now)
    (hello2,) = c.datagrams_to_send()
    result = gate.handle(hello2, addr, now)
    assert result.state is not None and not result.reply
    s = DTLSServerConnection.from_cookie(gate.config, result.state, now=now)
    s.receive_datagram(hello2, now)
    return s


@pytest.mark.parametrize("server_groups", [(X25519,), (P256,)])
def test_stateless_cookie_handshake(backend: Any, server_groups: tuple[int, ...]) -> None:
    from ferrotls.dtls.cookie import CookieGate

    gate = CookieGate(server_config(backend, groups=server_groups, ticket_count=1), secret=b"k" * 32)
    c = DTLSClientConnection(client_config(backend, groups=(X25519, P256), key_share_groups=(X25519,)), SERVER_NAME)
    s = _through_gate(backend, gate, c)
    pump(c, s)
    info = c.events()[0]
    assert isinstance(info, HandshakeComplete) and info.group == server_groups[0]
    assert info.stats is not None and info.stats.hello_retry
    assert s.handshake_complete and gate.answered == 1
    c.send(b"after cookie")
    for d in c.datagrams_to_send():
        s.receive_datagram(d, 0.0)
    assert [e.data for e in s.events() if isinstance(e, ApplicationData)] == [b"after cookie"]


def test_stateless_cookie_with_psk(backend: Any) -> None:
    from ferrotls.dtls.cookie import CookieGate

    gate = CookieGate(server_config(backend, psk_callback=lambda i: PSK if i == PSK.identity else None))
    c = DTLSClientConnection(client_config(backend, external_psks=(PSK,)), SERVER_NAME)
    s = _through_gate(backend, gate, c)
    pump(c, s)
    info = s.events()[0]
    assert isinstance(info, HandshakeComplete) and info.psk_identity == PSK.identity


def test_bad_cookies_are_dropped(backend: Any) -> None:
    from ferrotls.dtls.cookie import CookieGate

    gate = CookieGate(server_config(backend), lifetime=10)
    c = DTLSClientConnection(client_config(backend), SERVER_NAME)
    (hello1,) = c.datagrams_to_send()
    (hrr,) = gate.handle(hello1, b"a:1", 100.0).reply
    c.receive_datagram(hrr, 100.0)
    (hello2,) = c.datagrams_to_send()
    assert gate.handle(hello2, b"b:2", 100.0).state is None  # another address
    assert gate.handle(hello2, b"a:1", 111.0).state is None  # expired
    assert CookieGate(server_config(backend)).handle(hello2, b"a:1", 100.0).state is None  # another secret
    i = hello2.index(b"\x00\x2c")  # the cookie extension: flip a byte of the cookie
    assert gate.handle(hello2[: i + 8] + bytes([hello2[i + 8] ^ 1]) + hello2[i + 9 :], b"a:1", 100.0).state is None
    assert gate.handle(b"\x17\xfe\xfd" + bytes(30), b"a:1", 100.0).reply == ()
    assert gate.dropped == 4
    assert gate.handle(hello2, b"a:1", 105.0).state is not None


def test_dtls_iot_profile_psk(backend: Any) -> None:
    from ferrotls.dtls import dtls_iot_profile

    client = dtls_iot_profile(psk=PSK, backend=backend)
    server = dtls_iot_profile(server=True, psks=[PSK], backend=backend)
    c = DTLSClientConnection(client.config, SERVER_NAME, dtls=client.dtls)  # type: ignore[arg-type]
    s = DTLSServerConnection(server.config, dtls=server.dtls)  # type: ignore[arg-type]
    log: list[tuple[str, bytes]] = []
    pump(c, s, log=log)
    info = c.events()[0]
    assert isinstance(info, HandshakeComplete) and info.cipher_suite == 0x1305  # TLS_AES_128_CCM_8_SHA256
    assert info.psk_identity == PSK.identity
    assert all(len(d) <= 512 for _, d in log)
    assert len(c.own_connection_id) == 4 and len(c.peer_connection_id) == 8
