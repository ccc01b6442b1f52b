"""RFC 8448 section 4, "Resumed 0-RTT Handshake" (TLS_AES_128_GCM_SHA256, x25519).

It resumes the session of section 3 (tests/vectors/rfc8448_simple.py: the
NewSessionTicket and the resumption master secret come from there).

Transcribed from RFC 8448 (January 2019), https://www.rfc-editor.org/rfc/rfc8448
section 4, as printed (whitespace removed by ``h``).  The hex was found through two
independent public transcriptions of the RFC text and agrees between them:
princeb612/hotplace ``test/tls/test_rfc8448_4.cpp`` (every record, key pair and
secret below) and Erlang/OTP ``tls_1_3_record_SUITE`` (the ClientHello, binder hash,
PRK and binder).  Checked when transcribed and on every run
(tests/test_rfc8448_resumption.py::test_transcription_*): the secrets reproduce with
pyca/cryptography's HKDF from the section 3 resumption secret and the trace's
messages, and every record opens with pyca/cryptography's AESGCM.  The plaintexts
of the protected records (EARLY_DATA, ENCRYPTED_EXTENSIONS, ...) were read by
decrypting the RFC's records with those keys.
"""

from __future__ import annotations


def h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


SUITE = 0x1301
HASH = "sha256"

# {client} create an ephemeral x25519 key pair
CLIENT_X25519_PRIVATE = h("""bf f9 11 88 28 38 46 dd 6a 21 34 ef 71
   80 ca 2b 0b 14 fb 10 dc e7 07 b5 09 8c 0d dd c8 13 b2 df""")
CLIENT_X25519_PUBLIC = h("""e4 ff b6 8a c0 5f 8d 96 c9 9d a2 66 98 34
   6c 6b e1 64 82 ba dd da fe 05 1a 66 b4 f1 8d 66 8f 0b""")
# {server} create an ephemeral x25519 key pair
SERVER_X25519_PRIVATE = h("""de 5b 44 76 e7 b4 90 b2 65 2d 33 8a cb
   f2 94 80 66 f2 55 f9 44 0e 23 b9 8f c6 98 35 29 8d c1 07""")
SERVER_X25519_PUBLIC = h("""12 17 61 ee 42 c3 33 e1 b9 e7 7b 60 dd 57
   c2 05 3c d9 45 12 ab 47 f1 15 e8 6e ff 50 94 2c ea 31""")

# {client} extract secret "early" (same for server)
RESUMPTION_PSK = h("""4e cd 0e b6 ec 3b 4d 87 f5 d6 02 8f 92 2c a4 c5
   85 1a 27 7f d4 13 11 c9 e6 2d 2c 94 92 e1 c4 f3""")
EARLY_SECRET = h("""9b 21 88 e9 b2 fc 6d 64 d7 1d c3 29 90 0e 20
   bb 41 91 50 00 f6 78 aa 83 9c bb 79 7c b7 d8 33 2c""")
# {client} calculate PSK binder
BINDER_HASH = h("""63 22 4b 2e 45 73 f2 d3 45 4c a8 4b 9d
   00 9a 04 f6 be 9e 05 71 1a 83 96 47 3a ef a0 1e 92 4a 14""")
BINDER_KEY = h("""69 fe 13 1a 3b ba d5 d6 3c 64 ee bc c3 0e 39 5b
   9d 81 07 72 6a 13 d0 74 e3 89 db c8 a4 e4 72 56""")
BINDER = h("""3a dd 4f b2 d8 fd f8 22 a0 ca 3c f7 67 8e
   f5 e8 8d ae 99 01 41 c5 92 4d 57 bb 6f a3 1b 9e 5f 9d""")

# {client} send handshake record: complete record (517 octets)
CLIENT_HELLO_RECORD = h("""16 03 01 02 00 01 00 01 fc 03 03 1b
   c3 ce b6 bb e3 9c ff 93 83 55 b5 a5 0a db 6d b2 1b 7a 6a f6 49
   d7 b4 bc 41 9d 78 76 48 7d 95 00 00 06 13 01 13 03 13 02 01 00
   01 cd 00 00 00 0b 00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01
   00 00 0a 00 14 00 12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02
   01 03 01 04 00 33 00 26 00 24 00 1d 00 20 e4 ff b6 8a c0 5f 8d
   96 c9 9d a2 66 98 34 6c 6b e1 64 82 ba dd da fe 05 1a 66 b4 f1
   8d 66 8f 0b 00 2a 00 00 00 2b 00 03 02 03 04 00 0d 00 20 00 1e
   04 03 05 03 06 03 02 03 08 04 08 05 08 06 04 01 05 01 06 01 02
   01 04 02 05 02 06 02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01
   00 15 00 57 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
   00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
   00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
   00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
   00 00 00 00 00 00 00 00 29 00 dd 00 b8 00 b2 2c 03 5d 82 93 59
   ee 5f f7 af 4e c9 00 00 00 00 26 2a 64 94 dc 48 6d 2c 8a 34 cb
   33 fa 90 bf 1b 00 70 ad 3c 49 88 83 c9 36 7c 09 a2 be 78 5a bc
   55 cd 22 60 97 a3 a9 82 11 72 83 f8 2a 03 a1 43 ef d3 ff 5d d3
   6d 64 e8 61 be 7f d6 1d 28 27 db 27 9c ce 14 50 77 d4 54 a3 66
   4d 4e 6d a4 d2 9e e0 37 25 a6 a4 da fc d0 fc 67 d2 ae a7 05 29
   51 3e 3d a2 67 7f a5 90 6c 5b 3f 7d 8f 92 f2 28 bd a4 0d da 72
   14 70 f9 fb f2 97 b5 ae a6 17 64 6f ac 5c 03 27 2e 97 07 27 c6
   21 a7 91 41 ef 5f 7d e6 50 5e 5b fb c3 88 e9 33 43 69 40 93 93
   4a e4 d3 57 fa d6 aa cb 00 21 20 3a dd 4f b2 d8 fd f8 22 a0 ca
   3c f7 67 8e f5 e8 8d ae 99 01 41 c5 92 4d 57 bb 6f a3 1b 9e 5f
   9d""")
CLIENT_HELLO = CLIENT_HELLO_RECORD[5:]

# {client} derive secret "tls13 c e traffic" / "tls13 e exp master"
CLIENT_EARLY_TRAFFIC = h("""3f bb e6 a6 0d eb 66 c3 0a 32 79 5a ba 0e
   ff 7e aa 10 10 55 86 e7 be 5c 09 67 8d 63 b6 ca ab 62""")
EARLY_EXPORTER_MASTER = h("""b2 02 68 66 61 09 37 d7 42 3e 5b e9 08 62
   cc f2 4c 0e 60 91 18 6d 34 f8 12 08 9f f5 be 2e f7 df""")
# {client} send application_data record (the early data)
EARLY_DATA_RECORD = h("""17 03 03 00 17 ab 1d f4 20 e7 5c 45
   7a 7c c5 d2 84 4f 76 d5 ae e4 b4 ed bf 04 9b e0""")
EARLY_DATA = h("41 42 43 44 45 46")

# {server} send handshake record: ServerHello (complete record, 101 octets)
SERVER_HELLO_RECORD = h("""16 03 03 00 60 02 00 00 5c 03 03 3c
   cf d2 de c8 90 22 27 63 47 2a e8 13 67 77 c9 d7 35 87 77 bb 66
   e9 1e a5 12 24 95 f5 59 ea 2d 00 13 01 00 00 34 00 29 00 02 00
   00 00 33 00 24 00 1d 00 20 12 17 61 ee 42 c3 33 e1 b9 e7 7b 60
   dd 57 c2 05 3c d9 45 12 ab 47 f1 15 e8 6e ff 50 94 2c ea 31 00
   2b 00 02 03 04""")
SERVER_RANDOM = SERVER_HELLO_RECORD[11:43]
CLIENT_RANDOM = CLIENT_HELLO[6:38]

CLIENT_HS_TRAFFIC = h("""2f aa c0 8f 85 1d 35 fe a3 60 4f cb 4d e8
   2d c6 2c 9b 16 4a 70 97 4d 04 62 e2 7f 1a b2 78 70 0f""")
SERVER_HS_TRAFFIC = h("""fe 92 7a e2 71 31 2e 8b f0 27 5b 58 1c 54
   ee f0 20 45 0d c4 ec ff aa 05 a1 a3 5d 27 51 8e 78 03""")
# {server} send handshake record: EncryptedExtensions + Finished
SERVER_HANDSHAKE_RECORD = h("""17 03 03 00 61 dc 48 23 7b 4b 87 9f
   50 d0 d4 d2 62 ea 8b 47 16 eb 40 dd c1 eb 95 7e 11 12 6e 8a 71
   49 c2 d0 12 d3 7a 71 15 95 7e 64 ce 30 00 8b 9e 03 23 f2 c0 5a
   9c 1c 77 b4 f3 78 49 a6 95 ab 25 50 60 a3 3f ee 77 0c a9 5c b8
   48 6b fd 08 43 b8 70 24 86 5c a3 5c c4 1c 4e 51 5c 64 dc b1 36
   9f 98 63 5b c7 a5""")
CLIENT_AP_TRAFFIC = h("""2a bb f2 b8 e3 81 d2 3d be be 1d d2 a7 d1
   6a 8b f4 84 cb 49 50 d2 3f b7 fb 7f a8 54 70 62 d9 a1""")
SERVER_AP_TRAFFIC = h("""cc 21 f1 bf 8f eb 7d d5 fa 50 5b d9 c4 b4
   68 a9 98 4d 55 4a 99 3d c4 9e 6d 28 55 98 fb 67 26 91""")
EXPORTER_MASTER = h("""3f d9 3d 4f fd dc 98 e6 4b 14 dd 10 7a ed
   f8 ee 4a dd 23 f4 51 0f 58 a4 59 2d 0b 20 1b ee 56 b4""")
# {client} send handshake record: EndOfEarlyData (under the early traffic key)
END_OF_EARLY_DATA_RECORD = h("""17 03 03 00 15 ac a6 fc 94 48 41 29
   8d f9 95 93 72 5f 9b f9 75 44 29 b1 2f 09""")
# {client} send handshake record: Finished
CLIENT_FINISHED_RECORD = h("""17 03 03 00 35 00 f8 b4 67 d1 4c f2
   2a 4b 3f 0b 6a e0 d8 e6 cc 8d 08 e0 db 35 15 ef 5c 2b df 19 22
   ea fb b7 00 09 96 47 16 d8 34 fb 70 c3 d2 a5 6c 5b 1f 5f 6b db
   a6 c3 33 cf""")
RESUMPTION_MASTER = h("""5e 95 bd f1 f8 90 05 ea 2e 9a a0 ba 85 e7
   28 e3 c1 9c 5f e0 c6 99 e3 f5 be e5 9f ae bd 0b 54 06""")
APPLICATION_PAYLOAD = bytes(range(50))
CLIENT_APPLICATION_RECORD = h("""17 03 03 00 43 b1 ce bc e2 42 aa 20
   1b e9 ae 5e 1c b2 a9 aa 4b 33 d4 e8 66 af 1e db 06 89 19 23 77
   41 aa 03 1d 7a 74 d4 91 c9 9b 9d 4e 23 2b 74 20 6b c6 fb aa 04
   fe 78 be 44 a9 b4 f5 43 20 a1 7e b7 69 92 af ac 31 03""")
SERVER_APPLICATION_RECORD = h("""17 03 03 00 43 27 5e 9f 20 ac ff 57
   bc 00 06 57 d3 86 7d f0 39 cc cf 79 04 78 84 cf 75 77 17 46 f7
   40 b5 a8 3f 46 2a 09 54 c3 58 13 93 a2 03 a2 5a 7d d1 41 41 ef
   1a 37 90 0c db 62 ff 62 de e1 ba 39 ab 25 90 cb f1 94""")
CLIENT_ALERT_RECORD = h("""17 03 03 00 13 0f ac ce 32 46 bd fc
   63 69 83 8d 6a 82 ae 6d e5 d4 22 dc""")
SERVER_ALERT_RECORD = h("""17 03 03 00 13 5b 18 af 44 4e 8e 1e
   ec 71 58 fb 62 d8 f2 57 7d 37 ba 5d""")
# {server} construct an EncryptedExtensions handshake message (inside SERVER_HANDSHAKE_RECORD)
ENCRYPTED_EXTENSIONS = h("""08 00 00 28 00 26 00 0a 00 14 00 12 00 1d 00
   17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 1c 00 02 40 01
   00 00 00 00 00 2a 00 00""")
