"""A 0-RTT strike register shared by the worker processes of one machine.

:class:`LocalStrikeRegister` is the ``ReplayStore`` that ``ferrotls server`` and
``ferrotls gateway`` give their workers when no ``--redis`` is configured.  It
is built by the supervisor before it forks, so every worker (and every worker
restarted later) sees the same table:

* the table is an anonymous ``MAP_SHARED`` mapping of fixed size (``slots``
  entries of 24 bytes: a 16-byte BLAKE2b digest of the key and the expiry time
  as a double), inherited through ``fork``;
* a check is one ``fcntl`` record lock on an unlinked temporary file, a scan of
  the key's window of ``WINDOW`` slots and at most one write.  The kernel drops
  the lock of a process that dies, so a worker killed while holding it cannot
  wedge the others (a POSIX semaphore would stay taken);
* it fails closed: when the key's window holds no free or expired slot, or the
  lock cannot be had, the attempt is refused (the client's early data is then
  resent as ordinary data after the handshake).

Why not a round trip to the supervisor, or Redis on one machine: the check runs
inside the handshake, in the worker's event loop.  A lookup here costs two
system calls and a few microseconds, with no other process needing to be
scheduled; the supervisor stays out of the data path and a busy supervisor
cannot stall handshakes.  Entries live at most ``max_ttl`` seconds: a replay
older than twice the server's ``ticket_age_tolerance`` fails the ticket-age
check anyway, so the default (20 s, twice the default tolerance) is safe and
keeps the table small (65,536 slots, 1.5 MiB, hold 3,000 0-RTT attempts per
second).  Only on Linux and other POSIX systems (``fork``, ``fcntl``).
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
import threading

__all__ = ["LocalStrikeRegister", "WINDOW"]

_SLOT = struct.Struct("<16sd")
WINDOW = 16
"""Slots probed per key (from the slot its digest points at, wrapping)."""


class LocalStrikeRegister:
    """A fixed-size strike register in shared memory (a ``ferrotls.replay.ReplayStore``).

    Build it before forking: every process that inherits it shares the table.
    ``check_and_add(key, expires_at, now)`` returns True exactly once per key
    (until the entry expires) across all those processes.
    """

    def __init__(self, slots: int = 65536, max_ttl: float | None = 20.0) -> None:
        if slots < WINDOW:
            raise ValueError(f"slots must be at least {WINDOW}")
        self.slots = slots
        self.max_ttl = max_ttl
        self._map = mmap.mmap(-1, slots * _SLOT.size, flags=mmap.MAP_SHARED)
        fd, path = tempfile.mkstemp(prefix="ferrotls-strikes-")
        os.unlink(path)  # the lock needs an open file, not a name
        self._lock_fd = fd
        self._thread_lock = threading.Lock()  # fcntl locks are per process, not per thread

    def __repr__(self) -> str:
        return f"LocalStrikeRegister(slots={self.slots}, max_ttl={self.max_ttl})"

    def __len__(self) -> int:
        """Live entries (a full scan: for tests and statistics)."""
        import time

        now = time.time()
        return sum(
            1 for i in range(self.slots)
            if _SLOT.unpack_from(self._map, i * _SLOT.size)[1] > now
        )

    def check_and_add(self, key: bytes, expires_at: float, now: float) -> bool:
        """True if ``key`` is new (and now recorded), False if seen or if it cannot be recorded."""
        if self.max_ttl is not None:
            expires_at = min(expires_at, now + self.max_ttl)
        if expires_at <= now:
            return False
        digest = hashlib.blake2b(key, digest_size=16).digest()
        start = int.from_bytes(digest[:8], "little") % self.slots
        table, size, slots = self._map, _SLOT.size, self.slots
        with self._thread_lock:
            try:
                fcntl.lockf(self._lock_fd, fcntl.LOCK_EX)
            except OSError:
                return False  # fail closed
            try:
                free = -1
                for i in range(WINDOW):
                    offset = ((start + i) % slots) * size
                    stored, expiry = _SLOT.unpack_from(table, offset)
                    if expiry > now:
                        if stored == digest:
                            return False
                    elif free < 0:
                        free = offset
                if free < 0:
                    return False  # window full of live entries: refuse rather than forget
                _SLOT.pack_into(table, free, digest, expires_at)
                return True
            finally:
                fcntl.lockf(self._lock_fd, fcntl.LOCK_UN)
