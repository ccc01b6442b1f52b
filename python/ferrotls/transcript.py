"""The running handshake transcript hash (RFC 8446 section 4.4.1).

Until the cipher suite (and so the hash) is known, the messages are buffered.
After a HelloRetryRequest the first ClientHello is replaced by the synthetic
``message_hash`` message.
"""

from __future__ import annotations

import hashlib
from typing import Any

__all__ = ["Transcript", "MESSAGE_HASH"]

MESSAGE_HASH = 254


class Transcript:
    """Transcript-Hash over complete handshake messages (4-byte header included)."""

    __slots__ = ("_buffer", "_hash", "hash_name")

    def __init__(self) -> None:
        self._buffer: list[bytes] = []
        self._hash: Any = None
        self.hash_name: str | None = None

    def start_hash(self, hash_name: str) -> None:
        """Fix the hash once the suite is chosen; hashes what was buffered."""
        if self._hash is not None:
            if hash_name != self.hash_name:
                raise ValueError("transcript hash already fixed to a different hash")
            return
        self.hash_name = hash_name
        h = hashlib.new(hash_name)
        for message in self._buffer:
            h.update(message)
        self._buffer.clear()
        self._hash = h

    def add(self, message: bytes) -> None:
        """Append one encoded handshake message."""
        if self._hash is None:
            self._buffer.append(bytes(message))
        else:
            self._hash.update(message)

    def digest(self) -> bytes:
        """Transcript-Hash of everything added so far."""
        if self._hash is None:
            raise ValueError("transcript hash not started")
        return bytes(self._hash.copy().digest())

    def digest_with(self, extra: bytes) -> bytes:
        """Transcript-Hash as if ``extra`` had been added (e.g. a truncated ClientHello)."""
        if self._hash is None:
            raise ValueError("transcript hash not started")
        h = self._hash.copy()
        h.update(extra)
        return bytes(h.digest())

    def replace_with_message_hash(self) -> None:
        """After HelloRetryRequest: ClientHello1 -> message_hash(Hash(ClientHello1))."""
        if self._hash is None:
            raise ValueError("transcript hash not started")
        inner = self._hash.digest()
        h = hashlib.new(self.hash_name or "sha256")
        h.update(bytes([MESSAGE_HASH, 0, 0, len(inner)]) + inner)
        self._hash = h

    def copy(self) -> Transcript:
        other = Transcript()
        other._buffer = list(self._buffer)
        other._hash = self._hash.copy() if self._hash is not None else None
        other.hash_name = self.hash_name
        return other
