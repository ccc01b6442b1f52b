"""Session tickets and resumption between ferrotls peers (RFC 8446 sections 2.2, 4.6.1)."""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.errors import DecryptError
from ferrotls.events import HandshakeComplete, SessionTicket
from ferrotls.messages import ClientHello
from ferrotls.tickets import ClientSession, SessionCache, SessionState, TicketKeyManager
from helpers_tls import SERVER_NAME, ConnectionPair, KeyLog, read_alert, split_records
from resumption_helpers import PSK_DHE_KE, PSK_KE, X25519, Clock, configs, full_handshake, infos, wire_bytes


def test_full_handshake_issues_two_tickets(backend: Any) -> None:
    cc, sc = configs(backend)
    _, sessions = full_handshake(cc, sc)
    assert len(sessions) == 2 and len(cc.session_cache or ()) == 2
    assert sessions[0].ticket != sessions[1].ticket and sessions[0].psk != sessions[1].psk
    assert sessions[0].lifetime == 7200 and sessions[0].server_name == SERVER_NAME


@pytest.mark.parametrize("modes", [(PSK_DHE_KE,), (PSK_KE,), (PSK_DHE_KE, PSK_KE)], ids=["dhe", "ke", "both"])
def test_resumption(backend: Any, modes: tuple[int, ...]) -> None:
    cc, sc = configs(backend, client={"psk_modes": modes})
    first, _ = full_handshake(cc, sc)
    pair = ConnectionPair(cc, sc)
    pair.pump()
    c, s = infos(pair)
    assert c.resumed and s.resumed and c.psk_identity is None
    assert c.signature_scheme is None  # no Certificate/CertificateVerify
    assert c.peer_certificates == first.client.info.peer_certificates
    assert (c.group is None) == (modes == (PSK_KE,)) and c.group == s.group
    pair.client.send(b"ping")
    pair.pump()
    assert [e.data for e in pair.server.events()] == [b"ping"]  # type: ignore[attr-defined]


def test_resumed_handshake_sends_one_ticket(backend: Any) -> None:
    cc, sc = configs(backend)
    full_handshake(cc, sc)
    pair = ConnectionPair(cc, sc)
    pair.pump()
    assert sum(isinstance(e, SessionTicket) for e in pair.client.events()) == 1


def test_ticket_from_another_server_gives_full_handshake(backend: Any) -> None:
    cc, sc = configs(backend)
    full_handshake(cc, sc)
    other = configs(backend)[1]  # its own ticket keys
    pair = ConnectionPair(cc, other)
    pair.pump()
    c, s = infos(pair)
    assert not c.resumed and not s.resumed and c.peer_certificates


def test_expired_ticket_gives_full_handshake(backend: Any) -> None:
    clock = Clock()
    cc, sc = configs(backend, clock, server={"ticket_lifetime": 60})
    full_handshake(cc, sc)
    cache = cc.session_cache
    assert cache is not None
    session = cache.peek(SERVER_NAME, clock())
    assert session is not None
    clock.advance(61)
    assert cache.take(SERVER_NAME, clock()) is None  # the client drops it too
    # offered anyway (explicit session): the server refuses it and falls back
    pair = ConnectionPair(cc, sc)
    pair.client = ClientConnection(cc, SERVER_NAME, session=ClientSession(
        session.ticket, session.psk, session.cipher_suite, clock() - 1, 7200, session.age_add))
    pair.pump()
    c, s = infos(pair)
    assert not c.resumed and not s.resumed


def test_ticket_key_rotation_and_grace_period(backend: Any) -> None:
    clock = Clock()
    keys = TicketKeyManager(rotation_interval=None, grace_period=300)
    cc, sc = configs(backend, clock, server={"ticket_keys": keys})
    full_handshake(cc, sc)
    old = keys.key_ids[0]
    keys.rotate(now=clock())
    assert keys.key_ids[1] == old
    clock.advance(100)  # within the grace period: the old ticket still resumes
    pair = ConnectionPair(cc, sc)
    pair.pump()
    assert infos(pair)[0].resumed
    clock.advance(250)  # the old key is gone now
    assert keys.key_ids[-1] == old
    keys.rotate(now=clock())
    assert old not in keys.key_ids
    cache = cc.session_cache
    assert cache is not None
    cache.clear()
    full_handshake(cc, sc)  # tickets under the new key; now an old-key ticket:
    _, sessions = full_handshake(*configs(backend, clock, server={"ticket_keys": TicketKeyManager()}))
    assert sessions


def test_old_key_ticket_rejected_after_grace(backend: Any) -> None:
    clock = Clock()
    keys = TicketKeyManager(rotation_interval=None, grace_period=60)
    cc, sc = configs(backend, clock, server={"ticket_keys": keys})
    _, sessions = full_handshake(cc, sc)
    keys.rotate(now=clock())
    clock.advance(61)
    pair = ConnectionPair(cc, sc)
    pair.pump()
    assert not infos(pair)[0].resumed


def test_export_import_keys_share_tickets_between_servers(backend: Any) -> None:
    clock = Clock()
    keys_a = TicketKeyManager(rotation_interval=None)
    cc, sc_a = configs(backend, clock, server={"ticket_keys": keys_a})
    full_handshake(cc, sc_a)
    keys_b = TicketKeyManager(rotation_interval=None)
    keys_b.import_keys(keys_a.export_keys())
    sc_b = configs(backend, clock, server={"ticket_keys": keys_b})[1]
    pair = ConnectionPair(cc, sc_b)
    pair.pump()
    assert infos(pair)[1].resumed


def test_tampered_binder_is_decrypt_error_on_the_wire(backend: Any) -> None:
    clock = Clock()
    cc, sc = configs(backend, clock)
    full_handshake(cc, sc)

    def hook(hello: ClientHello) -> ClientHello:
        return hello

    client = ClientConnection(cc, SERVER_NAME)
    data = bytearray(client.data_to_send())
    records = split_records(bytes(data))
    ch_end = len(records[0][1])
    data[ch_end - 1] ^= 0x55  # last byte of the (only) binder
    server = ServerConnection(sc)
    with pytest.raises(DecryptError):
        server.receive_data(bytes(data))
    alert = read_alert(server.data_to_send())
    assert alert.payload == bytes([2, 51]) and not alert.encrypted


def test_resumption_after_hello_retry_request(backend: Any) -> None:
    """The binder of the second ClientHello covers message_hash + HelloRetryRequest."""
    cc, sc = configs(backend, client={"key_share_groups": (0x0017,)}, server={"groups": (X25519,)})
    full_handshake(cc, sc)
    pair = ConnectionPair(cc, sc)
    pair.pump()
    c, s = infos(pair)
    assert c.resumed and s.resumed and c.group == X25519


def test_session_state_and_client_session_round_trip() -> None:
    state = SessionState(0x1301, b"p" * 32, 1234.5, 7200, 7, 100, b"h2", "example.com", b"cert")
    assert SessionState.decode(state.encode()) == state
    session = ClientSession(b"t" * 40, b"p" * 32, 0x1302, 10.0, 60, 9, 0, "a.example", "h2", (b"c1", b"c2"))
    assert ClientSession.from_bytes(session.to_bytes()) == session
    assert session.obfuscated_ticket_age(10.5) == 509


def test_session_cache_is_bounded() -> None:
    cache = SessionCache(max_names=2, per_name=2)
    for name in ("a", "b", "c"):
        for i in range(3):
            cache.add(name, ClientSession(bytes([i]) * 8, b"k" * 32, 0x1301, 0.0, 100, 0))
    assert len(cache) == 4 and cache.take("a", 1.0) is None
    got = cache.take("c", 1.0)
    assert got is not None and got.ticket == bytes([2]) * 8


def test_wire_budget_resumed_psk_dhe_ke(backend: Any) -> None:
    # TLS 1.3 resumption's economy: a TLS 1.3-only client (offering TLS 1.2 too adds
    # its suites and extensions to the ClientHello)
    cc, sc = configs(backend, client={"key_share_groups": (X25519,), "minimum_version": 0x0304},
                     server={"ticket_count": 1})
    full_handshake(cc, sc)
    sc0 = configs(backend, server={"ticket_count": 0, "ticket_keys": sc.ticket_keys, "clock": sc.clock})[1]
    pair = ConnectionPair(cc, sc0)
    pair.pump()
    c, _ = infos(pair)
    assert c.resumed and c.group == X25519
    up, down = wire_bytes(pair)
    print(f"resumed psk_dhe_ke X25519, no new ticket: client {up} + server {down} = {up + down} bytes")
    assert up + down <= 700


def test_hello_retry_request_really_happened(backend: Any) -> None:
    from helpers_tls import CT_HANDSHAKE

    cc, sc = configs(backend, client={"key_share_groups": (0x0017,)}, server={"groups": (X25519,)})
    full_handshake(cc, sc)
    pair = ConnectionPair(cc, sc)
    pair.pump()
    assert infos(pair)[0].resumed
    # two ClientHellos went out (the second after the HelloRetryRequest)
    hellos = [r for chunk in pair.c2s for t, r in split_records(chunk) if t == CT_HANDSHAKE and r[5] == 1]
    assert len(hellos) == 2
