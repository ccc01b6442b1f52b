"""Errors of the shared-state stores (all subclass :class:`ferrotls.TLSError`)."""

from __future__ import annotations

from ..errors import TLSError

__all__ = ["SharedStateError", "SharedStateUnavailable", "KeyEncryptionKeyError"]


class SharedStateError(TLSError):
    """Something went wrong with state shared between server instances."""


class SharedStateUnavailable(SharedStateError):
    """Redis did not answer (down, unreachable, slower than the timeout, or
    refusing the command).  Handshakes never see this: the ticket key ring
    serves from memory and the replay store refuses 0-RTT instead."""


class KeyEncryptionKeyError(SharedStateError):
    """A key-encryption key is malformed, or the ticket key ring in Redis is
    sealed under a key-encryption key this instance does not hold (or does not
    authenticate under it)."""
