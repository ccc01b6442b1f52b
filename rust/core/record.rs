//! Record protection for TLS 1.3 (RFC 8446 section 5) and the TLS 1.2 AEAD
//! ciphers (RFC 5246 section 6.2.3.3), one implementation with the wire layout
//! as a [`Format`] parameter.  The DTLS formats (RFC 9147, RFC 6347, RFC 9146)
//! share the per-record body routines here ([`RecordKey::seal_body`],
//! [`RecordKey::open_body`]); their headers, epochs and replay window are in
//! `core::dtls`.
//!
//! TLS 1.3: TLSInnerPlaintext framing and padding, per-record nonce = iv XOR seq,
//! the 5-byte header as AAD.  TLS 1.2: the real content type in the header, an
//! 8-byte explicit nonce (the sequence number) for AES-GCM/CCM or none for
//! ChaCha20-Poly1305, AAD = seq || type || version || length.  In both the 64-bit
//! sequence number is kept in atomics so a shared protector never reuses a nonce.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use zeroize::Zeroizing;

use super::aead::{AeadKey, Algorithm, NONCE_LEN};
use super::{invalid, Error, Result};

pub const MAX_PLAINTEXT: usize = 1 << 14;
/// Largest TLSCiphertext.length a TLS 1.3 receiver accepts (RFC 8446 section 5.2).
pub const MAX_CIPHERTEXT: usize = (1 << 14) + 256;
/// Largest TLSCiphertext.length a TLS 1.2 receiver accepts (RFC 5246 section 6.2.3).
pub const MAX_CIPHERTEXT_TLS12: usize = (1 << 14) + 2048;
pub const HEADER_LEN: usize = 5;
pub const CONTENT_TYPE_APPLICATION_DATA: u8 = 23;
/// TLS 1.2 record content types: change_cipher_spec, alert, handshake, application_data.
pub const TLS12_CONTENT_TYPES: core::ops::RangeInclusive<u8> = 20..=23;
/// GenericAEADCipher.nonce_explicit of AES-GCM (RFC 5288) and AES-CCM (RFC 6655).
pub const EXPLICIT_NONCE_LEN: usize = 8;
const LEGACY_VERSION: [u8; 2] = [0x03, 0x03];
/// seq_num (8) || type (1) || version (2) || length (2).
const TLS12_AAD_LEN: usize = 13;

/// How records are laid out on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// RFC 8446 section 5.2: outer type application_data; the body is
    /// AEAD(content || type || zero padding); AAD = the 5-byte header;
    /// nonce = iv XOR seq.
    Tls13,
    /// RFC 5246 section 6.2.3.3: the outer type is the content type; no inner type,
    /// no padding; AAD = seq || type || version || plaintext length.  With
    /// `explicit_nonce` (AES-GCM RFC 5288, AES-CCM RFC 6655/7251) the body starts
    /// with an 8-byte nonce_explicit, which we set to the sequence number (RFC 5288
    /// section 3 and RFC 6655 section 3 allow it; any unique value is valid, so
    /// opening takes the peer's from the record: OpenSSL 3.0 sends a counter from
    /// a random start, rustls a key-block value XOR seq), and nonce = 4-byte salt
    /// || nonce_explicit; without it (ChaCha20-Poly1305, RFC 7905) nonce =
    /// 12-byte iv XOR seq.
    Tls12 { explicit_nonce: bool },
    /// RFC 9147 section 4: the TLS 1.3 body (DTLSInnerPlaintext = content || type ||
    /// zero padding, nonce = iv XOR the 48-bit sequence number) under the unified
    /// header, which `core::dtls` writes and reads.
    Dtls13,
    /// RFC 6347 section 4.1.2.1: the TLS 1.2 body with the 64-bit number epoch ||
    /// sequence_number in the place of the sequence number (nonce_explicit, the
    /// ChaCha20 nonce, the AAD).  With `cid` (RFC 9146, content type tls12_cid)
    /// the body is a DTLSInnerPlaintext as in TLS 1.3, and padding is allowed.
    Dtls12 { explicit_nonce: bool, cid: bool },
}

impl Format {
    /// The largest TLSCiphertext.length accepted.
    #[inline]
    pub fn max_ciphertext(self) -> usize {
        match self {
            Self::Tls13 | Self::Dtls13 => MAX_CIPHERTEXT,
            Self::Tls12 { .. } | Self::Dtls12 { .. } => MAX_CIPHERTEXT_TLS12,
        }
    }

    /// Bytes of explicit nonce at the start of each record body.
    #[inline]
    pub fn explicit_len(self) -> usize {
        match self {
            Self::Tls12 { explicit_nonce: true } | Self::Dtls12 { explicit_nonce: true, .. } => EXPLICIT_NONCE_LEN,
            _ => 0,
        }
    }

    /// Whether the body is an inner plaintext (content || type || zero padding):
    /// TLS 1.3, DTLS 1.3 and DTLS 1.2 with a connection ID.
    #[inline]
    pub fn inner_plaintext(self) -> bool {
        matches!(self, Self::Tls13 | Self::Dtls13 | Self::Dtls12 { cid: true, .. })
    }

    /// Whether records of this format travel in a TLS byte stream (the 5-byte
    /// header, the `open_records*` methods) rather than in datagrams.
    #[inline]
    pub fn is_stream(self) -> bool {
        matches!(self, Self::Tls13 | Self::Tls12 { .. })
    }

    /// Bytes of IV the key schedule provides: 12, or the 4-byte salt
    /// (fixed_iv_length) of an explicit-nonce TLS 1.2 suite.
    pub fn iv_len(self) -> usize {
        NONCE_LEN - self.explicit_len()
    }

    /// Body bytes a record adds around its content: content type, padding and tag
    /// (TLS 1.3), or explicit nonce and tag (TLS 1.2).
    #[inline]
    pub fn overhead(self, padding: usize, tag_len: usize) -> usize {
        if self.inner_plaintext() {
            self.explicit_len() + 1 + padding + tag_len
        } else {
            self.explicit_len() + tag_len
        }
    }

    /// The room decrypting a record of TLSCiphertext.length `len` needs: its
    /// ciphertext without explicit nonce and tag (for TLS 1.3 this still holds
    /// the content type and padding).  0 for a record too short to authenticate.
    #[inline]
    pub fn room(self, len: usize, tag_len: usize) -> usize {
        len.saturating_sub(self.explicit_len() + tag_len)
    }

    /// Whether `open_records` opens a record of this outer type (it stops before
    /// others): TLS 1.3 protects everything as application_data; in TLS 1.2 every
    /// record after ChangeCipherSpec is protected under its own type.
    #[inline]
    fn opens(self, outer_type: u8) -> bool {
        match self {
            Self::Tls13 => outer_type == CONTENT_TYPE_APPLICATION_DATA,
            Self::Tls12 { .. } => TLS12_CONTENT_TYPES.contains(&outer_type),
            Self::Dtls13 | Self::Dtls12 { .. } => false, // datagrams: core::dtls
        }
    }
}

/// The TLS 1.2 AEAD cipher suites: (code point, AEAD, explicit nonce).
const TLS12_SUITES: [(u16, Algorithm, bool); 12] = [
    (0xC02B, Algorithm::Aes128Gcm, true),         // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
    (0xC02F, Algorithm::Aes128Gcm, true),         // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    (0xC02C, Algorithm::Aes256Gcm, true),         // TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384
    (0xC030, Algorithm::Aes256Gcm, true),         // TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384
    (0xCCA9, Algorithm::ChaCha20Poly1305, false), // TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256
    (0xCCA8, Algorithm::ChaCha20Poly1305, false), // TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256
    (0xC0AC, Algorithm::Aes128Ccm, true),         // TLS_ECDHE_ECDSA_WITH_AES_128_CCM
    (0xC0AE, Algorithm::Aes128Ccm8, true),        // TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8
    (0xC0A8, Algorithm::Aes128Ccm8, true),        // TLS_PSK_WITH_AES_128_CCM_8
    (0x00A8, Algorithm::Aes128Gcm, true),         // TLS_PSK_WITH_AES_128_GCM_SHA256
    (0xCCAC, Algorithm::ChaCha20Poly1305, false), // TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256
    (0xD001, Algorithm::Aes128Gcm, true),         // TLS_ECDHE_PSK_WITH_AES_128_GCM_SHA256
];

/// The AEAD and record format of TLS 1.2 cipher suite `suite`; ValueError text for others.
pub fn tls12_suite(suite: i64) -> Result<(Algorithm, Format)> {
    match TLS12_SUITES.iter().find(|&&(id, _, _)| i64::from(id) == suite) {
        Some(&(_, alg, explicit_nonce)) => Ok((alg, Format::Tls12 { explicit_nonce })),
        None if (0..=0xffff).contains(&suite) => invalid(format!("unsupported TLS 1.2 cipher suite 0x{suite:04x}")),
        None => invalid(format!("unsupported TLS 1.2 cipher suite {suite}")),
    }
}

/// The TLS 1.2 additional data: seq_num || type || version || length (RFC 5246
/// section 6.2.3.3), with the type and version of `header` and the plaintext length.
/// DTLS 1.2 uses it with seq_num = epoch || sequence_number (RFC 6347 section 4.1.2.1).
#[inline]
pub(crate) fn tls12_aad(seq: u64, header: &[u8], plaintext_len: usize) -> [u8; TLS12_AAD_LEN] {
    let mut aad = [0u8; TLS12_AAD_LEN];
    aad[..8].copy_from_slice(&seq.to_be_bytes());
    aad[8..11].copy_from_slice(&header[..3]);
    aad[11..].copy_from_slice(&(plaintext_len as u16).to_be_bytes());
    aad
}

/// Lay out a record body's plaintext in `inner` (exactly `frag.len()` bytes, or for
/// an inner-plaintext format `frag.len() + 1 + padding`): the content, then the
/// inner content type and the zero padding where the format has them.
#[inline]
pub(crate) fn write_inner(format: Format, inner: &mut [u8], frag: &[u8], content_type: u8) {
    inner[..frag.len()].copy_from_slice(frag);
    if format.inner_plaintext() {
        inner[frag.len()] = content_type;
        inner[frag.len() + 1..].fill(0);
    }
}

/// The sequence number: values 0 ..= 2**64 - 1 are usable, and "2**64" (exhausted)
/// is the 65th bit `last_used`.  Reservations are compare-exchange loops, so two
/// threads sharing a protector never get the same number.
#[derive(Debug)]
pub struct Sequence {
    next: AtomicU64,
    last_used: AtomicBool,
}

impl Sequence {
    /// Start at `start` (0 ..= 2**64 - 1).
    pub fn new(start: u128) -> Result<Self> {
        match u64::try_from(start) {
            Ok(next) => Ok(Self { next: AtomicU64::new(next), last_used: AtomicBool::new(false) }),
            Err(_) => invalid("sequence must be in 0..2**64 - 1"),
        }
    }

    /// The number the next record will use (2**64 once exhausted).
    pub fn get(&self) -> u128 {
        if self.last_used.load(Ordering::Acquire) {
            1u128 << 64
        } else {
            u128::from(self.next.load(Ordering::Acquire))
        }
    }

    /// Reserve `n >= 1` consecutive numbers and return the first, or
    /// SequenceNumberExhausted (nothing reserved) if one would be 2**64.
    pub fn reserve(&self, n: u64) -> Result<u64> {
        debug_assert!(n >= 1);
        let mut cur = self.next.load(Ordering::Acquire);
        loop {
            if cur == u64::MAX {
                // Only u64::MAX itself may be left.
                return if n == 1
                    && self.last_used.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_ok()
                {
                    Ok(u64::MAX)
                } else {
                    Err(Error::SequenceNumberExhausted)
                };
            }
            let below_max = u64::MAX - cur; // numbers cur ..= MAX-1
            let (new, takes_last) = if n <= below_max {
                (cur + n, false)
            } else if n - 1 == below_max {
                (u64::MAX, true)
            } else {
                return Err(Error::SequenceNumberExhausted);
            };
            match self.next.compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    if takes_last
                        && self.last_used.compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire).is_err()
                    {
                        // Another thread took u64::MAX first; numbers cur..MAX-1 are
                        // burnt (never used twice), and we report exhaustion.
                        return Err(Error::SequenceNumberExhausted);
                    }
                    return Ok(cur);
                }
                Err(actual) => cur = actual,
            }
        }
    }

    /// Reserve `n >= 1` consecutive numbers that all lie below `end` (the 48-bit
    /// space of DTLS) and return the first, or SequenceNumberExhausted (nothing
    /// reserved).  A compare-exchange loop like [`Self::reserve`].
    pub fn reserve_below(&self, n: u64, end: u64) -> Result<u64> {
        debug_assert!(n >= 1 && end < u64::MAX);
        let mut cur = self.next.load(Ordering::Acquire);
        loop {
            match cur.checked_add(n) {
                Some(new) if new <= end => match self.next.compare_exchange_weak(cur, new, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Ok(cur),
                    Err(actual) => cur = actual,
                },
                _ => return Err(Error::SequenceNumberExhausted),
            }
        }
    }

    /// Give back a number taken by `reserve(1)` whose record failed to open, so
    /// the record can be retried with the same number.  A no-op if another thread
    /// moved on meanwhile.
    pub fn release_one(&self, seq: u64) {
        if seq == u64::MAX {
            self.last_used.store(false, Ordering::Release);
        } else {
            let _ = self.next.compare_exchange(seq + 1, seq, Ordering::AcqRel, Ordering::Acquire);
        }
    }
}

/// Validated arguments of a seal (see [`RecordKey::seal_params`]).
#[derive(Debug, Clone, Copy)]
pub struct SealParams {
    pub content_type: u8,
    pub padding: usize,
    /// Content bytes per record (max_fragment - padding), >= 1.
    pub fragment: usize,
    /// Bytes each record adds to its content: header, and the format's overhead.
    per_record: usize,
}

impl SealParams {
    /// Number of records for `len` content bytes (an empty write is one record).
    pub fn records(&self, len: usize) -> usize {
        if len == 0 {
            1
        } else {
            len.div_ceil(self.fragment)
        }
    }

    /// Total output size for `len` content bytes.
    pub fn sealed_size(&self, len: usize) -> Result<usize> {
        self.records(len)
            .checked_mul(self.per_record)
            .and_then(|x| x.checked_add(len))
            .ok_or_else(|| Error::Invalid("data too large".into()))
    }
}

/// Result of [`RecordKey::open_records`]: `items` are (content type, start, end) in
/// the scratch buffer; `error` is set when processing stopped at a failing record.
#[derive(Debug, Default)]
pub struct Opened {
    pub items: Vec<(u8, usize, usize)>,
    pub consumed: usize,
    pub error: Option<Error>,
}

/// Why [`RecordKey::open_records_into`] stopped (the values are the Python-visible ints).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Stop {
    /// No complete record is left: `data` is used up or ends in an incomplete record.
    End = 0,
    /// The next record's body (its room, [`Format::room`]) does not fit in the space left in `out`.
    OutFull = 1,
    /// The next record is for `open_records` or the plaintext path: outer type not
    /// application_data, content type not application_data or no content (its
    /// sequence number is given back), or it failed after earlier records of this
    /// call were opened.
    Record = 2,
}

/// One record opened by [`RecordKey::open_one`].
#[derive(Debug, Clone, Copy)]
struct OpenedRecord {
    content_type: u8,
    /// Content bytes at the start of the destination.
    len: usize,
    /// The sequence number it used (a caller that leaves it unconsumed gives it back).
    seq: u64,
}

/// What the header at the start of some input says.
enum Next {
    /// Fewer than `HEADER_LEN + length` bytes: wait for more.
    Incomplete,
    /// A complete record of `HEADER_LEN + .0` bytes.
    Complete(usize),
}

/// One direction of record protection.
pub struct RecordKey {
    aead: AeadKey,
    format: Format,
    /// The 12-byte nonce base: the TLS 1.3 / ChaCha20 IV, or the 4-byte salt
    /// followed by 8 zero bytes, so that salt || explicit = iv XOR explicit.
    iv: Zeroizing<[u8; NONCE_LEN]>,
    seq: Sequence,
    /// Application-data records may use sequence numbers below this (the AEAD's
    /// usage limit, RFC 8446 section 5.5); other content types (KeyUpdate,
    /// alerts) may go on to 2**64 - 1, so the key can still be updated or the
    /// connection closed.
    data_limit: u128,
}

impl core::fmt::Debug for RecordKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RecordKey")
            .field("alg", &self.aead.algorithm())
            .field("format", &self.format)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl RecordKey {
    /// A TLS 1.3 record key.
    pub fn new(alg: Algorithm, key: &[u8], iv: &[u8], sequence: u128) -> Result<Self> {
        Self::with_format(alg, Format::Tls13, key, iv, sequence)
    }

    /// A record key for `format`; `iv` has `format.iv_len()` bytes.
    pub fn with_format(alg: Algorithm, format: Format, key: &[u8], iv: &[u8], sequence: u128) -> Result<Self> {
        let aead = AeadKey::new(alg, key)?;
        let iv_len = format.iv_len();
        if iv.len() != iv_len {
            return invalid(format!("iv must be {iv_len} bytes, got {}", iv.len()));
        }
        let mut base = Zeroizing::new([0u8; NONCE_LEN]);
        base[..iv_len].copy_from_slice(iv);
        Ok(Self { aead, format, iv: base, seq: Sequence::new(sequence)?, data_limit: 1u128 << 64 })
    }

    /// Refuse application data past sequence number `limit` (at most 2**64).
    pub fn with_data_limit(mut self, limit: u128) -> Result<Self> {
        if limit > 1u128 << 64 {
            return invalid("data_limit must be at most 2**64");
        }
        self.data_limit = limit;
        Ok(self)
    }

    pub fn data_limit(&self) -> u128 {
        self.data_limit
    }

    pub fn algorithm(&self) -> Algorithm {
        self.aead.algorithm()
    }

    pub fn format(&self) -> Format {
        self.format
    }

    pub fn sequence(&self) -> u128 {
        self.seq.get()
    }

    /// The sending sequence number (DTLS reserves from it with its own bound).
    pub(crate) fn sequence_counter(&self) -> &Sequence {
        &self.seq
    }

    pub fn tag_len(&self) -> usize {
        self.aead.tag_len()
    }

    /// Check the arguments of a seal: content type (1..255 for TLS 1.3, 20..23
    /// for TLS 1.2), padding (>= 0 and below `max_fragment`; TLS 1.2 has none, so
    /// 0) and `max_fragment` (1..2**14).
    pub fn seal_params(&self, content_type: i64, padding: i64, max_fragment: i64) -> Result<SealParams> {
        let inner = self.format.inner_plaintext();
        let content_type = match u8::try_from(content_type) {
            Ok(t) if inner && t != 0 => t,
            Ok(t) if !inner && TLS12_CONTENT_TYPES.contains(&t) => t,
            _ if inner => return invalid(format!("content_type must be in 1..255, got {content_type}")),
            _ => return invalid(format!("TLS 1.2 content_type must be in 20..23, got {content_type}")),
        };
        if !(1..=MAX_PLAINTEXT as i64).contains(&max_fragment) {
            return invalid(format!("max_fragment must be in 1..{MAX_PLAINTEXT}, got {max_fragment}"));
        }
        if padding < 0 {
            return invalid(format!("padding must be >= 0, got {padding}"));
        }
        if !inner && padding != 0 {
            return invalid(format!("TLS 1.2 records have no padding: padding must be 0, got {padding}"));
        }
        if padding >= max_fragment {
            return invalid(format!("padding ({padding}) must be smaller than max_fragment ({max_fragment})"));
        }
        let padding = padding as usize;
        Ok(SealParams {
            content_type,
            padding,
            fragment: max_fragment as usize - padding,
            per_record: HEADER_LEN + self.format.overhead(padding, self.aead.tag_len()),
        })
    }

    /// Bytes that [`Self::seal_records`] writes for `len` content bytes.
    pub fn sealed_size(&self, params: &SealParams, len: usize) -> Result<usize> {
        params.sealed_size(len)
    }

    /// The per-record nonce: iv XOR `seq` (for an explicit-nonce suite: salt || `seq`).
    #[inline]
    pub(crate) fn nonce(&self, seq: u64) -> [u8; NONCE_LEN] {
        let mut n = *self.iv;
        for (b, s) in n[NONCE_LEN - 8..].iter_mut().zip(seq.to_be_bytes()) {
            *b ^= s;
        }
        n
    }

    /// Seal `data` as complete records into `out` (at least
    /// `params.sealed_size(data.len())` bytes; `out` must not overlap `data`).
    /// `params` must come from this key's [`Self::seal_params`].  Returns the
    /// number of bytes written.
    pub fn seal_records(&self, params: &SealParams, data: &[u8], out: &mut [u8]) -> Result<usize> {
        if !self.format.is_stream() {
            return invalid("DTLS records are sealed by core::dtls");
        }
        let tag_len = self.aead.tag_len();
        let explicit = self.format.explicit_len();
        let total = params.sealed_size(data.len())?;
        if out.len() < total {
            return invalid(format!("output buffer too small: need {total} bytes, got {}", out.len()));
        }
        let n = params.records(data.len());
        // Checked before reserving, so nothing is used up; threads sealing at the
        // same moment may overshoot by their records, which the limit's margin covers.
        // With no limit (2**64) running out of numbers is SequenceNumberExhausted.
        if params.content_type == CONTENT_TYPE_APPLICATION_DATA
            && self.data_limit < 1u128 << 64
            && self.seq.get() + n as u128 > self.data_limit
        {
            return Err(Error::KeyLimitReached);
        }
        let first = self.seq.reserve(n as u64)?;
        let mut pos = 0;
        let mut chunks = data.chunks(params.fragment);
        for i in 0..n {
            let seq = first + i as u64;
            let frag = chunks.next().unwrap_or(&[]);
            let rec_len = frag.len() + self.format.overhead(params.padding, tag_len);
            let rec = &mut out[pos..pos + HEADER_LEN + rec_len];
            let (header, body) = rec.split_at_mut(HEADER_LEN);
            header[1..3].copy_from_slice(&LEGACY_VERSION);
            header[3..5].copy_from_slice(&(rec_len as u16).to_be_bytes());
            let (nonce_explicit, body) = body.split_at_mut(explicit);
            let (inner, tag_out) = body.split_at_mut(rec_len - explicit - tag_len);
            write_inner(self.format, inner, frag, params.content_type);
            if self.format.inner_plaintext() {
                header[0] = CONTENT_TYPE_APPLICATION_DATA;
                self.seal_body(seq, header, inner, tag_out)?;
            } else {
                header[0] = params.content_type;
                // nonce_explicit = seq (empty without an explicit nonce): the nonce
                // is then salt || seq = iv XOR seq either way.
                nonce_explicit.copy_from_slice(&seq.to_be_bytes()[..explicit]);
                let aad = tls12_aad(seq, header, frag.len());
                self.seal_body(seq, &aad, inner, tag_out)?;
            }
            pos += HEADER_LEN + rec_len;
        }
        debug_assert_eq!(pos, total);
        Ok(pos)
    }

    /// The record at the start of `rest` (at least `HEADER_LEN` bytes): its total
    /// length when complete; RecordOverflow for a TLSCiphertext.length above the
    /// format's limit, checked as soon as the header is there.
    #[inline]
    fn next_record(&self, rest: &[u8]) -> Result<Next> {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        if len > self.format.max_ciphertext() {
            return Err(Error::RecordOverflow);
        }
        Ok(if rest.len() - HEADER_LEN < len { Next::Incomplete } else { Next::Complete(len) })
    }

    /// The encrypted part of the complete record `rec`: its body without explicit
    /// nonce and tag ([`Format::room`] bytes; empty when too short to authenticate).
    /// The caller copies it to where [`Self::open_one`] decrypts it in place.
    #[inline]
    fn ciphertext<'a>(&self, rec: &'a [u8]) -> &'a [u8] {
        let start = HEADER_LEN + self.format.explicit_len();
        let end = rec.len().saturating_sub(self.aead.tag_len());
        rec.get(start..end).unwrap_or(&[])
    }

    /// Open one complete record, `rec` (header and body), in `dst`, which holds
    /// [`Self::ciphertext`]`(rec)`: the one per-record routine of every open
    /// path.  Checks, in order: the sequence number (SequenceNumberExhausted), a
    /// body shorter than explicit nonce + tag (BadRecordMac), authentication
    /// (BadRecordMac), content (and TLS 1.3 padding) longer than `max_plaintext`
    /// (RecordOverflow), a TLS 1.3 inner plaintext of only zeros
    /// (UnexpectedMessage).  On success the content is `dst[..len]` (TLS 1.3
    /// leaves the content type at `dst[len]` and zeros after it) and the sequence
    /// number is used; on failure it is given back and `dst` is all zeros.
    fn open_one(&self, rec: &[u8], max_plaintext: usize, dst: &mut [u8]) -> Result<OpenedRecord> {
        let seq = self.seq.reserve(1)?;
        match self.open_with(seq, rec, max_plaintext, dst) {
            Ok((content_type, len)) => Ok(OpenedRecord { content_type, len, seq }),
            Err(e) => {
                self.seq.release_one(seq);
                Err(e)
            }
        }
    }

    #[inline]
    fn open_with(&self, seq: u64, rec: &[u8], max_plaintext: usize, dst: &mut [u8]) -> Result<(u8, usize)> {
        let tag_len = self.aead.tag_len();
        let explicit = self.format.explicit_len();
        let (header, body) = rec.split_at(HEADER_LEN);
        if body.len() < explicit + tag_len {
            return Err(Error::BadRecordMac);
        }
        let (nonce_explicit, rest) = body.split_at(explicit);
        let tag = &rest[rest.len() - tag_len..];
        debug_assert_eq!(dst, self.ciphertext(rec), "the caller copied the ciphertext");
        if self.format.inner_plaintext() {
            self.open_body(seq, header, tag, dst, max_plaintext)
        } else {
            let nonce_seq = match <[u8; EXPLICIT_NONCE_LEN]>::try_from(nonce_explicit) {
                Ok(e) => u64::from_be_bytes(e),
                Err(_) => seq,
            };
            // The header's own type and version: a record that was altered fails.
            let aad = tls12_aad(seq, header, dst.len());
            let (_, len) = self.open_body(nonce_seq, &aad, tag, dst, max_plaintext)?;
            Ok((header[0], len))
        }
    }

    /// Encrypt one record body in place: `inner` (the content, or for an
    /// inner-plaintext format content || type || zeros, see [`write_inner`]) under
    /// the nonce of `nonce_seq` and additional data `aad`, the tag into `tag_out`.
    /// The one seal routine of every format.
    #[inline]
    pub(crate) fn seal_body(&self, nonce_seq: u64, aad: &[u8], inner: &mut [u8], tag_out: &mut [u8]) -> Result<()> {
        self.aead.seal_in_place(&self.nonce(nonce_seq), aad, inner, tag_out)
    }

    /// Authenticate and decrypt one record body in place (`dst` holds its
    /// ciphertext without explicit nonce and tag) under the nonce of `nonce_seq`
    /// and additional data `aad`: the one open routine of every format.  Returns
    /// `(content_type, content length)`: the inner type for an inner-plaintext
    /// format (content at `dst[..len]`, the type at `dst[len]`, zeros after it),
    /// else 0 and `dst.len()`.  Errors, in order: BadRecordMac (`dst` zeroed),
    /// RecordOverflow (content, and padding, above `max_plaintext`; checked after
    /// authentication, as the python backend does), UnexpectedMessage (an inner
    /// plaintext of only zeros).  `dst` is all zeros after any error.
    #[inline]
    pub(crate) fn open_body(
        &self,
        nonce_seq: u64,
        aad: &[u8],
        tag: &[u8],
        dst: &mut [u8],
        max_plaintext: usize,
    ) -> Result<(u8, usize)> {
        self.aead.open_in_place(&self.nonce(nonce_seq), aad, tag, dst)?; // zeroes dst on failure
        if !self.format.inner_plaintext() {
            if dst.len() > max_plaintext {
                dst.fill(0);
                return Err(Error::RecordOverflow);
            }
            return Ok((0, dst.len()));
        }
        // content + type + padding = dst.len(); content + padding must be <= max_plaintext.
        if dst.len() > max_plaintext + 1 {
            dst.fill(0);
            return Err(Error::RecordOverflow);
        }
        // Strip the zero padding, scanning from the end (RFC 8446 section 5.4).
        match dst.iter().rposition(|&b| b != 0) {
            Some(type_at) => Ok((dst[type_at], type_at)),
            None => Err(Error::UnexpectedMessage), // all zero already
        }
    }

    /// The room [`Self::open_records_into`] needs to open every complete
    /// application-data record at the start of `data` without `Stop::OutFull`:
    /// the sum of their rooms ([`Format::room`]).  Scanning stops at the first
    /// record that is incomplete, not application_data, or longer than the
    /// format's limit (the opener reports those), so the result is at most
    /// `data.len()`.
    pub fn application_data_room(&self, data: &[u8]) -> usize {
        if !self.format.is_stream() {
            return 0;
        }
        let tag_len = self.aead.tag_len();
        let mut pos = 0;
        let mut room = 0;
        while let Some(header) = data.get(pos..pos + HEADER_LEN) {
            if header[0] != CONTENT_TYPE_APPLICATION_DATA {
                break;
            }
            let Ok(Next::Complete(len)) = self.next_record(&data[pos..]) else { break };
            room += self.format.room(len, tag_len);
            pos += HEADER_LEN + len;
        }
        room
    }

    /// Open the application-data records at the start of `data` straight into
    /// `out` (no scratch buffer): each record's ciphertext is copied to the write
    /// position and decrypted in place there, and the next record's content
    /// overwrites the previous one's content type and padding.  Returns
    /// `(consumed, written, stop)`; `out[..written]` is the concatenated content.
    /// A failing first record is an `Err` (nothing consumed); a failing later
    /// record ends the call with `Stop::Record`, left unconsumed.  `out` bytes past
    /// `written` that this call touched are zeroed.  See interface.py.
    pub fn open_records_into(&self, data: &[u8], max_plaintext: usize, out: &mut [u8]) -> Result<(usize, usize, Stop)> {
        if !self.format.is_stream() {
            return Ok((0, 0, Stop::Record));
        }
        let tag_len = self.aead.tag_len();
        let mut pos = 0;
        let mut w = 0;
        let stop = loop {
            let rest = &data[pos..];
            if rest.len() < HEADER_LEN {
                break Stop::End;
            }
            if rest[0] != CONTENT_TYPE_APPLICATION_DATA {
                break Stop::Record;
            }
            // A failure at the first record is an error; later, stop before it.
            macro_rules! fail {
                ($e:expr) => {{
                    if pos == 0 {
                        return Err($e);
                    }
                    break Stop::Record;
                }};
            }
            let len = match self.next_record(rest) {
                Ok(Next::Complete(len)) => len,
                Ok(Next::Incomplete) => break Stop::End,
                Err(e) => fail!(e),
            };
            let room = self.format.room(len, tag_len);
            if out.len() - w < room {
                break Stop::OutFull;
            }
            let rec = &rest[..HEADER_LEN + len];
            let dst = &mut out[w..w + room];
            dst.copy_from_slice(self.ciphertext(rec));
            let opened = match self.open_one(rec, max_plaintext, dst) {
                Ok(o) => o,
                Err(e) => fail!(e),
            };
            if opened.content_type != CONTENT_TYPE_APPLICATION_DATA || opened.len == 0 {
                // e.g. KeyUpdate or an alert: open_records handles it (and may change
                // keys); an empty record too, so the caller counts each one
                // (Limits.max_empty_records) instead of a whole run as one.
                self.seq.release_one(opened.seq);
                dst.fill(0);
                break Stop::Record;
            }
            if opened.len < room {
                dst[opened.len] = 0; // the TLS 1.3 content type; zeros follow
            }
            w += opened.len;
            pos += HEADER_LEN + len;
        };
        Ok((pos, w, stop))
    }

    /// [`Self::open_records_into`] over `head ++ data`, where `head` is the start
    /// of one record received earlier and not complete by itself (a reader's
    /// buffered partial record).  Only that one record is assembled (at most
    /// `HEADER_LEN + max_ciphertext` bytes copied); the rest of `data` is read in
    /// place.  Returns `(consumed, written, stop)` with `consumed` counting bytes of
    /// `data` only: when it is > 0 the first record was opened and all of `head`
    /// is used too; when it is 0 nothing was.  Errors and stops are those of
    /// `open_records_into` on the joined input.  Err(Invalid) if `head` is empty
    /// or holds a whole record.
    pub fn open_records_into_after(
        &self,
        head: &[u8],
        data: &[u8],
        max_plaintext: usize,
        out: &mut [u8],
    ) -> Result<(usize, usize, Stop)> {
        match head.first() {
            None => return invalid("head must not be empty"),
            Some(&t) if t != CONTENT_TYPE_APPLICATION_DATA => return Ok((0, 0, Stop::Record)),
            Some(_) => {}
        }
        let Some(first_len) = self.first_record_len(head, data)? else {
            return Ok((0, 0, Stop::End)); // the first record is still incomplete
        };
        if head.len() >= first_len {
            return invalid(format!("head must be the start of one incomplete record, got {} bytes", head.len()));
        }
        let k = first_len - head.len(); // bytes of `data` in the first record
        let mut first = Vec::with_capacity(first_len);
        first.extend_from_slice(head);
        first.extend_from_slice(&data[..k]);
        let (consumed, w1, stop) = self.open_records_into(&first, max_plaintext, out)?;
        if consumed == 0 {
            return Ok((0, 0, stop)); // a record for the caller's other path, or no room
        }
        match self.open_records_into(&data[k..], max_plaintext, &mut out[w1..]) {
            Ok((c2, w2, stop)) => Ok((k + c2, w1 + w2, stop)),
            Err(_) => Ok((k, w1, Stop::Record)), // a failing later record: stop before it
        }
    }

    /// `application_data_room` over `head ++ data` (see `open_records_into_after`).
    pub fn application_data_room_after(&self, head: &[u8], data: &[u8]) -> usize {
        match self.first_record_len(head, data) {
            Ok(Some(n)) if head.len() < n && head.first() == Some(&CONTENT_TYPE_APPLICATION_DATA) => {
                let k = n - head.len();
                self.format.room(n - HEADER_LEN, self.aead.tag_len()) + self.application_data_room(&data[k..])
            }
            _ => 0,
        }
    }

    /// Length (header included) of the record that starts `head ++ data` when it
    /// is complete there; None when it is not.  RecordOverflow for an over-long
    /// header, as `open_records_into` reports it.
    fn first_record_len(&self, head: &[u8], data: &[u8]) -> Result<Option<usize>> {
        let mut header = [0u8; HEADER_LEN];
        let total = head.len() + data.len();
        if total < HEADER_LEN {
            return Ok(None);
        }
        for (i, b) in header.iter_mut().enumerate() {
            *b = if i < head.len() { head[i] } else { data[i - head.len()] };
        }
        let len = usize::from(u16::from_be_bytes([header[3], header[4]]));
        if len > self.format.max_ciphertext() {
            return Err(Error::RecordOverflow);
        }
        Ok((total >= HEADER_LEN + len).then_some(HEADER_LEN + len))
    }

    /// Open the complete records at the start of `data` (see interface.py
    /// `open_records` for the stop rules).  Contents are appended to `scratch`.
    pub fn open_records(&self, data: &[u8], max_plaintext: usize, scratch: &mut Vec<u8>) -> Opened {
        let mut res = Opened::default();
        let mut pos = 0;
        while let Some(rest) = data.get(pos..) {
            if rest.len() < HEADER_LEN || !self.format.opens(rest[0]) {
                break;
            }
            let len = match self.next_record(rest) {
                Ok(Next::Complete(len)) => len,
                Ok(Next::Incomplete) => break, // wait for more bytes
                Err(e) => {
                    res.error = Some(e);
                    break;
                }
            };
            let rec = &rest[..HEADER_LEN + len];
            let start = scratch.len();
            scratch.extend_from_slice(self.ciphertext(rec));
            let opened = match self.open_one(rec, max_plaintext, &mut scratch[start..]) {
                Ok(o) => o,
                Err(e) => {
                    scratch.truncate(start);
                    res.error = Some(e);
                    break;
                }
            };
            scratch.truncate(start + opened.len);
            res.items.push((opened.content_type, start, start + opened.len));
            pos += HEADER_LEN + len;
            res.consumed = pos;
            if opened.content_type != CONTENT_TYPE_APPLICATION_DATA {
                break; // e.g. KeyUpdate: the caller may change keys
            }
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::hex;

    // RFC 8448 section 3 (simple 1-RTT): the client's encrypted Finished record.
    const KEY: &str = "dbfaa693d1762c5b666af5d950258d01";
    const IV: &str = "5bd3c71b836e0b76bb73265f";
    const FINISHED: &str = "14000020a8ec436d677634ae525ac1fcebe11a039ec17694fac6e98527b642f2edd5ce61";
    const RECORD: &str = "1703030035 75ec4dc238cce60b298044a71e219c56cc77b0517fe9b93c7a4bfc44d87f38f8
                          0338ac98fc46deb384bd1caeacab6867d726c40546";

    fn key(seq: u128) -> RecordKey {
        RecordKey::new(Algorithm::Aes128Gcm, &hex(KEY), &hex(IV), seq).unwrap()
    }

    fn seal(k: &RecordKey, ct: i64, data: &[u8], pad: i64, maxf: i64) -> Result<Vec<u8>> {
        let p = k.seal_params(ct, pad, maxf)?;
        let mut out = vec![0xAAu8; k.sealed_size(&p, data.len())?];
        let n = k.seal_records(&p, data, &mut out)?;
        assert_eq!(n, out.len());
        Ok(out)
    }

    type OpenResult = (Vec<(u8, Vec<u8>)>, usize, Option<Error>);

    fn open(k: &RecordKey, data: &[u8]) -> OpenResult {
        let mut scratch = Vec::new();
        let o = k.open_records(data, MAX_PLAINTEXT, &mut scratch);
        (o.items.iter().map(|&(t, s, e)| (t, scratch[s..e].to_vec())).collect(), o.consumed, o.error)
    }

    #[test]
    fn rfc8448_client_finished() {
        let k = key(0);
        assert_eq!(seal(&k, 22, &hex(FINISHED), 0, MAX_PLAINTEXT as i64).unwrap(), hex(RECORD));
        assert_eq!(k.sequence(), 1);
        let r = key(0);
        assert_eq!(open(&r, &hex(RECORD)), (vec![(22, hex(FINISHED))], 58, None));
        assert_eq!(r.sequence(), 1);
    }

    #[test]
    fn fragments_padding_and_stop_rules() {
        let data: Vec<u8> = (0..100u8).collect();
        let s = key(5);
        let wire = seal(&s, 23, &data, 3, 40).unwrap(); // 37 content bytes per record -> 3 records
        assert_eq!(wire.len(), 100 + 3 * (5 + 1 + 3 + 16));
        assert_eq!(s.sequence(), 8);
        let r = key(5);
        let (items, consumed, err) = open(&r, &wire);
        assert_eq!(err, None);
        assert_eq!(consumed, wire.len());
        assert_eq!(items.concat_content(), data);
        // Incomplete trailing record stays.
        let r = key(5);
        let (items, consumed, err) = open(&r, &wire[..wire.len() - 1]);
        assert_eq!((items.len(), err), (2, None));
        assert_eq!(consumed, 2 * (5 + 37 + 1 + 3 + 16));
        // Handshake inner type stops after that record; non-23 outer type stops before.
        let s = key(0);
        let mut wire = seal(&s, 22, b"hs", 0, 16384).unwrap();
        wire.extend(seal(&s, 23, b"app", 0, 16384).unwrap());
        let r = key(0);
        let (items, consumed, _) = open(&r, &wire);
        assert_eq!(items, vec![(22, b"hs".to_vec())]);
        assert_eq!(consumed, 5 + 2 + 1 + 16);
        let (items, _, _) = open(&r, &[20, 3, 3, 0, 1, 1]);
        assert!(items.is_empty());
        // Empty data -> one record with empty content.
        let s = key(0);
        let w = seal(&s, 23, b"", 0, 16384).unwrap();
        assert_eq!(w.len(), 5 + 1 + 16);
        assert_eq!(open(&key(0), &w).0, vec![(23, vec![])]);
    }

    trait Concat {
        fn concat_content(&self) -> Vec<u8>;
    }
    impl Concat for Vec<(u8, Vec<u8>)> {
        fn concat_content(&self) -> Vec<u8> {
            self.iter().flat_map(|(_, c)| c.clone()).collect()
        }
    }

    #[test]
    fn errors() {
        let s = key(0);
        let mut w = seal(&s, 23, b"hello", 0, 16384).unwrap();
        let good = w.clone();
        w[7] ^= 0x80;
        let r = key(0);
        assert_eq!(open(&r, &w).2, Some(Error::BadRecordMac));
        assert_eq!(r.sequence(), 0);
        // A good record then a bad one: the good one is returned, the bad one left.
        let mut two = good.clone();
        two.extend_from_slice(&w);
        let (items, consumed, err) = open(&key(0), &two);
        assert_eq!((items.len(), consumed, err), (1, good.len(), Some(Error::BadRecordMac)));
        // Too short for a tag.
        assert_eq!(open(&key(0), &[23, 3, 3, 0, 15]).2, None); // incomplete
        assert_eq!(open(&key(0), &[&[23u8, 3, 3, 0, 15][..], &[0u8; 15]].concat()).2, Some(Error::BadRecordMac));
        // Over-long ciphertext.
        assert_eq!(open(&key(0), &[23, 3, 3, 0x41, 0x01]).2, Some(Error::RecordOverflow));
        // Padding-only inner plaintext: seal manually with content type 0 via the AEAD.
        let k = key(0);
        let mut rec = vec![23u8, 3, 3, 0, 20, 0, 0, 0, 0];
        let (h, body) = rec.split_at_mut(5);
        let mut tag = [0u8; 16];
        k.aead.seal_in_place(&k.nonce(0), h, body, &mut tag).unwrap();
        rec.extend_from_slice(&tag);
        assert_eq!(open(&key(0), &rec).2, Some(Error::UnexpectedMessage));
        // content + padding > max_plaintext.
        let s = key(0);
        let w = seal(&s, 23, &[1u8; 100], 0, 16384).unwrap();
        let mut scratch = Vec::new();
        assert_eq!(key(0).open_records(&w, 99, &mut scratch).error, Some(Error::RecordOverflow));
        assert_eq!(key(0).open_records(&w, 100, &mut scratch).error, None);
        // Arguments.
        for (ct, pad, maxf) in [(0, 0, 100), (256, 0, 100), (23, -1, 100), (23, 100, 100), (23, 0, 0), (23, 0, 16385)] {
            assert!(matches!(key(0).seal_params(ct, pad, maxf), Err(Error::Invalid(_))), "{ct} {pad} {maxf}");
        }
        assert!(matches!(RecordKey::new(Algorithm::Aes128Gcm, &[0; 16], &[0; 11], 0), Err(Error::Invalid(_))));
    }

    fn open_into(k: &RecordKey, data: &[u8], room: usize) -> Result<(usize, Vec<u8>, Stop)> {
        let mut out = vec![0xEEu8; room];
        let (consumed, written, stop) = k.open_records_into(data, MAX_PLAINTEXT, &mut out)?;
        assert!(out[written..].iter().all(|&b| b == 0xEE || b == 0), "bytes past written are zero or untouched");
        out.truncate(written);
        Ok((consumed, out, stop))
    }

    #[test]
    fn open_into_batches_and_stops() {
        let data: Vec<u8> = (0..200u8).collect();
        let s = key(0);
        let mut wire = seal(&s, 23, &data, 2, 50).unwrap(); // 48 content bytes per record -> 5 records
        let app_len = wire.len();
        wire.extend(seal(&s, 22, b"\x18\x00\x00\x01\x00", 0, 16384).unwrap()); // KeyUpdate
        wire.extend(seal(&s, 23, b"after", 0, 16384).unwrap());
        let r = key(0);
        let (consumed, out, stop) = open_into(&r, &wire, wire.len()).unwrap();
        assert_eq!((consumed, out, stop), (app_len, data.clone(), Stop::Record));
        assert_eq!(r.sequence(), 5, "the handshake record's number is given back");
        // open_records takes it from there.
        let (items, c2, _) = open(&r, &wire[consumed..]);
        assert_eq!(items[0].0, 22);
        let (c3, out, stop) = open_into(&r, &wire[consumed + c2..], 100).unwrap();
        assert_eq!((c3, out.as_slice(), stop), (5 + 5 + 1 + 16, &b"after"[..], Stop::End));
        // Incomplete tail and a small output buffer.
        let r = key(0);
        let (consumed, out, stop) = open_into(&r, &wire[..app_len - 1], 1000).unwrap();
        assert_eq!((consumed, out.len(), stop), (4 * 72, 4 * 48, Stop::End));
        let r = key(0);
        let (consumed, out, stop) = open_into(&r, &wire, 100).unwrap(); // body = 48 + 1 + 2 = 51: two fit
        assert_eq!((consumed, out.len(), stop), (2 * 72, 2 * 48, Stop::OutFull));
        // Outer type not 23 stops before; empty input ends.
        assert_eq!(open_into(&key(0), &[22, 3, 3, 0, 1, 1], 10).unwrap(), (0, vec![], Stop::Record));
        assert_eq!(open_into(&key(0), &[], 0).unwrap(), (0, vec![], Stop::End));
        // An empty application-data record stops the batch, unconsumed, so the
        // caller can count it (open_records returns it as an item).
        let s = key(0);
        let mut w = seal(&s, 23, b"x", 0, 16384).unwrap();
        let first = w.len();
        w.extend(seal(&s, 23, b"", 0, 16384).unwrap());
        w.extend(seal(&s, 23, b"y", 0, 16384).unwrap());
        let r = key(0);
        assert_eq!(open_into(&r, &w, 100).unwrap(), (first, b"x".to_vec(), Stop::Record));
        assert_eq!(r.sequence(), 1, "the empty record's number is given back");
        let (items, c2, _) = open(&r, &w[first..]);
        assert_eq!((items[0].0, items[0].1.len(), c2), (23, 0, w.len() - first));
    }

    #[test]
    fn open_into_errors() {
        let s = key(0);
        let good = seal(&s, 23, b"hello", 0, 16384).unwrap();
        let mut bad = seal(&s, 23, b"world", 0, 16384).unwrap();
        bad[9] ^= 1;
        // Failing first record: an error, nothing used.
        let r = key(1);
        assert_eq!(open_into(&r, &bad, 100), Err(Error::BadRecordMac));
        assert_eq!(r.sequence(), 1);
        // After a good record: stop before it.
        let r = key(0);
        let both = [good.clone(), bad].concat();
        assert_eq!(open_into(&r, &both, 100).unwrap(), (good.len(), b"hello".to_vec(), Stop::Record));
        assert_eq!(r.sequence(), 1);
        assert_eq!(open_into(&key(0), &[23, 3, 3, 0x41, 0x01], 10), Err(Error::RecordOverflow));
        assert_eq!(open_into(&key(0), &[&[23u8, 3, 3, 0, 15][..], &[0u8; 15]].concat(), 10), Err(Error::BadRecordMac));
        let w = seal(&key(0), 23, &[1u8; 100], 0, 16384).unwrap();
        let mut out = vec![0u8; 200];
        assert_eq!(key(0).open_records_into(&w, 99, &mut out), Err(Error::RecordOverflow));
        assert!(out.iter().all(|&b| b == 0));
        assert_eq!(key(0).open_records_into(&w, 100, &mut out), Ok((w.len(), 100, Stop::End)));
        let mut rec = vec![23u8, 3, 3, 0, 20, 0, 0, 0, 0];
        let k = key(0);
        let (h, body) = rec.split_at_mut(5);
        let mut tag = [0u8; 16];
        k.aead.seal_in_place(&k.nonce(0), h, body, &mut tag).unwrap();
        rec.extend_from_slice(&tag);
        assert_eq!(open_into(&key(0), &rec, 10), Err(Error::UnexpectedMessage));
        let top = 1u128 << 64;
        let w = seal(&key(top - 1), 23, b"z", 0, 16384).unwrap();
        let r = key(top - 1);
        assert_eq!(open_into(&r, &w, 10).unwrap().1, b"z".to_vec());
        assert_eq!(open_into(&r, &w, 10), Err(Error::SequenceNumberExhausted));
    }

    #[test]
    fn application_data_room_fits_every_complete_record() {
        let s = key(0);
        let mut w = seal(&s, 23, b"hello", 3, 16384).unwrap(); // body 5 + 1 + 3
        w.extend(seal(&s, 23, &[7u8; 40000], 0, 16384).unwrap()); // 3 records
        let bodies = 9 + 16385 + 16385 + (40000 - 2 * 16384 + 1);
        assert_eq!(key(0).application_data_room(&w), bodies);
        let mut out = vec![0u8; bodies];
        assert_eq!(key(0).open_records_into(&w, MAX_PLAINTEXT, &mut out).unwrap(), (w.len(), 40005, Stop::End));
        // An incomplete record, a record of another type or an over-long header ends the scan.
        assert_eq!(key(0).application_data_room(&w[..w.len() - 1]), bodies - (40000 - 2 * 16384 + 1));
        let mut mixed = w[..5 + 5 + 1 + 3 + 16].to_vec();
        mixed.extend_from_slice(&[21, 3, 3, 0, 2, 1, 0]);
        mixed.extend_from_slice(&w[30..]);
        assert_eq!(key(0).application_data_room(&mixed), 9);
        assert_eq!(key(0).application_data_room(&[23, 3, 3, 0x41, 0x01]), 0);
        assert_eq!(key(0).application_data_room(&[23, 3, 3, 0, 3, 0, 0, 0]), 0); // shorter than a tag
        assert_eq!(key(0).application_data_room(&[23, 3, 3]), 0);
    }

    #[test]
    fn open_after_a_buffered_head_equals_the_joined_input() {
        let s = key(0);
        let mut w = seal(&s, 23, &[1u8; 20000], 0, 16384).unwrap(); // two records
        w.extend(seal(&s, 23, b"tail", 2, 16384).unwrap());
        w.extend(seal(&s, 22, &[24, 0, 0, 1, 0], 0, 16384).unwrap()); // a KeyUpdate
        let first = 5 + 16384 + 1 + 16;
        for cut in [1, 3, 5, 6, 100, first - 1] {
            let (head, data) = w.split_at(cut);
            let r = key(0);
            let room = r.application_data_room_after(head, data);
            assert_eq!(room, key(0).application_data_room(&w), "cut {cut}");
            let mut out = vec![0u8; room];
            let (consumed, written, stop) = r.open_records_into_after(head, data, MAX_PLAINTEXT, &mut out).unwrap();
            let mut joined = vec![0u8; room];
            let (jc, jw, js) = key(0).open_records_into(&w, MAX_PLAINTEXT, &mut joined).unwrap();
            assert_eq!((consumed + cut, written, stop), (jc, jw, js), "cut {cut}");
            assert_eq!(out[..written], joined[..jw]);
            assert_eq!(r.sequence(), 3);
        }
        // still incomplete; errors and stops of the first record; a failing later record
        assert_eq!(key(0).open_records_into_after(&w[..3], &w[3..100], MAX_PLAINTEXT, &mut []), Ok((0, 0, Stop::End)));
        let mut bad = w.clone();
        bad[first - 1] ^= 1;
        let r = key(0);
        assert_eq!(r.open_records_into_after(&bad[..10], &bad[10..], MAX_PLAINTEXT, &mut vec![0u8; 40000]), Err(Error::BadRecordMac));
        assert_eq!(r.sequence(), 0);
        let mut bad2 = w.clone();
        bad2[first + 10] ^= 1;
        let mut out = vec![0u8; 40000];
        assert_eq!(key(0).open_records_into_after(&bad2[..10], &bad2[10..], MAX_PLAINTEXT, &mut out), Ok((first - 10, 16384, Stop::Record)));
        assert_eq!(key(0).open_records_into_after(&[23, 3, 3, 0x41], &[1], MAX_PLAINTEXT, &mut []), Err(Error::RecordOverflow));
        assert!(key(0).open_records_into_after(&w[..first], &w[first..], MAX_PLAINTEXT, &mut out).is_err()); // a whole record
        assert!(key(0).open_records_into_after(&[], &w, MAX_PLAINTEXT, &mut out).is_err());
        let ku = seal(&key(0), 22, &[24, 0, 0, 1, 0], 0, 16384).unwrap();
        assert_eq!(key(0).open_records_into_after(&ku[..4], &ku[4..], MAX_PLAINTEXT, &mut [0u8; 64]), Ok((0, 0, Stop::Record)));
    }

    #[test]
    fn ccm8_records_use_8_byte_tags() {
        let k8 = |seq| RecordKey::new(Algorithm::Aes128Ccm8, &hex(KEY), &hex(IV), seq).unwrap();
        let s = k8(0);
        let p = s.seal_params(23, 2, 16384).unwrap();
        assert_eq!(s.sealed_size(&p, 10).unwrap(), 10 + 5 + 1 + 2 + 8);
        let w = seal(&s, 23, b"0123456789", 2, 16384).unwrap();
        assert_eq!(w.len(), 26);
        assert_eq!(&w[3..5], &[0, 21]);
        assert_eq!(open(&k8(0), &w), (vec![(23, b"0123456789".to_vec())], 26, None));
        let mut out = vec![0u8; 13]; // body = 21 - 8
        assert_eq!(k8(0).open_records_into(&w, MAX_PLAINTEXT, &mut out), Ok((26, 10, Stop::End)));
        assert_eq!(k8(0).open_records_into(&w, MAX_PLAINTEXT, &mut out[..12]), Ok((0, 0, Stop::OutFull)));
        for i in 5..w.len() {
            let mut bad = w.clone();
            bad[i] ^= 1;
            assert_eq!(open(&k8(0), &bad).2, Some(Error::BadRecordMac), "byte {i}");
        }
        // Shorter than the tag: BadRecordMac; exactly the tag: authenticates to an
        // empty inner plaintext, which has no content type.
        assert_eq!(open(&k8(0), &[&[23u8, 3, 3, 0, 7][..], &[0u8; 7]].concat()).2, Some(Error::BadRecordMac));
        let k = k8(0);
        let mut rec = vec![23u8, 3, 3, 0, 8];
        let mut tag = [0u8; 8];
        k.aead.seal_in_place(&k.nonce(0), &rec.clone(), &mut [], &mut tag).unwrap();
        rec.extend_from_slice(&tag);
        assert_eq!(open(&k8(0), &rec).2, Some(Error::UnexpectedMessage));
        assert_eq!(k8(0).open_records_into(&rec, MAX_PLAINTEXT, &mut [0u8; 4]), Err(Error::UnexpectedMessage));
        // The same key as AES-128-CCM (16-byte tag) gives the same ciphertext, longer tag.
        let w16 = seal(&RecordKey::new(Algorithm::Aes128Ccm, &hex(KEY), &hex(IV), 0).unwrap(), 23, b"0123456789", 2, 16384).unwrap();
        assert_eq!(w16.len(), 34);
        assert_eq!(w16[5..18], w[5..18]);
    }

    #[test]
    fn data_limit_refuses_application_data_only() {
        let s = key(0).with_data_limit(3).unwrap();
        assert_eq!(seal(&s, 23, &[7u8; 31], 0, 10), Err(Error::KeyLimitReached)); // 4 records; 0..=2 fit
        assert_eq!(s.sequence(), 0, "nothing reserved");
        seal(&s, 23, &[7u8; 20], 0, 10).unwrap(); // 2 records
        assert_eq!(seal(&s, 23, b"xy", 0, 10), Ok(seal(&key(2), 23, b"xy", 0, 10).unwrap()));
        assert_eq!(seal(&s, 23, b"z", 0, 10), Err(Error::KeyLimitReached));
        seal(&s, 22, b"\x18\x00\x00\x01\x00", 0, 16384).unwrap(); // a KeyUpdate still goes out
        seal(&s, 21, b"\x01\x00", 0, 16384).unwrap(); // and an alert
        assert_eq!(s.sequence(), 5);
        assert!(key(0).with_data_limit((1u128 << 64) + 1).is_err());
    }

    #[test]
    fn sequence_exhaustion() {
        let top = 1u128 << 64;
        let s = key(top - 1);
        assert!(seal(&s, 23, b"x", 0, 16384).is_ok());
        assert_eq!(s.sequence(), top);
        assert_eq!(seal(&s, 23, b"x", 0, 16384), Err(Error::SequenceNumberExhausted));
        let s = key(top - 2);
        assert_eq!(seal(&s, 23, &[0u8; 30], 0, 10), Err(Error::SequenceNumberExhausted));
        assert_eq!(s.sequence(), top - 2);
        assert!(seal(&s, 23, &[0u8; 20], 0, 10).is_ok());
        assert_eq!(s.sequence(), top);
        assert!(RecordKey::new(Algorithm::Aes128Gcm, &[0; 16], &[0; 12], top).is_err());
        // Opening at 2**64 - 1 works once, then exhausts; a failure gives the number back.
        let s = key(top - 1);
        let w = seal(&s, 23, b"y", 0, 16384).unwrap();
        let r = key(top - 1);
        let mut bad = w.clone();
        bad[6] ^= 1;
        assert_eq!(open(&r, &bad).2, Some(Error::BadRecordMac));
        assert_eq!(r.sequence(), top - 1);
        assert_eq!(open(&r, &w).0, vec![(23, b"y".to_vec())]);
        assert_eq!(open(&r, &w).2, Some(Error::SequenceNumberExhausted));
    }

    #[test]
    fn threads_never_share_a_number() {
        let seq = std::sync::Arc::new(Sequence::new(0).unwrap());
        let hs: Vec<_> = (0..4)
            .map(|_| {
                let s = seq.clone();
                std::thread::spawn(move || (0..10_000).map(|_| s.reserve(3).unwrap()).collect::<Vec<_>>())
            })
            .collect();
        let mut all: Vec<u64> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), 40_000);
        assert_eq!(seq.get(), 120_000);
    }

    // ------------------------------------------------------------------ TLS 1.2

    // Records sealed with pyca/cryptography 50.0.2 (OpenSSL) AESGCM / ChaCha20Poly1305 /
    // AESCCM(tag 8): key 00..0f (00..1f for ChaCha20), salt a0a1a2a3 (12-byte iv
    // a0..ab for ChaCha20), sequence number 0x0102030405060708, "hello TLS 1.2";
    // nonce = salt || seq (GCM, CCM) or iv XOR seq (ChaCha20), AAD = seq || type ||
    // 0303 || 000d.  tests/test_tls12_record.py recomputes them.
    const SEQ12: u128 = 0x0102030405060708;
    const PT12: &[u8] = b"hello TLS 1.2";
    const GCM12: &str = "1703030025 0102030405060708 7458f7a654e8c888d587c62e2a f7d81cfd992c41aaf59de1099b472f35";
    const CHACHA12: &str = "160303001d ce9a283abcab6adae6dcdd7461 c71659599850ee56d2599d60065bd812";
    const CCM8_12: &str = "150303001d 0102030405060708 5209f9a1270a8930c6fd1c2cb6 0b850e20fd40d4e6";

    fn key12(suite: i64, seq: u128) -> RecordKey {
        let (alg, format) = tls12_suite(suite).unwrap();
        let key: Vec<u8> = (0..alg.key_len() as u8).collect();
        let iv = &hex("a0a1a2a3a4a5a6a7a8a9aaab")[..format.iv_len()];
        RecordKey::with_format(alg, format, &key, iv, seq).unwrap()
    }

    #[test]
    fn tls12_known_records() {
        for (suite, ct, wire) in [(0xC02F, 23, GCM12), (0xCCA8, 22, CHACHA12), (0xC0AE, 21, CCM8_12)] {
            let s = key12(suite, SEQ12);
            assert_eq!(seal(&s, ct, PT12, 0, 16384).unwrap(), hex(wire), "suite {suite:04x}");
            assert_eq!(s.sequence(), SEQ12 + 1);
            let r = key12(suite, SEQ12);
            assert_eq!(open(&r, &hex(wire)), (vec![(ct as u8, PT12.to_vec())], hex(wire).len(), None));
            assert_eq!(r.sequence(), SEQ12 + 1);
        }
    }

    #[test]
    fn tls12_nonce_and_aad() {
        // The layout written by hand with the bare AEAD: explicit nonce = seq, nonce =
        // salt || seq, AAD = seq || type || version || plaintext length.
        let s = key12(0xC02B, 7);
        let wire = seal(&s, 22, b"abc", 0, 16384).unwrap();
        let aead = AeadKey::new(Algorithm::Aes128Gcm, &(0..16).collect::<Vec<u8>>()).unwrap();
        let nonce = hex("a0a1a2a3 0000000000000007");
        let aad = hex("0000000000000007 16 0303 0003");
        let mut body = vec![0u8; 3 + 16];
        aead.seal_to(&nonce, &aad, b"abc", &mut body).unwrap();
        assert_eq!(wire, [&hex("160303001b 0000000000000007")[..], &body].concat());
        assert_eq!(tls12_aad(7, &wire[..5], 3).to_vec(), aad);
        // ChaCha20: no explicit nonce, nonce = iv XOR seq.
        let s = key12(0xCCA9, 7);
        let wire = seal(&s, 23, b"abc", 0, 16384).unwrap();
        let aead = AeadKey::new(Algorithm::ChaCha20Poly1305, &(0..32).collect::<Vec<u8>>()).unwrap();
        let mut body = vec![0u8; 3 + 16];
        aead.seal_to(&hex("a0a1a2a3a4a5a6a7a8a9aaac"), &hex("0000000000000007 17 0303 0003"), b"abc", &mut body).unwrap();
        assert_eq!(wire, [&hex("1703030013")[..], &body].concat());
        // The explicit nonce is read from the record: a peer's choice (not the
        // sequence number) opens too, while the AAD keeps our sequence number.
        let k = key12(0xC02B, 0);
        let aead = AeadKey::new(Algorithm::Aes128Gcm, &(0..16).collect::<Vec<u8>>()).unwrap();
        let explicit = hex("f0e0d0c0b0a09080");
        let mut body = vec![0u8; 2 + 16];
        aead.seal_to(&[&hex("a0a1a2a3")[..], &explicit].concat(), &hex("0000000000000000 17 0303 0002"), b"hi", &mut body)
            .unwrap();
        let rec = [&hex("170303001a")[..], &explicit, &body].concat();
        assert_eq!(open(&k, &rec), (vec![(23, b"hi".to_vec())], rec.len(), None));
        assert_eq!(open(&key12(0xC02B, 1), &rec).2, Some(Error::BadRecordMac), "AAD carries the sequence number");
        // Every header byte is authenticated (type and version through the AAD,
        // length through the plaintext length).
        for i in 0..rec.len() {
            let mut bad = rec.clone();
            bad[i] ^= 1;
            let (items, _, err) = open(&key12(0xC02B, 0), &bad);
            // (a flip in the length bytes lengthens it: incomplete, waiting for more)
            assert!(items.is_empty() && (err == Some(Error::BadRecordMac)) != (i == 3 || i == 4), "byte {i}: {err:?}");
        }
        let mut short = rec.clone();
        short[4] -= 1;
        assert_eq!(open(&key12(0xC02B, 0), &short).2, Some(Error::BadRecordMac));
    }

    #[test]
    fn tls12_framing_lengths_and_arguments() {
        let s = key12(0xC02F, 0);
        let p = s.seal_params(23, 0, 100).unwrap();
        assert_eq!(s.sealed_size(&p, 250).unwrap(), 250 + 3 * (5 + 8 + 16));
        let wire = seal(&s, 23, &[9u8; 250], 0, 100).unwrap();
        assert_eq!(wire.len(), 250 + 3 * 29);
        assert_eq!(&wire[..5], &[23, 3, 3, 0, 124]);
        assert_eq!(&wire[5..13], &0u64.to_be_bytes());
        assert_eq!(&wire[129 + 5..129 + 13], &1u64.to_be_bytes());
        let (items, consumed, err) = open(&key12(0xC02F, 0), &wire);
        assert_eq!((items.concat_content(), consumed, err), (vec![9u8; 250], wire.len(), None));
        // Empty data: one record of explicit nonce and tag only.
        let w = seal(&key12(0xC02F, 0), 23, b"", 0, 16384).unwrap();
        assert_eq!(w.len(), 5 + 8 + 16);
        assert_eq!(open(&key12(0xC02F, 0), &w).0, vec![(23, vec![])]);
        let w = seal(&key12(0xCCA8, 0), 21, b"", 0, 16384).unwrap();
        assert_eq!(w.len(), 5 + 16);
        // No padding and only the TLS 1.2 content types; lengths of keys and IVs.
        for (ct, pad) in [(23, 1), (19, 0), (24, 0), (0, 0)] {
            assert!(matches!(s.seal_params(ct, pad, 100), Err(Error::Invalid(_))), "{ct} {pad}");
        }
        assert!(matches!(tls12_suite(0x1301), Err(Error::Invalid(_))));
        assert!(matches!(tls12_suite(0xC02F), Ok((Algorithm::Aes128Gcm, Format::Tls12 { explicit_nonce: true }))));
        let fmt = Format::Tls12 { explicit_nonce: true };
        assert!(RecordKey::with_format(Algorithm::Aes128Gcm, fmt, &[0; 16], &[0; 12], 0).is_err());
        assert!(RecordKey::with_format(Algorithm::Aes128Gcm, fmt, &[0; 16], &[0; 4], 0).is_ok());
        let fmt = Format::Tls12 { explicit_nonce: false };
        assert!(RecordKey::with_format(Algorithm::ChaCha20Poly1305, fmt, &[0; 32], &[0; 4], 0).is_err());
        // Too short for explicit nonce + tag: BadRecordMac, number given back; the
        // length limit is 2**14 + 2048; the plaintext limit is max_plaintext.
        let r = key12(0xC02F, 0);
        assert_eq!(open(&r, &[&[23u8, 3, 3, 0, 23][..], &[0u8; 23]].concat()).2, Some(Error::BadRecordMac));
        assert_eq!(r.sequence(), 0);
        assert_eq!(open(&r, &[23, 3, 3, 0x48, 0x01]).2, Some(Error::RecordOverflow));
        assert_eq!(open(&r, &[23, 3, 3, 0x48, 0x00]).2, None); // incomplete, not too long
        let w = seal(&key12(0xC02F, 0), 23, &[1u8; 100], 0, 16384).unwrap();
        let mut scratch = Vec::new();
        assert_eq!(key12(0xC02F, 0).open_records(&w, 99, &mut scratch).error, Some(Error::RecordOverflow));
        assert_eq!(key12(0xC02F, 0).open_records(&w, 100, &mut scratch).error, None);
    }

    #[test]
    fn tls12_stop_rules() {
        // open_records opens every TLS 1.2 type and stops after a non-application one;
        // it stops before an unknown outer type.
        let s = key12(0xC0AC, 0);
        let mut wire = seal(&s, 23, b"one", 0, 16384).unwrap();
        wire.extend(seal(&s, 21, &[1, 0], 0, 16384).unwrap());
        let after_alert = wire.len();
        wire.extend(seal(&s, 20, &[1], 0, 16384).unwrap());
        let r = key12(0xC0AC, 0);
        let (items, consumed, err) = open(&r, &wire);
        assert_eq!((items, consumed, err), (vec![(23, b"one".to_vec()), (21, vec![1, 0])], after_alert, None));
        assert_eq!(open(&r, &wire[after_alert..]).0, vec![(20, vec![1])]);
        assert_eq!(open(&key12(0xC0AC, 0), &[24, 3, 3, 0, 1, 0]), (vec![], 0, None));
        // open_records_into: application data only; other types and empty records stop it.
        let s = key12(0xC0AC, 0);
        let mut wire = seal(&s, 23, &[5u8; 40], 0, 16).unwrap(); // 3 records
        let app = wire.len();
        wire.extend(seal(&s, 23, b"", 0, 16384).unwrap());
        wire.extend(seal(&s, 22, b"\x00\x00\x00\x00", 0, 16384).unwrap());
        let r = key12(0xC0AC, 0);
        assert_eq!(open_into(&r, &wire, 1000).unwrap(), (app, vec![5u8; 40], Stop::Record));
        assert_eq!(r.sequence(), 3, "the empty record's number is given back");
        let (items, c, _) = open(&r, &wire[app..]);
        assert_eq!((items[0].clone(), items[1].0, c), ((23, vec![]), 22, wire.len() - app));
        // Room: records need length - 8 - 16 bytes each.
        assert_eq!(key12(0xC0AC, 0).application_data_room(&wire), 40);
        assert_eq!(open_into(&key12(0xC0AC, 0), &wire, 31).unwrap(), (45, vec![5u8; 16], Stop::OutFull));
        assert_eq!(open_into(&key12(0xC0AC, 0), &wire, 39).unwrap(), (2 * (5 + 8 + 16 + 16), vec![5u8; 32], Stop::OutFull));
        assert_eq!(open_into(&key12(0xC0AC, 0), &wire[..app - 1], 100).unwrap(), (2 * 45, vec![5u8; 32], Stop::End));
        assert_eq!(open_into(&key12(0xC0AC, 0), &[21, 3, 3, 0, 2, 1, 0], 10).unwrap(), (0, vec![], Stop::Record));
        // A failing first record is an error; a later one stops the batch.
        let mut bad = wire.clone();
        bad[app - 1] ^= 1;
        let r = key12(0xC0AC, 0);
        assert_eq!(open_into(&r, &bad, 100).unwrap(), (2 * 45, vec![5u8; 32], Stop::Record));
        assert_eq!(open_into(&r, &bad[2 * 45..], 100), Err(Error::BadRecordMac));
        assert_eq!(r.sequence(), 2);
        // After a buffered head: the same as the joined input.
        for cut in [1, 4, 5, 6, 20, 44] {
            let r = key12(0xC0AC, 0);
            let room = r.application_data_room_after(&wire[..cut], &wire[cut..]);
            assert_eq!(room, 40, "cut {cut}");
            let mut out = vec![0u8; room];
            assert_eq!(r.open_records_into_after(&wire[..cut], &wire[cut..], MAX_PLAINTEXT, &mut out), Ok((app - cut, 40, Stop::Record)));
            assert_eq!(out, vec![5u8; 40]);
        }
        assert_eq!(key12(0xC0AC, 0).open_records_into_after(&[23, 3, 3, 0x48], &[1], MAX_PLAINTEXT, &mut []), Err(Error::RecordOverflow));
    }

    #[test]
    fn tls12_data_limit_and_exhaustion() {
        let s = key12(0xCCA8, 0).with_data_limit(2).unwrap();
        assert_eq!(seal(&s, 23, &[0u8; 30], 0, 10), Err(Error::KeyLimitReached));
        seal(&s, 23, &[0u8; 20], 0, 10).unwrap();
        assert_eq!(seal(&s, 23, b"x", 0, 10), Err(Error::KeyLimitReached));
        seal(&s, 21, &[1, 0], 0, 10).unwrap(); // close_notify still goes out
        let top = 1u128 << 64;
        let s = key12(0xC02B, top - 1);
        let w = seal(&s, 23, b"last", 0, 16384).unwrap();
        assert_eq!(&w[5..13], &[0xff; 8], "explicit nonce = 2**64 - 1");
        assert_eq!(seal(&s, 23, b"x", 0, 16384), Err(Error::SequenceNumberExhausted));
        let r = key12(0xC02B, top - 1);
        assert_eq!(open(&r, &w).0, vec![(23, b"last".to_vec())]);
        assert_eq!(open(&r, &w).2, Some(Error::SequenceNumberExhausted));
    }
}
