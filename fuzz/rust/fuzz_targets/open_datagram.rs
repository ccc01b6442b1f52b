//! The native DTLS opener (`core::dtls::DtlsKey::open_datagram`) on arbitrary datagrams.
//!
//! Input: byte 0 picks the version and AEAD (DTLS 1.3 with AES-128-GCM, AES-256-GCM,
//! ChaCha20-Poly1305, AES-128-CCM_8; DTLS 1.2 with AES-128-GCM, ChaCha20-Poly1305,
//! AES-128-CCM_8), whether a connection ID is configured, and the mode; byte 1 the
//! epoch.  Mode 0 opens the rest as a received datagram, twice.  Mode 1 seals the
//! rest as one record (header form from byte 1) and checks it opens once, then
//! counts as a replay, and that a flipped bit is dropped.
//! Invariants: no panic; `consumed` never exceeds the datagram; every item lies in
//! the scratch buffer; the second open of the same datagram opens nothing (each
//! record is a replay or was invalid the first time).
#![no_main]

use _native::core::aead::Algorithm;
use _native::core::dtls::DtlsKey;
use _native::core::record::MAX_PLAINTEXT;
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [0x42; 32];
const IV: [u8; 12] = [0x24; 12];
const SN: [u8; 32] = [0x5a; 32];
const CID: [u8; 3] = [0xc1, 0xd2, 0xe3];

fn new_key(pick: u8, epoch: u64, cid: &[u8], seq: u64) -> DtlsKey {
    match pick % 7 {
        0..=3 => {
            let alg = [Algorithm::Aes128Gcm, Algorithm::Aes256Gcm, Algorithm::ChaCha20Poly1305, Algorithm::Aes128Ccm8]
                [usize::from(pick % 7)];
            DtlsKey::dtls13(alg, &KEY[..alg.key_len()], &IV, &SN[..alg.key_len()], epoch, seq, cid).expect("valid key")
        }
        p => {
            let (suite, iv_len) = [(0xC02Bi64, 4), (0xCCA8, 12), (0xC0AE, 4)][usize::from(p - 4)];
            let key_len = if suite == 0xCCA8 { 32 } else { 16 };
            DtlsKey::dtls12(suite, &KEY[..key_len], &IV[..iv_len], epoch & 0xffff, seq, cid).expect("valid key")
        }
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let pick = data[0] % 7;
    let cid: &[u8] = if (data[0] / 7) % 2 == 1 { &CID } else { &[] };
    let epoch = u64::from(data[1] % 8);
    let rest = &data[2..];
    if (data[0] / 14) % 2 == 0 {
        let k = new_key(pick, epoch, cid, 0);
        let mut scratch = Vec::new();
        let opened = k.open_datagram(rest, MAX_PLAINTEXT, &mut scratch);
        assert!(opened.consumed <= rest.len());
        for item in &opened.items {
            assert!(item.start <= item.end && item.end <= scratch.len());
            assert!(item.seq < 1 << 48);
        }
        let mut again = Vec::new();
        let second = k.open_datagram(rest, MAX_PLAINTEXT, &mut again);
        assert!(second.items.is_empty(), "a datagram opened twice");
        assert_eq!(second.consumed, opened.consumed);
    } else {
        let sealer = new_key(pick, epoch, cid, u64::from(data[1]));
        let length_field = data[1] & 0x40 == 0 || pick >= 4;
        let bits = if data[1] & 0x80 != 0 && pick < 4 { 8 } else { 16 };
        let Ok(p) = sealer.seal_params(22, 0, length_field, bits) else { return };
        let Ok(size) = sealer.sealed_size(&p, rest.len()) else { return };
        let mut wire = vec![0u8; size];
        assert_eq!(sealer.seal_record(&p, rest, &mut wire), Ok(size));
        let opener = new_key(pick, epoch, cid, 0);
        let mut scratch = Vec::new();
        let opened = opener.open_datagram(&wire, MAX_PLAINTEXT, &mut scratch);
        assert_eq!(opened.items.len(), 1, "a sealed record opens");
        let item = opened.items[0];
        assert_eq!(&scratch[item.start..item.end], rest);
        assert_eq!(opener.open_datagram(&wire, MAX_PLAINTEXT, &mut scratch).dropped.replayed, 1);
        let mut bad = wire.clone();
        let at = usize::from(data[1]) % bad.len();
        bad[at] ^= 1;
        let fresh = new_key(pick, epoch, cid, 0);
        assert!(fresh.open_datagram(&bad, MAX_PLAINTEXT, &mut scratch).items.is_empty(), "a flipped bit at {at}");
    }
});
