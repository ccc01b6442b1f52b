"""The TLS 1.2 record format and key schedule against real OpenSSL sessions.

No ferrotls handshake takes part: two OpenSSL peers talk TLS 1.2 and ferrotls
only watches the bytes, derives the keys with :mod:`ferrotls.keyschedule12`
and opens (and seals) records with ``Backend.record_protector_tls12``.

* The ``ssl`` module, client and server in memory (``SSLContext.wrap_bio``),
  ``maximum_version = TLSv1_2`` and one ``set_ciphers`` suite per AEAD family
  (AES-128-GCM and AES-256-GCM/SHA-384, ChaCha20-Poly1305, AES-128-CCM and
  CCM_8); the client writes ``keylog_filename``.  From the CLIENT_RANDOM master
  secret we derive the key block, open both directions from the ChangeCipherSpec
  on (Finished, application data, close_notify), check both Finished
  verify_data against the captured transcript, and seal application data and a
  close_notify that OpenSSL reads.
* The ``openssl`` CLI, ``s_server``/``s_client -tls1_2`` with PSK suites, through
  a TCP relay on 127.0.0.1 that keeps every byte.  For plain PSK the pre-master
  secret is known, so the extended master secret (RFC 7627) is computed from the
  PSK and the captured handshake alone and must equal the key log's; the RFC 5705
  exporter must equal ``s_client -keymatexport``; the records of both directions
  open; a record we seal and inject is printed by ``s_server``.
"""

from __future__ import annotations

import hashlib
import re
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from ferrotls import keyschedule12 as ks
from ferrotls.backend.interface import STOP_END
from ferrotls.suites import TLS12_SUITES, Tls12CipherSuite, Tls12SuiteInfo

from .peers import LOOPBACK, PKI, TIMEOUT, OpenSSLProcess

pytestmark = pytest.mark.interop

S = Tls12CipherSuite
HS_SERVER_HELLO_DONE = 14
HS_FINISHED = 20
EXT_EXTENDED_MASTER_SECRET = 0x0017


# --------------------------------------------------------------------------- the wire


def split_records(stream: bytes) -> list[tuple[int, bytes]]:
    """(content type, whole record) for every complete record of ``stream``."""
    out = []
    pos = 0
    while len(stream) - pos >= 5:
        end = pos + 5 + int.from_bytes(stream[pos + 3 : pos + 5], "big")
        if end > len(stream):
            break
        out.append((stream[pos], stream[pos:end]))
        pos = end
    return out


@dataclass
class Direction:
    """One side's bytes: its plaintext handshake messages, then what follows its CCS."""

    messages: list[bytes]
    protected: bytes


def parse_direction(stream: bytes) -> Direction:
    handshake = b""
    pos = 0
    for content_type, record in split_records(stream):
        pos += len(record)
        if content_type == 20:  # ChangeCipherSpec: everything after it is protected
            break
        assert content_type == 22, f"unexpected plaintext record type {content_type}"
        handshake += record[5:]
    else:
        raise AssertionError("no ChangeCipherSpec in the stream")
    messages = []
    while handshake:
        n = 4 + int.from_bytes(handshake[1:4], "big")
        messages.append(handshake[:n])
        handshake = handshake[n:]
    return Direction(messages, stream[pos:])


def server_hello_extensions(server_hello: bytes) -> set[int]:
    body = server_hello[4:]
    pos = 2 + 32
    pos += 1 + body[pos]  # session_id
    pos += 2 + 1  # cipher_suite, compression_method
    exts = set()
    end = pos + 2 + int.from_bytes(body[pos : pos + 2], "big")
    pos += 2
    while pos < end:
        exts.add(int.from_bytes(body[pos : pos + 2], "big"))
        pos += 4 + int.from_bytes(body[pos + 2 : pos + 4], "big")
    return exts


def keylog_master(path: Path, client_random: bytes) -> bytes:
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "CLIENT_RANDOM" and parts[1] == client_random.hex():
            return bytes.fromhex(parts[2])
    raise AssertionError(f"no CLIENT_RANDOM line for {client_random.hex()} in {path}")


def open_all(reader: Any, protected: bytes) -> list[tuple[int, bytes]]:
    """Every item of ``protected`` through ``open_records``, which must use all of it."""
    items: list[tuple[int, bytes]] = []
    while protected:
        got, consumed = reader.open_records(protected)
        assert consumed, "a record that did not open"
        items += got
        protected = protected[consumed:]
    return items


@dataclass
class Keys:
    info: Tls12SuiteInfo
    master: bytes
    client_random: bytes
    server_random: bytes
    block: ks.KeyBlock
    client: Direction
    server: Direction

    def reader(self, backend: Any, from_client: bool, sequence: int = 0) -> Any:
        key, iv = self.block.write_keys(from_client)
        return backend.record_protector_tls12(self.info.suite, key, iv, sequence)

    def _server_hello_done(self) -> int:
        return next(i for i, m in enumerate(self.server.messages) if m[0] == HS_SERVER_HELLO_DONE)

    def first_flights(self) -> list[bytes]:
        """ClientHello .. ServerHelloDone, then the client's messages up to its CCS."""
        split = self._server_hello_done() + 1
        return self.client.messages[:1] + self.server.messages[:split] + self.client.messages[1:]

    def check_finished(self, backend: Any, client_finished: bytes, server_finished: bytes) -> None:
        """Both verify_data values against the transcript (RFC 5246 section 7.4.9)."""
        h = self.info.hash_name
        split = self._server_hello_done() + 1
        first = self.first_flights()
        c_hash = hashlib.new(h, b"".join(first)).digest()
        assert client_finished[0] == HS_FINISHED
        assert client_finished[4:] == ks.verify_data(backend, self.info, self.master, c_hash, True)
        # the server's covers the client Finished and a NewSessionTicket sent before its CCS
        rest = [client_finished, *self.server.messages[split:]]
        s_hash = hashlib.new(h, b"".join(first + rest)).digest()
        assert server_finished[0] == HS_FINISHED
        assert server_finished[4:] == ks.verify_data(backend, self.info, self.master, s_hash, False)


def derive(backend: Any, suite: int, c2s: bytes, s2c: bytes, master: bytes) -> Keys:
    info = TLS12_SUITES[suite]
    client, server = parse_direction(c2s), parse_direction(s2c)
    assert client.messages[0][0] == 1 and server.messages[0][0] == 2
    client_random, server_random = client.messages[0][6:38], server.messages[0][6:38]
    assert int.from_bytes(server.messages[0][4 + 34 + 1 + server.messages[0][38] :][:2], "big") == suite
    block = ks.key_block(backend, info, master, client_random, server_random)
    return Keys(info, master, client_random, server_random, block, client, server)


# --------------------------------------------------------------------------- the ssl module in memory


@dataclass
class MemorySession:
    client: ssl.SSLObject
    server: ssl.SSLObject
    c_in: ssl.MemoryBIO
    c_out: ssl.MemoryBIO
    s_in: ssl.MemoryBIO
    s_out: ssl.MemoryBIO
    c2s: bytearray = field(default_factory=bytearray)
    s2c: bytearray = field(default_factory=bytearray)

    def pump(self) -> None:
        """Move pending bytes both ways (recording them) until neither side has any."""
        while self.c_out.pending or self.s_out.pending:
            data = self.c_out.read()
            self.c2s += data
            self.s_in.write(data)
            data = self.s_out.read()
            self.s2c += data
            self.c_in.write(data)

    def step(self, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except ssl.SSLWantReadError:
            return None

    def read_all(self, obj: ssl.SSLObject) -> bytes:
        out = b""
        while True:
            try:
                chunk = obj.read(65536)
            except ssl.SSLWantReadError:
                return out
            if not chunk:
                return out
            out += chunk


def memory_session(pki: PKI, cipher: str, rsa: bool, keylog: Path) -> MemorySession:
    leaf = pki.server_rsa if rsa else pki.server_p256
    sctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    for ctx in (sctx, cctx):
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(cipher)
    sctx.load_cert_chain(leaf.cert_pem, leaf.key_pem)
    cctx.load_verify_locations(pki.ca_pem)
    cctx.keylog_filename = str(keylog)
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    session = MemorySession(
        cctx.wrap_bio(c_in, c_out, server_hostname="localhost"),
        sctx.wrap_bio(s_in, s_out, server_side=True),
        c_in, c_out, s_in, s_out,
    )
    done = {"client": False, "server": False}
    for _ in range(10):
        for name in ("client", "server"):
            if not done[name]:
                done[name] = session.step(getattr(session, name).do_handshake) is not None or bool(
                    getattr(session, name).version()
                )
            session.pump()
        if all(done.values()):
            break
    assert session.client.version() == session.server.version() == "TLSv1.2"
    assert session.client.cipher()[0] == cipher  # type: ignore[index]
    return session


MEMORY_SUITES = [
    (S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, False),
    (S.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, True),  # the SHA-384 PRF
    (S.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, False),
    (S.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, True),
    (S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM, False),
    (S.TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8, False),
]


@pytest.mark.parametrize(("suite", "rsa"), MEMORY_SUITES, ids=lambda v: getattr(v, "name", str(v)))
def test_ssl_module_session(backend: Any, pki: PKI, tmp_path: Path, suite: int, rsa: bool) -> None:
    info = TLS12_SUITES[suite]
    try:
        session = memory_session(pki, info.openssl_name, rsa, tmp_path / "keys.log")
    except ssl.SSLError as exc:
        pytest.skip(f"this OpenSSL does not negotiate {info.openssl_name}: {exc}")
    to_server = b"GET / from the OpenSSL client " * 1500  # 45 000 bytes: three records
    to_client = b"reply from the OpenSSL server"
    session.client.write(to_server)
    session.pump()
    assert session.read_all(session.server) == to_server
    session.server.write(to_client)
    session.pump()
    assert session.read_all(session.client) == to_client

    c2s, s2c = bytes(session.c2s), bytes(session.s2c)
    client_random = parse_direction(c2s).messages[0][6:38]
    keys = derive(backend, suite, c2s, s2c, keylog_master(tmp_path / "keys.log", client_random))
    # the wire: protected records carry their real type; GCM/CCM an explicit nonce = seq
    first = split_records(keys.client.protected)[0][1]
    assert first[0] == 22
    if info.explicit_nonce:
        # OpenSSL 3.0 does not send its sequence number there but a counter from a
        # random start (any unique value is allowed, RFC 5288 section 3): we take the
        # peer's explicit nonce from each record, never assume it.
        nonces = [int.from_bytes(r[5:13], "big") for _, r in split_records(keys.client.protected)]
        assert nonces == list(range(nonces[0], nonces[0] + len(nonces)))

    # client -> server: Finished, then the application data (through both paths)
    reader = keys.reader(backend, from_client=True)
    items, consumed = reader.open_records(keys.client.protected)
    assert [t for t, _ in items] == [22] and reader.sequence == 1
    client_finished = items[0][1]
    app = keys.client.protected[consumed:]
    plain, used, stop = keys.reader(backend, True, 1).open_application_data(app)
    assert (plain, used, stop) == (to_server, len(app), STOP_END)
    assert open_all(reader, app) == [(23, to_server[i : i + 16384]) for i in range(0, len(to_server), 16384)]
    # server -> client: its Finished, then the reply
    s_reader = keys.reader(backend, from_client=False)
    s_items = open_all(s_reader, keys.server.protected)
    assert s_items[0][0] == 22 and s_items[1:] == [(23, to_client)]
    keys.check_finished(backend, client_finished, s_items[0][1])

    # records ferrotls seals, read by OpenSSL: each direction, one and several records
    c_writer = keys.reader(backend, True, reader.sequence)
    sealed = b"sealed by ferrotls " * 2000
    session.s_in.write(c_writer.seal_record(23, b"one record"))
    session.s_in.write(c_writer.seal_record(23, sealed))
    assert session.read_all(session.server) == b"one record" + sealed
    s_writer = keys.reader(backend, False, s_reader.sequence)
    session.c_in.write(s_writer.seal_record(23, b"to the OpenSSL client"))
    assert session.read_all(session.client) == b"to the OpenSSL client"

    # OpenSSL's close_notify opens as a protected alert; ours closes OpenSSL's side cleanly
    session.step(session.server.unwrap)
    alert = session.s_out.read()
    assert s_reader.open_records(alert) == ([(21, b"\x01\x00")], len(alert))
    assert alert[0] == 21 and len(alert) == 5 + info.record_iv_len + 2 + info.tag_len
    session.s_in.write(c_writer.seal_record(21, b"\x01\x00"))
    session.server.unwrap()  # completes: the peer's close_notify authenticated


def test_ssl_module_rejects_a_tampered_record(backend: Any, pki: PKI, tmp_path: Path) -> None:
    """The flip side: a record with a wrong AAD field (sequence number or type) is refused
    by OpenSSL, so the accepted ones above prove the AAD, not just the cipher."""
    info = TLS12_SUITES[S.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256]
    session = memory_session(pki, info.openssl_name, False, tmp_path / "keys.log")
    c2s, s2c = bytes(session.c2s), bytes(session.s2c)
    client_random = parse_direction(c2s).messages[0][6:38]
    keys = derive(backend, info.suite, c2s, s2c, keylog_master(tmp_path / "keys.log", client_random))
    wrong_seq = keys.reader(backend, True, 2)  # OpenSSL expects 1 (0 was the Finished)
    session.s_in.write(wrong_seq.seal_record(23, b"replayed?"))
    with pytest.raises(ssl.SSLError, match="(?i)bad.record.mac|decryption failed"):
        session.read_all(session.server)


# --------------------------------------------------------------------------- the openssl CLI through a relay


class Relay:
    """Forwards one TCP connection 127.0.0.1:port -> 127.0.0.1:target, keeping every
    byte of each direction; ``inject`` sends extra bytes to the server."""

    def __init__(self, target: int) -> None:
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.target = target
        self.c2s = bytearray()
        self.s2c = bytearray()
        self.lock = threading.Lock()
        self.error: BaseException | None = None
        self._upstream: socket.socket | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="tls12-relay", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            down, _ = self.listener.accept()
            up = socket.create_connection((LOOPBACK, self.target), timeout=TIMEOUT)
            self._upstream = up
            with down, up:
                while not self._stop.is_set():
                    ready, _, _ = select.select([down, up], [], [], 0.1)
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        with self.lock:
                            (self.c2s if sock is down else self.s2c).extend(data)
                        (up if sock is down else down).sendall(data)
        except BaseException as exc:  # re-raised by the test
            self.error = exc

    def inject(self, data: bytes) -> None:
        assert self._upstream is not None
        self._upstream.sendall(data)

    def snapshot(self) -> tuple[bytes, bytes]:
        with self.lock:
            return bytes(self.c2s), bytes(self.s2c)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(TIMEOUT)
        self.listener.close()
        if self.error is not None:
            raise self.error


PSK = bytes(range(0x10, 0x30))
_ACCEPT = re.compile(rb"ACCEPT 127\.0\.0\.1:(\d+)")
_KEYMAT = re.compile(rb"Keying material: ([0-9A-F]+)")

CLI_SUITES = [
    S.TLS_PSK_WITH_AES_128_GCM_SHA256,
    S.TLS_PSK_WITH_AES_128_CCM_8,
    S.TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256,
]


def _wait(predicate: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.02)


@pytest.mark.parametrize("suite", CLI_SUITES, ids=lambda s: s.name)
def test_openssl_cli_psk_session(backend: Any, openssl_bin: str, tmp_path: Path, suite: int) -> None:
    info = TLS12_SUITES[suite]
    common = ["-tls1_2", "-cipher", f"{info.openssl_name}:@SECLEVEL=0", "-psk", PSK.hex()]
    keylog = tmp_path / "keys.log"
    label = b"EXPORTER-ferrotls-test"
    server = OpenSSLProcess(["s_server", "-accept", f"{LOOPBACK}:0", "-naccept", "1", "-nocert", *common])
    relay: Relay | None = None
    client: OpenSSLProcess | None = None
    try:
        relay = Relay(int(server.wait_for(_ACCEPT).group(1)))
        client = OpenSSLProcess([
            "s_client", "-connect", f"{LOOPBACK}:{relay.port}", *common, "-keylogfile", str(keylog),
            "-keymatexport", label.decode(), "-keymatexportlen", "42",
        ])
        exported = bytes.fromhex(client.wait_for(_KEYMAT).group(1).decode())
        client.write(b"ping from s_client\n")
        server.wait_for(b"ping from s_client")
        server.write(b"pong from s_server\n")
        client.wait_for(b"pong from s_server")
        c2s, s2c = relay.snapshot()
        client_random = parse_direction(c2s).messages[0][6:38]
        logged = keylog_master(keylog, client_random)
        keys = derive(backend, suite, c2s, s2c, logged)
        assert EXT_EXTENDED_MASTER_SECRET in server_hello_extensions(keys.server.messages[0])

        if info.kx == "PSK":
            # RFC 4279 pre-master secret and RFC 7627 session hash, from the wire alone
            # (ClientHello .. ClientKeyExchange: not the NewSessionTicket after it)
            session_hash = hashlib.new(info.hash_name, b"".join(keys.first_flights())).digest()
            pms = ks.psk_pre_master_secret(PSK)
            assert ks.extended_master_secret(backend, info, pms, session_hash) == logged
        assert ks.export_keying_material(
            backend, info, logged, keys.client_random, keys.server_random, label, None, 42
        ) == exported

        reader = keys.reader(backend, from_client=True)
        c_items = open_all(reader, keys.client.protected)
        assert [t for t, _ in c_items] == [22, 23] and c_items[1][1] == b"ping from s_client\n"
        s_reader = keys.reader(backend, from_client=False)
        s_items = open_all(s_reader, keys.server.protected)
        assert [t for t, _ in s_items] == [22, 23] and s_items[1][1] == b"pong from s_server\n"
        keys.check_finished(backend, c_items[0][1], s_items[0][1])

        # a record we seal, injected as the client's next one, is printed by s_server
        writer = keys.reader(backend, True, reader.sequence)
        relay.inject(writer.seal_record(23, b"injected by ferrotls\n"))
        server.wait_for(b"injected by ferrotls")
        # and s_server's next record (typed after ours) opens in order
        server.write(b"after the injection\n")
        _wait(lambda: bool(split_records(relay.snapshot()[1][len(s2c) :])), "s_server's next record")
        tail = relay.snapshot()[1][len(s2c) :]
        plain, used, stop = s_reader.open_application_data(tail)
        assert (plain, used, stop) == (b"after the injection\n", len(tail), STOP_END)
    finally:
        if client is not None:
            client.stop()
        server.stop()
        if relay is not None:
            relay.close()
