//! Our zero-copy codec for Kafka record batches, magic v2 (KIP-98).
//!
//! ```text
//! Fetch partition `records` (Bytes) --BatchIter--> RawBatch { header, bytes }  (slices, no copy)
//!     RawBatch::verify_crc()                         CRC32C over attributes..end
//!     RawBatch::payload() --decompress (pool)-->     records section (Bytes)
//!     RecordIter::new(&header, section)  ------->    Record { offset, timestamp, key, value, headers }
//!                                                    (key/value/headers: slices of the section)
//! BatchWriter::push()* -> finish()  ------------>    one batch for a Produce request
//! ```
//!
//! Batch layout (61-byte header, then the records section, compressed as a whole):
//! `base_offset i64, batch_length i32, partition_leader_epoch i32, magic i8, crc u32,
//! attributes i16, last_offset_delta i32, base_timestamp i64, max_timestamp i64, producer_id i64,
//! producer_epoch i16, base_sequence i32, records_count i32`.
//! Record layout (zigzag varints): `length, attributes i8, timestamp_delta varlong,
//! offset_delta varint, key_len + key, value_len + value, header_count,
//! [header_key_len + key, header_value_len + value]*`; a length of -1 is null.

mod batch;
mod record;
mod varint;
mod writer;

#[cfg(test)]
mod tests;

pub use batch::{BatchHeader, BatchIter, RawBatch, BATCH_HEADER_LEN};
pub use record::{decode_control_record, ControlType, Header, Record, RecordIter};
pub use writer::{restamp, BatchWriter};

/// Errors of the record-batch codec and of the compression codecs.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The data ends before a structure it announced.
    #[error("record data truncated")]
    Truncated,
    /// A batch's CRC32C does not match its bytes.
    #[error("record batch CRC mismatch: header has {expected:#010x}, data has {actual:#010x}")]
    CrcMismatch {
        /// The CRC in the batch header.
        expected: u32,
        /// The CRC computed over the batch.
        actual: u32,
    },
    /// A legacy message set (magic 0 or 1) or an unknown format version.
    #[error("unsupported record batch magic {0} (only v2 batches are supported)")]
    UnsupportedMagic(i8),
    /// An unknown codec id, or compressed data the codec rejects.
    #[error("bad compression: {0}")]
    BadCompression(String),
    /// Decompressed data would exceed the caller's size limit, or a batch is too large to write.
    #[error("record data exceeds the size limit")]
    TooLarge,
    /// A field that cannot be right (negative length, varint overflow, length mismatch...).
    #[error("corrupt record data: {0}")]
    Corrupt(&'static str),
    /// `BatchWriter::finish` with no records pushed.
    #[error("cannot write a record batch without records")]
    EmptyBatch,
    /// The decompression pool shut down or a worker panicked before answering.
    #[error("decompression pool: {0}")]
    Pool(&'static str),
}
