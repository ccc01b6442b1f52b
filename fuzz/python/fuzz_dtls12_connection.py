"""atheris harness: fuzz_targets.target_dtls12_connection, the DTLS 1.2 server's datagram receiver."""

from _common import run

if __name__ == "__main__":
    run("dtls12_connection")
