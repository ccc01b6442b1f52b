"""Certificate compression (RFC 8879): the algorithm table and bounded codecs.

zlib comes from the standard library; brotli (the ``brotli`` module) and zstd
(``zstandard``) are used when installed.  ``AVAILABLE`` lists what this process
can run, most preferred first; ``compress``/``decompress`` raise BadCertificate
for data that does not decompress to exactly ``uncompressed_length`` bytes, and
never inflate more than ``bound`` bytes (a compression bomb costs at most that).

Compressing the same chain again and again is wasted CPU: ``compress`` keeps the
last few results (a small table keyed by the encoded Certificate body).

This module is a leaf (it imports only ``errors``).
"""

from __future__ import annotations

import importlib
import zlib
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from .errors import BadCertificate

__all__ = ["ZLIB", "BROTLI", "ZSTD", "AVAILABLE", "compress", "decompress", "available"]

ZLIB, BROTLI, ZSTD = 1, 2, 3



def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


_brotli = _optional("brotli")
_zstd = _optional("zstandard")


def _zlib_compress(data: bytes) -> bytes:
    return zlib.compress(data, 9)


def _zlib_decompress(data: bytes, bound: int) -> bytes:
    d = zlib.decompressobj()
    out = d.decompress(data, bound + 1)
    if not d.eof or d.unconsumed_tail or d.unused_data:
        raise BadCertificate("zlib-compressed certificate is truncated, too long or has trailing data")
    return out


def _brotli_compress(data: bytes) -> bytes:
    assert _brotli is not None
    out: bytes = _brotli.compress(data, quality=11)
    return out


def _brotli_decompress(data: bytes, bound: int) -> bytes:
    assert _brotli is not None
    d = _brotli.Decompressor()
    out: bytes = d.process(data, output_buffer_limit=bound + 1)
    if len(out) > bound or not d.is_finished():
        raise BadCertificate("brotli-compressed certificate is truncated or too long")
    return out


def _zstd_compress(data: bytes) -> bytes:
    assert _zstd is not None
    out: bytes = _zstd.ZstdCompressor(level=19).compress(data)
    return out


def _zstd_decompress(data: bytes, bound: int) -> bytes:
    assert _zstd is not None
    with _zstd.ZstdDecompressor().stream_reader(data, read_across_frames=False) as reader:
        out: bytes = reader.read(bound + 1)
    return out


_CODECS: dict[int, tuple[Callable[[bytes], bytes], Callable[[bytes, int], bytes]]] = {
    ZLIB: (_zlib_compress, _zlib_decompress),
}
if _brotli is not None:
    _CODECS[BROTLI] = (_brotli_compress, _brotli_decompress)
if _zstd is not None:
    _CODECS[ZSTD] = (_zstd_compress, _zstd_decompress)

# Preference: brotli and zstd compress certificate chains a little better than zlib.
AVAILABLE: tuple[int, ...] = tuple(a for a in (BROTLI, ZSTD, ZLIB) if a in _CODECS)
"""Algorithms this process can compress and decompress, most preferred first."""


def available(algorithm: int) -> bool:
    return algorithm in _CODECS


_CACHE: OrderedDict[tuple[int, bytes], bytes] = OrderedDict()
_CACHE_SIZE = 32


def compress(algorithm: int, body: bytes) -> bytes:
    """Compress an encoded Certificate body (cached: servers send the same chain)."""
    key = (algorithm, body)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    out = _CODECS[algorithm][0](body)
    _CACHE[key] = out
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return out


def decompress(algorithm: int, data: bytes, uncompressed_length: int, bound: int) -> bytes:
    """Inflate ``data``; BadCertificate unless it is exactly ``uncompressed_length`` bytes.

    ``uncompressed_length`` above ``bound`` is refused before anything is inflated.
    """
    if uncompressed_length > bound:
        raise BadCertificate(
            f"compressed certificate claims {uncompressed_length} bytes, more than the limit of {bound}"
        )
    codec = _CODECS.get(algorithm)
    if codec is None:
        raise BadCertificate(f"certificate compressed with algorithm {algorithm} we did not offer")
    try:
        out = codec[1](bytes(data), uncompressed_length)
    except BadCertificate:
        raise
    except Exception as exc:  # zlib.error, brotli.error, zstd.ZstdError: all bad input
        raise BadCertificate(f"compressed certificate does not decompress: {exc}") from None
    if len(out) != uncompressed_length:
        raise BadCertificate(
            f"compressed certificate inflates to {len(out)} bytes, not the {uncompressed_length} announced"
        )
    return out
