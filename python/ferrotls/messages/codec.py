"""Primitive wire codec for TLS presentation language (RFC 8446 section 3).

:class:`Reader` is a cursor over a memoryview; every failure to decode --
truncation, a length prefix that runs past the end, a vector outside its
``<floor..ceiling>`` bounds, trailing bytes -- raises
:class:`ferrotls.errors.DecodeError` and nothing else.

:class:`Writer` appends to a bytearray.  Length prefixes (1, 2 or 3 bytes) are
written as placeholders and back-patched when the ``with w.prefixed(n):`` block
ends; a body too long for its prefix, or an integer out of range, raises
``ValueError`` (an encoding bug on our side, never the peer's fault).
"""

from __future__ import annotations

import builtins
import struct
import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager

if sys.version_info >= (3, 12):
    from collections.abc import Buffer
else:  # typing_extensions is a dependency only before 3.12
    from typing_extensions import Buffer

from ..errors import DecodeError

__all__ = ["DecodeError", "Reader", "Writer"]

_PREFIX_SIZES = (1, 2, 3, 4)


class Reader:
    """A cursor over immutable bytes that raises only :class:`DecodeError`.

    Sub-vectors are returned as new Readers that share the underlying memory;
    reading from a sub-Reader never reads past its own end.
    """

    __slots__ = ("_end", "_pos", "_view")

    def __init__(self, data: Buffer) -> None:
        view = memoryview(data)
        if view.ndim != 1 or view.itemsize != 1 or view.format != "B":
            view = view.cast("B")
        self._view = view
        self._pos = 0
        self._end = len(view)

    # -- state ---------------------------------------------------------------

    @property
    def remaining(self) -> int:
        """Number of unread bytes."""
        return self._end - self._pos

    @property
    def position(self) -> int:
        """Offset of the next byte to read, relative to this Reader's start."""
        return self._pos

    def at_end(self) -> bool:
        """True when every byte has been consumed."""
        return self._pos == self._end

    def expect_end(self, what: str = "message") -> None:
        """Raise DecodeError if unread bytes remain (trailing data)."""
        if self._pos != self._end:
            raise DecodeError(f"{self._end - self._pos} trailing byte(s) after {what}")

    # -- primitives ----------------------------------------------------------

    def _take(self, n: int, what: str) -> memoryview:
        pos = self._pos
        if n > self._end - pos:
            raise DecodeError(f"truncated {what}: need {n} byte(s), {self._end - pos} left")
        self._pos = pos + n
        return self._view[pos : pos + n]

    def uint(self, size: int, what: str = "integer") -> int:
        """Read a big-endian unsigned integer of ``size`` bytes."""
        return int.from_bytes(self._take(size, what), "big")

    def u8(self, what: str = "uint8") -> int:
        """Read one byte."""
        if self._pos >= self._end:
            raise DecodeError(f"truncated {what}: need 1 byte(s), 0 left")
        v = self._view[self._pos]
        self._pos += 1
        return v

    def u16(self, what: str = "uint16") -> int:
        """Read a big-endian uint16."""
        pos = self._pos
        if self._end - pos < 2:
            raise DecodeError(f"truncated {what}: need 2 byte(s), {self._end - pos} left")
        self._pos = pos + 2
        view = self._view
        return (view[pos] << 8) | view[pos + 1]

    def u24(self, what: str = "uint24") -> int:
        """Read a big-endian uint24."""
        return int.from_bytes(self._take(3, what), "big")

    def u32(self, what: str = "uint32") -> int:
        """Read a big-endian uint32."""
        return int.from_bytes(self._take(4, what), "big")

    def rest(self) -> builtins.bytes:
        """Consume and return every remaining byte."""
        return self._take(self._end - self._pos, "rest").tobytes()

    # -- vectors -------------------------------------------------------------

    def _length(self, prefix: int, min_len: int, max_len: int | None, what: str) -> int:
        pos = self._pos
        if self._end - pos < prefix:
            if prefix not in _PREFIX_SIZES:
                raise ValueError(f"length prefix must be 1..4 bytes, not {prefix}")
            raise DecodeError(
                f"truncated length of {what}: need {prefix} byte(s), {self._end - pos} left"
            )
        view = self._view
        if prefix == 2:
            n = (view[pos] << 8) | view[pos + 1]
        elif prefix == 1:
            n = view[pos]
        elif prefix == 3:
            n = (view[pos] << 16) | (view[pos + 1] << 8) | view[pos + 2]
        elif prefix == 4:
            n = int.from_bytes(view[pos : pos + 4], "big")
        else:
            raise ValueError(f"length prefix must be 1..4 bytes, not {prefix}")
        pos += prefix
        self._pos = pos
        if n < min_len:
            raise DecodeError(f"{what} too short: {n} < {min_len} byte(s)")
        if max_len is not None and n > max_len:
            raise DecodeError(f"{what} too long: {n} > {max_len} byte(s)")
        if n > self._end - pos:
            raise DecodeError(
                f"length of {what} ({n}) runs past the end ({self._end - pos} left)"
            )
        return n

    def vector(
        self, prefix: int, min_len: int = 0, max_len: int | None = None, what: str = "vector"
    ) -> Reader:
        """Read a length-prefixed vector and return a Reader over its contents.

        ``min_len``/``max_len`` are the RFC's ``<floor..ceiling>`` in bytes.
        """
        n = self._length(prefix, min_len, max_len, what)
        pos = self._pos
        sub = Reader.__new__(Reader)
        sub._view = self._view
        sub._pos = pos
        sub._end = self._pos = pos + n
        return sub

    def vec8(self, min_len: int = 0, max_len: int | None = None, what: str = "vector") -> Reader:
        """``<floor..2^8-1>`` vector as a sub-Reader."""
        n = self._length(1, min_len, max_len, what)
        pos = self._pos
        sub = Reader.__new__(Reader)
        sub._view = self._view
        sub._pos = pos
        sub._end = self._pos = pos + n
        return sub

    def vec16(self, min_len: int = 0, max_len: int | None = None, what: str = "vector") -> Reader:
        """``<floor..2^16-1>`` vector as a sub-Reader."""
        n = self._length(2, min_len, max_len, what)
        pos = self._pos
        sub = Reader.__new__(Reader)
        sub._view = self._view
        sub._pos = pos
        sub._end = self._pos = pos + n
        return sub

    def vec24(self, min_len: int = 0, max_len: int | None = None, what: str = "vector") -> Reader:
        """``<floor..2^24-1>`` vector as a sub-Reader."""
        n = self._length(3, min_len, max_len, what)
        pos = self._pos
        sub = Reader.__new__(Reader)
        sub._view = self._view
        sub._pos = pos
        sub._end = self._pos = pos + n
        return sub

    def opaque(
        self, prefix: int, min_len: int = 0, max_len: int | None = None, what: str = "opaque"
    ) -> builtins.bytes:
        """Read a length-prefixed ``opaque`` field and return its bytes."""
        n = self._length(prefix, min_len, max_len, what)
        pos = self._pos
        self._pos = pos + n
        return self._view[pos : pos + n].tobytes()

    def opaque8(
        self, min_len: int = 0, max_len: int | None = None, what: str = "opaque"
    ) -> builtins.bytes:
        """``opaque x<floor..2^8-1>``."""
        n = self._length(1, min_len, max_len, what)
        pos = self._pos
        self._pos = pos + n
        return self._view[pos : pos + n].tobytes()

    def opaque16(
        self, min_len: int = 0, max_len: int | None = None, what: str = "opaque"
    ) -> builtins.bytes:
        """``opaque x<floor..2^16-1>``."""
        n = self._length(2, min_len, max_len, what)
        pos = self._pos
        self._pos = pos + n
        return self._view[pos : pos + n].tobytes()

    def opaque24(
        self, min_len: int = 0, max_len: int | None = None, what: str = "opaque"
    ) -> builtins.bytes:
        """``opaque x<floor..2^24-1>``."""
        n = self._length(3, min_len, max_len, what)
        pos = self._pos
        self._pos = pos + n
        return self._view[pos : pos + n].tobytes()

    def uint_list(
        self,
        prefix: int,
        item: int,
        min_len: int = 0,
        max_len: int | None = None,
        what: str = "list",
    ) -> list[int]:
        """Read a vector of fixed-size unsigned integers (``item`` bytes each).

        A byte length that is not a multiple of ``item`` is a DecodeError.
        """
        n = self._length(prefix, min_len, max_len, what)
        if n % item:
            raise DecodeError(f"{what}: length {n} is not a multiple of {item}")
        pos = self._pos
        self._pos = pos + n
        if item == 2:
            return list(struct.unpack_from(f">{n >> 1}H", self._view, pos))
        data = self._view[pos : pos + n]
        if item == 1:
            return list(data)
        return [int.from_bytes(data[i : i + item], "big") for i in range(0, n, item)]

    def bytes(self, n: int, what: str = "bytes") -> builtins.bytes:
        """Read exactly ``n`` bytes."""
        return self._take(n, what).tobytes()


class _Prefix:
    """The context manager behind ``Writer.prefixed`` (a class: cheaper than @contextmanager)."""

    __slots__ = ("_buf", "_size", "_start")

    def __init__(self, buf: bytearray, size: int) -> None:
        self._buf = buf
        self._size = size
        self._start = 0

    def __enter__(self) -> None:
        self._start = len(self._buf)
        self._buf += _ZEROS[self._size]

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            return
        buf, size, start = self._buf, self._size, self._start
        n = len(buf) - start - size
        if n >= 1 << (8 * size):
            del buf[start:]
            raise ValueError(f"vector of {n} bytes does not fit a {size}-byte length")
        buf[start : start + size] = n.to_bytes(size, "big")


_ZEROS = {n: bytes(n) for n in _PREFIX_SIZES}


class Writer:
    """Append-only encoder into a bytearray, with back-patched length prefixes."""

    __slots__ = ("_buf",)

    def __init__(self) -> None:
        self._buf = bytearray()

    def __len__(self) -> int:
        return len(self._buf)

    def getvalue(self) -> bytes:
        """The bytes written so far."""
        return bytes(self._buf)

    def write(self, data: Buffer) -> None:
        """Append raw bytes."""
        self._buf += data

    def uint(self, size: int, value: int) -> None:
        """Append ``value`` as a big-endian unsigned integer of ``size`` bytes."""
        try:
            self._buf += value.to_bytes(size, "big")
        except OverflowError:
            raise ValueError(f"{value} does not fit in uint{8 * size}") from None

    def u8(self, value: int) -> None:
        """Append a uint8."""
        try:
            self._buf += value.to_bytes(1, "big")
        except OverflowError:
            raise ValueError(f"{value} does not fit in uint8") from None

    def u16(self, value: int) -> None:
        """Append a big-endian uint16."""
        try:
            self._buf += value.to_bytes(2, "big")
        except OverflowError:
            raise ValueError(f"{value} does not fit in uint16") from None

    def u24(self, value: int) -> None:
        """Append a big-endian uint24."""
        self.uint(3, value)

    def u32(self, value: int) -> None:
        """Append a big-endian uint32."""
        self.uint(4, value)

    def prefixed(self, size: int) -> AbstractContextManager[None]:
        """Write a ``size``-byte length placeholder, run the block, back-patch it.

        Raises ValueError if the body written inside the block is too long.
        """
        if size not in _PREFIX_SIZES:
            raise ValueError(f"length prefix must be 1..4 bytes, not {size}")
        return _Prefix(self._buf, size)

    def vec8(self) -> AbstractContextManager[None]:
        """``with w.vec8():`` -- a body with a 1-byte length prefix."""
        return self.prefixed(1)

    def vec16(self) -> AbstractContextManager[None]:
        """``with w.vec16():`` -- a body with a 2-byte length prefix."""
        return self.prefixed(2)

    def vec24(self) -> AbstractContextManager[None]:
        """``with w.vec24():`` -- a body with a 3-byte length prefix."""
        return self.prefixed(3)

    def opaque(self, size: int, data: Buffer) -> None:
        """Append ``data`` with a ``size``-byte length prefix."""
        n = len(data) if type(data) is builtins.bytes else memoryview(data).nbytes
        if n >= 1 << (8 * size):
            raise ValueError(f"opaque of {n} bytes does not fit a {size}-byte length")
        buf = self._buf
        buf += n.to_bytes(size, "big")
        buf += data

    def opaque8(self, data: Buffer) -> None:
        """``opaque x<..2^8-1>``."""
        self.opaque(1, data)

    def opaque16(self, data: Buffer) -> None:
        """``opaque x<..2^16-1>``."""
        self.opaque(2, data)

    def opaque24(self, data: Buffer) -> None:
        """``opaque x<..2^24-1>``."""
        self.opaque(3, data)

    def uint_list(self, prefix: int, item: int, values: Iterator[int] | list[int]) -> None:
        """Append a length-prefixed vector of ``item``-byte unsigned integers."""
        if item == 2:
            values = values if isinstance(values, (list, tuple)) else list(values)
            try:
                body = struct.pack(f">{len(values)}H", *values)
            except struct.error:
                raise ValueError(f"a value does not fit in uint{8 * item}") from None
        else:
            try:
                body = b"".join([v.to_bytes(item, "big") for v in values])
            except OverflowError:
                raise ValueError(f"a value does not fit in uint{8 * item}") from None
        self.opaque(prefix, body)
