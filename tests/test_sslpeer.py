"""``ferrotls.apps.sslpeer``, the ``ssl`` driver behind every bench and comparison.

* the ctypes suite pin really limits OpenSSL: an ``ssl`` server pinned to one
  suite makes a ferrotls client that offers all three negotiate that one, and a
  pinned ``ssl`` pair negotiates it too;
* the MemoryBIO pump completes full and resumed handshakes and counts the bytes
  each way (the server's flight, then its session tickets);
* ``SslPair.sender`` moves all of its bytes;
* ``measure``: its warm-up, its best-of and its calibration, on a fake clock.
"""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from ferrotls.apps import sslpeer
from ferrotls.apps.sslpeer import SslPeer, client_context, measure, repeat, server_context
from ferrotls.apps import testpki
from ferrotls.config import ClientConfig
from ferrotls.connection import ClientConnection
from ferrotls.events import HandshakeComplete
from ferrotls.suites import CipherSuite

HOST = "sslpeer.test"
SUITES = {
    "TLS_AES_128_GCM_SHA256": CipherSuite.TLS_AES_128_GCM_SHA256,
    "TLS_AES_256_GCM_SHA384": CipherSuite.TLS_AES_256_GCM_SHA384,
    "TLS_CHACHA20_POLY1305_SHA256": CipherSuite.TLS_CHACHA20_POLY1305_SHA256,
}


@pytest.fixture(scope="module")
def pki() -> testpki.TestPKI:
    return testpki.make_test_pki((HOST,))


def _peer(pki: testpki.TestPKI, **kw: Any) -> SslPeer:
    return SslPeer.from_pem(pki.ca_pem, pki.chain_pem, pki.key_pem, HOST, **kw)


@pytest.mark.parametrize("name", SUITES)
def test_pinned_ssl_server_decides_a_ferrotls_handshake(pki: testpki.TestPKI, name: str) -> None:
    server = server_context(pki.chain_pem, pki.key_pem, num_tickets=0)
    assert sslpeer.set_ciphersuites(server, name)
    client = ClientConnection(ClientConfig(verifier=pki.verifier(), cipher_suites=tuple(SUITES.values())),
                              HOST)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = server.wrap_bio(incoming, outgoing, server_side=True)
    done: HandshakeComplete | None = None
    for _ in range(10):
        out = client.data_to_send()
        incoming.write(out)
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        back = outgoing.read()
        if back:
            client.receive_data(back)
        done = next((e for e in client.events() if isinstance(e, HandshakeComplete)), done)
        if done is not None and not out and not back:
            break
    assert done is not None
    assert done.cipher_suite == SUITES[name]
    assert obj.cipher() is not None and obj.cipher()[0] == name


def test_pin_rejects_an_unknown_suite(pki: testpki.TestPKI) -> None:
    assert not sslpeer.set_ciphersuites(client_context(pki.ca_pem), "TLS_NO_SUCH_SUITE")


@pytest.mark.parametrize("name", SUITES)
def test_pinned_pair_negotiates_the_suite(pki: testpki.TestPKI, name: str) -> None:
    peer = _peer(pki, suite=name)
    assert peer.suite_pinned
    pair = peer.handshake()
    assert pair.client.cipher()[0] == name  # type: ignore[index]
    assert pair.server.cipher()[0] == name  # type: ignore[index]
    assert pair.client.version() == "TLSv1.3"


def test_handshake_counts_the_flight_and_the_tickets(pki: testpki.TestPKI) -> None:
    no_tickets = _peer(pki).handshake()
    assert no_tickets.c2s > 0 and no_tickets.s2c > 500  # the server's flight carries the certificate
    assert no_tickets.s2c_flight == no_tickets.s2c
    with_tickets = _peer(pki, num_tickets=2).handshake()
    assert with_tickets.c2s == no_tickets.c2s
    assert with_tickets.s2c_flight == pytest.approx(no_tickets.s2c_flight, abs=2)  # ECDSA DER size
    assert with_tickets.s2c > with_tickets.s2c_flight  # the tickets came after the client finished
    assert with_tickets.client_in.pending == 0  # the client took them
    session = with_tickets.client.session
    assert session is not None and session.has_ticket


def test_handshake_resumes_with_a_session(pki: testpki.TestPKI) -> None:
    peer = _peer(pki, num_tickets=1)
    full = peer.handshake()
    resumed = peer.handshake(full.client.session)
    assert resumed.client.session_reused and not full.client.session_reused
    assert resumed.s2c_flight < full.s2c_flight - 300  # no certificate the second time


def test_sender_moves_every_byte(pki: testpki.TestPKI) -> None:
    pair = _peer(pki).handshake()
    run = pair.sender(b"x" * 20000)  # more than one record
    assert run(3) == 60000
    assert pair.client_out.pending == 0 and pair.server_in.pending == 0
    pair.client.write(b"after")
    pair.server_in.write(pair.client_out.read())
    assert pair.server.read(100) == b"after"  # nothing of the 60000 bytes was left unread


def test_handshakes_runs_n(pki: testpki.TestPKI) -> None:
    assert _peer(pki).handshakes()(3) == 3


# --------------------------------------------------------------------------- measure


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.calls: list[int] = []

    def perf_counter(self) -> float:
        return self.now

    def run(self, seconds_per_round: list[float], units_per_round: int = 10) -> Any:
        def run(n: int) -> int:
            self.calls.append(n)
            self.now += n * seconds_per_round[len(self.calls) % len(seconds_per_round)]
            return n * units_per_round

        return run


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(sslpeer.time, "perf_counter", fake.perf_counter)
    return fake


def test_measure_fixed_rounds_takes_the_best(clock: FakeClock) -> None:
    # call k takes list[k % 5] a round: the warm-up (1st) nothing, then 2 ms, 1 ms, 3 ms
    run = clock.run([0.0, 0.0, 0.002, 0.001, 0.003])
    rate = measure(run, n=5, reps=3, warmup=2)
    assert clock.calls == [2, 5, 5, 5]
    assert rate.per_second == pytest.approx(1000.0)
    assert rate.units_per_second == pytest.approx(10000.0)


def test_measure_grows_n_to_the_target(clock: FakeClock) -> None:
    run = clock.run([0.001])
    rate = measure(run, target=0.02, reps=2)
    # warm-up 1; then 1 round (1 ms), scaled to 22 (1.1 x target); 22 ms >= 20 ms; one more rep
    assert clock.calls == [1, 1, 22, 22]
    assert rate.per_second == pytest.approx(1000.0)


def test_measure_without_warmup(clock: FakeClock) -> None:
    measure(clock.run([0.001]), n=4, warmup=0)
    assert clock.calls == [4]


def test_repeat_calls_n_times() -> None:
    seen: list[int] = []
    run = repeat(lambda: seen.append(1))
    assert run(4) == 4 and len(seen) == 4
