//! The error of a transactional API call (librdkafka's `rd_kafka_error_t` for transactions):
//! code and message plus retriable, abortable (`txn_requires_abort`) and fatal flags.

use std::fmt;

use crate::error::{ErrorCode, KafkaError};

/// A transactional API error, like librdkafka's `rd_kafka_error_t`: the error plus whether the
/// call may be retried, whether the transaction must be aborted, and (in `error.fatal`) whether
/// the producer is unusable.
#[derive(Clone, Debug)]
pub struct TxnError {
    /// Code and message.
    pub error: KafkaError,
    retriable: bool,
    requires_abort: bool,
}

impl TxnError {
    /// A plain error (not retriable, not abortable, not fatal).
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        TxnError {
            error: KafkaError::new(code, message),
            retriable: false,
            requires_abort: false,
        }
    }
    /// An error the application may retry by calling the same API again.
    pub fn retriable(code: ErrorCode, message: impl Into<String>) -> Self {
        TxnError {
            retriable: true,
            ..Self::new(code, message)
        }
    }
    /// An error after which the transaction must be aborted.
    pub fn abortable(code: ErrorCode, message: impl Into<String>) -> Self {
        TxnError {
            requires_abort: true,
            ..Self::new(code, message)
        }
    }
    /// An error that makes the producer unusable.
    pub fn fatal(code: ErrorCode, message: impl Into<String>) -> Self {
        let mut e = Self::new(code, message);
        e.error.fatal = true;
        e
    }
    /// The error code.
    pub fn code(&self) -> ErrorCode {
        self.error.code
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.error.message
    }
    /// The producer can no longer be used.
    pub fn is_fatal(&self) -> bool {
        self.error.fatal
    }
    /// Calling the same API again may succeed.
    pub fn is_retriable(&self) -> bool {
        self.retriable
    }
    /// The application must call `abort_transaction` before anything else.
    pub fn txn_requires_abort(&self) -> bool {
        self.requires_abort
    }
}

impl fmt::Display for TxnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.error.message)
    }
}

impl std::error::Error for TxnError {}
