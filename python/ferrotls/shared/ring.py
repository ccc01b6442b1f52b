"""A ticket key ring shared by a fleet of servers through Redis.

Layout in Redis: one hash, ``{prefix}ticket-keys``; each field is a ticket key
id (4 bytes) and its value the key sealed under the key-encryption key
(:mod:`ferrotls.shared.kek`).  A key's *activation* time orders the ring: the
newest activated key is current and seals new tickets; each key retires when
its successor activates, and keeps opening tickets for ``grace_period``
seconds after that.

Every instance holds the whole ring in memory and refreshes it every
``refresh_interval`` seconds, in a background thread (or, with
``background=False``, inside ``seal``/``open`` at most once per interval).
Handshakes never wait for Redis otherwise.  The refresh is one transaction
(``WATCH`` / ``HGETALL`` / ``MULTI`` ... ``EXEC``): an instance that finds the
current key older than ``rotation_interval`` adds a new one and deletes keys
past their grace period; when two instances try at once one wins and the other
loads the winner's key.  A new key activates ``activation_delay`` seconds
after it is written (default: twice the refresh interval), so that every
instance has loaded it before any ticket is sealed under it.

When Redis is down the ring serves from memory: tickets keep being sealed under
the last current key (past its rotation time if need be, so that tickets still
resume on every instance) and opened under every key held.  An instance that
starts while Redis is down seals under a key of its own, which it publishes if
it finds the ring empty; and an instance that finds the ring empty (Redis
restarted without persistence) writes back the keys it holds, so tickets
issued before the restart keep resuming across the fleet.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, cast

from ..backend.interface import Backend
from ..messages.codec import Reader, Writer
from ..tickets import KEY_ID_LEN, NONCE_LEN, open_ticket, seal_ticket, ticket_key_id
from .connection import DEFAULT_TIMEOUT, LOGGER_NAME, RedisConnection
from .errors import KeyEncryptionKeyError, SharedStateError, SharedStateUnavailable
from .kek import TICKET_KEY_LEN, KekSet, OpenedKey, RecordError, parse_kek

if TYPE_CHECKING:
    import redis
    from redis.client import Pipeline

__all__ = ["RedisTicketKeyRing"]

log = logging.getLogger(LOGGER_NAME)

_WATCH_ATTEMPTS = 5
_fork_generation = 0


def _after_fork() -> None:
    global _fork_generation
    _fork_generation += 1


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def _mapping(d: dict[bytes, bytes]) -> Mapping[Any, Any]:
    return cast("Mapping[Any, Any]", d)  # redis-py's Mapping key type is invariant


@dataclass(frozen=True, slots=True)
class _RingKey:
    key_id: bytes
    key: bytes = field(repr=False)
    activation: float
    retired: float | None
    """When the next key activated (or activates: it may be in the future); None
    for the newest key."""
    shared: bool
    """Read from Redis (or written there); False: made by this instance while
    Redis could not be reached."""


@dataclass(frozen=True, slots=True)
class _Plan:
    """What one refresh transaction writes."""

    writes: dict[bytes, bytes]
    deletes: list[bytes]
    new_key: _RingKey | None
    republished: int


class RedisTicketKeyRing:
    """Ticket keys shared through Redis, sealed under a key-encryption key.

    Satisfies :class:`ferrotls.tickets.TicketKeys`: give it to
    ``ServerConfig(ticket_keys=...)``.  Every instance of a fleet uses the same
    Redis, ``prefix``, KEK and intervals.

    ``redis``: a URL (``redis://host:6379/0``) or a :class:`RedisConnection`
    shared with a :class:`RedisReplayStore`.  ``kek``: the key-encryption key
    (32 bytes, 64 hex digits or base64), or several (KEK rotation): the first
    seals, all open.  ``timeout`` and ``name`` apply when ``redis`` is a URL.

    The constructor loads the ring once (creating its first key if Redis holds
    none); if Redis is unreachable it logs that and goes on from memory.  It
    raises :class:`KeyEncryptionKeyError` if the ring in Redis is sealed under
    none of the configured KEKs.
    """

    def __init__(
        self,
        redis: str | RedisConnection,
        kek: bytes | str | Sequence[bytes | str],
        *,
        prefix: str = "ferrotls:",
        rotation_interval: float | None = 12 * 3600,
        grace_period: float = 7200,
        refresh_interval: float = 5.0,
        activation_delay: float | None = None,
        background: bool = True,
        timeout: float = DEFAULT_TIMEOUT,
        name: str | None = None,
        backend: Backend | None = None,
        rng: Callable[[int], bytes] = os.urandom,
        clock: Callable[[], float] | None = None,
    ) -> None:
        if isinstance(kek, (bytes, str)):
            keks = [parse_kek(kek)]
        else:
            keks = [parse_kek(k) for k in kek]
        self._keks = KekSet(keks)
        if rotation_interval is not None and rotation_interval <= 0:
            raise ValueError("rotation_interval must be positive (or None)")
        if grace_period < 0 or refresh_interval <= 0:
            raise ValueError("grace_period must not be negative, refresh_interval must be positive")
        delay = 2 * refresh_interval if activation_delay is None else activation_delay
        if delay < 0 or rotation_interval is not None and delay >= rotation_interval:
            raise ValueError("activation_delay must be between 0 and rotation_interval")
        self.conn = redis if isinstance(redis, RedisConnection) else RedisConnection(
            redis, timeout=timeout, name=name
        )
        self.prefix = prefix
        self.ring_key = f"{prefix}ticket-keys".encode()
        self.rotation_interval = rotation_interval
        self.grace_period = grace_period
        self.refresh_interval = refresh_interval
        self.activation_delay = delay
        self.background = background
        self.rng = rng
        self.clock = clock
        self._backend = backend
        self._keys: tuple[_RingKey, ...] = ()  # ascending activation; replaced whole
        self._lock = threading.Lock()
        self._reported: set[str] = set()
        self._kek_mismatch = False
        self._next_refresh = 0.0  # monotonic
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._generation = _fork_generation
        try:
            self._sync(self._now(None), strict=True, force=True)
        except SharedStateUnavailable:
            pass  # logged by the connection; the first seal makes a local key
        self._next_refresh = time.monotonic() + refresh_interval

    def __repr__(self) -> str:
        return (
            f"RedisTicketKeyRing({self.conn.url}, {self.ring_key.decode(errors='replace')},"
            f" <{len(self._keys)} keys>, kek {self._keks.sealing_id.hex()})"
        )

    # -- time, backend, thread -------------------------------------------------------

    def _now(self, now: float | None) -> float:
        if now is not None:
            return now
        return (self.clock or time.time)()

    @property
    def backend(self) -> Backend:
        """The backend that seals ticket keys under the KEK (default: the process's)."""
        if self._backend is None:
            from ..backend import get_backend

            self._backend = get_backend()
        return self._backend

    def _tick(self) -> None:
        """Start the refresher (again, in a forked child), or refresh lazily."""
        if self._generation != _fork_generation:
            self._generation = _fork_generation
            self._lock = threading.Lock()
            self._thread = None
            self._stop = threading.Event()
        if self.background:
            if self._thread is None:
                with self._lock:
                    if self._thread is None:
                        thread = threading.Thread(
                            target=self._run, args=(self._stop,), name="ferrotls-ticket-keys",
                            daemon=True,
                        )
                        self._thread = thread
                        thread.start()
        elif time.monotonic() >= self._next_refresh:
            self._next_refresh = time.monotonic() + self.refresh_interval
            self._refresh_quietly()

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(self.refresh_interval):
            self._refresh_quietly()

    def _refresh_quietly(self) -> None:
        try:
            self.refresh()
        except Exception:  # a bug must neither kill the refresher nor fail a handshake
            self._report_once("refresher", logging.ERROR, "%s: ticket key refresh failed",
                              self.conn.label, exc=True)

    def close(self) -> None:
        """Stop the background refresher (the connection stays open: it may be shared)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=1)

    def __enter__(self) -> RedisTicketKeyRing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the handshake's side: memory only ---------------------------------------------

    def _current(self, t: float) -> _RingKey | None:
        keys = self._keys
        shared = [k for k in keys if k.shared]
        if shared:
            active = [k for k in shared if k.activation <= t]
            return active[-1] if active else shared[0]
        local = [k for k in keys if k.retired is None]
        return local[-1] if local else None

    def seal(
        self, backend: Backend, plaintext: bytes, now: float | None = None,
        rng: Callable[[int], bytes] | None = None,
    ) -> bytes:
        """A ticket sealed under the current key (never touches Redis)."""
        self._tick()
        t = self._now(now)
        current = self._current(t)
        if current is None:
            current = self._local_key(t)
        nonce = (rng or self.rng)(NONCE_LEN)
        return seal_ticket(backend, current.key_id, current.key, nonce, plaintext)

    def open(self, backend: Backend, ticket: bytes, now: float | None = None) -> bytes | None:
        """The plaintext, or None (unknown key, past its grace period, forged)."""
        self._tick()
        key_id = ticket_key_id(ticket)
        if key_id is None:
            return None
        t = self._now(now)
        for k in self._keys:
            if k.key_id == key_id:
                if k.retired is not None and t - k.retired > self.grace_period:
                    return None
                return open_ticket(backend, k.key, ticket)
        return None

    def _local_key(self, t: float) -> _RingKey:
        with self._lock:
            current = self._current(t)
            if current is not None:
                return current
            key = _RingKey(self._new_id(), self.rng(TICKET_KEY_LEN), t, None, shared=False)
            self._keys = (*self._keys, key)
        self._report_once(
            "local-key", logging.WARNING,
            "%s: no ticket key from Redis yet; sealing tickets under a key of this instance"
            " (they resume here only, until Redis is reachable)", self.conn.label,
        )
        return key

    def _new_id(self, taken: Sequence[bytes] = ()) -> bytes:
        used = {k.key_id for k in self._keys} | set(taken)
        key_id = self.rng(KEY_ID_LEN)
        while key_id in used:
            key_id = self.rng(KEY_ID_LEN)
        return key_id

    @property
    def key_ids(self) -> list[bytes]:
        """Ids of the keys held in memory, current first, then newest first."""
        current = self._current(self._now(None))
        rest = [k.key_id for k in reversed(self._keys) if current is None or k is not current]
        return ([current.key_id] if current is not None else []) + rest

    @property
    def kek_id(self) -> bytes:
        """The public id of the KEK that seals (see :func:`ferrotls.shared.kek.kek_id`)."""
        return self._keks.sealing_id

    @property
    def healthy(self) -> bool:
        """Redis answered the last call and the ring opened under our KEKs."""
        return self.conn.available and not self._kek_mismatch

    # -- Redis --------------------------------------------------------------------------

    def refresh(self, now: float | None = None) -> bool:
        """Load the ring from Redis now (rotating or pruning it if due).  True if
        Redis answered and the ring opened; False if Redis is unavailable or the
        ring is sealed under another KEK (both logged once, not raised)."""
        try:
            self._sync(self._now(now), strict=False, force=False)
        except SharedStateUnavailable:
            return False
        return not self._kek_mismatch

    def rotate(self, now: float | None = None, rng: Callable[[int], bytes] | None = None) -> bytes:
        """Write a new key to Redis; it becomes current ``activation_delay``
        seconds from ``now``, and the present one keeps opening tickets for
        ``grace_period`` after that.  Returns the new key id.

        Raises :class:`SharedStateUnavailable` when Redis does not answer and
        :class:`KeyEncryptionKeyError` when the ring is sealed under another KEK."""
        new = self._sync(self._now(now), strict=True, force=True, rotate=True, rng=rng)
        if new is None:
            raise SharedStateError(
                f"{self.conn.label}: the ticket key ring kept changing during rotation; try again"
            )
        return new

    def rewrap(self) -> int:
        """Seal every key of the ring under the first KEK (after a KEK rotation:
        once every instance lists the new KEK).  Returns the number of keys
        rewritten."""
        backend, keks = self.backend, self._keks

        def txn(r: redis.Redis) -> int:
            for _ in range(_WATCH_ATTEMPTS):
                with r.pipeline() as pipe:
                    try:
                        pipe.watch(self.ring_key)  # type: ignore[no-untyped-call]
                        opened, _unknown, _bad = self._open_all(pipe.hgetall(self.ring_key))
                        old = [k for k in opened if k.kek_id != keks.sealing_id]
                        if not old:
                            pipe.unwatch()
                            return 0
                        pipe.multi()
                        pipe.hset(self.ring_key, mapping=_mapping({
                            k.key_id: keks.seal(backend, k.key_id, k.key, k.activation, self.rng)
                            for k in old
                        }))
                        pipe.execute()
                        return len(old)
                    except self.conn.watch_error:
                        continue
            return 0

        return self.conn.call(txn, force=True)

    def export_keys(self) -> bytes:
        """The keys held in memory (secret!) in ``TicketKeyManager.import_keys`` format."""
        w = Writer()
        w.u8(1)
        with w.vec16():
            for k in reversed(self._keys):
                w.write(k.key_id)
                w.write(k.key)
                w.uint(8, int(k.activation * 1000))
                w.uint(8, 0 if k.retired is None else int(k.retired * 1000) + 1)
        return w.getvalue()

    def import_keys(self, data: bytes) -> None:
        """Add keys exported by a ``TicketKeyManager`` (or a ring) to the shared
        ring, their creation times as activation times, so that a fleet moving to
        Redis keeps resuming the tickets it issued before.  Raises
        :class:`SharedStateUnavailable` when Redis does not answer."""
        r = Reader(data)
        if r.u8() != 1:
            raise ValueError("unknown ticket key export format")
        imported: list[OpenedKey] = []
        lst = r.vec16()
        while not lst.at_end():
            key_id, key = lst.bytes(KEY_ID_LEN), lst.bytes(TICKET_KEY_LEN)
            created = lst.uint(8) / 1000
            lst.uint(8)
            imported.append(OpenedKey(key_id, key, created, self._keks.sealing_id))
        r.expect_end("ticket keys")
        backend, keks = self.backend, self._keks

        def write(c: redis.Redis) -> None:
            with c.pipeline() as pipe:
                for k in imported:
                    pipe.hsetnx(self.ring_key, k.key_id,
                                keks.seal(backend, k.key_id, k.key, k.activation, self.rng))
                pipe.execute()

        self.conn.call(write, force=True)
        self._sync(self._now(None), strict=True, force=True)

    # -- the transaction ------------------------------------------------------------------

    def _open_all(
        self, raw: Mapping[bytes | str, bytes | str]
    ) -> tuple[list[OpenedKey], set[bytes], list[bytes]]:
        """(keys that open, ids of unknown KEKs, fields that do not authenticate)."""
        opened: list[OpenedKey] = []
        unknown: set[bytes] = set()
        bad: list[bytes] = []
        backend = self.backend
        for key_id, record in raw.items():
            if not isinstance(key_id, bytes) or not isinstance(record, bytes):
                bad.append(key_id.encode() if isinstance(key_id, str) else key_id)
                continue  # only a client decoding responses gives str
            if len(key_id) != KEY_ID_LEN:
                bad.append(key_id)
                continue
            try:
                opened.append(self._keks.open(backend, key_id, record))
            except RecordError as exc:
                if exc.kek_id is not None:
                    unknown.add(exc.kek_id)
                else:
                    bad.append(key_id)
        opened.sort(key=lambda k: (k.activation, k.key_id))
        return opened, unknown, bad

    def _retired(self, opened: Sequence[OpenedKey]) -> list[float | None]:
        return [opened[i + 1].activation for i in range(len(opened) - 1)] + [None]

    def _plan(
        self, opened: list[OpenedKey], t: float, rotate: bool, rng: Callable[[int], bytes],
    ) -> _Plan:
        backend, keks = self.backend, self._keks
        writes: dict[bytes, bytes] = {}
        new_key: _RingKey | None = None
        republished = 0
        ring: Sequence[OpenedKey | _RingKey] = opened
        if not opened:
            # an empty ring (first start, or Redis lost it): publish what we hold
            held = [k for k in self._keys if not self._expired(k, t)]
            for k in held:
                writes[k.key_id] = keks.seal(backend, k.key_id, k.key, k.activation, self.rng)
            republished = len(held)
            ring = sorted(held, key=lambda k: (k.activation, k.key_id))
        if not ring:
            new_key = _RingKey(self._new_id(), rng(TICKET_KEY_LEN), t, None, True)
        else:
            newest = ring[-1].activation
            due = (
                self.rotation_interval is not None
                and newest + self.rotation_interval - self.activation_delay <= t
            )
            if rotate or due:
                taken = [k.key_id for k in ring]
                new_key = _RingKey(
                    self._new_id(taken), rng(TICKET_KEY_LEN),
                    max(t + self.activation_delay, newest + 0.001), None, True,
                )
        if new_key is not None:
            writes[new_key.key_id] = keks.seal(
                backend, new_key.key_id, new_key.key, new_key.activation, self.rng
            )
        deletes = [
            k.key_id for k, retired in zip(opened, self._retired(opened))
            if retired is not None and t - retired > self.grace_period
        ]
        return _Plan(writes, deletes, new_key, republished)

    def _expired(self, k: _RingKey, t: float) -> bool:
        return k.retired is not None and t - k.retired > self.grace_period

    def _sync(
        self, t: float, *, strict: bool, force: bool, rotate: bool = False,
        rng: Callable[[int], bytes] | None = None,
    ) -> bytes | None:
        """One refresh transaction; returns the new key's id if one was made."""
        rand = rng or self.rng

        def txn(r: redis.Redis) -> tuple[list[OpenedKey], set[bytes], list[bytes], _Plan | None]:
            for _ in range(_WATCH_ATTEMPTS):
                with r.pipeline() as pipe:
                    try:
                        return self._transaction(pipe, t, rotate, rand)
                    except self.conn.watch_error:
                        continue  # another instance wrote the ring meanwhile: read again
            opened, unknown, bad = self._open_all(r.hgetall(self.ring_key))
            return opened, unknown, bad, None

        opened, unknown, bad, plan = self.conn.call(txn, force=force)
        if bad:
            self._report_once(
                "bad:" + ",".join(sorted(b.hex() for b in bad)), logging.ERROR,
                "%s: %d ticket key record(s) in %r do not authenticate under their"
                " key-encryption key (tampered or corrupted); ignored",
                self.conn.label, len(bad), self.ring_key.decode(errors="replace"),
            )
        if (unknown or bad) and not opened:
            self._kek_mismatch = True
            name = self.ring_key.decode(errors="replace")
            ring = f"the ticket key ring {name!r} in {self.conn.label}"
            ours = ", ".join(i.hex() for i in self._keks.ids)
            if unknown:
                message = (
                    f"{ring} is sealed under key-encryption key"
                    f" {', '.join(sorted(u.hex() for u in unknown))}, but this instance holds"
                    f" {ours}: give every instance of the fleet the same KEK (while rotating"
                    " KEKs, list the old one after the new)"
                )
            else:
                message = (
                    f"no ticket key of {ring} authenticates under key-encryption key {ours}:"
                    " the ring was tampered with or corrupted; delete it to start a new one"
                )
            if strict:
                raise KeyEncryptionKeyError(message)
            self._report_once("kek:" + message, logging.ERROR, "%s", message)
            return None
        self._kek_mismatch = False
        if unknown:
            self._report_once(
                "unknown:" + ",".join(sorted(u.hex() for u in unknown)), logging.WARNING,
                "%s: some ticket keys are sealed under key-encryption key %s, which this"
                " instance does not hold; it cannot open tickets sealed under them",
                self.conn.label, ", ".join(sorted(u.hex() for u in unknown)),
            )
        if plan is not None and plan.republished:
            log.info("%s: the ticket key ring was empty; wrote back the %d keys held in memory",
                     self.conn.label, plan.republished)
        if plan is not None and plan.new_key is not None:
            log.info("%s: new ticket key %s, current from %.3f", self.conn.label,
                     plan.new_key.key_id.hex(), plan.new_key.activation)
        self._install(opened, t)
        return plan.new_key.key_id if plan is not None and plan.new_key is not None else None

    def _transaction(
        self, pipe: Pipeline, t: float, rotate: bool, rng: Callable[[int], bytes],
    ) -> tuple[list[OpenedKey], set[bytes], list[bytes], _Plan | None]:
        pipe.watch(self.ring_key)  # type: ignore[no-untyped-call]
        opened, unknown, bad = self._open_all(pipe.hgetall(self.ring_key))
        if (unknown or bad) and not opened:
            pipe.unwatch()
            return opened, unknown, bad, None  # never write over a ring we cannot read
        plan = self._plan(opened, t, rotate, rng)
        if not plan.writes and not plan.deletes:
            pipe.unwatch()
            return opened, unknown, bad, plan
        pipe.multi()
        if plan.writes:
            pipe.hset(self.ring_key, mapping=_mapping(plan.writes))
        if plan.deletes:
            pipe.hdel(self.ring_key, *plan.deletes)
        pipe.execute()
        gone = set(plan.deletes)
        by_id = {k.key_id: k for k in opened if k.key_id not in gone}
        for key_id, record in plan.writes.items():
            by_id[key_id] = self._keks.open(self.backend, key_id, record)
        result = sorted(by_id.values(), key=lambda k: (k.activation, k.key_id))
        return result, unknown, bad, plan

    def _install(self, opened: list[OpenedKey], t: float) -> None:
        """Make the ring read from Redis the memory ring.  Keys held before that
        Redis no longer lists (made here during an outage, or pruned by another
        instance) retire now if they had not, and stay until their grace period
        ends, so the tickets sealed under them still open here."""
        if not opened:
            return
        with self._lock:
            fresh = [
                _RingKey(k.key_id, k.key, k.activation, retired, True)
                for k, retired in zip(opened, self._retired(opened))
            ]
            ids = {k.key_id for k in fresh}
            kept = [
                replace(k, retired=t if k.retired is None else k.retired, shared=False)
                for k in self._keys if k.key_id not in ids
            ]
            keys = [k for k in (*kept, *fresh) if not self._expired(k, t)]
            self._keys = tuple(sorted(keys, key=lambda k: (k.activation, k.key_id)))

    def _report_once(
        self, what: str, level: int, message: str, *args: object, exc: bool = False
    ) -> None:
        if what in self._reported:
            return
        self._reported.add(what)
        log.log(level, message, *args, exc_info=exc)
