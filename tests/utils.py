"""Shared test helpers: vector locations, the @wycheproof decorator, small crypto oracles.

Wycheproof JSON files are read in place from the shared vectors folder (never copied):
``$FERROTLS_VECTORS_DIR`` if set, else ``<project root>/../shared/vectors``, where the
project root is the parent of ``tests/``.  When a file is missing the tests that need
it skip with the path in the reason, unless ``FERROTLS_REQUIRE_VECTORS=1`` (CI), in
which case they fail.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SUITE_AES_128_GCM = 0x1301
SUITE_AES_256_GCM = 0x1302
SUITE_CHACHA20 = 0x1303
SUITE_AES_128_CCM = 0x1304
SUITE_AES_128_CCM_8 = 0x1305
ALL_SUITES = (
    SUITE_AES_128_GCM,
    SUITE_AES_256_GCM,
    SUITE_CHACHA20,
    SUITE_AES_128_CCM,
    SUITE_AES_128_CCM_8,
)
CCM_SUITES = (SUITE_AES_128_CCM, SUITE_AES_128_CCM_8)
SUITE_NAMES = {
    SUITE_AES_128_GCM: "aes128gcm",
    SUITE_AES_256_GCM: "aes256gcm",
    SUITE_CHACHA20: "chacha20",
    SUITE_AES_128_CCM: "aes128ccm",
    SUITE_AES_128_CCM_8: "aes128ccm8",
}
KEY_LEN = {
    SUITE_AES_128_GCM: 16,
    SUITE_AES_256_GCM: 32,
    SUITE_CHACHA20: 32,
    SUITE_AES_128_CCM: 16,
    SUITE_AES_128_CCM_8: 16,
}
TAG_LEN = {s: 8 if s == SUITE_AES_128_CCM_8 else 16 for s in ALL_SUITES}
HASH_OF_SUITE = {
    SUITE_AES_128_GCM: "sha256",
    SUITE_AES_256_GCM: "sha384",
    SUITE_CHACHA20: "sha256",
    SUITE_AES_128_CCM: "sha256",
    SUITE_AES_128_CCM_8: "sha256",
}


# The python backend seals at a few MB/s: run it with a fraction of the examples.
PYTHON_EXAMPLE_FRACTION = 0.25


def hypothesis_settings(*backend_names: str, fraction: float = 1.0) -> settings:
    """Settings for a hypothesis test that exercises the named backends.

    Starts from the loaded profile (``HYPOTHESIS_PROFILE``: ci or dev) and scales
    max_examples by ``fraction``, and again by PYTHON_EXAMPLE_FRACTION when the
    python backend is involved.
    """
    base = settings.default
    assert base is not None
    n = max(1, int(base.max_examples * fraction))
    if "python" in backend_names:
        n = max(5, int(n * PYTHON_EXAMPLE_FRACTION))
    return settings(base, max_examples=n)


def env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip() not in ("", "0", "false", "no")


def vectors_dir() -> Path:
    configured = os.environ.get("FERROTLS_VECTORS_DIR")
    if configured:
        return Path(configured)
    return PROJECT_ROOT.parent / "shared" / "vectors"


def wycheproof_path(filename: str) -> Path:
    return vectors_dir() / "wycheproof" / filename


def missing_vectors(path: Path) -> None:
    """Skip (or fail under FERROTLS_REQUIRE_VECTORS=1) because ``path`` is absent."""
    reason = (
        f"test vectors not found: {path} (set FERROTLS_VECTORS_DIR or provide "
        f"../shared/vectors next to the project)"
    )
    if env_flag("FERROTLS_REQUIRE_VECTORS"):
        pytest.fail(reason + "; FERROTLS_REQUIRE_VECTORS=1 requires them", pytrace=False)
    pytest.skip(reason)


def load_json_vectors(filename: str) -> dict[str, Any] | None:
    path = wycheproof_path(filename)
    if not path.is_file():
        return None
    with path.open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


# ---------------------------------------------------------------------------
# Wycheproof
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class WycheproofCase:
    """One Wycheproof test with its group (cryptography's ``WycheproofTest``)."""

    filename: str
    group: dict[str, Any]
    test: dict[str, Any]
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def tc_id(self) -> int:
        return int(self.test["tcId"])

    @property
    def result(self) -> str:
        return str(self.test["result"])

    @property
    def valid(self) -> bool:
        return self.result == "valid"

    @property
    def acceptable(self) -> bool:
        return self.result == "acceptable"

    @property
    def invalid(self) -> bool:
        return self.result == "invalid"

    @property
    def flags(self) -> frozenset[str]:
        return frozenset(self.test.get("flags", ()))

    def has_flag(self, flag: str) -> bool:
        return flag in self.flags

    @property
    def comment(self) -> str:
        return str(self.test.get("comment", ""))

    def b(self, name: str) -> bytes:
        """A hex field of the test as bytes."""
        return bytes.fromhex(self.test[name])

    def gb(self, name: str) -> bytes:
        """A hex field of the group as bytes."""
        return bytes.fromhex(self.group[name])

    def __str__(self) -> str:
        flags = ",".join(sorted(self.flags))
        return f"{self.filename} tcId={self.tc_id} {self.result} [{flags}] {self.comment}"


class _Missing:
    def __init__(self, filename: str) -> None:
        self.filename = filename

    def __repr__(self) -> str:
        return f"<missing {self.filename}>"


def wycheproof_cases(filename: str) -> Iterator[WycheproofCase]:
    data = load_json_vectors(filename)
    if data is None:
        return
    notes = data.get("notes", {})
    for group in data["testGroups"]:
        for test in group["tests"]:
            yield WycheproofCase(filename, group, test, notes)


def wycheproof(
    filename: str, *, subset: Callable[[WycheproofCase], bool] | None = None
) -> Callable[[Callable[..., Any]], Any]:
    """Parametrize a test over a Wycheproof file: ``def test_x(backend, wycheproof): ...``.

    Each case arrives as a :class:`WycheproofCase`.  The test id is
    ``tc<id>-<result>``.  A missing file gives one case that skips (or fails under
    FERROTLS_REQUIRE_VECTORS=1) with the path in the reason.  ``subset`` keeps only
    the cases it returns True for (used to sample slow files on slow backends).
    """

    def decorator(fn: Callable[..., Any]) -> Any:
        cases: list[Any] = list(wycheproof_cases(filename))
        if subset is not None:
            cases = [c for c in cases if subset(c)]
        if cases:
            params = [pytest.param(c, id=f"tc{c.tc_id}-{c.result}") for c in cases]
        else:
            params = [pytest.param(_Missing(filename), id="vectors-missing")]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            case = kwargs.get("wycheproof")
            if isinstance(case, _Missing):
                missing_vectors(wycheproof_path(case.filename))
            return fn(*args, **kwargs)

        return pytest.mark.parametrize("wycheproof", params)(wrapper)

    return decorator


# ---------------------------------------------------------------------------
# Independent oracles (pyca/cryptography and the stdlib), never ferrotls code
# ---------------------------------------------------------------------------


def oracle_aead(suite: int, key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESCCM, AESGCM, ChaCha20Poly1305

    if suite == SUITE_CHACHA20:
        return ChaCha20Poly1305(key)
    if suite in CCM_SUITES:
        return AESCCM(key, tag_length=TAG_LEN[suite])
    return AESGCM(key)


def record_nonce(iv: bytes, seq: int) -> bytes:
    """RFC 8446 section 5.3, computed independently of the backends."""
    padded = seq.to_bytes(12, "big")
    return bytes(a ^ b for a, b in zip(iv, padded, strict=True))


def record_header(length: int, outer_type: int = 23) -> bytes:
    return bytes([outer_type, 3, 3]) + length.to_bytes(2, "big")


def oracle_seal_record(
    suite: int,
    key: bytes,
    iv: bytes,
    seq: int,
    content_type: int,
    fragment: bytes,
    padding: int = 0,
) -> bytes:
    inner = fragment + bytes([content_type]) + bytes(padding)
    header = record_header(len(inner) + TAG_LEN[suite])
    return header + bytes(oracle_aead(suite, key).encrypt(record_nonce(iv, seq), inner, header))


def oracle_hkdf_expand_label(
    hash_name: str, secret: bytes, label: bytes, context: bytes, length: int
) -> bytes:
    import hashlib
    import hmac

    full = b"tls13 " + label
    info = length.to_bytes(2, "big") + bytes([len(full)]) + full + bytes([len(context)]) + context
    out = b""
    block = b""
    counter = 1
    while len(out) < length:
        block = hmac.new(
            secret, block + info + bytes([counter]), getattr(hashlib, hash_name)
        ).digest()
        out += block
        counter += 1
    return out[:length]


def parse_records(data: bytes) -> list[tuple[int, bytes]]:
    """Split complete TLSCiphertext records: [(outer_type, header+body), ...]."""
    out = []
    pos = 0
    while pos < len(data):
        assert len(data) - pos >= 5, "trailing partial header"
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        assert data[pos + 1 : pos + 3] == b"\x03\x03", "legacy_record_version must be 0x0303"
        end = pos + 5 + length
        assert end <= len(data), "trailing partial record"
        out.append((data[pos], data[pos:end]))
        pos = end
    return out
