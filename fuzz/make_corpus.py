"""Write the seed corpora under fuzz/corpus/<target>/ from the deterministic recorded
handshake (tests/fuzz_targets.py), so they are byte-identical on every run.

    .venv/bin/python fuzz/make_corpus.py

Seeds: the real records and messages of a client-authenticated TLS 1.3 handshake
(ClientHello ... KeyUpdate), in the input format of each target; for the DTLS
connection targets, the datagrams of real DTLS 1.3 and DTLS 1.2 handshakes.
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import fuzz_targets as ft
from ferrotls.backend import load_backend
from ferrotls.messages import Writer, decode_handshake
from ferrotls.messages.extensions import encode_extensions
from ferrotls.messages.handshake import CertificateEntry


def seeds() -> dict[str, list[bytes]]:
    t = ft.transcript()
    out: dict[str, list[bytes]] = {name: [] for name in ft.TARGETS}
    # deframer: byte 0 = with/without keys, byte 1 = cut; then a real stream.
    for wire in (t.wire_to_client, t.wire_to_server):
        stream = b"".join(wire)
        out["deframer"] += [b"\x00\x05" + stream[:2000], b"\x01\x30" + stream[-600:]]
    handshake = [s.payload for s in (*t.to_client, *t.to_server) if s.content_type == ft.CT_HANDSHAKE]
    for message in handshake:
        out["handshake"].append(bytes((ft.HANDSHAKE_TYPES.index(message[0]),)) + message[4:])
        decoded = decode_handshake(message[0], message[4:])
        blocks = [getattr(decoded, "extensions", None)]
        blocks += [e.extensions for e in getattr(decoded, "certificate_list", ()) if isinstance(e, CertificateEntry)]
        for block in blocks:
            if block is None:
                continue
            w = Writer()
            encode_extensions(w, block)
            ctx = {1: "CH", 2: "SH", 8: "EE", 11: "CT", 13: "CR", 4: "NST"}.get(message[0], "CH")
            index = [c.name for c in ft.CONTEXTS].index(ctx)
            out["extensions"].append(bytes((index,)) + w.getvalue())
    # connection: every side and state, mode 3 (the real next record, then the rest)
    # and mode 1 (the real next record sealed alone).
    for side, steps in (("client", t.to_client), ("server", t.to_server)):
        flag = int(side == "client")
        for state, step in enumerate(steps):
            out["connection"].append(bytes((flag | 6, state, 0)) + step.payload)
            out["connection"].append(bytes((flag | 2, state, step.content_type)) + step.payload)
    # records (cargo fuzz open_records): byte 0 = AEAD + mode, byte 1 = sequence, byte 2 =
    # padding; mode 0 seeds are records sealed with the harness's fixed key and IV.
    backend = load_backend("python")
    out["records"] = []
    for alg, suite, key_len in ((0, 0x1301, 16), (1, 0x1302, 32), (2, 0x1303, 32)):
        for seq, content_type, data in ((0, 23, b"hello"), (1, 22, b"\x18\x00\x00\x01\x01"), (0, 21, b"\x01\x00")):
            sealer = backend.record_protector(suite, b"\x42" * key_len, b"\x24" * 12)
            for _ in range(seq):
                sealer.seal_record(23, b"")
            out["records"].append(bytes((alg, seq, 0)) + sealer.seal_record(content_type, data, 7))
        out["records"].append(bytes((alg + 3, 0, 5)) + b"GET / HTTP/1.1\r\n\r\n")
    # datagram: byte 0 = receiver (bit 0: DTLS 1.3, bit 1: CID), byte 1 = cut; then
    # datagrams of plaintext and protected records under the harness's fixed keys.
    out["datagram"] = []
    for flags in range(4):
        cid = ft.DATAGRAM_CID if flags & 2 else b""
        plain = bytes((22, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 3, 0, 4)) + b"\x01\x00\x00\x00"
        if flags & 1:
            sealers = [
                backend.dtls13_record_protector(0x1301, ft.DATAGRAM_KEY, ft.DATAGRAM_IV, ft.DATAGRAM_SN, e, connection_id=cid)
                for e in (2, 3)
            ]
            wire = sealers[0].seal_record(22, b"\x14" + bytes(35)) + sealers[1].seal_record(23, b"hello", 0, True, 8)
            wire += sealers[1].seal_record(26, bytes(18), 3, False)
        else:
            sealer = backend.dtls12_record_protector(0xC0AE, ft.DATAGRAM_KEY, ft.DATAGRAM_IV[:4], 1, connection_id=cid)
            wire = sealer.seal_record(22, b"\x14" + bytes(15)) + sealer.seal_record(23, b"hello")
        out["datagram"] += [bytes((flags, len(plain))) + plain + wire, bytes((flags, 0)) + wire + wire]
    # dtls_connection: byte 0 bit 0 = the real ClientHello first, byte 1 = cut
    out["dtls_connection"] = [
        b"\x00\xff" + ft.dtls_client_hello(),
        b"\x01\x00\x2e" + bytes(23),  # after the hello: an epoch-2 unified header of zeros
        b"\x01\x10" + bytes(range(64)),
    ]
    # dtls12_connection: byte 0 = flags (1: real ClientHello, 2: the rest of the real
    # handshake, 4: DTLS 1.3 too, 8: CIDs), byte 1 = cut; then real datagrams of it
    out["dtls12_connection"] = []
    for flags in (0, 1, 3, 5, 8, 9, 11, 15):
        flights = ft.dtls12_client_flights(bool(flags & 8), bool(flags & 4))
        if not flags & 1:
            out["dtls12_connection"].append(bytes((flags, 0xFF)) + flights[0])
        elif not flags & 2:
            out["dtls12_connection"].append(bytes((flags, len(flights[1]))) + flights[1] + flights[2])
        else:
            out["dtls12_connection"] += [bytes((flags, 0)) + flights[2], bytes((flags, 3)) + b"\x15\xfe\xfd" + bytes(20)]
    return out


def main() -> None:
    for name, items in seeds().items():
        folder = ROOT / "fuzz" / "corpus" / name
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for item in items:
            (folder / hashlib.sha1(item).hexdigest()).write_bytes(item)
        print(f"{name}: {len(items)} seeds, {sum(map(len, items))} bytes")


if __name__ == "__main__":
    main()
