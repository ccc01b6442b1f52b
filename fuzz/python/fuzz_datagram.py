"""atheris harness: fuzz_targets.target_datagram, the DTLS datagram framer (see tests/fuzz_targets.py)."""

from _common import run

if __name__ == "__main__":
    run("datagram")
