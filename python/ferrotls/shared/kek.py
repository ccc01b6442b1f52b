"""Key-encryption keys (KEKs): how ticket keys are sealed before they go to Redis.

A KEK is 32 random bytes from the operator's configuration (a file readable by
the server only, a secret manager, an environment variable).  Ticket keys are
stored in Redis only as sealed records::

    record = version (1) || kek_id (4) || activation_ms (8) || nonce (12)
             || AES-256-GCM(kek, nonce, aad, ticket_key (32))
    aad    = "ferrotls ticket key v1" || ticket_key_id (4) || kek_id || activation_ms

The AEAD is the ferrotls backend's AES-256-GCM.  The AAD binds the ticket key's
id (the Redis hash field the record is stored under), the KEK's id and the
activation time, so a record moved to another field, or an activation time
edited in Redis, fails to authenticate.  The ``kek_id`` is the first four bytes
of HMAC-SHA256(kek, "ferrotls kek id v1"): it names a KEK without revealing it,
so an instance holding the wrong KEK can say which one the ring needs.

Several KEKs can be configured at once (KEK rotation): the first seals, all of
them open.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from ..backend.interface import Backend
from ..errors import TLSError
from .errors import KeyEncryptionKeyError

__all__ = ["KEK_LEN", "parse_kek", "read_kek_file", "kek_id", "new_kek"]

KEK_LEN = 32
_AES_256_GCM = 0x1302
_RECORD_VERSION = 1
_RECORD_AAD = b"ferrotls ticket key v1"
_KEK_ID_LEN = 4
_NONCE_LEN = 12
TICKET_KEY_LEN = 32
RECORD_LEN = 1 + _KEK_ID_LEN + 8 + _NONCE_LEN + TICKET_KEY_LEN + 16


def new_kek() -> str:
    """A fresh KEK as 64 hex digits (what ``parse_kek`` and a KEK file take)."""
    return os.urandom(KEK_LEN).hex()


def parse_kek(value: bytes | bytearray | memoryview | str) -> bytes:
    """A KEK from 32 raw bytes, 64 hex digits or base64 of 32 bytes.

    Raises :class:`KeyEncryptionKeyError` for anything else (the message never
    contains the value)."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        raw = bytes(value)
        if len(raw) == KEK_LEN:
            return raw
        try:
            value = raw.decode("ascii")
        except UnicodeDecodeError:
            raise KeyEncryptionKeyError(
                f"a key-encryption key must be {KEK_LEN} bytes, 64 hex digits or base64"
                f" of {KEK_LEN} bytes (got {len(raw)} bytes)"
            ) from None
    text = value.strip()
    if len(text) == 2 * KEK_LEN:
        try:
            return bytes.fromhex(text)
        except ValueError:
            pass
    try:
        decoded = base64.b64decode(text.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        decoded = b""
    if len(decoded) == KEK_LEN:
        return decoded
    raise KeyEncryptionKeyError(
        f"a key-encryption key must be {KEK_LEN} bytes, 64 hex digits or base64 of"
        f" {KEK_LEN} bytes (got a {len(text)}-character text that is neither)"
    )


def read_kek_file(path: str | os.PathLike[str]) -> tuple[bytes, ...]:
    """The KEKs in a file: one per line (hex or base64; ``#`` comments and blank
    lines ignored), the sealing one first; or a file of exactly 32 raw bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) == KEK_LEN:
        try:
            data.decode("ascii")
        except UnicodeDecodeError:
            return (data,)
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        raise KeyEncryptionKeyError(f"{os.fspath(path)}: not a key-encryption key file") from None
    keys = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        try:
            keys.append(parse_kek(line))
        except KeyEncryptionKeyError as exc:
            raise KeyEncryptionKeyError(f"{os.fspath(path)}, line {number}: {exc}") from None
    if not keys:
        raise KeyEncryptionKeyError(f"{os.fspath(path)}: no key-encryption key in the file")
    return tuple(keys)


def kek_id(kek: bytes) -> bytes:
    """The public 4-byte name of a KEK (HMAC-SHA256(kek, "ferrotls kek id v1"))."""
    return hmac.new(kek, b"ferrotls kek id v1", hashlib.sha256).digest()[:_KEK_ID_LEN]


@dataclass(frozen=True, slots=True)
class OpenedKey:
    """A ticket key out of a sealed record."""

    key_id: bytes
    key: bytes = field(repr=False)
    activation: float
    kek_id: bytes


class RecordError(Exception):
    """A record that cannot be opened (internal).  ``kek_id``: the id of the
    KEK it names when we do not hold that KEK, else None (malformed or forged)."""

    def __init__(self, message: str, kek_id: bytes | None) -> None:
        super().__init__(message)
        self.kek_id = kek_id


class KekSet:
    """The configured KEKs: the first seals, all open (internal)."""

    __slots__ = ("_keys", "ids")

    def __init__(self, keks: Sequence[bytes]) -> None:
        if not keks:
            raise KeyEncryptionKeyError("no key-encryption key configured")
        self._keys = {kek_id(k): k for k in keks}
        self.ids = tuple(kek_id(k) for k in keks)
        if len(self._keys) != len(keks):
            raise KeyEncryptionKeyError("the same key-encryption key is configured twice")

    def __repr__(self) -> str:
        return f"KekSet({', '.join(i.hex() for i in self.ids)})"

    @property
    def sealing_id(self) -> bytes:
        return self.ids[0]

    def seal(
        self, backend: Backend, key_id: bytes, key: bytes, activation: float,
        rng: Callable[[int], bytes],
    ) -> bytes:
        """A sealed record of ``key`` under the first KEK."""
        kid = self.ids[0]
        ms = int(round(activation * 1000)).to_bytes(8, "big")
        nonce = rng(_NONCE_LEN)
        aad = _RECORD_AAD + key_id + kid + ms
        sealed = backend.aead(_AES_256_GCM, self._keys[kid]).seal(nonce, aad, key)
        return bytes([_RECORD_VERSION]) + kid + ms + nonce + sealed

    def open(self, backend: Backend, key_id: bytes, record: bytes) -> OpenedKey:
        """The ticket key in ``record`` (stored under ``key_id``), or RecordError."""
        if len(record) != RECORD_LEN or record[0] != _RECORD_VERSION:
            raise RecordError("not a ferrotls ticket key record", None)
        kid = record[1 : 1 + _KEK_ID_LEN]
        ms = record[1 + _KEK_ID_LEN : 1 + _KEK_ID_LEN + 8]
        nonce = record[1 + _KEK_ID_LEN + 8 : 1 + _KEK_ID_LEN + 8 + _NONCE_LEN]
        kek = self._keys.get(kid)
        if kek is None:
            raise RecordError(f"sealed under key-encryption key {kid.hex()}", kid)
        aad = _RECORD_AAD + key_id + kid + ms
        try:
            sealed = record[1 + _KEK_ID_LEN + 8 + _NONCE_LEN :]
            key = backend.aead(_AES_256_GCM, kek).open(nonce, aad, sealed)
        except TLSError:
            raise RecordError(
                f"does not authenticate under key-encryption key {kid.hex()}"
                " (tampered or corrupted)",
                None,
            ) from None
        return OpenedKey(key_id, key, int.from_bytes(ms, "big") / 1000, kid)
