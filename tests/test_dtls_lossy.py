"""DTLS 1.3 and 1.2 through a seeded lossy relay, on a fake clock (no real sleeping).

20 % loss, 10 % duplication, 2 % truncation and delays of 5..150 ms (so datagrams
sent together arrive reordered): every handshake must complete within the
retransmission backoff schedule (1 + 2 + 4 + ... seconds), no application
datagram may be delivered twice or corrupt, and the count lost is reported.
"""

from __future__ import annotations

import statistics
from typing import Any

import pytest
from helpers_tls import SERVER_NAME, client_config, server_config

from ferrotls.apps.bench.lossy import LossProfile, LossyRelay, check_payload, app_payload, run_lossy_session
from ferrotls.dtls import DTLSClientConnection, DTLSConfig, DTLSServerConnection
from ferrotls.dtls.config import DTLS_1_2, DTLS_1_3
from ferrotls.psk import ExternalPsk

PSK = ExternalPsk(b"meter-1", bytes(range(32)))


def _schedule_bound(dtls: DTLSConfig) -> float:
    """The time by which a flight has had every retransmission the schedule allows."""
    total, interval = 0.0, dtls.initial_timeout
    for _ in range(dtls.max_retransmissions + 1):
        total += interval
        interval = min(interval * 2, dtls.max_timeout)
    return total


def _maker(backend: Any, mode: str, dtls: DTLSConfig) -> Any:
    if mode == "psk":
        psk12 = {"tls12_cipher_suites": (0xC0A8,)}  # TLS_PSK_WITH_AES_128_CCM_8 (DTLS 1.2)
        ccfg = client_config(backend, external_psks=(PSK,), **psk12)
        scfg = server_config(backend, psk_callback=lambda i: PSK if i == PSK.identity else None, ticket_count=1,
                             **psk12)
    else:
        ccfg = client_config(backend)
        scfg = server_config(backend, ticket_count=1)

    def make(now: float) -> tuple[DTLSClientConnection, DTLSServerConnection]:
        return (DTLSClientConnection(ccfg, SERVER_NAME, dtls=dtls, now=now),
                DTLSServerConnection(scfg, dtls=dtls, now=now))

    return make


@pytest.mark.parametrize("version", ["1.3", "1.2"])
@pytest.mark.parametrize("mode", ["certificate", "psk"])
def test_handshakes_complete_under_loss(backend: Any, mode: str, version: str) -> None:
    # the certificate flight spans several datagrams
    dtls = DTLSConfig(mtu=500, versions=(DTLS_1_3,) if version == "1.3" else (DTLS_1_2,))
    seeds = range(40 if backend.name == "native" else 8)
    bound = _schedule_bound(dtls)
    results = [run_lossy_session(_maker(backend, mode, dtls), seed, app_datagrams=30) for seed in seeds]
    for r in results:
        assert r.completed, f"seed {r.seed}: no handshake within {bound} s"
        assert r.handshake_time is not None and r.handshake_time < bound
        assert r.app_duplicates == 0, f"seed {r.seed}: a datagram delivered twice"
        assert r.app_corrupt == 0, f"seed {r.seed}: a corrupt datagram delivered"
        assert r.app_sent == 30 and 0 <= r.app_lost <= 30
    if mode == "psk" and version == "1.2":
        c, _ = _maker(backend, mode, dtls)(0.0)
        assert c.config.tls12_cipher_suites == (0xC0A8,)
    relay_dropped = sum(r.relay.dropped for r in results)
    assert relay_dropped > 0 and sum(r.relay.duplicated for r in results) > 0
    assert sum(r.relay.truncated for r in results) > 0
    lost = sum(r.app_lost for r in results)
    sent = sum(r.app_sent for r in results)
    # about the path's loss rate (20 % + truncation), reported
    assert 0.1 < lost / sent < 0.35, (lost, sent)
    retransmitted = sum(r.client_retransmissions + r.server_retransmissions for r in results)
    assert retransmitted > 0
    times = sorted(r.handshake_time or 0.0 for r in results)
    assert all(r.completed for r in results)
    print(f"\nDTLS {version} {mode}: {len(results)} runs, median {statistics.median(times):.2f} s, max {times[-1]:.2f} s, "
          f"application datagrams lost {lost}/{sent}, records retransmitted {retransmitted}")


def test_relay_is_seeded_and_does_what_it_says() -> None:
    a, b = LossyRelay(7), LossyRelay(7)
    for relay in (a, b):
        for i in range(1000):
            relay.send(i * 0.01, True, app_payload(i))
    out_a, out_b = a.due(1e9), b.due(1e9)
    assert out_a == out_b  # the same seed, the same path
    numbers = [check_payload(d) for _, d in out_a]
    assert 150 < a.counts.dropped < 250 and 60 < a.counts.duplicated < 140
    assert numbers.count(None) == a.counts.truncated  # a truncated datagram is never intact
    intact = [n for n in numbers if n is not None]
    assert intact != sorted(intact)  # reordered


def test_lossless_path_needs_no_retransmission(backend: Any) -> None:
    none = LossProfile(loss=0.0, duplicate=0.0, truncate=0.0)
    r = run_lossy_session(_maker(backend, "certificate", DTLSConfig()), 1, none, app_datagrams=10)
    assert r.completed and r.app_lost == 0
    assert r.client_retransmissions == r.server_retransmissions == 0
    assert r.handshake_time is not None and r.handshake_time < 1.0
