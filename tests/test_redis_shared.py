"""Ticket keys and the 0-RTT strike register shared through a real redis-server
(ferrotls.shared): two server "instances" in this process, each with its own
ServerConfig, key ring and replay store, on one Redis and one KEK; ferrotls
clients talk to them in memory.

Also Redis killed, stalled and restarted under them, key rotation while clients
resume, a wrong key-encryption key, and what Redis really stores.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from ferrotls.connection import ClientConnection
from ferrotls.events import EarlyData
from ferrotls.shared import (
    KeyEncryptionKeyError,
    RedisConnection,
    RedisReplayStore,
    RedisTicketKeyRing,
    SharedStateUnavailable,
    kek_id,
    parse_kek,
    read_kek_file,
    redis_shared_state,
)
from ferrotls.tickets import ClientSession, TicketKeyManager, TicketKeys
from helpers_tls import SERVER_NAME, ConnectionPair, client_config, server_config
from redis_helpers import RedisServer, redis_py, redis_server
from resumption_helpers import Clock, full_handshake

__all__ = ["redis_server", "redis_py"]  # fixtures, imported for pytest

KEK = bytes(range(32))
OTHER_KEK = bytes(range(100, 132))
LOGGER = "ferrotls.redis"
QUARANTINE = 0.3  # seconds 0-RTT stays refused after a recovery (20 s by default)


class Instance:
    """One server instance: a ServerConfig on its own ring and store."""

    def __init__(
        self, backend: Any, clock: Clock, url: str, name: str, kek: Any = KEK,
        timeout: float = 0.05, **ring: Any,
    ) -> None:
        ring.setdefault("background", False)
        ring.setdefault("refresh_interval", 3600.0)  # refreshed by the test, not by time
        ring.setdefault("activation_delay", 10.0)
        self.name = name
        self.ring, self.strikes = redis_shared_state(
            url, kek, name=name, timeout=timeout, retry_interval=0.1, quarantine=QUARANTINE,
            clock=clock, **ring
        )
        self.config = server_config(
            backend, clock=clock, ticket_count=2, early_data=True,
            ticket_keys=self.ring, replay_store=self.strikes,
        )

    def close(self) -> None:
        self.ring.close()
        self.ring.conn.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _client(backend: Any, clock: Clock) -> Any:
    """No session cache: each full handshake is a full one, sessions are offered by hand."""
    return client_config(backend, clock=clock)


def _sessions(cc: Any, inst: Instance) -> list[ClientSession]:
    _, sessions = full_handshake(cc, inst.config)
    assert len(sessions) == 2
    return sessions


def _resume(
    cc: Any, inst: Instance, session: ClientSession, early: bytes | None = None
) -> tuple[bool, bool]:
    """(resumed, early data accepted); the handshake must complete either way."""
    pair = ConnectionPair(cc, inst.config)
    pair.client = ClientConnection(cc, SERVER_NAME, session=session, early_data=early)
    pair.pump()
    assert pair.client.handshake_complete and pair.server.handshake_complete
    accepted = any(isinstance(e, EarlyData) for e in pair.server.events())
    info = pair.client.info
    assert info.early_data_accepted == accepted
    assert pair.server.info.resumed == info.resumed
    if early is not None and not accepted and info.resumed:
        assert info.early_data_rejected == len(early)
    return bool(info.resumed), accepted


def _redis_lines(caplog: pytest.LogCaptureFixture, name: str, word: str) -> list[str]:
    return [
        r.getMessage() for r in caplog.records
        if r.name == LOGGER and f"({name})" in r.getMessage() and word in r.getMessage()
    ]


# --------------------------------------------------------------------------- the basics


def test_ring_satisfies_ticket_keys_protocol(redis_server: RedisServer, clock: Clock) -> None:
    ring = RedisTicketKeyRing(redis_server.url, KEK, clock=clock, background=False)
    assert isinstance(ring, TicketKeys) and isinstance(TicketKeyManager(), TicketKeys)
    assert "KEK" not in repr(ring) and KEK.hex() not in repr(ring)
    ring.conn.close()


def test_resumption_across_two_instances(
    backend: Any, redis_server: RedisServer, clock: Clock
) -> None:
    a = Instance(backend, clock, redis_server.url, "a")
    b = Instance(backend, clock, redis_server.url, "b")
    cc = _client(backend, clock)
    from_a = _sessions(cc, a)
    from_b = _sessions(cc, b)
    assert a.ring.key_ids == b.ring.key_ids and len(a.ring.key_ids) == 1
    assert _resume(cc, b, from_a[0]) == (True, False)  # A's ticket on B
    assert _resume(cc, a, from_b[0]) == (True, False)  # and B's on A
    # a third instance that only starts now opens both
    c = Instance(backend, clock, redis_server.url, "c")
    assert _resume(cc, c, from_a[1])[0] and _resume(cc, c, from_b[1])[0]
    # control: an instance on its own keys cannot
    alone = server_config(backend, clock=clock, ticket_count=2, ticket_keys=TicketKeyManager())
    pair = ConnectionPair(cc, alone)
    pair.client = ClientConnection(cc, SERVER_NAME, session=_sessions(cc, a)[0])
    pair.pump()
    assert pair.client.handshake_complete and not pair.client.info.resumed
    for inst in (a, b, c):
        inst.close()


def test_same_0rtt_flight_to_both_instances_is_accepted_once(
    backend: Any, redis_server: RedisServer, clock: Clock
) -> None:
    a = Instance(backend, clock, redis_server.url, "a")
    b = Instance(backend, clock, redis_server.url, "b")
    cc = _client(backend, clock)
    session = _sessions(cc, a)[0]
    client = ClientConnection(cc, SERVER_NAME, session=session, early_data=b"transfer $100")
    flight = client.data_to_send()
    # an attacker replays the flight to A: accepted there (it came first) ...
    from ferrotls.connection import ServerConnection

    replayed = ServerConnection(a.config)
    replayed.receive_data(flight)
    assert [e.data for e in replayed.events() if isinstance(e, EarlyData)] == [b"transfer $100"]
    # ... so B, getting the genuine client's flight, refuses the early data and
    # the handshake still completes as a resumption
    server = ServerConnection(b.config)
    server.receive_data(flight)
    assert not any(isinstance(e, EarlyData) for e in server.events())
    client.receive_data(server.data_to_send())
    server.receive_data(client.data_to_send())
    assert client.handshake_complete and server.handshake_complete
    assert client.info.resumed and not client.info.early_data_accepted
    assert client.info.early_data_rejected == len(b"transfer $100")
    # every further copy, to either instance, is refused too
    for inst in (a, b, a, b):
        again = ServerConnection(inst.config)
        again.receive_data(flight)
        assert not any(isinstance(e, EarlyData) for e in again.events())
    # a fresh ticket still gets 0-RTT on either instance, once
    fresh = _sessions(cc, b)
    assert _resume(cc, a, fresh[0], b"x") == (True, True)
    assert _resume(cc, b, fresh[1], b"y") == (True, True)
    a.close()
    b.close()


def test_replay_store_entry_and_ttl(redis_server: RedisServer) -> None:
    store = RedisReplayStore(redis_server.url, timeout=0.05)
    r = redis_server.client()
    key = bytes(range(32))
    assert store.check_and_add(key, expires_at=1000.0 + 7200, now=1000.0)
    assert not store.check_and_add(key, expires_at=1000.0 + 7200, now=1001.0)
    assert r.get(store.redis_key(key)) == b"1"  # a shared integer object: the smallest value
    assert store.redis_key(key) == b"ferrotls:0rtt:" + key
    assert 7_190_000 < r.pttl(store.redis_key(key)) <= 7_200_000
    # an already expired ticket is refused without a write
    assert not store.check_and_add(b"k" * 32, expires_at=5.0, now=5.0)
    assert r.exists(store.redis_key(b"k" * 32)) == 0
    capped = RedisReplayStore(redis_server.url, prefix="capped:", max_ttl=20, timeout=0.05)
    assert capped.check_and_add(key, expires_at=1000.0 + 7200, now=1000.0)  # other prefix
    assert 19_000 < r.pttl(capped.redis_key(key)) <= 20_000
    # the entry really expires: the same key is new again afterwards
    assert store.check_and_add(b"short" * 7, expires_at=1000.05, now=1000.0)
    time.sleep(0.2)
    assert store.check_and_add(b"short" * 7, expires_at=1000.05, now=1000.0)
    store.conn.close()
    capped.conn.close()


# --------------------------------------------------------------------------- failures


def test_redis_killed_then_restarted(
    backend: Any, redis_server: RedisServer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    a = Instance(backend, clock, redis_server.url, "a")
    b = Instance(backend, clock, redis_server.url, "b")
    cc = _client(backend, clock)
    before = [s for _ in range(3) for s in _sessions(cc, a) + _sessions(cc, b)]
    assert _resume(cc, b, _sessions(cc, a)[0], b"early") == (True, True)

    redis_server.kill()
    started = time.monotonic()
    during: list[ClientSession] = []
    for round_ in range(3):
        for inst, other in ((a, b), (b, a)):
            during += _sessions(cc, inst)  # full handshakes, tickets from memory
            assert _resume(cc, other, before.pop(), None) == (True, False)  # old tickets
            assert _resume(cc, other, during.pop(0), b"early") == (True, False)  # 0-RTT refused
        assert not a.ring.refresh() and not b.ring.refresh()  # the refresher fails quietly
        time.sleep(0.12)  # past retry_interval: each round probes Redis again
    elapsed = time.monotonic() - started
    assert elapsed < 10, f"{elapsed:.1f} s for 18 handshakes during the outage"
    assert not a.ring.healthy and not a.strikes.conn.available

    redis_server.start()  # empty: no persistence
    time.sleep(0.12)
    assert a.ring.refresh()  # writes back the keys it holds
    assert b.ring.refresh()
    assert len(redis_server.client().hkeys(a.ring.ring_key)) == 1
    # Redis forgot its strike entries: 0-RTT stays refused for the quarantine ...
    assert _resume(cc, a, during.pop(0), b"early") == (True, False)
    time.sleep(QUARANTINE)
    # ... then it is accepted again; old and outage-time tickets resume on both
    assert _resume(cc, a, during.pop(0), b"early") == (True, True)
    assert _resume(cc, b, during.pop(0), b"early") == (True, True)
    assert _resume(cc, a, before.pop(), None) == (True, False)
    assert _resume(cc, b, _sessions(cc, a)[0], b"early") == (True, True)
    for inst in (a, b):
        assert len(_redis_lines(caplog, inst.name, "unavailable")) == 1, caplog.text
        assert len(_redis_lines(caplog, inst.name, "recovered")) == 1, caplog.text
        inst.close()


def test_redis_stalled(
    native_backend: Any, redis_server: RedisServer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGSTOP: the TCP connection stays up and nothing answers.  With a 10 ms
    timeout no handshake waits for more than about that."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    a = Instance(native_backend, clock, redis_server.url, "a", timeout=0.01)
    cc = _client(native_backend, clock)
    sessions = _sessions(cc, a) + _sessions(cc, a) + _sessions(cc, a)
    redis_server.pause()
    try:
        worst = 0.0
        for session in sessions[:5]:
            t0 = time.monotonic()
            assert _resume(cc, a, session, b"early") == (True, False)
            _sessions(cc, a)
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.11)  # let each attempt probe Redis (and time out) again
        assert worst < 0.5, f"a resumption plus a full handshake took {worst:.3f} s"
        assert not a.ring.refresh()
    finally:
        redis_server.resume()
    time.sleep(0.12)
    assert a.ring.refresh()  # recovered
    time.sleep(QUARANTINE)
    assert _resume(cc, a, sessions[5], b"early") == (True, True)
    assert len(_redis_lines(caplog, "a", "unavailable")) == 1, caplog.text
    assert "TimeoutError" in _redis_lines(caplog, "a", "unavailable")[0]
    assert len(_redis_lines(caplog, "a", "recovered")) == 1, caplog.text
    a.close()


def test_full_redis_refuses_0rtt(backend: Any, redis_server: RedisServer, clock: Clock,
                                 caplog: pytest.LogCaptureFixture) -> None:
    """maxmemory reached under noeviction: writes fail with OOM, so 0-RTT is
    refused (fail closed) while tickets keep working from memory."""
    caplog.set_level(logging.INFO, logger=LOGGER)
    a = Instance(backend, clock, redis_server.url, "a")
    cc = _client(backend, clock)
    sessions = _sessions(cc, a) + _sessions(cc, a)
    r = redis_server.client()
    r.config_set("maxmemory-policy", "noeviction")
    r.config_set("maxmemory", 1)
    assert _resume(cc, a, sessions[0], b"early") == (True, False)
    assert "OutOfMemoryError" in _redis_lines(caplog, "a", "unavailable")[0]
    _sessions(cc, a)
    r.config_set("maxmemory", 0)
    time.sleep(0.12 + QUARANTINE)
    assert _resume(cc, a, sessions[1], b"early") == (True, False)  # this probe recovers ...
    time.sleep(QUARANTINE)
    assert _resume(cc, a, sessions[2], b"early") == (True, True)  # ... then 0-RTT is back
    a.close()


def test_instance_started_while_redis_is_down(
    backend: Any, redis_server: RedisServer, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=LOGGER)
    url = redis_server.url
    redis_server.kill()
    a = Instance(backend, clock, url, "a")  # does not raise
    cc = _client(backend, clock)
    local = _sessions(cc, a)  # sealed under a key of its own
    assert _resume(cc, a, local[0]) == (True, False)
    assert any("key of this instance" in m for m in caplog.messages)
    redis_server.start()
    time.sleep(0.12)
    assert a.ring.refresh()  # the ring was empty: its key is published
    b = Instance(backend, clock, url, "b")
    assert _resume(cc, b, local[1]) == (True, False)
    a.close()
    b.close()


# --------------------------------------------------------------------------- rotation


def test_rotation_while_clients_resume(
    backend: Any, redis_server: RedisServer, clock: Clock
) -> None:
    kw: dict[str, Any] = {
        "rotation_interval": 1000.0, "grace_period": 100.0, "activation_delay": 10.0,
    }
    a = Instance(backend, clock, redis_server.url, "a", **kw)
    b = Instance(backend, clock, redis_server.url, "b", **kw)
    cc = _client(backend, clock)
    k1 = a.ring.key_ids[0]
    old = _sessions(cc, a) + _sessions(cc, b) + _sessions(cc, a)
    assert {s.ticket[:4] for s in old} == {k1}

    k2 = a.ring.rotate()
    assert b.ring.refresh() and set(b.ring.key_ids) == {k1, k2}
    # published but not active yet: both still seal under k1, and open k2 tickets
    assert _sessions(cc, b)[0].ticket[:4] == k1
    clock.advance(10)
    assert a.ring.key_ids[0] == k2 == b.ring.key_ids[0]
    new = _sessions(cc, b)
    assert new[0].ticket[:4] == k2
    # within the grace period old tickets resume on both instances
    clock.advance(60)
    assert _resume(cc, a, old.pop())[0] and _resume(cc, b, old.pop())[0]
    assert _resume(cc, a, new[0])[0]
    # after it they fall back to full handshakes (which still complete)
    clock.advance(41)
    assert _resume(cc, b, old.pop()) == (False, False)
    assert _resume(cc, a, old.pop()) == (False, False)
    assert _resume(cc, a, new[1])[0]
    # the next refresh prunes k1 from Redis
    assert a.ring.refresh() and b.ring.refresh()
    assert redis_server.client().hkeys(a.ring.ring_key) == [k2]
    assert a.ring.key_ids == [k2] == b.ring.key_ids
    a.close()
    b.close()


def test_outage_longer_than_the_rotation_interval(backend: Any, redis_server: RedisServer,
                                                  clock: Clock) -> None:
    """Redis down past the rotation time: the last shared key keeps sealing (so
    tickets still resume on every instance); the refresh after recovery rotates."""
    kw: dict[str, Any] = {"rotation_interval": 100.0, "grace_period": 50.0, "activation_delay": 5.0}
    a = Instance(backend, clock, redis_server.url, "a", **kw)
    b = Instance(backend, clock, redis_server.url, "b", **kw)
    cc = _client(backend, clock)
    k1 = a.ring.key_ids[0]
    redis_server.kill()
    clock.advance(300)
    assert not a.ring.refresh() and not b.ring.refresh()
    late = _sessions(cc, a)
    assert late[0].ticket[:4] == k1
    assert _resume(cc, b, late[0])[0]
    redis_server.start()
    time.sleep(0.12)
    assert a.ring.refresh() and b.ring.refresh()  # a writes k1 back and rotates
    assert a.ring.key_ids[0] == k1 and len(a.ring.key_ids) == 2
    k2 = a.ring.key_ids[1]
    assert sorted(redis_server.client().hkeys(a.ring.ring_key)) == sorted([k1, k2])
    assert sorted(b.ring.key_ids) == sorted([k1, k2])  # b loaded it, did not rotate again
    clock.advance(5)
    assert a.ring.key_ids[0] == k2 == b.ring.key_ids[0]
    assert _sessions(cc, b)[0].ticket[:4] == k2
    assert _resume(cc, b, late[1])[0]  # k1 opens through its grace period
    a.close()
    b.close()


def test_scheduled_rotation_happens_once_across_instances(
    native_backend: Any, redis_server: RedisServer, clock: Clock
) -> None:
    """Eight instances whose current key is due refresh at the same moment:
    WATCH/MULTI lets one of them write the new key; the others load it."""
    kw: dict[str, Any] = {"rotation_interval": 100.0, "grace_period": 50.0, "activation_delay": 5.0}
    rings = [Instance(native_backend, clock, redis_server.url, f"i{n}", **kw) for n in range(8)]
    clock.advance(96)
    barrier = threading.Barrier(len(rings))
    results: list[bool] = []

    def refresh(inst: Instance) -> None:
        barrier.wait()
        results.append(inst.ring.refresh())

    threads = [threading.Thread(target=refresh, args=(i,)) for i in rings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 8
    stored = redis_server.client().hkeys(rings[0].ring.ring_key)
    assert len(stored) == 2
    assert all(sorted(i.ring.key_ids) == sorted(stored) for i in rings)
    clock.advance(5)
    assert len({i.ring.key_ids[0] for i in rings}) == 1
    for inst in rings:
        inst.close()


def test_background_refresh_picks_up_another_instances_rotation(
    native_backend: Any, redis_server: RedisServer, clock: Clock
) -> None:
    a = Instance(native_backend, clock, redis_server.url, "a")
    b = Instance(native_backend, clock, redis_server.url, "b", background=True,
                 refresh_interval=0.05, activation_delay=1.0)
    cc = _client(native_backend, clock)
    _sessions(cc, b)  # the first seal starts b's refresher
    new = a.ring.rotate()
    deadline = time.monotonic() + 5
    while new not in b.ring.key_ids and time.monotonic() < deadline:
        time.sleep(0.02)
    assert new in b.ring.key_ids
    a.close()
    b.close()


def test_lazy_refresh_without_a_thread(native_backend: Any, redis_server: RedisServer,
                                        clock: Clock) -> None:
    """background=False: seal/open refresh the ring themselves, at most once per
    refresh_interval (never on every handshake)."""
    a = Instance(native_backend, clock, redis_server.url, "a")
    b = Instance(native_backend, clock, redis_server.url, "b", refresh_interval=0.5)
    cc = _client(native_backend, clock)
    new = a.ring.rotate()
    calls: list[int] = []
    real_call = b.ring.conn.call

    def counting(*args: Any, **kw: Any) -> Any:
        calls.append(1)
        return real_call(*args, **kw)

    b.ring.conn.call = counting  # type: ignore[method-assign]
    for _ in range(5):
        _sessions(cc, b)
    assert new not in b.ring.key_ids and calls == []  # not due yet
    time.sleep(0.55)
    for _ in range(5):
        _sessions(cc, b)
    assert new in b.ring.key_ids and len(calls) == 1
    a.close()
    b.close()


# --------------------------------------------------------------------------- the KEK


def test_wrong_kek_cannot_read_the_ring(backend: Any, redis_server: RedisServer, clock: Clock,
                                        caplog: pytest.LogCaptureFixture) -> None:
    a = Instance(backend, clock, redis_server.url, "a")
    with pytest.raises(KeyEncryptionKeyError) as info:
        Instance(backend, clock, redis_server.url, "b", kek=OTHER_KEK)
    message = str(info.value)
    assert kek_id(KEK).hex() in message and kek_id(OTHER_KEK).hex() in message
    assert "same KEK" in message and OTHER_KEK.hex() not in message and KEK.hex() not in message

    # started while Redis was down, the mismatch shows at the first refresh: an
    # error line, nothing written, and no ticket of the fleet opens
    cc = _client(backend, clock)
    fleet = _sessions(cc, a)
    url = redis_server.url
    redis_server.kill()
    wrong = Instance(backend, clock, url, "wrong", kek=OTHER_KEK)
    redis_server.start()
    a.ring.refresh()  # the ring is written back from a's memory
    time.sleep(0.12)
    caplog.set_level(logging.INFO, logger=LOGGER)
    assert not wrong.ring.refresh() and not wrong.ring.healthy
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "sealed under key-encryption key" in errors[0].getMessage()
    assert wrong.ring.refresh() is False
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1  # not again
    assert len(redis_server.client().hkeys(a.ring.ring_key)) == 1
    assert _resume(cc, wrong, fleet[0]) == (False, False)
    assert _resume(cc, a, fleet[1]) == (True, False)
    a.close()
    wrong.close()


def test_stored_ring_is_sealed_not_clear(
    backend: Any, redis_server: RedisServer, clock: Clock
) -> None:
    a = Instance(backend, clock, redis_server.url, "a")
    a.ring.rotate()
    clear = TicketKeyManager()
    clear.import_keys(a.ring.export_keys())
    exported = a.ring.export_keys()
    r = redis_server.client()
    stored = r.hgetall(a.ring.ring_key)
    assert len(stored) == 2 and set(stored) == set(a.ring.key_ids)
    # the clear keys, from the export: 2 + 4 + 32 + 16 bytes each
    keys = [exported[3 + i * 52 + 4 : 3 + i * 52 + 36] for i in range(2)]
    everything = b"".join(r.dump(k) or b"" for k in r.keys(b"*"))
    for key in keys:
        assert len(key) == 32
        assert key not in everything and key.hex().encode() not in everything
    for field, value in stored.items():
        assert len(value) == 73 and value[0] == 1
        assert value[1:5] == kek_id(KEK) == a.ring.kek_id
    # the AAD binds the key id: a record moved under another id does not open
    (f1, v1), (f2, v2) = stored.items()
    r.hset(a.ring.ring_key, mapping={f1: v2, f2: v1})
    with pytest.raises(KeyEncryptionKeyError):
        Instance(backend, clock, redis_server.url, "b")
    a.close()


def test_kek_rotation(backend: Any, redis_server: RedisServer, clock: Clock) -> None:
    old = Instance(backend, clock, redis_server.url, "old", kek=KEK)
    cc = _client(backend, clock)
    tickets = _sessions(cc, old)
    both = Instance(backend, clock, redis_server.url, "both", kek=[OTHER_KEK, KEK])
    assert _resume(cc, both, tickets[0])[0]
    assert both.ring.rewrap() == 1
    stored = redis_server.client().hgetall(old.ring.ring_key)
    assert [v[1:5] for v in stored.values()] == [kek_id(OTHER_KEK)]
    new_only = Instance(backend, clock, redis_server.url, "new", kek=OTHER_KEK)
    assert _resume(cc, new_only, tickets[1])[0]
    old.close()
    both.close()
    new_only.close()


def test_import_keys_from_a_ticket_key_manager(backend: Any, redis_server: RedisServer,
                                              clock: Clock) -> None:
    manager = TicketKeyManager(rotation_interval=None, clock=clock)
    single = server_config(backend, clock=clock, ticket_count=2, ticket_keys=manager)
    cc = _client(backend, clock)
    _, before = full_handshake(cc, single)
    a = Instance(backend, clock, redis_server.url, "a")
    a.ring.import_keys(manager.export_keys())
    b = Instance(backend, clock, redis_server.url, "b")
    assert _resume(cc, b, before[0])[0]
    a.close()
    b.close()


def test_kek_parsing(tmp_path: Any) -> None:
    import base64

    assert parse_kek(KEK) == parse_kek(KEK.hex()) == KEK
    assert parse_kek(base64.b64encode(KEK).decode()) == KEK
    assert parse_kek(base64.urlsafe_b64encode(OTHER_KEK)) == OTHER_KEK
    for bad in (b"short", "zz" * 32, KEK + b"x", ""):
        with pytest.raises(KeyEncryptionKeyError) as info:
            parse_kek(bad)
        assert "zz" not in str(info.value)
    path = tmp_path / "kek"
    path.write_text(
        f"# fleet KEKs, the sealing one first\n{OTHER_KEK.hex()}\n\n{KEK.hex()}  # old\n"
    )
    assert read_kek_file(path) == (OTHER_KEK, KEK)
    path.write_bytes(b"\xff" * 32)
    assert read_kek_file(path) == (b"\xff" * 32,)
    path.write_text("nothing here\n")
    with pytest.raises(KeyEncryptionKeyError, match="line 1"):
        read_kek_file(path)


def test_rotate_without_redis_raises(redis_server: RedisServer, clock: Clock) -> None:
    ring = RedisTicketKeyRing(redis_server.url, KEK, clock=clock, background=False, timeout=0.05)
    redis_server.kill()
    with pytest.raises(SharedStateUnavailable):
        ring.rotate()
    assert len(ring.key_ids) == 1  # the ring in memory is untouched
    ring.conn.close()


def test_connection_url_is_redacted(redis_py: None) -> None:
    conn = RedisConnection("redis://user:s3cret@127.0.0.1:6390/2", name="edge-1")
    assert conn.url == "redis://127.0.0.1:6390/2" and "s3cret" not in repr(conn)


FORKED = """
import os, sys
from ferrotls.backend import get_backend
from ferrotls.shared import RedisTicketKeyRing
ring = RedisTicketKeyRing(sys.argv[1], bytes(range(32)), refresh_interval=0.05,
                          activation_delay=1.0)
backend = get_backend()
ticket = ring.seal(backend, b"from the parent")  # starts the parent's refresher
pid = os.fork()
if pid == 0:  # a worker: its own refresher, the parent's keys, Redis through its own sockets
    import threading
    assert not any(t.name == "ferrotls-ticket-keys" for t in threading.enumerate())
    assert ring.open(backend, ticket) == b"from the parent"
    ring.seal(backend, b"child")  # only the forking thread survives: a new refresher
    assert any(t.name == "ferrotls-ticket-keys" for t in threading.enumerate()), "no refresher"
    assert ring.rotate() in ring.key_ids
    os._exit(0)
_, status = os.waitpid(pid, 0)
assert os.waitstatus_to_exitcode(status) == 0, status
import time
deadline = time.monotonic() + 5
while len(ring.key_ids) < 2:  # the parent's refresher loads the child's rotation
    assert time.monotonic() < deadline, ring.key_ids
    time.sleep(0.01)
print("ok")
"""


def test_ring_built_before_fork(redis_server: RedisServer) -> None:
    """Workers forked after the ring is built each start their own refresher."""
    proc = subprocess.run([sys.executable, "-c", FORKED, redis_server.url], capture_output=True,
                          text=True, timeout=60, check=False)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-3000:]


def test_import_ferrotls_does_not_import_redis() -> None:
    code = "import sys, ferrotls, ferrotls.shared; assert 'redis' not in sys.modules, 'imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
