//! DTLS record protection: DTLS 1.3 (RFC 9147 section 4) and DTLS 1.2 (RFC 6347
//! section 4.1, with RFC 9146 connection IDs), one epoch and one direction per
//! [`DtlsKey`].
//!
//! The record body is the TLS one: [`RecordKey`] with [`Format::Dtls13`] or
//! [`Format::Dtls12`] seals and opens it ([`RecordKey::seal_body`],
//! [`RecordKey::open_body`], the same routines the TLS formats use).  What this
//! module adds is what datagrams need:
//!
//! * the headers: the DTLS 1.3 unified header `0b001CSLEE` (connection ID,
//!   8- or 16-bit sequence number, optional length, low epoch bits) with record
//!   number encryption (section 4.2.3: the sequence number bytes XOR a mask of
//!   AES-ECB(sn_key, ciphertext[0..16]) or ChaCha20(sn_key, counter =
//!   ciphertext[0..4], nonce = ciphertext[4..16]), computed with ring's QUIC
//!   header-protection keys, which are exactly these two functions), and the
//!   13-byte DTLS 1.2 header (with the connection ID of RFC 9146 for tls12_cid
//!   records);
//! * the full 48-bit sequence number, rebuilt from its low 8 or 16 bits as the
//!   value closest to the next expected one (section 4.2.2);
//! * a sliding replay window of [`REPLAY_WINDOW`] records (section 4.5.1, RFC
//!   6347 section 4.1.2.6): a number is marked only after its record
//!   authenticated;
//! * batch opening of every record of a datagram, where invalid records are
//!   dropped and counted, never raised (section 4.5.2).
//!
//! The additional data of a DTLS 1.3 record is its unified header as sent but
//! with the sequence number *before* record number encryption (section 4: "the
//! entire header value ... but prior to record number encryption").  Sealing
//! encrypts the body first and then masks the header's sequence number with the
//! body's first 16 bytes; opening unmasks first.

use std::sync::Mutex;

use ring::aead::quic::{self as hp, HeaderProtectionKey};

use super::aead::Algorithm;
use super::record::{tls12_aad, tls12_suite, write_inner, Format, RecordKey, CONTENT_TYPE_APPLICATION_DATA, MAX_PLAINTEXT};
use super::{invalid, Error, Result};

/// DTLS sequence numbers are 48-bit: 0 ..= 2**48 - 1.
pub const SEQ_LIMIT: u64 = 1 << 48;
/// Records the replay window covers below the highest one received.
pub const REPLAY_WINDOW: u64 = 128;
/// type (1) || version (2) || epoch (2) || sequence_number (6) || length (2).
pub const DTLS12_HEADER_LEN: usize = 13;
/// ProtocolVersion of DTLS 1.2 records ({254, 253}).
pub const DTLS12_VERSION: [u8; 2] = [0xfe, 0xfd];
/// RFC 9146 content type of a DTLS 1.2 record carrying a connection ID.
pub const CONTENT_TYPE_TLS12_CID: u8 = 25;
/// Longest connection ID (RFC 9146 / RFC 9147: opaque cid<0..2^8-1>).
pub const MAX_CID_LEN: usize = 255;
/// Bytes of ciphertext the record number mask is computed from; shorter records are invalid.
pub const RNE_SAMPLE_LEN: usize = 16;
const UNIFIED_C: u8 = 0x10;
const UNIFIED_S: u8 = 0x08;
const UNIFIED_L: u8 = 0x04;
/// Longest unified header: first byte, CID, 16-bit sequence number, length.
const MAX_UNIFIED_HEADER: usize = 1 + MAX_CID_LEN + 2 + 2;

/// The replay window of one epoch: `top` is one more than the highest sequence
/// number accepted (0: none yet), bit `i` of `bits` says whether `top - 1 - i` was.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    top: u64,
    bits: u128,
}

impl ReplayWindow {
    pub const fn new() -> Self {
        Self { top: 0, bits: 0 }
    }

    /// One more than the highest sequence number accepted: the number the next
    /// record is expected to carry (reconstruction aims at it).
    pub fn next_expected(&self) -> u64 {
        self.top
    }

    /// Whether `seq` may still be accepted: above everything seen, or inside the
    /// window and not seen yet.
    pub fn is_fresh(&self, seq: u64) -> bool {
        if seq >= self.top {
            return true;
        }
        let behind = self.top - 1 - seq;
        behind < REPLAY_WINDOW && (self.bits >> behind) & 1 == 0
    }

    /// Record `seq` as accepted (after its record authenticated).
    pub fn mark(&mut self, seq: u64) {
        if seq >= self.top {
            let shift = seq + 1 - self.top;
            self.bits = if shift >= REPLAY_WINDOW { 0 } else { self.bits << shift };
            self.bits |= 1;
            self.top = seq + 1;
        } else {
            let behind = self.top - 1 - seq;
            if behind < REPLAY_WINDOW {
                self.bits |= 1u128 << behind;
            }
        }
    }
}

/// The full sequence number whose low `bits` bits are `low`, closest to
/// `expected` (RFC 9147 section 4.2.2), in the QUIC manner of RFC 9000 appendix
/// A.3: the result lies in `(expected - 2**(bits-1), expected + 2**(bits-1)]`
/// where the 48-bit space allows.  None past 2**48 - 1.
pub fn reconstruct_sequence(expected: u64, low: u64, bits: u32) -> Option<u64> {
    let win = 1u64 << bits;
    let half = win / 2;
    let candidate = (expected & !(win - 1)) | (low & (win - 1));
    let seq = if candidate + half <= expected && candidate + win < SEQ_LIMIT {
        candidate + win
    } else if candidate > expected + half && candidate >= win {
        candidate - win
    } else {
        candidate
    };
    (seq < SEQ_LIMIT).then_some(seq)
}

/// Records dropped by one [`DtlsKey::open_datagram`] call, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dropped {
    /// Malformed: a bad header (the rest of the datagram when its length cannot
    /// be trusted), another connection ID, a version other than DTLS 1.2's, a
    /// length over the limit, a plaintext over `max_plaintext`, an inner
    /// plaintext without a content type, a sequence number out of range.
    pub invalid: u32,
    /// Failed authentication, or too short to authenticate (or to mask).
    pub unauthentic: u32,
    /// A sequence number already received, or older than the window.
    pub replayed: u32,
}

impl Dropped {
    pub fn total(&self) -> u32 {
        self.invalid + self.unauthentic + self.replayed
    }
}

/// One authenticated record: its 48-bit sequence number, content type, and
/// content at `start..end` of the scratch buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Item {
    pub seq: u64,
    pub content_type: u8,
    pub start: usize,
    pub end: usize,
}

/// Result of [`DtlsKey::open_datagram`].
#[derive(Debug, Default)]
pub struct Opened {
    pub items: Vec<Item>,
    /// Bytes of the datagram processed (opened or dropped); a record after them
    /// belongs to another epoch or is a plaintext record, for the caller.
    pub consumed: usize,
    pub dropped: Dropped,
}

/// Validated arguments of a DTLS seal (see [`DtlsKey::seal_params`]).
#[derive(Debug, Clone, Copy)]
pub struct DtlsSeal {
    content_type: u8,
    padding: usize,
    length_field: bool,
    seq16: bool,
}

/// What the header at the start of the rest of a datagram says.
enum Header {
    /// A record for another protector (another epoch, or a plaintext record): stop.
    Foreign,
    /// The framing cannot be trusted: the rest of the datagram is dropped.
    Garbled,
    /// A record of `len` bytes that is invalid: dropped, the next one follows.
    Invalid(usize),
    /// A record of `len` bytes (header included) whose header is `hlen` bytes;
    /// for DTLS 1.3 the sequence number is `seq_len` bytes at `seq_at`.
    Record { len: usize, hlen: usize, seq_at: usize, seq_len: usize },
}

/// One epoch and one direction of DTLS record protection.
pub struct DtlsKey {
    key: RecordKey,
    epoch: u64,
    /// The record number key (DTLS 1.3); None for DTLS 1.2.
    sn: Option<HeaderProtectionKey>,
    /// The connection ID written into sealed records, or expected in opened ones
    /// (empty: none).
    cid: Vec<u8>,
    window: Mutex<ReplayWindow>,
}

impl core::fmt::Debug for DtlsKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DtlsKey")
            .field("alg", &self.key.algorithm())
            .field("format", &self.key.format())
            .field("epoch", &self.epoch)
            .field("cid_len", &self.cid.len())
            .finish_non_exhaustive()
    }
}

fn sn_algorithm(alg: Algorithm) -> &'static hp::Algorithm {
    match alg {
        Algorithm::Aes128Gcm | Algorithm::Aes128Ccm | Algorithm::Aes128Ccm8 => &hp::AES_128,
        Algorithm::Aes256Gcm => &hp::AES_256,
        Algorithm::ChaCha20Poly1305 => &hp::CHACHA20,
    }
}

fn check_cid(cid: &[u8]) -> Result<()> {
    if cid.len() > MAX_CID_LEN {
        return invalid(format!("connection_id must be at most {MAX_CID_LEN} bytes, got {}", cid.len()));
    }
    Ok(())
}

fn check_sequence(sequence: u64) -> Result<()> {
    if sequence >= SEQ_LIMIT {
        return invalid("sequence must be in 0..2**48 - 1");
    }
    Ok(())
}

impl DtlsKey {
    /// A DTLS 1.3 key for TLS 1.3 cipher suite `alg`: `key` and `iv` as in TLS 1.3,
    /// `sn_key` the record number key (HKDF-Expand-Label(secret, "sn", "",
    /// key_length)), `epoch` the full epoch, `sequence` the first number to send.
    pub fn dtls13(alg: Algorithm, key: &[u8], iv: &[u8], sn_key: &[u8], epoch: u64, sequence: u64, cid: &[u8]) -> Result<Self> {
        check_sequence(sequence)?;
        check_cid(cid)?;
        let record = RecordKey::with_format(alg, Format::Dtls13, key, iv, u128::from(sequence))?;
        if sn_key.len() != alg.key_len() {
            return invalid(format!("sn_key must be {} bytes, got {}", alg.key_len(), sn_key.len()));
        }
        let sn = HeaderProtectionKey::new(sn_algorithm(alg), sn_key).map_err(|_| Error::Internal("sn key setup failed"))?;
        Ok(Self { key: record, epoch, sn: Some(sn), cid: cid.to_vec(), window: Mutex::new(ReplayWindow::new()) })
    }

    /// A DTLS 1.2 key for TLS 1.2 cipher suite `suite` (the AEAD suites of
    /// `record::tls12_suite`): `iv` is the 4-byte salt or the 12-byte ChaCha20 IV,
    /// `epoch` 0..=65535.  A non-empty `cid` selects the RFC 9146 tls12_cid format.
    pub fn dtls12(suite: i64, key: &[u8], iv: &[u8], epoch: u64, sequence: u64, cid: &[u8]) -> Result<Self> {
        check_sequence(sequence)?;
        check_cid(cid)?;
        if epoch > 0xffff {
            return invalid(format!("DTLS 1.2 epoch must be in 0..65535, got {epoch}"));
        }
        let (alg, format) = tls12_suite(suite)?;
        let explicit_nonce = format.explicit_len() > 0;
        let format = Format::Dtls12 { explicit_nonce, cid: !cid.is_empty() };
        let record = RecordKey::with_format(alg, format, key, iv, u128::from(sequence))?;
        Ok(Self { key: record, epoch, sn: None, cid: cid.to_vec(), window: Mutex::new(ReplayWindow::new()) })
    }

    /// Refuse application data past sequence number `limit` (see `RecordKey::with_data_limit`).
    pub fn with_data_limit(mut self, limit: u128) -> Result<Self> {
        self.key = self.key.with_data_limit(limit)?;
        Ok(self)
    }

    pub fn algorithm(&self) -> Algorithm {
        self.key.algorithm()
    }

    pub fn format(&self) -> Format {
        self.key.format()
    }

    pub fn is_dtls13(&self) -> bool {
        self.sn.is_some()
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn connection_id(&self) -> &[u8] {
        &self.cid
    }

    pub fn data_limit(&self) -> u128 {
        self.key.data_limit()
    }

    /// The sequence number the next sealed record will use.
    pub fn sequence(&self) -> u128 {
        self.key.sequence()
    }

    /// One more than the highest sequence number opened (0: none yet).
    pub fn next_expected(&self) -> u64 {
        self.window.lock().unwrap_or_else(|e| e.into_inner()).next_expected()
    }

    /// The first two bytes of the record number mask for the 16-byte `sample`
    /// (the start of a record's ciphertext); DTLS 1.3 only.
    pub fn record_number_mask(&self, sample: &[u8]) -> Result<[u8; 2]> {
        let Some(sn) = &self.sn else {
            return invalid("DTLS 1.2 has no record number encryption");
        };
        if sample.len() != RNE_SAMPLE_LEN {
            return invalid(format!("sample must be {RNE_SAMPLE_LEN} bytes, got {}", sample.len()));
        }
        let m = sn.new_mask(sample).map_err(|_| Error::Internal("record number mask failed"))?;
        Ok([m[0], m[1]])
    }

    /// Check the arguments of a seal: content type and padding as the record
    /// format allows (DTLS 1.3 and DTLS 1.2 with a CID: type 1..255, any padding;
    /// DTLS 1.2: 20..23, no padding); `length_field` (DTLS 1.2 always has one) and
    /// `sequence_bits` (16, or 8 for DTLS 1.3).
    pub fn seal_params(&self, content_type: i64, padding: i64, length_field: bool, sequence_bits: i64) -> Result<DtlsSeal> {
        let p = self.key.seal_params(content_type, padding, MAX_PLAINTEXT as i64)?;
        let seq16 = match sequence_bits {
            16 => true,
            8 if self.is_dtls13() => false,
            _ if self.is_dtls13() => return invalid(format!("sequence_bits must be 8 or 16, got {sequence_bits}")),
            _ => return invalid(format!("DTLS 1.2 sequence numbers are 48-bit: sequence_bits must be 16, got {sequence_bits}")),
        };
        if !length_field && !self.is_dtls13() {
            return invalid("DTLS 1.2 records always carry their length: length_field must be true");
        }
        Ok(DtlsSeal { content_type: p.content_type, padding: p.padding, length_field, seq16 })
    }

    fn header_len(&self, p: &DtlsSeal) -> usize {
        if self.is_dtls13() {
            let cid = if self.cid.is_empty() { 0 } else { self.cid.len() };
            1 + cid + if p.seq16 { 2 } else { 1 } + if p.length_field { 2 } else { 0 }
        } else {
            DTLS12_HEADER_LEN + self.cid.len()
        }
    }

    /// The padding a record of `len` content bytes gets: the requested padding,
    /// raised for DTLS 1.3 so that the ciphertext has the 16 bytes record number
    /// encryption samples (section 4.2.3: "Senders MUST pad short plaintexts").
    fn padding_for(&self, p: &DtlsSeal, len: usize) -> usize {
        let body = len + 1 + p.padding + self.key.tag_len();
        if self.is_dtls13() && body < RNE_SAMPLE_LEN {
            p.padding + RNE_SAMPLE_LEN - body
        } else {
            p.padding
        }
    }

    /// Bytes [`Self::seal_record`] writes for `len` content bytes; Invalid when
    /// content and padding exceed 2**14 (one record: DTLS does not split a write).
    pub fn sealed_size(&self, p: &DtlsSeal, len: usize) -> Result<usize> {
        if len + p.padding > MAX_PLAINTEXT {
            return invalid(format!(
                "a DTLS record holds at most {MAX_PLAINTEXT} bytes of content and padding, got {}",
                len + p.padding
            ));
        }
        let padding = self.padding_for(p, len);
        Ok(self.header_len(p) + len + self.key.format().overhead(padding, self.key.tag_len()))
    }

    /// Seal `data` as one record into `out` (at least `sealed_size` bytes, not
    /// overlapping `data`); returns the bytes written.  Errors: Invalid (size),
    /// KeyLimitReached (application data past the data limit, nothing reserved),
    /// SequenceNumberExhausted (sequence number 2**48).
    pub fn seal_record(&self, p: &DtlsSeal, data: &[u8], out: &mut [u8]) -> Result<usize> {
        let total = self.sealed_size(p, data.len())?;
        if out.len() < total {
            return invalid(format!("output buffer too small: need {total} bytes, got {}", out.len()));
        }
        if p.content_type == CONTENT_TYPE_APPLICATION_DATA
            && self.key.data_limit() < 1u128 << 64
            && self.key.sequence() + 1 > self.key.data_limit()
        {
            return Err(Error::KeyLimitReached);
        }
        let seq = self.key.sequence_counter().reserve_below(1, SEQ_LIMIT)?;
        let padding = self.padding_for(p, data.len());
        let tag_len = self.key.tag_len();
        let hlen = self.header_len(p);
        let format = self.key.format();
        let explicit = format.explicit_len();
        let rec = &mut out[..total];
        let (header, body) = rec.split_at_mut(hlen);
        let body_len = body.len();
        let (nonce_explicit, rest) = body.split_at_mut(explicit);
        let (inner, tag_out) = rest.split_at_mut(rest.len() - tag_len);
        let inner_type = if format.inner_plaintext() { p.content_type } else { 0 };
        debug_assert_eq!(inner.len(), data.len() + if format.inner_plaintext() { 1 + padding } else { 0 });
        write_inner(format, inner, data, inner_type);
        match &self.sn {
            Some(sn) => {
                // The unified header: 0b001CSLEE || cid || seq (8/16 bit) || length.
                let c = if self.cid.is_empty() { 0 } else { UNIFIED_C };
                let s = if p.seq16 { UNIFIED_S } else { 0 };
                let l = if p.length_field { UNIFIED_L } else { 0 };
                header[0] = 0x20 | c | s | l | (self.epoch & 3) as u8;
                let seq_at = 1 + self.cid.len();
                header[1..seq_at].copy_from_slice(&self.cid);
                let seq_len = if p.seq16 { 2 } else { 1 };
                header[seq_at..seq_at + seq_len].copy_from_slice(&seq.to_be_bytes()[8 - seq_len..]);
                if p.length_field {
                    header[seq_at + seq_len..].copy_from_slice(&(body_len as u16).to_be_bytes());
                }
                // AAD = the header with the plaintext sequence number; then mask it.
                self.key.seal_body(seq, header, inner, tag_out)?;
                let mask = sn.new_mask(&body[..RNE_SAMPLE_LEN]).map_err(|_| Error::Internal("record number mask failed"))?;
                for (b, m) in header[seq_at..seq_at + seq_len].iter_mut().zip(mask) {
                    *b ^= m;
                }
            }
            None => {
                let seq64 = (self.epoch << 48) | seq;
                header[1..3].copy_from_slice(&DTLS12_VERSION);
                header[3..11].copy_from_slice(&seq64.to_be_bytes());
                let len_at = hlen - 2;
                header[11..len_at].copy_from_slice(&self.cid);
                header[len_at..].copy_from_slice(&(body_len as u16).to_be_bytes());
                // nonce_explicit = epoch || seq: the nonce is salt || it = iv XOR it.
                nonce_explicit.copy_from_slice(&seq64.to_be_bytes()[..explicit]);
                if format.inner_plaintext() {
                    header[0] = CONTENT_TYPE_TLS12_CID;
                    let (aad, n) = self.cid_aad(header, inner.len());
                    self.key.seal_body(seq64, &aad[..n], inner, tag_out)?;
                } else {
                    header[0] = p.content_type;
                    let aad = tls12_aad(seq64, header, inner.len());
                    self.key.seal_body(seq64, &aad, inner, tag_out)?;
                }
            }
        }
        Ok(total)
    }

    /// The RFC 9146 section 5 additional data of a tls12_cid record with header
    /// `header` (type, version, epoch, sequence number, cid, length) and an inner
    /// plaintext of `inner_len` bytes: seq_num_placeholder (8 x 0xff) || tls12_cid
    /// || cid_length || tls12_cid || version || epoch || sequence_number || cid ||
    /// length_of_DTLSInnerPlaintext.
    fn cid_aad(&self, header: &[u8], inner_len: usize) -> ([u8; 8 + 3 + 10 + MAX_CID_LEN + 2], usize) {
        let mut aad = [0u8; 8 + 3 + 10 + MAX_CID_LEN + 2];
        let cid = &self.cid;
        aad[..8].fill(0xff);
        aad[8] = CONTENT_TYPE_TLS12_CID;
        aad[9] = cid.len() as u8;
        aad[10] = CONTENT_TYPE_TLS12_CID;
        aad[11..21].copy_from_slice(&header[1..11]); // version, epoch, sequence number
        aad[21..21 + cid.len()].copy_from_slice(cid);
        let n = 21 + cid.len();
        aad[n..n + 2].copy_from_slice(&(inner_len as u16).to_be_bytes());
        (aad, n + 2)
    }

    /// Parse the DTLS 1.3 header at the start of `rest`.
    fn header13(&self, rest: &[u8]) -> Header {
        let b0 = rest[0];
        if b0 & 0xe0 != 0x20 || u64::from(b0 & 3) != self.epoch & 3 {
            return Header::Foreign;
        }
        let has_cid = b0 & UNIFIED_C != 0;
        if has_cid == self.cid.is_empty() {
            // Without the negotiated CID length the framing is lost; a record
            // that lacks the negotiated CID is not ours to open either way.
            return Header::Garbled;
        }
        let seq_at = 1 + self.cid.len();
        let seq_len = if b0 & UNIFIED_S != 0 { 2 } else { 1 };
        let hlen = seq_at + seq_len + if b0 & UNIFIED_L != 0 { 2 } else { 0 };
        if rest.len() < hlen {
            return Header::Garbled;
        }
        let len = if b0 & UNIFIED_L != 0 {
            let body = usize::from(u16::from_be_bytes([rest[hlen - 2], rest[hlen - 1]]));
            if hlen + body > rest.len() {
                return Header::Garbled;
            }
            hlen + body
        } else {
            rest.len()
        };
        if rest[1..seq_at] != self.cid[..] {
            return Header::Invalid(len);
        }
        if len - hlen > self.key.format().max_ciphertext() {
            return Header::Invalid(len);
        }
        Header::Record { len, hlen, seq_at, seq_len }
    }

    /// Parse the DTLS 1.2 header at the start of `rest`.
    fn header12(&self, rest: &[u8]) -> Header {
        if rest.len() < DTLS12_HEADER_LEN {
            return Header::Garbled;
        }
        if u64::from(u16::from_be_bytes([rest[3], rest[4]])) != self.epoch {
            return Header::Foreign;
        }
        let is_cid = rest[0] == CONTENT_TYPE_TLS12_CID;
        let hlen = DTLS12_HEADER_LEN + if is_cid { self.cid.len() } else { 0 };
        if rest.len() < hlen {
            return Header::Garbled;
        }
        let len = hlen + usize::from(u16::from_be_bytes([rest[hlen - 2], rest[hlen - 1]]));
        if len > rest.len() {
            return Header::Garbled;
        }
        let type_ok = if self.cid.is_empty() {
            (20..=23).contains(&rest[0])
        } else {
            // RFC 9146 section 6: with a CID negotiated, a record without one is invalid.
            is_cid && rest[11..hlen - 2] == self.cid[..]
        };
        if !type_ok || rest[1..3] != DTLS12_VERSION || len - hlen > self.key.format().max_ciphertext() {
            return Header::Invalid(len);
        }
        Header::Record { len, hlen, seq_at: 5, seq_len: 6 }
    }

    /// Open every record at the start of `data` (one datagram) that belongs to
    /// this key: DTLS 1.3 records whose epoch bits match, DTLS 1.2 records of this
    /// epoch.  Stops before a record of another epoch or a plaintext record
    /// (`consumed` says where).  Records that fail are dropped and counted, never
    /// raised.  Contents are appended to `scratch`.
    pub fn open_datagram(&self, data: &[u8], max_plaintext: usize, scratch: &mut Vec<u8>) -> Opened {
        let mut res = Opened::default();
        let mut window = self.window.lock().unwrap_or_else(|e| e.into_inner());
        let mut pos = 0;
        while pos < data.len() {
            let rest = &data[pos..];
            let header = if self.is_dtls13() { self.header13(rest) } else { self.header12(rest) };
            let (len, hlen, seq_at, seq_len) = match header {
                Header::Foreign => break,
                Header::Garbled => {
                    res.dropped.invalid += 1;
                    pos = data.len();
                    break;
                }
                Header::Invalid(len) => {
                    res.dropped.invalid += 1;
                    pos += len;
                    continue;
                }
                Header::Record { len, hlen, seq_at, seq_len } => (len, hlen, seq_at, seq_len),
            };
            pos += len;
            let rec = &rest[..len];
            match self.open_one(rec, hlen, seq_at, seq_len, &mut window, max_plaintext, scratch) {
                Ok(item) => res.items.push(item),
                Err(Reason::Unauthentic) => res.dropped.unauthentic += 1,
                Err(Reason::Replayed) => res.dropped.replayed += 1,
                Err(Reason::Invalid) => res.dropped.invalid += 1,
            }
        }
        res.consumed = pos;
        res
    }

    /// Open one complete record `rec`: unmask and rebuild the sequence number
    /// (DTLS 1.3), check the window, authenticate and decrypt into `scratch`,
    /// mark the window.
    #[allow(clippy::too_many_arguments)]
    fn open_one(
        &self,
        rec: &[u8],
        hlen: usize,
        seq_at: usize,
        seq_len: usize,
        window: &mut ReplayWindow,
        max_plaintext: usize,
        scratch: &mut Vec<u8>,
    ) -> core::result::Result<Item, Reason> {
        let tag_len = self.key.tag_len();
        let format = self.key.format();
        let explicit = format.explicit_len();
        let (header, body) = rec.split_at(hlen);
        if body.len() < explicit + tag_len {
            return Err(Reason::Unauthentic);
        }
        let ciphertext = &body[explicit..body.len() - tag_len];
        let tag = &body[body.len() - tag_len..];
        let start = scratch.len();
        let result = match &self.sn {
            Some(sn) => {
                if body.len() < RNE_SAMPLE_LEN {
                    return Err(Reason::Unauthentic); // section 4.2.3: as if deprotection failed
                }
                let mask = sn.new_mask(&body[..RNE_SAMPLE_LEN]).map_err(|_| Reason::Unauthentic)?;
                let mut aad = [0u8; MAX_UNIFIED_HEADER];
                let aad = &mut aad[..hlen];
                aad.copy_from_slice(header);
                let mut low = 0u64;
                for (b, m) in aad[seq_at..seq_at + seq_len].iter_mut().zip(mask) {
                    *b ^= m;
                    low = (low << 8) | u64::from(*b);
                }
                let seq = reconstruct_sequence(window.next_expected(), low, 8 * seq_len as u32).ok_or(Reason::Invalid)?;
                if !window.is_fresh(seq) {
                    return Err(Reason::Replayed);
                }
                scratch.extend_from_slice(ciphertext);
                self.key.open_body(seq, aad, tag, &mut scratch[start..], max_plaintext).map(|(t, n)| (seq, t, n))
            }
            None => {
                let mut seq_bytes = [0u8; 8];
                seq_bytes[2..].copy_from_slice(&header[5..11]);
                let seq = u64::from_be_bytes(seq_bytes);
                if !window.is_fresh(seq) {
                    return Err(Reason::Replayed);
                }
                let seq64 = (self.epoch << 48) | seq;
                let nonce_seq = match <[u8; 8]>::try_from(&body[..explicit]) {
                    Ok(e) => u64::from_be_bytes(e),
                    Err(_) => seq64,
                };
                scratch.extend_from_slice(ciphertext);
                let dst = &mut scratch[start..];
                if format.inner_plaintext() {
                    let (aad, n) = self.cid_aad(header, ciphertext.len());
                    self.key.open_body(nonce_seq, &aad[..n], tag, dst, max_plaintext).map(|(t, n)| (seq, t, n))
                } else {
                    let aad = tls12_aad(seq64, header, ciphertext.len());
                    self.key.open_body(nonce_seq, &aad, tag, dst, max_plaintext).map(|(_, n)| (seq, header[0], n))
                }
            }
        };
        match result {
            Ok((seq, content_type, n)) => {
                window.mark(seq);
                scratch.truncate(start + n);
                Ok(Item { seq, content_type, start, end: start + n })
            }
            Err(e) => {
                scratch.truncate(start);
                Err(if e == Error::BadRecordMac { Reason::Unauthentic } else { Reason::Invalid })
            }
        }
    }
}

/// Why [`DtlsKey::open_one`] dropped a record (counted in [`Dropped`]).
enum Reason {
    Invalid,
    Unauthentic,
    Replayed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::aead::AeadKey;
    use crate::core::hex;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f";
    const IV: &str = "a0a1a2a3a4a5a6a7a8a9aaab";
    const SN: &str = "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

    fn k13(alg: Algorithm, epoch: u64, seq: u64, cid: &[u8]) -> DtlsKey {
        let key: Vec<u8> = (0..alg.key_len() as u8).collect();
        let sn: Vec<u8> = (0..alg.key_len() as u8).map(|b| b ^ 0xf0).collect();
        DtlsKey::dtls13(alg, &key, &hex(IV), &sn, epoch, seq, cid).unwrap()
    }

    fn k12(suite: i64, epoch: u64, seq: u64, cid: &[u8]) -> DtlsKey {
        let (alg, format) = tls12_suite(suite).unwrap();
        let key: Vec<u8> = (0..alg.key_len() as u8).collect();
        DtlsKey::dtls12(suite, &key, &hex(IV)[..format.iv_len()], epoch, seq, cid).unwrap()
    }

    fn seal(k: &DtlsKey, ct: i64, data: &[u8], pad: i64, length: bool, bits: i64) -> Vec<u8> {
        let p = k.seal_params(ct, pad, length, bits).unwrap();
        let mut out = vec![0xAAu8; k.sealed_size(&p, data.len()).unwrap()];
        assert_eq!(k.seal_record(&p, data, &mut out).unwrap(), out.len());
        out
    }

    type OpenResult = (Vec<(u64, u8, Vec<u8>)>, usize, Dropped);

    fn open(k: &DtlsKey, data: &[u8]) -> OpenResult {
        let mut scratch = Vec::new();
        let o = k.open_datagram(data, MAX_PLAINTEXT, &mut scratch);
        (o.items.iter().map(|i| (i.seq, i.content_type, scratch[i.start..i.end].to_vec())).collect(), o.consumed, o.dropped)
    }

    fn dropped(invalid: u32, unauthentic: u32, replayed: u32) -> Dropped {
        Dropped { invalid, unauthentic, replayed }
    }

    #[test]
    fn dtls13_layout_by_hand() {
        // The record written out with the bare AEAD and AES-ECB: header 0x2e (S, L,
        // epoch 3 & 3 = 3 -> 0x2f), seq 0x0005, length; AAD = the plaintext header.
        let s = k13(Algorithm::Aes128Gcm, 3, 5, b"");
        let wire = seal(&s, 23, b"hello", 0, true, 16);
        assert_eq!(wire.len(), 5 + 5 + 1 + 16);
        assert_eq!(wire[0], 0x2f);
        assert_eq!(&wire[3..5], &[0, 22]);
        let header = hex("2f 0005 0016");
        let aead = AeadKey::new(Algorithm::Aes128Gcm, &hex(KEY)).unwrap();
        let mut body = vec![0u8; 6 + 16];
        aead.seal_to(&hex("a0a1a2a3a4a5a6a7a8a9aaae"), &header, b"hello\x17", &mut body).unwrap();
        assert_eq!(&wire[5..], &body[..]);
        // Record number encryption: AES-128-ECB(sn_key, body[..16]) XOR the seq bytes.
        use aes::cipher::{BlockEncrypt, KeyInit};
        let ecb = aes::Aes128::new_from_slice(&hex(SN)).unwrap();
        let mut block = aes::Block::clone_from_slice(&body[..16]);
        ecb.encrypt_block(&mut block);
        assert_eq!(wire[1], block[0]); // 0x00 ^ mask
        assert_eq!(wire[2], 0x05 ^ block[1]);
        assert_eq!(s.record_number_mask(&body[..16]).unwrap(), [block[0], block[1]]);
        let r = k13(Algorithm::Aes128Gcm, 3, 0, b"");
        assert_eq!(open(&r, &wire), (vec![(5, 23, b"hello".to_vec())], wire.len(), Dropped::default()));
    }

    #[test]
    fn dtls13_every_header_form_opens() {
        for alg in [Algorithm::Aes128Gcm, Algorithm::Aes256Gcm, Algorithm::ChaCha20Poly1305, Algorithm::Aes128Ccm, Algorithm::Aes128Ccm8] {
            for cid in [&b""[..], b"\x01\x02\x03"] {
                let s = k13(alg, 2, 0, cid);
                let r = k13(alg, 2, 0, cid);
                let mut dgram = Vec::new();
                let mut want = Vec::new();
                for (i, (length, bits)) in [(true, 16), (true, 8), (true, 16), (false, 8)].into_iter().enumerate() {
                    let data = vec![i as u8; i * 3];
                    dgram.extend(seal(&s, 22, &data, 0, length, bits));
                    want.push((i as u64, 22u8, data));
                }
                assert_eq!(open(&r, &dgram), (want, dgram.len(), Dropped::default()), "{alg:?} {cid:?}");
            }
        }
    }

    #[test]
    fn dtls13_short_records_are_padded_and_short_ciphertext_dropped() {
        // CCM_8: 1 + 8 bytes for an empty record -> padded to 16.
        let s = k13(Algorithm::Aes128Ccm8, 2, 0, b"");
        let w = seal(&s, 23, b"", 0, true, 16);
        assert_eq!(w.len(), 5 + 16);
        assert_eq!(open(&k13(Algorithm::Aes128Ccm8, 2, 0, b""), &w).0, vec![(0, 23, vec![])]);
        // A record whose ciphertext is under 16 bytes is dropped as unauthentic.
        let mut short = w.clone();
        short.truncate(5 + 15);
        short[4] = 15;
        assert_eq!(open(&k13(Algorithm::Aes128Ccm8, 2, 0, b""), &short), (vec![], short.len(), dropped(0, 1, 0)));
    }

    #[test]
    fn dtls13_tampering_is_dropped_not_raised() {
        let s = k13(Algorithm::ChaCha20Poly1305, 3, 9, b"\x07");
        let w = seal(&s, 23, b"payload", 0, true, 16);
        for i in 0..w.len() {
            let mut bad = w.clone();
            bad[i] ^= 0x01;
            let (items, consumed, d) = open(&k13(Algorithm::ChaCha20Poly1305, 3, 0, b"\x07"), &bad);
            assert!(items.is_empty(), "byte {i}");
            match i {
                0 => assert_eq!((consumed, d), (0, Dropped::default()), "epoch bits changed: another epoch's"),
                1 => assert_eq!(d, dropped(1, 0, 0), "another CID"),
                _ => assert!(d.total() >= 1, "byte {i}"),
            }
        }
    }

    #[test]
    fn dtls13_replay_window_and_reordering() {
        let s = k13(Algorithm::Aes128Gcm, 3, 0, b"");
        let recs: Vec<Vec<u8>> = (0..300).map(|i| seal(&s, 23, &[i as u8], 0, true, 16)).collect();
        let r = k13(Algorithm::Aes128Gcm, 3, 0, b"");
        assert_eq!(open(&r, &recs[5]).0[0].0, 5);
        assert_eq!(open(&r, &recs[5]).2, dropped(0, 0, 1), "duplicate");
        assert_eq!(open(&r, &recs[3]).0[0].0, 3, "reordered within the window");
        assert_eq!(open(&r, &recs[200]).0[0].0, 200);
        assert_eq!(open(&r, &recs[200 - 127]).0[0].0, 73, "oldest in the window");
        assert_eq!(open(&r, &recs[200 - 128]).2, dropped(0, 0, 1), "older than the window");
        assert_eq!(open(&r, &recs[73]).2, dropped(0, 0, 1));
        // A forged record does not move the window.
        let mut bad = recs[299].clone();
        let n = bad.len();
        bad[n - 1] ^= 1;
        assert_eq!(open(&r, &bad).2, dropped(0, 1, 0));
        assert_eq!(r.next_expected(), 201);
        assert_eq!(open(&r, &recs[199]).0[0].0, 199);
    }

    #[test]
    fn sequence_reconstruction() {
        assert_eq!(reconstruct_sequence(0, 0, 8), Some(0));
        assert_eq!(reconstruct_sequence(0xff, 0x00, 8), Some(0x100));
        assert_eq!(reconstruct_sequence(0x100, 0xff, 8), Some(0xff));
        assert_eq!(reconstruct_sequence(0x180, 0x00, 8), Some(0x200), "a tie goes up, as in QUIC");
        assert_eq!(reconstruct_sequence(0x17f, 0x00, 8), Some(0x100));
        assert_eq!(reconstruct_sequence(0x1_0000, 0xfffe, 16), Some(0xfffe));
        assert_eq!(reconstruct_sequence(0xfff0, 0x0005, 16), Some(0x1_0005));
        assert_eq!(reconstruct_sequence(5, 0xfffe, 16), Some(0xfffe), "no negative numbers");
        assert_eq!(reconstruct_sequence(SEQ_LIMIT - 1, 0x00, 8), Some(SEQ_LIMIT - 256), "none past 2**48");
        // Across an 8-bit wrap end to end: records 250..=260 with 8-bit numbers.
        let s = k13(Algorithm::Aes128Gcm, 3, 250, b"");
        let r = k13(Algorithm::Aes128Gcm, 3, 0, b"");
        r.window.lock().unwrap().mark(249);
        for i in 250..=260u64 {
            let w = seal(&s, 23, b"x", 0, true, 8);
            assert_eq!(open(&r, &w).0[0].0, i);
        }
    }

    #[test]
    fn stops_before_other_epochs_and_plaintext() {
        let e2 = k13(Algorithm::Aes128Gcm, 2, 0, b"");
        let e3 = k13(Algorithm::Aes128Gcm, 3, 0, b"");
        let mut d = seal(&e2, 22, b"fin", 0, true, 16);
        let first = d.len();
        d.extend(seal(&e3, 23, b"app", 0, true, 16));
        let (items, consumed, dr) = open(&k13(Algorithm::Aes128Gcm, 2, 0, b""), &d);
        assert_eq!((items.len(), consumed, dr), (1, first, Dropped::default()));
        let (items, consumed, _) = open(&k13(Algorithm::Aes128Gcm, 3, 0, b""), &d[first..]);
        assert_eq!((items[0].2.as_slice(), consumed), (&b"app"[..], d.len() - first));
        // A plaintext handshake record (22) is not ours.
        assert_eq!(open(&e3, &[22, 0xfe, 0xfd]).1, 0);
        // A length past the datagram: the rest is dropped.
        let mut cut = seal(&e3, 23, b"app", 0, true, 16);
        cut.pop();
        assert_eq!(open(&k13(Algorithm::Aes128Gcm, 3, 0, b""), &cut), (vec![], cut.len(), dropped(1, 0, 0)));
        // A CID where none was negotiated: framing unknown, rest dropped.
        let with_cid = seal(&k13(Algorithm::Aes128Gcm, 3, 0, b"\x01"), 23, b"x", 0, true, 16);
        assert_eq!(open(&e3, &with_cid).2, dropped(1, 0, 0));
    }

    #[test]
    fn sequence_limit_and_data_limit() {
        let s = k13(Algorithm::Aes128Gcm, 3, SEQ_LIMIT - 1, b"");
        let p = s.seal_params(23, 0, true, 16).unwrap();
        let mut out = vec![0u8; 100];
        assert!(s.seal_record(&p, b"x", &mut out).is_ok());
        assert_eq!(s.seal_record(&p, b"x", &mut out), Err(Error::SequenceNumberExhausted));
        assert!(DtlsKey::dtls13(Algorithm::Aes128Gcm, &hex(KEY), &hex(IV), &hex(SN), 3, SEQ_LIMIT, b"").is_err());
        let s = k13(Algorithm::Aes128Gcm, 3, 0, b"").with_data_limit(1).unwrap();
        assert!(s.seal_record(&p, b"x", &mut out).is_ok());
        assert_eq!(s.seal_record(&p, b"x", &mut out), Err(Error::KeyLimitReached));
        let p22 = s.seal_params(22, 0, true, 16).unwrap();
        assert!(s.seal_record(&p22, b"x", &mut out).is_ok());
        // One record only: content + padding <= 2**14.
        assert!(s.sealed_size(&p, MAX_PLAINTEXT + 1).is_err());
        assert!(s.seal_params(23, 0, true, 12).is_err());
        assert!(DtlsKey::dtls13(Algorithm::Aes128Gcm, &hex(KEY), &hex(IV), &[0; 32], 3, 0, b"").is_err());
    }

    #[test]
    fn dtls12_layout_by_hand() {
        // GCM: explicit nonce = epoch || seq; AAD = epoch || seq || type || version || length.
        let s = k12(0xC0AE, 1, 0x0102, b""); // TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
        let w = seal(&s, 23, b"abc", 0, true, 16);
        let header = hex("17 fefd 0001 000000000102 0013");
        assert_eq!(&w[..13], &header[..]);
        assert_eq!(&w[13..21], &hex("0001000000000102")[..]);
        let aead = AeadKey::new(Algorithm::Aes128Ccm8, &hex(KEY)).unwrap();
        let mut body = vec![0u8; 3 + 8];
        aead.seal_to(&hex("a0a1a2a3 0001000000000102"), &hex("0001000000000102 17 fefd 0003"), b"abc", &mut body).unwrap();
        assert_eq!(&w[21..], &body[..]);
        assert_eq!(open(&k12(0xC0AE, 1, 0, b""), &w), (vec![(0x0102, 23, b"abc".to_vec())], w.len(), Dropped::default()));
        // ChaCha20: no explicit nonce, nonce = iv XOR (epoch || seq).
        let s = k12(0xCCA8, 1, 7, b"");
        let w = seal(&s, 22, b"abc", 0, true, 16);
        let aead = AeadKey::new(Algorithm::ChaCha20Poly1305, &(0..32).collect::<Vec<u8>>()).unwrap();
        let mut body = vec![0u8; 3 + 16];
        aead.seal_to(&hex("a0a1a2a3a4a4a6a7a8a9aaac"), &hex("0001000000000007 16 fefd 0003"), b"abc", &mut body).unwrap();
        assert_eq!(w, [&hex("16 fefd 0001 000000000007 0013")[..], &body].concat());
    }

    #[test]
    fn dtls12_connection_id_layout_by_hand() {
        // RFC 9146: type 25, the CID after the sequence number, an inner plaintext,
        // AAD = 8 x ff || 25 || cid_len || 25 || version || epoch || seq || cid || inner length.
        let cid = hex("c1c2");
        let s = k12(0xC02F, 1, 3, &cid);
        let w = seal(&s, 23, b"abc", 2, true, 16);
        let header = hex("19 fefd 0001 000000000003 c1c2 001e");
        assert_eq!(&w[..15], &header[..]);
        let aead = AeadKey::new(Algorithm::Aes128Gcm, &hex(KEY)).unwrap();
        let mut body = vec![0u8; 6 + 16];
        let aad = hex("ffffffffffffffff 19 02 19 fefd 0001 000000000003 c1c2 0006");
        aead.seal_to(&hex("a0a1a2a3 0001000000000003"), &aad, b"abc\x17\x00\x00", &mut body).unwrap();
        assert_eq!(&w[15..23], &hex("0001000000000003")[..]);
        assert_eq!(&w[23..], &body[..]);
        assert_eq!(open(&k12(0xC02F, 1, 0, &cid), &w).0, vec![(3, 23, b"abc".to_vec())]);
        // Another CID, no CID, or a CID where none is expected: invalid.
        assert_eq!(open(&k12(0xC02F, 1, 0, &hex("c1c3")), &w).2, dropped(1, 0, 0));
        assert_eq!(open(&k12(0xC02F, 1, 0, b""), &w).2, dropped(1, 0, 0));
        let plain = seal(&k12(0xC02F, 1, 0, b""), 23, b"abc", 0, true, 16);
        assert_eq!(open(&k12(0xC02F, 1, 0, &cid), &plain).2, dropped(1, 0, 0));
    }

    #[test]
    fn dtls12_datagram_epochs_replay_and_drops() {
        let s = k12(0xC02B, 1, 0, b"");
        let mut d = Vec::new();
        for i in 0..4u8 {
            d.extend(seal(&s, 23, &[i; 10], 0, true, 16));
        }
        let one = d.len() / 4;
        let mut bad = d.clone();
        bad[one + 20] ^= 1; // second record's body
        bad[2 * one + 1] = 0xfe; // third record's version -> fefe... invalid
        bad[2 * one + 2] = 0xff;
        let r = k12(0xC02B, 1, 0, b"");
        let (items, consumed, dr) = open(&r, &bad);
        assert_eq!(items.iter().map(|i| i.0).collect::<Vec<_>>(), vec![0, 3]);
        assert_eq!((consumed, dr), (bad.len(), dropped(1, 1, 0)));
        let (items, _, dr) = open(&r, &d);
        assert_eq!((items.iter().map(|i| i.0).collect::<Vec<_>>(), dr), (vec![1, 2], dropped(0, 0, 2)));
        // Epoch 0 (plaintext) or 2 is not ours: stop.
        let e2 = seal(&k12(0xC02B, 2, 0, b""), 23, b"x", 0, true, 16);
        assert_eq!(open(&r, &e2), (vec![], 0, Dropped::default()));
        assert!(k12(0xC02B, 1, 0, b"").seal_params(23, 1, true, 16).is_err(), "no padding without a CID");
        assert!(k12(0xC02B, 1, 0, b"").seal_params(23, 0, false, 16).is_err());
        assert!(DtlsKey::dtls12(0xC02B, &hex(KEY), &hex(IV)[..4], 0x1_0000, 0, b"").is_err());
        // A truncated header: the rest is dropped.
        assert_eq!(open(&r, &d[..12]), (vec![], 12, dropped(1, 0, 0)));
    }
}
