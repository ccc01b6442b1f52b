"""0-RTT between ferrotls peers: acceptance, rejection, anti-replay (RFC 8446 4.2.10, 8)."""

from __future__ import annotations

from typing import Any

import pytest
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.errors import UsageError
from ferrotls.events import ApplicationData, EarlyData, HandshakeComplete
from helpers_tls import SERVER_NAME, ConnectionPair, KeyLog
from resumption_helpers import Clock, configs, full_handshake, infos


def _setup(backend: Any, clock: Clock | None = None, **server: Any) -> tuple[Any, Any, Any]:
    clock = clock or Clock()
    server.setdefault("early_data", True)
    cc, sc = configs(backend, clock, server=server)
    _, sessions = full_handshake(cc, sc)
    assert sessions[0].max_early_data == sc.max_early_data_size
    return cc, sc, sessions


def _run(cc: Any, sc: Any, session: Any, data: bytes) -> tuple[ConnectionPair, list[Any]]:
    pair = ConnectionPair(cc, sc)
    pair.client = ClientConnection(cc, SERVER_NAME, session=session, early_data=data)
    pair.pump()
    return pair, pair.server.events()


def test_early_data_accepted(backend: Any) -> None:
    log = KeyLog()
    cc, sc, sessions = _setup(backend)
    cc = type(cc)(**{**cc.__dict__, "key_log": log})
    pair, server_events = _run(cc, sc, sessions[0], b"GET / HTTP/1.1\r\n\r\n")
    assert server_events[0] == EarlyData(b"GET / HTTP/1.1\r\n\r\n")
    c, s = infos(pair) if False else (pair.client.info, pair.server.info)
    assert c.early_data_accepted and s.early_data_accepted and c.early_data_rejected == 0
    assert "CLIENT_EARLY_TRAFFIC_SECRET" in log
    assert pair.client.rejected_early_data == b""


def test_send_early_data_api(backend: Any) -> None:
    cc, sc, sessions = _setup(backend)
    client = ClientConnection(cc, SERVER_NAME, session=sessions[0], early_data=b"")
    assert client.early_data_open
    client.send_early_data(b"part1 ")
    client.send_early_data(b"part2")
    with pytest.raises(UsageError):
        client.send_early_data(b"x" * sc.max_early_data_size)  # over the ticket's limit
    server = ServerConnection(sc)
    server.receive_data(client.data_to_send())
    assert b"".join(e.data for e in server.events() if isinstance(e, EarlyData)) == b"part1 part2"
    client.receive_data(server.data_to_send())
    assert not client.early_data_open
    with pytest.raises(UsageError):
        client.send_early_data(b"late")


def test_early_data_rejected_by_policy_is_skipped(backend: Any) -> None:
    clock = Clock()
    cc, sc, sessions = _setup(backend, clock)
    strict = configs(backend, clock, server={"early_data": False, "ticket_keys": sc.ticket_keys})[1]
    pair, server_events = _run(cc, strict, sessions[0], b"x" * 3000)
    assert not any(isinstance(e, EarlyData) for e in server_events)
    c, s = pair.client.info, pair.server.info
    assert c.resumed and s.resumed and not c.early_data_accepted and not s.early_data_accepted
    assert c.early_data_rejected == 3000 and pair.client.rejected_early_data == b"x" * 3000
    pair.client.send(pair.client.rejected_early_data)  # the application resends
    pair.pump()
    assert b"".join(e.data for e in pair.server.events() if isinstance(e, ApplicationData)) == b"x" * 3000


def test_early_data_rejected_on_full_handshake_fallback(backend: Any) -> None:
    clock = Clock()
    cc, _sc, sessions = _setup(backend, clock)
    stranger = configs(backend, clock, server={"early_data": True})[1]  # cannot open the ticket
    pair, server_events = _run(cc, stranger, sessions[0], b"hello")
    assert not pair.client.info.resumed and pair.client.info.early_data_rejected == 5
    assert not any(isinstance(e, EarlyData) for e in server_events)


def test_early_data_rejected_after_hello_retry_request(backend: Any) -> None:
    clock = Clock()
    cc, sc = configs(backend, clock, client={"key_share_groups": (0x0017,)},
                     server={"early_data": True, "groups": (0x001D,)})
    _, sessions = full_handshake(cc, sc)
    pair, server_events = _run(cc, sc, sessions[0], b"0rtt")
    assert pair.client.info.resumed and pair.client.info.early_data_rejected == 4
    assert not any(isinstance(e, EarlyData) for e in server_events)


def test_too_much_skipped_early_data_is_fatal(backend: Any) -> None:
    clock = Clock()
    cc, sc, sessions = _setup(backend, clock, max_early_data_size=1000)
    strict = configs(backend, clock, server={"early_data": False, "ticket_keys": sc.ticket_keys,
                                             "max_early_data_size": 100})[1]
    from ferrotls.errors import BadRecordMac

    client = ClientConnection(cc, SERVER_NAME, session=sessions[0], early_data=b"y" * 900)
    server = ServerConnection(strict)
    with pytest.raises(BadRecordMac):
        server.receive_data(client.data_to_send())


def test_replayed_0rtt_client_hello_accepted_at_most_once(backend: Any) -> None:
    clock = Clock()
    cc, sc, sessions = _setup(backend, clock)
    client = ClientConnection(cc, SERVER_NAME, session=sessions[0], early_data=b"transfer $100")
    flight = client.data_to_send()
    accepted = 0
    for _ in range(3):  # the attacker replays the same first flight
        server = ServerConnection(sc)
        server.receive_data(flight)
        events = server.events()
        accepted += sum(isinstance(e, EarlyData) for e in events)
    assert accepted == 1


def test_stale_ticket_age_rejects_early_data(backend: Any) -> None:
    clock = Clock()
    cc, sc, sessions = _setup(backend, clock, ticket_age_tolerance=5.0)
    client = ClientConnection(cc, SERVER_NAME, session=sessions[0], early_data=b"late")
    flight = client.data_to_send()
    clock.advance(60)  # the ClientHello arrives a minute after it was made
    server = ServerConnection(sc)
    server.receive_data(flight)
    assert not any(isinstance(e, EarlyData) for e in server.events())
    client.receive_data(server.data_to_send())
    assert isinstance(client.events()[0], HandshakeComplete)
    assert client.info.resumed and client.info.early_data_rejected == 4
