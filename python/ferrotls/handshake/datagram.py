"""What the TLS 1.3 states do differently when they run DTLS 1.3 (RFC 9147 section 5).

A handshake driver built with ``datagram=`` (a :class:`~ferrotls.handshake.io.DatagramIO`)
runs the same states with these hooks, each asked of the driver
(:class:`~ferrotls.handshake.machine.Handshake`):

* versions on the wire (``Handshake.wire``): DTLS 1.3 is 0xfefc in
  supported_versions, and the hellos' legacy_version is DTLS 1.2's 0xfefd;
* the ClientHello has a legacy_cookie (empty in DTLS 1.3) and is decoded with
  it; the client sends no legacy_session_id and the server echoes none;
* no middlebox-compatibility change_cipher_spec;
* keys go to the connection as secrets (it numbers the epochs: 2 for the
  handshake, 3 and up for application data) -- the key schedule itself is
  unchanged, its "dtls13" label prefix (section 5.9) coming from the backend the
  connection hands the handshake;
* HandshakeComplete.version is "DTLSv1.3".

The transcript needs no hook: RFC 9147 section 5.2 hashes each message with the
TLS 1.3 four-byte header (msg_type, length), without the DTLS message_seq and
fragment fields, which the connection's reassembly removes before a message
reaches the states.  The connection does the rest (message sequence numbers,
fragmentation, ACKs, retransmission).
"""

from __future__ import annotations

__all__ = ["DTLS12", "DTLS13", "TLS_TO_DTLS", "DTLS_TO_TLS", "VERSION_NAMES"]

DTLS13 = 0xFEFC
DTLS12 = 0xFEFD
TLS_TO_DTLS = {0x0304: DTLS13, 0x0303: DTLS12}
"""The TLS version a state speaks of -> its DTLS code point."""
DTLS_TO_TLS = {v: k for k, v in TLS_TO_DTLS.items()}
VERSION_NAMES = {"TLSv1.3": "DTLSv1.3", "TLSv1.2": "DTLSv1.2"}
