"""Wireshark (``tshark``) decrypts a TLS 1.2 session from ferrotls' SSLKEYLOGFILE.

A ferrotls endpoint talks HTTP/1.1 over TLS 1.2 with the ``ssl`` module in memory
(peers.MemoryPeer), ferrotls writing its key log with ``KeyLogWriter`` (the
SSLKEYLOGFILE format: one ``CLIENT_RANDOM`` line).  The test writes the bytes both
sides sent, in order, into a pcap file of its own (IPv4/TCP between 127.0.0.1:50000
and 127.0.0.1:443, with a TCP handshake and correct sequence numbers: nothing is
captured from an interface) and asks ``tshark -o tls.keylog_file:...`` for the
HTTP request and response inside; without the key log tshark must see none.

tshark is a Debian package (``apt-get install -y tshark``); without it the tests
skip, unless FERROTLS_INTEROP=1 (the full interop run) asks for every peer.
"""

from __future__ import annotations

import os
import shutil
import ssl
import struct
import subprocess
from pathlib import Path
from typing import Any

import pytest
from ferrotls.config import KeyLogWriter
from ferrotls.connection import ClientConnection, ServerConnection
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite

from .peers import PKI, SERVER_NAME, TIMEOUT, MemoryPeer, client_config, server_config

pytestmark = pytest.mark.interop

S = Tls12CipherSuite
SUITES = [
    S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    S.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM,
    S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8,
]
REQUEST = b"GET /ferrotls-tls12-over-wireshark HTTP/1.1\r\nHost: localhost\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\nContent-Type: text/plain\r\n\r\nhello tls12"


def _tshark() -> str:
    path = shutil.which("tshark")
    if path is not None:
        return path
    message = "tshark is not installed (DEBIAN_FRONTEND=noninteractive apt-get install -y tshark)"
    if os.environ.get("FERROTLS_INTEROP") == "1":
        pytest.fail(f"{message}; FERROTLS_INTEROP=1 runs every interop peer")
    pytest.skip(message)


# --------------------------------------------------------------------------- pcap


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\x00"
    total: int = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


class PcapWriter:
    """One TCP connection 127.0.0.1:50000 -> 127.0.0.1:443 as raw IPv4 packets
    (pcap LINKTYPE_RAW), with its handshake, the payloads given, and FINs."""

    CLIENT, SERVER = (b"\x7f\x00\x00\x01", 50000), (b"\x7f\x00\x00\x01", 443)

    def __init__(self) -> None:
        self.packets: list[bytes] = []
        self.seq = {True: 1000, False: 5000}  # from_client -> next sequence number
        self._segment(True, b"", syn=True)
        self._segment(False, b"", syn=True)
        self._segment(True, b"")

    def _segment(
        self, from_client: bool, payload: bytes, *, syn: bool = False, fin: bool = False
    ) -> None:
        (src_ip, src_port), (dst_ip, dst_port) = (
            (self.CLIENT, self.SERVER) if from_client else (self.SERVER, self.CLIENT)
        )
        seq = self.seq[from_client]
        ack = self.seq[not from_client]
        flags = 0x02 if syn else 0x10  # SYN, or ACK
        if syn and not from_client:
            flags |= 0x10  # SYN-ACK
        if payload:
            flags |= 0x08  # PSH
        if fin:
            flags |= 0x01
        tcp = struct.pack("!HHIIBBHHH", src_port, dst_port, seq, ack if flags & 0x10 else 0,
                          5 << 4, flags, 65535, 0, 0)
        pseudo = src_ip + dst_ip + struct.pack("!BBH", 0, 6, len(tcp) + len(payload))
        tcp = tcp[:16] + struct.pack("!H", _checksum(pseudo + tcp + payload)) + tcp[18:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(tcp) + len(payload), len(self.packets),
                         0x4000, 64, 6, 0, src_ip, dst_ip)
        ip = ip[:10] + struct.pack("!H", _checksum(ip)) + ip[12:]
        self.packets.append(ip + tcp + payload)
        self.seq[from_client] = seq + len(payload) + (1 if syn or fin else 0)

    def data(self, from_client: bool, payload: bytes) -> None:
        for i in range(0, len(payload), 1400):
            self._segment(from_client, payload[i : i + 1400])

    def close(self) -> None:
        self._segment(True, b"", fin=True)
        self._segment(False, b"", fin=True)
        self._segment(True, b"")

    def write(self, path: Path) -> None:
        out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 101)  # LINKTYPE_RAW
        for i, packet in enumerate(self.packets):
            out += struct.pack("<IIII", 1_800_000_000, i * 1000, len(packet), len(packet)) + packet
        path.write_bytes(out)


class _Tap:
    """A MemoryBIO stand-in that notes what goes through it (MemoryPeer moves all
    bytes with ``incoming.write`` and ``outgoing.read``)."""

    def __init__(
        self, bio: ssl.MemoryBIO, chunks: list[tuple[bool, bytes]], from_client: bool
    ) -> None:
        self.bio = bio
        self.chunks = chunks
        self.from_client = from_client

    def write(self, data: bytes) -> int:
        self.chunks.append((self.from_client, bytes(data)))
        return self.bio.write(data)

    def read(self, n: int = -1) -> bytes:
        data = self.bio.read(n)
        if data:
            self.chunks.append((self.from_client, data))
        return data


class RecordingPeer(MemoryPeer):
    """A MemoryPeer that also keeps every chunk in the order it went over the wire."""

    def __init__(self, *args: Any, ferro_is_client: bool, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.chunks: list[tuple[bool, bytes]] = []  # (from_client, bytes)
        tap_in = _Tap(self.incoming, self.chunks, ferro_is_client)
        tap_out = _Tap(self.outgoing, self.chunks, not ferro_is_client)
        self.incoming, self.outgoing = tap_in, tap_out  # type: ignore[assignment]


def _pcap(peer: RecordingPeer, path: Path) -> None:
    writer = PcapWriter()
    for from_client, data in peer.chunks:
        writer.data(from_client, data)
    writer.close()
    writer.write(path)


def _tshark_fields(pcap: Path, keylog: Path | None) -> list[list[str]]:
    """ServerHello version and suite, then the HTTP request URI and the response code
    and body, as tshark dissects them (with our key log, or without)."""
    args = [_tshark(), "-n", "-r", str(pcap), "-Y", "tls.handshake.type == 2 || http",
            "-T", "fields", "-e", "tls.handshake.version", "-e", "tls.handshake.ciphersuite",
            "-e", "http.request.uri", "-e", "http.response.code", "-e", "http.file_data"]
    if keylog is not None:
        args[2:2] = ["-o", f"tls.keylog_file:{keylog}"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=TIMEOUT * 2)
    assert done.returncode == 0, done.stderr
    return [line.split("\t") for line in done.stdout.splitlines() if line.strip()]


def _expect_decrypted(pcap: Path, keylog: Path, code: int) -> None:
    hello, request, response = _tshark_fields(pcap, keylog)
    assert hello[:2] == ["0x0303", f"0x{code:04x}"]
    assert request[2] == "/ferrotls-tls12-over-wireshark", request
    assert response[3:] == ["200", "hello tls12"], response  # the decrypted body
    # without the keys there is nothing to read
    assert [fields[:2] for fields in _tshark_fields(pcap, None)] == [hello[:2]]


@pytest.mark.parametrize("code", SUITES, ids=lambda c: TLS12_SUITES[c].openssl_name)
def test_tshark_decrypts_with_the_ferrotls_client_key_log(
    native_backend: Any, pki: PKI, tmp_path: Path, code: int
) -> None:
    """Every AEAD record format (explicit nonce for GCM/CCM, implicit for ChaCha20),
    on the native backend (the python backend writes the same bytes: see
    tests/test_differential.py and the server test below)."""
    backend = native_backend
    _tshark()
    keylog = tmp_path / "sslkeylog.txt"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(pki.server_p256.cert_pem, pki.server_p256.key_pem)
    ctx.set_ciphers(f"{TLS12_SUITES[code].openssl_name}:@SECLEVEL=0")
    cfg = client_config(backend, pki, tls12_cipher_suites=(code,), key_log=KeyLogWriter(keylog))
    conn = ClientConnection(cfg, SERVER_NAME)
    peer = RecordingPeer(conn, ctx, server_side=True, ferro_is_client=True)
    peer.handshake()
    peer.ferro_send(REQUEST)
    assert bytes(peer.ssl_data) == REQUEST
    peer.ssl_write(RESPONSE)
    assert bytes(peer.ferro_data) == RESPONSE
    assert keylog.read_text().startswith("CLIENT_RANDOM ")
    pcap = tmp_path / "tls12.pcap"
    _pcap(peer, pcap)
    _expect_decrypted(pcap, keylog, code)


def test_tshark_decrypts_with_the_ferrotls_server_key_log(
    backend: Any, pki: PKI, tmp_path: Path
) -> None:
    _tshark()
    code = S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    keylog = tmp_path / "sslkeylog.txt"
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_verify_locations(cadata=pki.ca_text)
    sc = server_config(backend, pki, tls12_cipher_suites=(code,), key_log=KeyLogWriter(keylog))
    peer = RecordingPeer(ServerConnection(sc), ctx, server_side=False, server_hostname=SERVER_NAME,
                         ferro_is_client=False)
    peer.handshake()
    peer.ssl_write(REQUEST)
    assert bytes(peer.ferro_data) == REQUEST
    peer.ferro_send(RESPONSE)
    assert bytes(peer.ssl_data) == RESPONSE
    pcap = tmp_path / "tls12.pcap"
    _pcap(peer, pcap)
    _expect_decrypted(pcap, keylog, code)


def test_tshark_decrypts_with_sslkeylogfile_from_the_environment(
    pki: PKI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real SSLKEYLOGFILE path: ``ferrotls.create_default_context`` reads the
    variable (as ``ssl`` does) and a TLS 1.2 session made with it decrypts."""
    import ferrotls

    _tshark()
    keylog = tmp_path / "from-env.keylog"
    monkeypatch.setenv("SSLKEYLOGFILE", str(keylog))
    context = ferrotls.create_default_context(cadata=pki.ca_text)
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki.server_p256.cert_pem, pki.server_p256.key_pem)
    conn = context.new_connection(SERVER_NAME)
    peer = RecordingPeer(conn, ctx, server_side=True, ferro_is_client=True)
    peer.handshake()
    assert peer.ssl.version() == "TLSv1.2"
    peer.ferro_send(REQUEST)
    peer.ssl_write(RESPONSE)
    pcap = tmp_path / "tls12.pcap"
    _pcap(peer, pcap)
    info = conn.info
    assert info is not None
    _expect_decrypted(pcap, keylog, info.cipher_suite)
