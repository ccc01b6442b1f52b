"""``ferrotls gateway --workers N`` and ``ferrotls server --workers N``, as real subprocesses.

* a killed worker is restarted, and a crash loop makes the supervisor give up;
* a client resumes on any worker (one ticket key ring), checked by the worker
  index in the gateway's log lines;
* SIGHUP: new certificate for new connections, an open connection unharmed;
* SIGTERM: stop accepting, drain, close_notify after --drain-timeout, no byte lost;
* the 0-RTT strike register shared by the workers' processes (forked, as the
  supervisor forks them).

Clients are Python ``ssl`` sockets with ``suppress_ragged_eofs=False`` (a
truncation is an error, not an EOF); the backend is the plaintext echo server
of test_gateway.py.
"""

from __future__ import annotations

import dataclasses
import os
import random
import re
import shutil
import signal
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import pytest
from redis_helpers import RedisServer, redis_server
from test_cli import LOOPBACK, TIMEOUT, Files, Proc, ferrotls_cmd, ferrotls_server, run
from test_gateway import EchoBackend

from ferrotls.apps.strikes import LocalStrikeRegister

__all__ = ["redis_server"]

WORKER_STARTED = re.compile(rb"worker (\d+) started \(pid (\d+)\)")


@pytest.fixture
def backend() -> Iterator[EchoBackend]:
    b = EchoBackend()
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    return Files(tmp_path_factory.mktemp("fleet-pki"))


def client_ctx(files: Files) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=files.ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    return ctx


def connect(ctx: ssl.SSLContext, port: int, session: ssl.SSLSession | None = None) -> ssl.SSLSocket:
    raw = socket.create_connection((LOOPBACK, port), timeout=TIMEOUT)
    return ctx.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False,
                           session=session)


def echo(tls: ssl.SSLSocket, data: bytes) -> None:
    tls.sendall(data)
    got = bytearray()
    while len(got) < len(data):
        chunk = tls.recv(65536)
        assert chunk, "closed before the echo came back"
        got += chunk
    assert bytes(got) == data


def close_cleanly(tls: ssl.SSLSocket) -> None:
    """close_notify both ways (SSLEOFError if the gateway only drops TCP)."""
    raw = tls.unwrap()
    raw.close()


def gateway(files: Files, backend: EchoBackend, *extra: str, cert: str | None = None,
            key: str | None = None) -> AbstractContextManager[tuple[Proc, int]]:
    return ferrotls_server(
        "gateway", "--accept", f"{LOOPBACK}:0", "--connect", f"{LOOPBACK}:{backend.port}",
        "--cert", cert or files.ec_cert, "--key", key or files.ec_key, *extra)


def worker_pids(proc: Proc) -> dict[int, int]:
    """index -> pid of the latest start of each worker."""
    pids: dict[int, int] = {}
    for m in WORKER_STARTED.finditer(bytes(proc.err)):
        pids[int(m.group(1))] = int(m.group(2))
    return pids


def logged_workers(proc: Proc, count: int) -> list[int]:
    """Worker index of each of the first ``count`` connection lines (waits for them)."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        found = [int(w) for w in re.findall(rb"identity=\S+ worker=(\d+) up=", bytes(proc.err))]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


# --------------------------------------------------------------------------- workers


def test_killed_worker_is_restarted(files: Files, backend: EchoBackend) -> None:
    ctx = client_ctx(files)
    with gateway(files, backend, "--workers", "2") as (gw, port):
        pids = worker_pids(gw)
        assert sorted(pids) == [0, 1]
        os.kill(pids[1], signal.SIGKILL)
        gw.wait_for(re.compile(rb"worker 1 \(pid %d\) died \(killed by signal 9\)" % pids[1]),
                    stream="err")
        deadline = time.monotonic() + TIMEOUT
        while worker_pids(gw)[1] == pids[1]:
            assert time.monotonic() < deadline, gw.text
            time.sleep(0.05)
        new = worker_pids(gw)[1]
        assert new != pids[1] and os.path.exists(f"/proc/{new}")
        time.sleep(0.3)  # the new worker binds its socket
        for i in range(12):  # connections land on both workers (SO_REUSEPORT hash)
            tls = connect(ctx, port)
            echo(tls, b"after the restart %d" % i)
            close_cleanly(tls)
        assert set(logged_workers(gw, 12)) == {0, 1}
        assert b"Traceback" not in gw.err


def test_workers_dying_in_a_loop_make_the_supervisor_give_up(files: Files, backend: EchoBackend) -> None:
    with gateway(files, backend, "--workers", "2") as (gw, _port):
        killed: set[int] = set()
        deadline = time.monotonic() + TIMEOUT
        while gw.proc.poll() is None:
            assert time.monotonic() < deadline, gw.text
            for pid in worker_pids(gw).values():
                if pid not in killed:
                    killed.add(pid)
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        assert gw.wait() == 1
        assert b"workers are dying in a loop" in gw.err
        assert b"giving up" in gw.err
        for pid in worker_pids(gw).values():  # none left behind
            assert not os.path.exists(f"/proc/{pid}") or b"zombie" in Path(f"/proc/{pid}/status").read_bytes()


@pytest.mark.parametrize("mode", ["reuseport", "shared"])
def test_a_client_resumes_on_any_worker(files: Files, backend: EchoBackend, mode: str) -> None:
    ctx = client_ctx(files)
    with gateway(files, backend, "--workers", "2", "--accept-mode", mode) as (gw, port):
        first = connect(ctx, port)
        echo(first, b"first")  # the tickets arrive with the first reply
        session = first.session
        assert session is not None and not first.session_reused
        close_cleanly(first)
        resumed = 0
        for i in range(30):
            tls = connect(ctx, port, session)
            resumed += 1 if tls.session_reused else 0
            echo(tls, b"again %d" % i)
            session = tls.session or session
            close_cleanly(tls)
            workers = logged_workers(gw, i + 2)
            if i >= 3 and len(set(workers[1:])) == 2:
                break
        workers = logged_workers(gw, i + 2)
        assert resumed == i + 1, f"{resumed} of {i + 1} resumed"
        assert set(workers[1:]) == {0, 1}, f"every resumption on one worker: {workers}"


def test_sighup_reloads_the_certificate_and_keeps_open_connections(
    files: Files, backend: EchoBackend, tmp_path: Path
) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(files.ec_cert, cert)
    shutil.copy(files.ec_key, key)
    ctx = client_ctx(files)
    with gateway(files, backend, "--workers", "2", cert=str(cert), key=str(key)) as (gw, port):
        old = connect(ctx, port)
        echo(old, b"before the reload")
        old_der = old.getpeercert(binary_form=True)
        session = old.session
        shutil.copy(files.rsa_cert, cert)
        shutil.copy(files.rsa_key, key)
        gw.proc.send_signal(signal.SIGHUP)
        gw.wait_for(b"reloaded: 2 workers have new certificates and ticket keys", stream="err")
        for _ in range(4):
            new = connect(ctx, port)
            assert new.getpeercert(binary_form=True) != old_der
            echo(new, b"after the reload")
            close_cleanly(new)
        # tickets sealed before the reload still open (the old key keeps its grace period)
        again = connect(ctx, port, session)
        assert again.session_reused
        close_cleanly(again)
        echo(old, b"still here" * 1000)  # the open connection never noticed
        close_cleanly(old)
        # a reload that fails keeps the running configuration
        cert.write_text("not a certificate")
        gw.proc.send_signal(signal.SIGHUP)
        gw.wait_for(b"reload failed, keeping the running configuration", stream="err")
        tls = connect(ctx, port)
        echo(tls, b"still served")
        close_cleanly(tls)
        assert b"Traceback" not in gw.err


def test_sigterm_drains_then_closes_with_close_notify(files: Files, backend: EchoBackend) -> None:
    ctx = client_ctx(files)
    with gateway(files, backend, "--workers", "2", "--drain-timeout", "1.5") as (gw, port):
        busy = [connect(ctx, port) for _ in range(4)]
        for i, tls in enumerate(busy):
            echo(tls, b"x" * (1000 + i))
        finishing = busy.pop()
        t0 = time.monotonic()
        gw.proc.send_signal(signal.SIGTERM)
        gw.wait_for(b"draining", stream="err")
        time.sleep(0.2)
        with pytest.raises(OSError):  # no longer accepting
            connect(ctx, port).close()
        sent = 0
        for tls in busy:  # open connections keep working during the drain
            echo(tls, b"y" * 5000)
            sent += 5000
        echo(finishing, b"done")
        close_cleanly(finishing)
        for tls in busy:  # then the gateway closes them: close_notify, nothing lost
            assert tls.recv(100) == b""  # SSLEOFError here would mean no close_notify
            tls.close()
        waited = time.monotonic() - t0
        assert 1.2 < waited < 6, waited
        assert gw.wait() == 0
        assert b"all workers finished" in gw.err
        lines = re.findall(rb"up=(\d+) down=(\d+)", bytes(gw.err))
        assert len(lines) == 4 and all(up == down for up, down in lines), lines


def test_server_workers_and_sigterm_without_connections(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    with ferrotls_server("--echo", "--workers", "2", "--write-ca", str(ca)) as (srv, port):
        ctx = ssl.create_default_context(cafile=str(ca))
        for _ in range(6):  # one throw-away certificate for every worker
            tls = connect(ctx, port)
            echo(tls, b"hello")
            close_cleanly(tls)
        t0 = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        assert srv.wait() == 0
        assert time.monotonic() - t0 < 5
        assert len(worker_pids(srv)) == 2


def test_workers_1_is_a_single_process_that_reloads(files: Files, backend: EchoBackend) -> None:
    ctx = client_ctx(files)
    with gateway(files, backend, "--workers", "1") as (gw, port):
        assert not worker_pids(gw)
        tls = connect(ctx, port)
        echo(tls, b"one")
        gw.proc.send_signal(signal.SIGHUP)
        gw.wait_for(b"reloaded", stream="err")
        echo(tls, b"two")
        close_cleanly(tls)
        gw.proc.send_signal(signal.SIGTERM)
        assert gw.wait() == 0


# --------------------------------------------------------------------------- the strike register


def test_local_strike_register_across_processes() -> None:
    store = LocalStrikeRegister(slots=1024)
    now = time.time()
    r, w = os.pipe()
    children = []
    for _ in range(4):  # four processes offered the same 50 keys: each key passes once
        pid = os.fork()
        if pid == 0:
            wins = sum(store.check_and_add(b"key %d" % i, now + 60, now) for i in range(50))
            os.write(w, b"%d\n" % wins)
            os._exit(0)
        children.append(pid)
    for pid in children:
        os.waitpid(pid, 0)
    os.close(w)
    counts = [int(x) for x in os.read(r, 1000).split()]
    os.close(r)
    assert sum(counts) == 50, counts
    assert not store.check_and_add(b"key 7", now + 60, now)  # seen, in the parent too
    assert store.check_and_add(b"key 7", now + 200, now + 61)  # expired (max_ttl 20 s)
    assert not store.check_and_add(b"late", now - 1, now)  # already expired: refused


def test_local_strike_register_fails_closed_when_full() -> None:
    store = LocalStrikeRegister(slots=16, max_ttl=None)
    now = time.time()
    results = [store.check_and_add(b"k%d" % i, now + 60, now) for i in range(17)]
    assert results[:16] == [True] * 16
    assert results[16] is False  # the window is full: refused rather than forgotten
    assert len(store) == 16


# --------------------------------------------------------------------------- --redis


def test_two_gateways_share_tickets_through_redis_and_ride_out_an_outage(
    files: Files, backend: EchoBackend, redis_server: RedisServer, tmp_path: Path
) -> None:
    from ferrotls.shared import new_kek

    kek = tmp_path / "kek"
    kek.write_text(new_kek() + "\n")
    kek.chmod(0o600)
    ctx = client_ctx(files)
    redis = ("--redis", redis_server.url, "--kek-file", str(kek))
    with gateway(files, backend, "--workers", "1", *redis) as (a, port_a), \
            gateway(files, backend, "--workers", "2", *redis) as (b, port_b):
        first = connect(ctx, port_a)
        echo(first, b"to a")
        session = first.session
        close_cleanly(first)
        for _ in range(4):  # A's ticket resumes on B's workers
            tls = connect(ctx, port_b, session)
            assert tls.session_reused
            echo(tls, b"to b")
            close_cleanly(tls)
        # SIGHUP on B: a coordinated rotation in Redis (the new key activates later,
        # on every instance at once); A's ticket keeps resuming on B
        b.proc.send_signal(signal.SIGHUP)
        b.wait_for(b"reloaded: 2 workers", stream="err")
        tls = connect(ctx, port_b, session)
        assert tls.session_reused
        close_cleanly(tls)
        redis_server.kill()
        a.wait_for(b"unavailable", stream="err", timeout=20)  # the ring's next refresh notices
        for port in (port_a, port_b, port_a):  # full handshakes and resumption go on
            tls = connect(ctx, port)
            echo(tls, b"during the outage")
            close_cleanly(tls)
            tls = connect(ctx, port, session)
            assert tls.session_reused
            close_cleanly(tls)
        redis_server.start()
        a.wait_for(b"recovered after", stream="err", timeout=20)
        tls = connect(ctx, port_b, session)
        assert tls.session_reused
        close_cleanly(tls)
        text = a.err.decode()
        assert text.count("unavailable") == 1 and text.count("recovered after") == 1, text
        assert "Traceback" not in text + b.err.decode()


def test_redis_flags_are_checked(tmp_path: Path) -> None:
    rc, _, err = run(ferrotls_cmd("server", "--port", "0", "--redis", "redis://127.0.0.1:1/0"))
    assert rc == 2 and "--redis needs --kek-file" in err
    rc, _, err = run(ferrotls_cmd("server", "--port", "0", "--kek-file", str(tmp_path / "k")))
    assert rc == 2 and "--kek-file needs --redis" in err


# --------------------------------------------------------------------------- make demo


def test_demo_resumes_across_two_instances_through_redis(redis_server: RedisServer) -> None:
    from ferrotls.apps.fleetdemo import shared_resumption_demo

    lines = shared_resumption_demo()  # starts a redis-server of its own
    assert any("instance A: full handshake (resumed=False)" in ln for ln in lines), lines
    assert any("instance B: resumed=True with instance A's ticket" in ln for ln in lines), lines


def test_demo_says_it_skipped_without_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    from ferrotls.apps import fleetdemo

    monkeypatch.setattr(fleetdemo, "_redis_binary", lambda: None)
    assert fleetdemo.shared_resumption_demo() == [
        "skipped: redis-server is not installed (apt-get install redis-server)"]


# --------------------------------------------------------------------------- 0-RTT across workers


def _sans_io_round(conn: Any, sock: socket.socket, until: Callable[[], bool]) -> None:
    """Pump a ferrotls client connection over a blocking socket until ``until()``."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        out = conn.data_to_send()
        if out:
            sock.sendall(out)
        if until():
            return
        assert time.monotonic() < deadline, "no progress"
        data = sock.recv(65536)
        conn.receive_data(data)
        if not data:
            return


def test_a_replayed_0rtt_flight_is_accepted_by_one_worker_only(
    files: Files, backend: EchoBackend
) -> None:
    """The same 0-RTT flight (byte for byte) sent 12 times lands on both workers
    (SO_REUSEPORT hash) and gets its early data accepted exactly once: the strike
    register is shared.  Identical flights come from identical clients: fixed
    randomness, key share and clock."""
    from ferrotls.config import create_client_config
    from ferrotls.connection import ClientConnection
    from ferrotls.events import ApplicationData, HandshakeComplete, SessionTicket
    from ferrotls.tickets import ClientSession

    base = create_client_config(cafile=files.ca, groups=(0x001D,), key_share_groups=(0x001D,))
    with gateway(files, backend, "--workers", "2", "--early-data") as (gw, port):
        first = ClientConnection(base, "localhost")
        events: list[Any] = []
        with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as sock:
            _sans_io_round(first, sock, lambda: first.handshake_complete)
            first.send(b"hello")

            def got_ticket() -> bool:
                events.extend(first.events())
                return any(isinstance(e, SessionTicket) for e in events) and any(
                    isinstance(e, ApplicationData) for e in events)

            _sans_io_round(first, sock, got_ticket)
        session = next(e.session for e in events if isinstance(e, SessionTicket))
        assert isinstance(session, ClientSession)
        now = time.time()
        accepted = []
        for _ in range(12):
            rng = random.Random(1604).randbytes
            config = dataclasses.replace(base, rng=rng, clock=lambda: now,
                                         key_share_private_keys={0x001D: bytes(range(1, 33))})
            client = ClientConnection(config, "localhost", session=session, early_data=b"0rtt!")
            with socket.create_connection((LOOPBACK, port), timeout=TIMEOUT) as sock:
                _sans_io_round(client, sock, lambda: client.handshake_complete)  # noqa: B023
                info: HandshakeComplete = client.info
                assert info.resumed
                accepted.append(info.early_data_accepted)
                client.close()
                sock.sendall(client.data_to_send())
        assert accepted.count(True) == 1, accepted
        workers = logged_workers(gw, 13)
        assert set(workers[1:]) == {0, 1}, workers  # both workers saw the flight
