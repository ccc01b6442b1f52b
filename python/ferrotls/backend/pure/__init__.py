"""Pure-Python cryptographic primitives for the ``python`` backend.

Everything here is written on the standard library alone (``hmac``/``hashlib``
for HKDF) and is meant to be *readable and correct*, then fast enough to be a
usable fallback.  None of it is constant-time: table lookups indexed by secret
bytes, big-integer arithmetic whose running time depends on the values, and
early exits are all present.  That is why the native (Rust) backend is the
default and this one is only a fallback and an independent reference.

Modules:

* :mod:`.aes` -- AES-128/256 key schedule and a vectorised counter mode.
* :mod:`.gcm` -- GHASH and the AES-GCM AEAD (NIST SP 800-38D).
* :mod:`.ccm` -- the AES-CCM AEAD with 16- or 8-byte tags (NIST SP 800-38C).
* :mod:`.chacha20` -- ChaCha20 and the ChaCha20-Poly1305 AEAD (RFC 8439).
* :mod:`.poly1305` -- the Poly1305 one-time authenticator (RFC 8439).
* :mod:`.x25519` -- X25519 on Python integers (RFC 7748).
* :mod:`.hkdf` -- HKDF and the TLS 1.3 labels (RFC 5869, RFC 8446 section 7.1).
"""
