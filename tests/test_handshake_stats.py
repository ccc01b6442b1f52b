"""HandshakeStats: flights, round trips, bytes per flight, ClientHello size against
MTU budgets, and CPU time through the injectable ``cpu_clock``."""

from __future__ import annotations

from typing import Any

from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.events import ApplicationData
from ferrotls.stats import Flight, HandshakeStats
from ferrotls.suites import NamedGroup
from helpers_tls import SERVER_NAME, ConnectionPair, client_config, server_config
from resumption_helpers import configs, full_handshake

X25519_ONLY = {"key_share_groups": (NamedGroup.X25519,)}


class TickClock:
    """Advances by one second per call: CPU time counts the calls made."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1.0
        return self.now


def stats_of(pair: ConnectionPair) -> tuple[HandshakeStats, HandshakeStats]:
    c, s = pair.client.handshake_stats, pair.server.handshake_stats
    assert c is not None and s is not None
    assert pair.client.info.stats is c and pair.server.info.stats is s
    return c, s


def test_full_handshake(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend, **X25519_ONLY), server_config(backend))
    assert pair.client.handshake_stats is None
    pair.handshake()
    c, s = stats_of(pair)
    assert [f.sender for f in c.flights] == ["client", "server", "client"]
    assert c.flights == s.flights
    assert c.round_trips == s.round_trips == 1
    assert c.bytes_sent == s.bytes_received == sum(map(len, pair.c2s))
    assert c.bytes_received == s.bytes_sent == sum(map(len, pair.s2c))
    assert c.flights[0] == Flight("client", len(pair.c2s[0]))
    assert c.client_hello_size == s.client_hello_size == len(pair.c2s[0])  # CH is alone in flight 1
    assert not c.hello_retry and not c.pq_key_share and c.client_hello_key_shares == 32
    assert c.client_hello_warnings == ()


def test_hello_retry_request_costs_a_round_trip(backend: Any) -> None:
    pair = ConnectionPair(
        client_config(backend, **X25519_ONLY),
        server_config(backend, groups=(NamedGroup.SECP256R1,)),
    )
    pair.handshake()
    c, s = stats_of(pair)
    assert c.hello_retry and s.hello_retry
    assert c.round_trips == 2 and len(c.flights) == 5 and c.flights == s.flights


def test_post_quantum_key_share_exceeds_1200(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend), server_config(backend))  # X25519MLKEM768 + X25519
    pair.handshake()
    c, _ = stats_of(pair)
    assert c.pq_key_share and c.client_hello_key_shares == 1216 + 32
    assert c.client_hello_size > 1200 and not c.client_hello_fits(1200)
    assert c.client_hello_warnings and "exceeds 1200" in c.client_hello_warnings[0]
    assert "post-quantum" in c.client_hello_warnings[0]


def test_resumed_and_early_data(backend: Any) -> None:
    cc, sc = configs(backend, client=X25519_ONLY, server={"early_data": True})
    first, sessions = full_handshake(cc, sc)
    full = first.client.handshake_stats
    pair = ConnectionPair(cc, sc)
    pair.pump()
    c, s = stats_of(pair)
    assert c.round_trips == 1 and c.bytes_sent + c.bytes_received < full.bytes_sent + full.bytes_received
    early = ClientConnection(cc, SERVER_NAME, session=sessions[1], early_data=b"z" * 500)
    pair = ConnectionPair.__new__(ConnectionPair)
    pair.client, pair.server, pair.c2s, pair.s2c = early, ServerConnection(sc), [], []
    pair.pump()
    assert early.info.early_data_accepted
    c, s = stats_of(pair)
    assert c.flights[0].size > c.client_hello_size + 500  # 0-RTT data rides in flight 1
    assert c.round_trips == 1 and c.flights == s.flights


def test_server_leaves_out_data_after_the_handshake(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend, **X25519_ONLY), server_config(backend))
    pair.server.receive_data(pair.client.data_to_send())
    pair.client.receive_data(pair.server.data_to_send())
    pair.client.send(b"a" * 1000)  # in the same write as the client's Finished
    pair.server.receive_data(pair.client.data_to_send())
    c, s = stats_of(pair)
    assert s.bytes_received == c.bytes_sent
    assert [e for e in pair.server.events() if isinstance(e, ApplicationData)][0].data == b"a" * 1000


def test_cpu_time_uses_the_injected_clock(backend: Any) -> None:
    pair = ConnectionPair(
        client_config(backend, cpu_clock=TickClock(), **X25519_ONLY),
        server_config(backend, cpu_clock=TickClock()),
    )
    pair.handshake()
    c, s = stats_of(pair)
    # client: start() (1 tick) + the server flight up to completion (1 tick);
    # server: the ClientHello (1 tick) + the client's Finished up to completion (1 tick)
    assert c.cpu_time == 2.0 and s.cpu_time == 2.0


def test_default_clock_measures_something(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend, **X25519_ONLY), server_config(backend))
    pair.handshake()
    c, s = stats_of(pair)
    assert c.cpu_time >= 0.0 and s.cpu_time >= 0.0


def test_stats_stop_at_completion(backend: Any) -> None:
    pair = ConnectionPair(client_config(backend, **X25519_ONLY), server_config(backend, ticket_count=2))
    pair.pump()
    before = pair.client.handshake_stats
    pair.client.send(b"x" * 5000)
    pair.pump()  # tickets and data do not change the handshake's figures
    assert pair.client.handshake_stats is before
    assert pair.client._stats is None and pair.server._stats is None
