//! The native record opener (`core::record::RecordKey::open_records`) on arbitrary bytes.
//!
//! Input: byte 0 picks the AEAD (AES-128-GCM, AES-256-GCM, ChaCha20-Poly1305,
//! AES-128-CCM, AES-128-CCM-8), the mode and the record format (TLS 1.3, or TLS 1.2
//! with an explicit nonce for GCM/CCM and none for ChaCha20); byte 1 the starting
//! sequence number's low byte (0xff: 2**64 - 1, the last one).
//! Mode 0 opens the rest as received records.  Mode 1 seals the rest as plaintext with
//! padding from byte 2 first (TLS 1.3 only) and checks the round trip (and that a
//! flipped bit fails).
//! Invariants: no panic; `consumed` covers whole records; items lie in the scratch
//! buffer; a failed record consumes nothing and leaves the sequence number as it was;
//! `open_records_into` with `application_data_room` bytes never runs out of room.
#![no_main]

use _native::core::aead::Algorithm;
use _native::core::record::{Format, RecordKey, Stop, HEADER_LEN, MAX_PLAINTEXT};
use _native::core::Error;
use libfuzzer_sys::fuzz_target;

const KEY: [u8; 32] = [0x42; 32];
const IV: [u8; 12] = [0x24; 12];

fn new_key(alg: Algorithm, format: Format, seq: u128) -> RecordKey {
    RecordKey::with_format(alg, format, &KEY[..alg.key_len()], &IV[..format.iv_len()], seq).expect("valid key")
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 3 {
        return;
    }
    let alg = match data[0] % 5 {
        0 => Algorithm::Aes128Gcm,
        1 => Algorithm::Aes256Gcm,
        2 => Algorithm::ChaCha20Poly1305,
        3 => Algorithm::Aes128Ccm,
        _ => Algorithm::Aes128Ccm8,
    };
    let format = if (data[0] / 10) % 2 == 0 {
        Format::Tls13
    } else {
        Format::Tls12 { explicit_nonce: alg != Algorithm::ChaCha20Poly1305 }
    };
    let key = |seq| new_key(alg, format, seq);
    let seq: u128 = if data[1] == 0xff { u128::from(u64::MAX) } else { u128::from(data[1]) };
    let rest = &data[3..];
    if (data[0] / 5) % 2 == 0 {
        let k = key(seq);
        let mut scratch = Vec::new();
        let opened = k.open_records(rest, MAX_PLAINTEXT, &mut scratch);
        assert!(opened.consumed <= rest.len());
        let mut pos = 0;
        for &(content_type, start, end) in &opened.items {
            assert!(start <= end && end <= scratch.len());
            assert_ne!(content_type, 0);
            let len = usize::from(u16::from_be_bytes([rest[pos + 3], rest[pos + 4]]));
            pos += HEADER_LEN + len;
        }
        assert_eq!(pos, opened.consumed);
        assert_eq!(k.sequence(), seq + opened.items.len() as u128);
        if opened.error.is_some() && opened.items.is_empty() {
            assert_eq!(opened.consumed, 0);
        }
        // open_application_data's sizing: room for every complete record, never OutFull.
        let k = key(seq);
        let room = k.application_data_room(rest);
        assert!(room <= rest.len());
        let mut out = vec![0u8; room];
        if let Ok((consumed, written, stop)) = k.open_records_into(rest, MAX_PLAINTEXT, &mut out) {
            assert_ne!(stop, Stop::OutFull);
            assert!(consumed <= rest.len() && written <= room);
        }
    } else {
        let padding = if format == Format::Tls13 { i64::from(data[2] % 64) } else { 0 };
        let sealer = key(seq);
        let Ok(params) = sealer.seal_params(23, padding, MAX_PLAINTEXT as i64) else { return };
        let Ok(size) = sealer.sealed_size(&params, rest.len()) else { return };
        let mut wire = vec![0u8; size];
        match sealer.seal_records(&params, rest, &mut wire) {
            Ok(n) => assert_eq!(n, size),
            Err(Error::SequenceNumberExhausted) => return,
            Err(e) => panic!("seal failed: {e:?}"),
        }
        let opener = key(seq);
        let mut scratch = Vec::new();
        let opened = opener.open_records(&wire, MAX_PLAINTEXT, &mut scratch);
        assert_eq!(opened.error, None);
        assert_eq!(opened.consumed, wire.len());
        let content: Vec<u8> = opened.items.iter().flat_map(|&(_, s, e)| scratch[s..e].to_vec()).collect();
        assert_eq!(content, rest);
        let flip = usize::from(data[2]) % wire.len();
        let first = HEADER_LEN + usize::from(u16::from_be_bytes([wire[3], wire[4]]));
        if (HEADER_LEN..first).contains(&flip) {
            // a flip in the first record's body: it fails, nothing is opened
            wire[flip] ^= 1;
            let again = key(seq);
            let mut scratch = Vec::new();
            let opened = again.open_records(&wire, MAX_PLAINTEXT, &mut scratch);
            assert_eq!(opened.error, Some(Error::BadRecordMac));
            assert!(opened.items.is_empty());
            assert_eq!(again.sequence(), seq);
        }
    }
});
