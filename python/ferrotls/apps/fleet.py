"""Every core: the worker processes of ``ferrotls server`` and ``ferrotls gateway``.

``--workers N`` (default: the number of CPUs) runs N worker processes that
accept on the same port, under a supervisor (this module):

* **Accepting.**  ``--accept-mode reuseport`` (the default): every worker binds
  its own listening socket with ``SO_REUSEPORT`` and the kernel spreads new
  connections over them by a hash of the addresses.  ``shared``: the
  supervisor listens once and the workers inherit that socket through
  ``fork`` (the pre-fork model); every worker's event loop wakes for each new
  connection and whichever accepts first gets it.  docs/deployment.md has the
  measurement behind the default.
* **One key ring.**  The supervisor holds the session-ticket keys (a
  ``TicketKeyManager`` that never rotates by itself) and forks the workers
  with them, so every worker seals and opens tickets with the same keys and a
  client resumes on any worker.  It rotates them every ``rotation_interval``
  and on SIGHUP and sends each worker ``export_keys()`` over its control
  socket; a restarted worker is forked with the current keys.  With
  ``--redis`` the ring is the Redis one (``ferrotls.shared``) and the same
  holds across machines.
* **One strike register.**  The 0-RTT strike register is a
  :class:`~ferrotls.apps.strikes.LocalStrikeRegister` in shared memory made
  before the fork (or the Redis one).
* **Restarts.**  A worker that dies is forked again after a back-off (0.1 s,
  doubling up to 5 s while it keeps dying young).  When workers die in a loop
  (``CRASH_LIMIT`` exits within ``CRASH_WINDOW`` seconds) the supervisor says
  so, stops the others and exits 1.
* **SIGHUP** reloads: the supervisor checks that the certificates load, rotates
  the ticket keys, and every worker builds a new context for new connections;
  open connections are not touched.  A reload that fails is logged and the
  running configuration is kept.
* **SIGTERM / SIGINT** drain: every worker stops accepting, lets its open
  connections finish for up to ``--drain-timeout`` seconds, then closes the
  rest with close_notify (bounded) and exits; the supervisor exits 0 when all
  workers have.

``--workers 1`` runs one process with no supervisor; SIGHUP and SIGTERM do the
same there.  Workers need ``os.fork`` (Linux, macOS, the BSDs).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import logging
import os
import selectors
import signal
import socket
import struct
import sys
import time
from collections.abc import Awaitable, Callable, Collection, Coroutine
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..context import Context
from ..tickets import TicketKeyManager

__all__ = [
    "CRASH_LIMIT",
    "CRASH_WINDOW",
    "Drainable",
    "Endpoint",
    "SharedState",
    "add_fleet_arguments",
    "listening_socket",
    "run_fleet",
    "worker_index",
]

logger = logging.getLogger("ferrotls.fleet")

CRASH_WINDOW = 10.0
"""Seconds over which worker exits are counted for the crash-loop check."""
CRASH_LIMIT = 5
"""Exits within CRASH_WINDOW (at least; 2 x workers if more) that make the supervisor give up."""
BACKLOG = 1024
CLOSE_BOUND = 2.0
"""Seconds the close_notify exchange of the connections still open after the drain may take."""
ROTATION_INTERVAL = 12 * 3600.0
GC_THRESHOLD = 10_000
"""Allocations between young-generation collections in a worker (CPython's default: 700)."""

_WORKER: list[int] = []
"""In a worker process of a fleet: its index (restarted workers keep theirs)."""


def worker_index() -> int | None:
    """This process's worker index in a ``--workers`` fleet (None: no fleet)."""
    return _WORKER[0] if _WORKER else None


_HEADER = struct.Struct(">cI")
# supervisor -> worker: b"K" new ticket keys, b"R" reload (payload: ticket keys or b"")
# worker -> supervisor: b"U" up (listening), b"r" reload done (payload: b"" or the error)


class Drainable(Protocol):
    """An open connection, as the drain sees it."""

    def close(self) -> None:
        """Close cleanly (close_notify towards a TLS peer)."""

    def abort(self) -> None:
        """Close at once."""


@dataclass
class SharedState:
    """What every worker shares: the ticket key ring and the 0-RTT strike register."""

    ticket_keys: Any
    replay_store: Any
    redis: bool = False
    """True if both live in Redis (then the supervisor does not distribute keys)."""

    def export_keys(self) -> bytes:
        if self.redis or self.ticket_keys is None:
            return b""
        return bytes(self.ticket_keys.export_keys())

    def import_keys(self, data: bytes) -> None:
        if data and not self.redis and self.ticket_keys is not None:
            self.ticket_keys.import_keys(data)

    def rotate(self) -> None:
        """New ticket keys (Redis: a coordinated rotation of the shared ring)."""
        if self.ticket_keys is not None:
            self.ticket_keys.rotate()

    def refresh(self) -> None:
        """Reload the Redis ring now (nothing to do for local keys)."""
        if self.redis and self.ticket_keys is not None:
            self.ticket_keys.refresh()


@dataclass
class Endpoint:
    """What ``server`` or ``gateway`` gives the fleet."""

    name: str
    """"server" or "gateway" (log lines say ``ferrotls NAME``)."""
    host: str
    port: int
    context: Context
    """The context, built (and checked) before the workers start."""
    rebuild: Callable[[], Context]
    """A new context from the configuration files (SIGHUP)."""
    start: Callable[[Callable[[], Context], socket.socket], Awaitable[asyncio.Server]]
    """Start serving on a listening socket; the callable gives the current context."""
    connections: Callable[[], Collection[Drainable]]
    """The open connections of this process."""
    shared: SharedState
    announce: Callable[[str], None] = lambda addr: None
    """Called with "HOST:PORT" once every worker listens (after "listening on" is printed)."""
    extra: dict[str, Any] = field(default_factory=dict)


def add_fleet_arguments(p: argparse.ArgumentParser) -> None:
    """--workers, --accept-mode, --drain-timeout."""
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="worker processes accepting on the same port (default: the number of "
                        "CPUs; 1: a single process without supervisor)")
    p.add_argument("--accept-mode", choices=("reuseport", "shared"), default="reuseport",
                   help="reuseport: each worker has its own SO_REUSEPORT socket (default); "
                        "shared: one listening socket inherited by every worker")
    p.add_argument("--event-loop", choices=("auto", "asyncio", "uvloop"), default="auto",
                   help="the event loop of each worker: uvloop (accepts, connects and reads in C), "
                        "asyncio's own, or auto: uvloop if it is installed (default)")
    p.add_argument("--drain-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="on SIGTERM, how long open connections may go on before they are "
                        "closed with close_notify (default 10)")


def worker_count(args: argparse.Namespace) -> int:
    n = args.workers if args.workers is not None else (os.cpu_count() or 1)
    if n < 1:
        raise ValueError("--workers must be at least 1")
    if n > 1 and not hasattr(os, "fork"):
        return 1
    return int(n)


def run_loop(main: Coroutine[Any, Any, int], args: argparse.Namespace) -> int:
    """Run ``main`` on the event loop ``--event-loop`` asks for."""
    kind = getattr(args, "event_loop", "auto")
    factory: Callable[[], asyncio.AbstractEventLoop] | None = None
    if kind != "asyncio":
        try:
            import uvloop
        except ImportError:
            if kind == "uvloop":
                raise ValueError("--event-loop uvloop: uvloop is not installed "
                                 "(pip install uvloop)") from None
        else:
            factory = uvloop.new_event_loop
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def listening_socket(host: str, port: int, *, reuseport: bool,
                     listen: bool = True) -> socket.socket:
    """A TCP socket bound to (host, port), listening unless ``listen`` is False."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuseport:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        if family == socket.AF_INET6:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(addr)
        if listen:
            sock.listen(BACKLOG)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


def _describe(addr: Any) -> str:
    host = f"[{addr[0]}]" if ":" in str(addr[0]) else str(addr[0])
    return f"{host}:{addr[1]}"


def _send(sock: socket.socket, kind: bytes, payload: bytes = b"") -> None:
    with contextlib.suppress(OSError):
        sock.sendall(_HEADER.pack(kind, len(payload)) + payload)


class _Frames:
    """Splits a control stream into (kind, payload) frames."""

    def __init__(self) -> None:
        self.buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bytes]]:
        self.buf += data
        out: list[tuple[bytes, bytes]] = []
        while len(self.buf) >= _HEADER.size:
            kind, n = _HEADER.unpack_from(self.buf)
            if len(self.buf) < _HEADER.size + n:
                break
            out.append((kind, bytes(self.buf[_HEADER.size:_HEADER.size + n])))
            del self.buf[:_HEADER.size + n]
        return out


# --------------------------------------------------------------------------- one worker


class _Worker:
    """The event-loop side of one worker process (or of the single process)."""

    def __init__(self, endpoint: Endpoint, args: argparse.Namespace, index: int,
                 control: socket.socket | None) -> None:
        self.endpoint = endpoint
        self.args = args
        self.index = index
        self.control = control
        self.context = endpoint.context
        self.stop = asyncio.Event()
        self.frames = _Frames()
        self.log = logging.getLogger(f"ferrotls.{endpoint.name}")

    def current_context(self) -> Context:
        return self.context

    def reload(self, keys: bytes) -> str:
        """New keys, then a new context from the files; '' or the reason it failed."""
        shared = self.endpoint.shared
        try:
            self.context = self.endpoint.rebuild()
            if self.control is not None:
                shared.import_keys(keys)
                shared.refresh()
            else:
                try:
                    shared.rotate()
                except Exception as exc:  # noqa: BLE001 - Redis down: rotates when back
                    self.log.warning("ticket keys not rotated: %s: %s", type(exc).__name__, exc)
        except Exception as exc:  # noqa: BLE001 - a bad reload keeps the running configuration
            return f"{type(exc).__name__}: {exc}"
        return ""

    def on_control(self) -> None:
        assert self.control is not None
        try:
            data = self.control.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:  # the supervisor is gone: drain and leave
            self.stop.set()
            return
        for kind, payload in self.frames.feed(data):
            if kind == b"K":
                self.endpoint.shared.import_keys(payload)
            elif kind == b"R":
                _send(self.control, b"r", self.reload(payload).encode())

    async def run(self, sock: socket.socket) -> int:
        loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        server = await self.endpoint.start(self.current_context, sock)
        if self.control is None:
            addr = _describe(sock.getsockname())
            print(f"listening on {addr}", flush=True)
            self.endpoint.announce(addr)
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.stop.set)
        if self.control is not None:
            self.control.setblocking(False)
            loop.add_reader(self.control.fileno(), self.on_control)
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signal.SIGHUP, lambda: None)  # the supervisor reloads
            _send(self.control, b"U", str(os.getpid()).encode())
        else:
            def hup() -> None:
                error = self.reload(b"")
                if error:
                    self.log.warning("reload failed, keeping the running configuration: %s", error)
                else:
                    self.log.info("reloaded: new certificates and ticket keys for new connections")

            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signal.SIGHUP, hup)
        # Everything made so far lives as long as the process: keep the collector off
        # it, and collect the young generation less often (a handshake allocates a
        # few thousand objects, nearly all freed by reference counting).
        gc.collect()
        gc.freeze()
        gc.set_threshold(GC_THRESHOLD, 10, 10)
        await self.stop.wait()
        print(f"ferrotls {self.endpoint.name}: shutting down"
              + (f" (worker {self.index})" if self.control is not None else ""),
              file=sys.stderr, flush=True)
        if self.control is not None:
            with contextlib.suppress(Exception):
                loop.remove_reader(self.control.fileno())
        await self.drain(server)
        return 0

    async def drain(self, server: asyncio.Server) -> None:
        """Stop accepting; let connections finish (bounded); close the rest with close_notify."""
        server.close()
        conns = self.endpoint.connections
        deadline = time.monotonic() + self.args.drain_timeout
        if conns():
            self.log.info("draining %d open connections (at most %.1f s)", len(conns()),
                          self.args.drain_timeout)
        while conns() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        left = list(conns())
        if left:
            self.log.info("drain timeout: closing %d connections with close_notify", len(left))
            for c in left:
                c.close()
            deadline = time.monotonic() + CLOSE_BOUND
            while conns() and time.monotonic() < deadline:
                await asyncio.sleep(0.02)
            for c in list(conns()):
                c.abort()
            await asyncio.sleep(0)


# --------------------------------------------------------------------------- supervisor


class _WorkerDone(BaseException):
    """Raised in a forked worker when it is done, so that it leaves the supervisor's
    code (which it was forked from) and exits through the normal interpreter exit."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


@dataclass
class _Slot:
    index: int
    pid: int = 0
    control: socket.socket | None = None
    frames: _Frames = field(default_factory=_Frames)
    started: float = 0.0
    up: bool = False
    failures: int = 0
    restart_at: float | None = None


class _Supervisor:
    def __init__(self, endpoint: Endpoint, args: argparse.Namespace, workers: int) -> None:
        self.endpoint = endpoint
        self.args = args
        self.n = workers
        self.reuseport = args.accept_mode == "reuseport"
        self.slots = [_Slot(i) for i in range(workers)]
        self.deaths: collections.deque[float] = collections.deque()
        self.sel = selectors.DefaultSelector()
        self.signals: list[int] = []
        self.give_up = False
        self.drain_deadline = 0.0
        self.sock_addr: Any = None
        self.sock: socket.socket | None = None
        self.announced = False
        self.draining = False
        self.reload_pending = 0
        self.reload_errors: list[str] = []
        self.next_rotation = time.monotonic() + ROTATION_INTERVAL
        self.tag = f"ferrotls {endpoint.name}"

    def say(self, text: str) -> None:
        print(f"{self.tag}: {text}", file=sys.stderr, flush=True)

    # -- workers --------------------------------------------------------------------

    def spawn(self, slot: _Slot) -> None:
        assert self.sock is not None
        parent, child = socket.socketpair()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 1
            try:
                parent.close()
                _WORKER[:] = [slot.index]
                for other in self.slots:
                    if other.control is not None:
                        other.control.close()
                self.sel.close()
                signal.set_wakeup_fd(-1)
                for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
                    signal.signal(sig, signal.SIG_DFL)
                if self.reuseport:
                    self.sock.close()
                    host, port = self.sock_addr[:2]
                    sock = listening_socket(host, port, reuseport=True)
                else:
                    sock = self.sock
                worker = _Worker(self.endpoint, self.args, slot.index, child)
                code = run_loop(worker.run(sock), self.args)
            except KeyboardInterrupt:
                code = 0
            except Exception as exc:  # noqa: BLE001 - report and leave
                print(f"{self.tag}: worker {slot.index} failed: {type(exc).__name__}: {exc}",
                      file=sys.stderr, flush=True)
            sys.stdout.flush()
            sys.stderr.flush()
            raise _WorkerDone(code)  # out of the supervisor's stack, to run_fleet's caller
        child.close()
        parent.setblocking(False)
        slot.pid, slot.control, slot.frames = pid, parent, _Frames()
        slot.started, slot.up, slot.restart_at = time.monotonic(), False, None
        self.sel.register(parent, selectors.EVENT_READ, slot)
        self.say(f"worker {slot.index} started (pid {pid})")

    def on_message(self, slot: _Slot) -> None:
        assert slot.control is not None
        try:
            data = slot.control.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.sel.unregister(slot.control)
            slot.control.close()
            slot.control = None
            return
        for kind, payload in slot.frames.feed(data):
            if kind == b"U":
                slot.up = True
                if not self.announced and all(s.up for s in self.slots):
                    self.announced = True
                    addr = _describe(self.sock_addr)
                    print(f"listening on {addr}", flush=True)
                    self.say(f"{self.n} workers on {addr} ({self.args.accept_mode})")
                    self.endpoint.announce(addr)
            elif kind == b"r":
                self.reload_pending -= 1
                if payload:
                    error = payload.decode(errors="replace")
                    self.reload_errors.append(f"worker {slot.index}: {error}")
                if self.reload_pending == 0:
                    if self.reload_errors:
                        self.say("reload failed in " + "; ".join(self.reload_errors))
                    else:
                        self.say(f"reloaded: {self.n} workers have new certificates and ticket "
                                 "keys; open connections are unchanged")

    def reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = next((s for s in self.slots if s.pid == pid), None)
            if slot is None:
                continue
            slot.pid = 0
            if slot.control is not None:
                self.sel.unregister(slot.control)
                slot.control.close()
                slot.control = None
            if self.draining:
                continue
            now = time.monotonic()
            lived = now - slot.started
            what = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                    else f"exit status {os.waitstatus_to_exitcode(status)}")
            self.deaths.append(now)
            while self.deaths and now - self.deaths[0] > CRASH_WINDOW:
                self.deaths.popleft()
            limit = max(CRASH_LIMIT, 2 * self.n)
            if len(self.deaths) >= limit:
                self.say(f"ERROR: workers are dying in a loop ({len(self.deaths)} exits in "
                         f"{CRASH_WINDOW:.0f} s, the last one {what}); giving up")
                self.give_up = True
                return
            slot.failures = slot.failures + 1 if lived < 10.0 else 1
            delay = min(0.1 * 2 ** (slot.failures - 1), 5.0)
            slot.restart_at = now + delay
            self.say(f"worker {slot.index} (pid {pid}) died ({what}) after {lived:.1f} s; "
                     f"restarting in {delay:.1f} s")

    # -- signals --------------------------------------------------------------------

    def reload(self) -> None:
        try:
            self.endpoint.context = self.endpoint.rebuild()  # restarted workers get it too
        except Exception as exc:  # noqa: BLE001
            self.say("reload failed, keeping the running configuration: "
                     f"{type(exc).__name__}: {exc}")
            return
        try:
            self.endpoint.shared.rotate()
        except Exception as exc:  # noqa: BLE001 - Redis down: the ring rotates when it is back
            self.say(f"ticket keys not rotated: {type(exc).__name__}: {exc}")
        keys = self.endpoint.shared.export_keys()
        self.reload_errors = []
        self.reload_pending = 0
        for slot in self.slots:
            if slot.control is not None:
                self.reload_pending += 1
                _send(slot.control, b"R", keys)
        self.say(f"reloading {self.reload_pending} workers")

    def rotate(self) -> None:
        if self.endpoint.shared.redis:
            return  # the Redis ring rotates itself, coordinated across instances
        self.endpoint.shared.rotate()
        keys = self.endpoint.shared.export_keys()
        for slot in self.slots:
            if slot.control is not None:
                _send(slot.control, b"K", keys)

    def terminate(self) -> None:
        self.draining = True
        self.say("draining: workers stop accepting")
        for slot in self.slots:
            if slot.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(slot.pid, signal.SIGTERM)
        self.drain_deadline = time.monotonic() + self.args.drain_timeout + CLOSE_BOUND + 3.0

    # -- the loop -------------------------------------------------------------------

    def run(self) -> int:
        host, port = self.endpoint.host, self.endpoint.port
        self.sock = listening_socket(host, port, reuseport=self.reuseport,
                                     listen=not self.reuseport)
        self.sock_addr = self.sock.getsockname()
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        signal.set_wakeup_fd(wake_w.fileno())
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, lambda signum, frame: self.signals.append(signum))
        self.sel.register(wake_r, selectors.EVENT_READ, None)
        for slot in self.slots:
            self.spawn(slot)
        while True:
            timeouts = [s.restart_at for s in self.slots if s.restart_at is not None]
            timeouts.append(self.next_rotation)
            if self.draining:
                timeouts.append(self.drain_deadline)
            wait = max(0.0, min(timeouts) - time.monotonic())
            for key, _ in self.sel.select(min(wait, 1.0)):
                if key.data is None:
                    with contextlib.suppress(OSError):
                        wake_r.recv(4096)
                else:
                    self.on_message(key.data)
            signals, self.signals = self.signals, []
            for signum in signals:
                if signum == signal.SIGCHLD:
                    continue
                if signum == signal.SIGHUP and not self.draining:
                    self.reload()
                elif signum in (signal.SIGTERM, signal.SIGINT) and not self.draining:
                    self.terminate()
            self.reap()
            now = time.monotonic()
            if self.give_up:
                self.draining = True
                for slot in self.slots:
                    if slot.pid:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(slot.pid, signal.SIGKILL)
                self._wait_all(5.0)
                return 1
            if self.draining:
                if not any(s.pid for s in self.slots):
                    self.say("all workers finished; exiting")
                    return 0
                if now >= self.drain_deadline:
                    for slot in self.slots:
                        if slot.pid:
                            self.say(f"worker {slot.index} did not finish; killing it")
                            with contextlib.suppress(ProcessLookupError):
                                os.kill(slot.pid, signal.SIGKILL)
                    self._wait_all(5.0)
                    return 0
                continue
            for slot in self.slots:
                if slot.restart_at is not None and now >= slot.restart_at and not slot.pid:
                    self.spawn(slot)
            if now >= self.next_rotation:
                self.next_rotation = now + ROTATION_INTERVAL
                self.rotate()

    def _wait_all(self, bound: float) -> None:
        deadline = time.monotonic() + bound
        while any(s.pid for s in self.slots) and time.monotonic() < deadline:
            for slot in self.slots:
                if slot.pid:
                    with contextlib.suppress(ChildProcessError):
                        pid, _ = os.waitpid(slot.pid, os.WNOHANG)
                        if pid:
                            slot.pid = 0
            time.sleep(0.02)


def run_fleet(endpoint: Endpoint, args: argparse.Namespace) -> int:
    """Run ``endpoint`` in ``--workers`` processes (or in this one); the exit status."""
    workers = worker_count(args)
    if workers == 1:
        sock = listening_socket(endpoint.host, endpoint.port, reuseport=False)
        worker = _Worker(endpoint, args, 0, None)
        return run_loop(worker.run(sock), args)
    try:
        return _Supervisor(endpoint, args, workers).run()
    except _WorkerDone as done:  # in a worker process: its exit status
        return done.code


def local_shared_state(workers: int) -> SharedState:
    """Ticket keys and a strike register for the workers of this machine (no Redis).

    With several workers the supervisor rotates the keys (every ROTATION_INTERVAL
    and on SIGHUP) and hands them out; a single process rotates by itself."""
    from ..replay import InMemoryReplayStore
    from .strikes import LocalStrikeRegister

    if workers == 1:
        keys = TicketKeyManager(rotation_interval=ROTATION_INTERVAL)
        return SharedState(keys, InMemoryReplayStore())
    keys = TicketKeyManager(rotation_interval=None)
    keys.rotate()
    return SharedState(keys, LocalStrikeRegister())
