//! Core errors -> Python exceptions.  Rust defines no exception classes: the
//! protocol errors are imported from `ferrotls.errors` (as cryptography's
//! `exceptions.rs` imports from `cryptography.exceptions`).

use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

pub use crate::core::Error as NativeError;

pyo3::import_exception!(ferrotls.errors, BadRecordMac);
pyo3::import_exception!(ferrotls.errors, RecordOverflow);
pyo3::import_exception!(ferrotls.errors, UnexpectedMessage);
pyo3::import_exception!(ferrotls.errors, IllegalParameter);
pyo3::import_exception!(ferrotls.errors, InternalError);
pyo3::import_exception!(ferrotls.errors, SequenceNumberExhausted);
pyo3::import_exception!(ferrotls.errors, KeyLimitReached);

/// The one message for every deprotection failure (RFC 8446 section 5.2).
pub const BAD_RECORD_MAC: &str = "bad record MAC";

impl From<NativeError> for PyErr {
    fn from(e: NativeError) -> PyErr {
        match e {
            NativeError::BadRecordMac => BadRecordMac::new_err(BAD_RECORD_MAC),
            NativeError::RecordOverflow => RecordOverflow::new_err("record too long"),
            NativeError::UnexpectedMessage => {
                UnexpectedMessage::new_err("inner plaintext has no content type (all zero bytes)")
            }
            NativeError::IllegalParameter(msg) => IllegalParameter::new_err(msg),
            NativeError::SequenceNumberExhausted => SequenceNumberExhausted::new_err(
                "record sequence number would reach 2**64: update the keys or close the connection",
            ),
            NativeError::KeyLimitReached => KeyLimitReached::new_err(
                "application data would pass the key's usage limit: update the keys first",
            ),
            NativeError::Invalid(msg) => PyValueError::new_err(msg),
            NativeError::Internal(msg) => InternalError::new_err(msg),
        }
    }
}
