"""Known-answer vectors from RFCs and the GCM specification (provenance: README.md).

Every value here was checked against pyca/cryptography when transcribed, and
``tests/test_backend_vectors.py::test_transcription_*`` re-checks them on each
run, so a typo shows up as a transcription failure, not as a backend failure.
"""

from __future__ import annotations

from dataclasses import dataclass


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# --------------------------------------------------------------------------
# RFC 5869 Appendix A, test cases 1-3 (HKDF with SHA-256)
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class HkdfCase:
    name: str
    hash_name: str
    ikm: bytes
    salt: bytes
    info: bytes
    length: int
    prk: bytes
    okm: bytes


RFC5869_SHA256 = [
    HkdfCase(
        "A.1 basic",
        "sha256",
        ikm=bytes([0x0B]) * 22,
        salt=bytes(range(0x0D)),
        info=bytes(range(0xF0, 0xFA)),
        length=42,
        prk=h("077709362c2e32df0ddc3f0dc47bba63 90b6c73bb50f9c3122ec844ad7c2b3e5"),
        okm=h(
            "3cb25f25faacd57a90434f64d0362f2a 2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"
        ),
    ),
    HkdfCase(
        "A.2 longer inputs",
        "sha256",
        ikm=bytes(range(0x50)),
        salt=bytes(range(0x60, 0xB0)),
        info=bytes(range(0xB0, 0x100)),
        length=82,
        prk=h("06a6b88c5853361a06104c9ceb35b45c ef760014904671014a193f40c15fc244"),
        okm=h(
            "b11e398dc80327a1c8e7f78c596a4934 4f012eda2d4efad8a050cc4c19afa97c"
            "59045a99cac7827271cb41c65e590e09 da3275600c2f09b8367793a9aca3db71"
            "cc30c58179ec3e87c14c01d5c1f3434f 1d87"
        ),
    ),
    HkdfCase(
        "A.3 zero-length salt and info",
        "sha256",
        ikm=bytes([0x0B]) * 22,
        salt=b"",
        info=b"",
        length=42,
        prk=h("19ef24a32c717b167f33a91d6f648bdf 96596776afdb6377ac434c1c293ccb04"),
        okm=h(
            "8da4e775a563c18f715f802a063c5a31 b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"
        ),
    ),
]

# --------------------------------------------------------------------------
# RFC 7748 section 5.2 (X25519 function) and section 6.1 (Diffie-Hellman)
# --------------------------------------------------------------------------
RFC7748_X25519 = [
    # (scalar, u-coordinate, output)
    (
        h("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4"),
        h("e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
        h("c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"),
    ),
    (
        h("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d"),
        h("e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
        h("95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"),
    ),
]
# Iterated: k = u = 0900..00; then repeatedly k, u = X25519(k, u), k.
RFC7748_ITERATED_START = h("0900000000000000000000000000000000000000000000000000000000000000")
RFC7748_ITERATED = {
    1: h("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079"),
    1000: h("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51"),
}
RFC7748_ALICE_PRIVATE = h("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
RFC7748_ALICE_PUBLIC = h("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
RFC7748_BOB_PRIVATE = h("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
RFC7748_BOB_PUBLIC = h("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f")
RFC7748_SHARED = h("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742")


# --------------------------------------------------------------------------
# AEAD known answers
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class AeadCase:
    name: str
    suite: int
    key: bytes
    nonce: bytes
    aad: bytes
    plaintext: bytes
    ciphertext: bytes  # without tag
    tag: bytes


_GCM_P64 = h(
    "d9313225f88406e5a55909c5aff5269a 86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525 b16aedf5aa0de657ba637b391aafd255"
)
_GCM_K128 = h("feffe9928665731c6d6a8f9467308308")
_GCM_K256 = h("feffe9928665731c6d6a8f9467308308 feffe9928665731c6d6a8f9467308308")
_GCM_IV = h("cafebabefacedbaddecaf888")
_GCM_AAD = h("feedfacedeadbeeffeedfacedeadbeef abaddad2")

# McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", revised 2005,
# Appendix B, test cases 1-4 (AES-128) and 13-16 (AES-256), the 96-bit-IV ones.
GCM_SPEC = [
    AeadCase(
        "GCM TC1",
        0x1301,
        bytes(16),
        bytes(12),
        b"",
        b"",
        b"",
        h("58e2fccefa7e3061367f1d57a4e7455a"),
    ),
    AeadCase(
        "GCM TC2",
        0x1301,
        bytes(16),
        bytes(12),
        b"",
        bytes(16),
        h("0388dace60b6a392f328c2b971b2fe78"),
        h("ab6e47d42cec13bdf53a67b21257bddf"),
    ),
    AeadCase(
        "GCM TC3",
        0x1301,
        _GCM_K128,
        _GCM_IV,
        b"",
        _GCM_P64,
        h(
            "42831ec2217774244b7221b784d0d49c e3aa212f2c02a4e035c17e2329aca12e"
            "21d514b25466931c7d8f6a5aac84aa05 1ba30b396a0aac973d58e091473f5985"
        ),
        h("4d5c2af327cd64a62cf35abd2ba6fab4"),
    ),
    AeadCase(
        "GCM TC4",
        0x1301,
        _GCM_K128,
        _GCM_IV,
        _GCM_AAD,
        _GCM_P64[:60],
        h(
            "42831ec2217774244b7221b784d0d49c e3aa212f2c02a4e035c17e2329aca12e"
            "21d514b25466931c7d8f6a5aac84aa05 1ba30b396a0aac973d58e091"
        ),
        h("5bc94fbc3221a5db94fae95ae7121a47"),
    ),
    AeadCase(
        "GCM TC13",
        0x1302,
        bytes(32),
        bytes(12),
        b"",
        b"",
        b"",
        h("530f8afbc74536b9a963b4f1c4cb738b"),
    ),
    AeadCase(
        "GCM TC14",
        0x1302,
        bytes(32),
        bytes(12),
        b"",
        bytes(16),
        h("cea7403d4d606b6e074ec5d3baf39d18"),
        h("d0d1c8a799996bf0265b98b5d48ab919"),
    ),
    AeadCase(
        "GCM TC15",
        0x1302,
        _GCM_K256,
        _GCM_IV,
        b"",
        _GCM_P64,
        h(
            "522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa"
            "8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662898015ad"
        ),
        h("b094dac5d93471bdec1a502270e3cc6c"),
    ),
    AeadCase(
        "GCM TC16",
        0x1302,
        _GCM_K256,
        _GCM_IV,
        _GCM_AAD,
        _GCM_P64[:60],
        h(
            "522dc1f099567d07f47f37a32a84427d 643a8cdcbfe5c0c97598a2bd2555d1aa"
            "8cb08e48590dbb3da7b08b1056828838 c5f61e6393ba7a0abcc9f662"
        ),
        h("76fc6ece0f4e1768cddf8853bb2d551b"),
    ),
]

# RFC 8439 section 2.8.2, AEAD_CHACHA20_POLY1305 example.
RFC8439_AEAD = AeadCase(
    "RFC 8439 2.8.2",
    0x1303,
    key=bytes(range(0x80, 0xA0)),
    nonce=h("07000000 4041424344454647"),
    aad=h("50515253c0c1c2c3c4c5c6c7"),
    plaintext=(
        b"Ladies and Gentlemen of the class of '99: If I could offer you "
        b"only one tip for the future, sunscreen would be it."
    ),
    ciphertext=h(
        "d31a8d34648e60db7b86afbc53ef7ec2 a4aded51296e08fea9e2b5a736ee62d6"
        "3dbea45e8ca9671282fafb69da92728b 1a71de0a9e060b2905d6a5b67ecd3b36"
        "92ddbd7f2d778b8c9803aee328091b58 fab324e4fad675945585808b4831d7bc"
        "3ff4def08e4b7a9de576d26586cec64b 6116"
    ),
    tag=h("1ae10b594f09e26a7e902ecbd0600691"),
)

AEAD_KATS = [*GCM_SPEC, RFC8439_AEAD]
