//! The v2 batch header, a whole batch as a shared slice, and the iterator over the batches of a
//! Fetch response partition.

use bytes::Bytes;

use super::RecordError;
use crate::protocol::compression::{self, Compression};

/// Size of the v2 batch header, from `base_offset` to `records_count` inclusive.
pub const BATCH_HEADER_LEN: usize = 61;
/// `base_offset` (8) + `batch_length` (4): the part of a batch that `batch_length` does not count.
pub(super) const LOG_OVERHEAD: usize = 12;
/// Position of the magic byte, the same in legacy message sets and v2 batches.
const MAGIC_OFFSET: usize = 16;
/// Position of the CRC field; the CRC itself covers everything from `attributes` to the end.
pub(super) const CRC_OFFSET: usize = 17;
pub(super) const ATTRIBUTES_OFFSET: usize = 21;
/// The smallest `batch_length` a v2 batch can carry (a header with no records).
const MIN_V2_BATCH_LENGTH: i32 = (BATCH_HEADER_LEN - LOG_OVERHEAD) as i32;

pub(super) const ATTR_TIMESTAMP_LOG_APPEND: i16 = 0x08;
pub(super) const ATTR_TRANSACTIONAL: i16 = 0x10;
pub(super) const ATTR_CONTROL: i16 = 0x20;

/// The 61-byte header of a v2 record batch (KIP-98), in wire order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BatchHeader {
    /// Offset of the first record (records carry deltas from it).
    pub base_offset: i64,
    /// Bytes after this field: from `partition_leader_epoch` to the end of the batch.
    pub batch_length: i32,
    /// Leader epoch stamped by the broker; -1 from producers.
    pub partition_leader_epoch: i32,
    /// Format version; 2 for every batch this type describes.
    pub magic: i8,
    /// CRC32C of everything from `attributes` to the end of the batch.
    pub crc: u32,
    /// Compression codec (bits 0-2), timestamp type (3), transactional (4), control (5).
    pub attributes: i16,
    /// Offset delta of the last record; survives compaction, unlike the records themselves.
    pub last_offset_delta: i32,
    /// Timestamp of the first record; records carry deltas from it.
    pub base_timestamp: i64,
    /// Largest timestamp in the batch (the log-append time when the broker sets it).
    pub max_timestamp: i64,
    /// Idempotent/transactional producer id, -1 otherwise.
    pub producer_id: i64,
    /// Epoch of `producer_id`, -1 otherwise.
    pub producer_epoch: i16,
    /// Sequence number of the first record for idempotence, -1 otherwise.
    pub base_sequence: i32,
    /// Number of records in the records section.
    pub records_count: i32,
}

#[inline]
fn be_i16(b: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([b[at], b[at + 1]])
}

#[inline]
fn be_i32(b: &[u8], at: usize) -> i32 {
    i32::from_be_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

#[inline]
fn be_i64(b: &[u8], at: usize) -> i64 {
    i64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

impl BatchHeader {
    /// Decodes the header fields from the first 61 bytes of `buf`, without checking the magic,
    /// the length or the CRC.
    pub fn decode(buf: &[u8]) -> Result<Self, RecordError> {
        if buf.len() < BATCH_HEADER_LEN {
            return Err(RecordError::Truncated);
        }
        Ok(BatchHeader {
            base_offset: be_i64(buf, 0),
            batch_length: be_i32(buf, 8),
            partition_leader_epoch: be_i32(buf, 12),
            magic: buf[MAGIC_OFFSET] as i8,
            crc: be_i32(buf, CRC_OFFSET) as u32,
            attributes: be_i16(buf, ATTRIBUTES_OFFSET),
            last_offset_delta: be_i32(buf, 23),
            base_timestamp: be_i64(buf, 27),
            max_timestamp: be_i64(buf, 35),
            producer_id: be_i64(buf, 43),
            producer_epoch: be_i16(buf, 51),
            base_sequence: be_i32(buf, 53),
            records_count: be_i32(buf, 57),
        })
    }

    /// Writes the header fields into `out[..61]` in wire order.
    ///
    /// # Panics
    /// If `out` is shorter than 61 bytes.
    pub fn encode_into(&self, out: &mut [u8]) {
        let out = &mut out[..BATCH_HEADER_LEN];
        out[0..8].copy_from_slice(&self.base_offset.to_be_bytes());
        out[8..12].copy_from_slice(&self.batch_length.to_be_bytes());
        out[12..16].copy_from_slice(&self.partition_leader_epoch.to_be_bytes());
        out[16] = self.magic as u8;
        out[17..21].copy_from_slice(&self.crc.to_be_bytes());
        out[21..23].copy_from_slice(&self.attributes.to_be_bytes());
        out[23..27].copy_from_slice(&self.last_offset_delta.to_be_bytes());
        out[27..35].copy_from_slice(&self.base_timestamp.to_be_bytes());
        out[35..43].copy_from_slice(&self.max_timestamp.to_be_bytes());
        out[43..51].copy_from_slice(&self.producer_id.to_be_bytes());
        out[51..53].copy_from_slice(&self.producer_epoch.to_be_bytes());
        out[53..57].copy_from_slice(&self.base_sequence.to_be_bytes());
        out[57..61].copy_from_slice(&self.records_count.to_be_bytes());
    }

    /// The codec of the records section; an error for codec ids Kafka does not define.
    pub fn compression(&self) -> Result<Compression, RecordError> {
        Compression::from_attributes(self.attributes)
    }

    /// Whether the batch belongs to a transaction (its records are visible to `read_committed`
    /// consumers only once a COMMIT marker follows).
    pub fn is_transactional(&self) -> bool {
        self.attributes & ATTR_TRANSACTIONAL != 0
    }

    /// Whether the batch holds control records (transaction markers), never shown to applications.
    pub fn is_control(&self) -> bool {
        self.attributes & ATTR_CONTROL != 0
    }

    /// Whether the broker stamped the batch with its append time: every record's timestamp is then
    /// `max_timestamp`.
    pub fn timestamp_type_is_log_append(&self) -> bool {
        self.attributes & ATTR_TIMESTAMP_LOG_APPEND != 0
    }

    /// Offset of the last record the producer wrote into this batch (compaction may have removed it).
    pub fn last_offset(&self) -> i64 {
        self.base_offset
            .wrapping_add(i64::from(self.last_offset_delta))
    }

    /// The offset to fetch from after this batch.
    pub fn next_offset(&self) -> i64 {
        self.last_offset().wrapping_add(1)
    }
}

/// One complete v2 batch: its decoded header and a shared slice of its bytes, from `base_offset`
/// to the end of the records section. The records are neither checked nor decompressed yet.
#[derive(Clone, Debug)]
pub struct RawBatch {
    /// The decoded header.
    pub header: BatchHeader,
    bytes: Bytes,
}

impl RawBatch {
    /// Checks the header's CRC32C against the bytes from `attributes` to the end of the batch.
    pub fn verify_crc(&self) -> Result<(), RecordError> {
        let actual = crc32c::crc32c(&self.bytes[ATTRIBUTES_OFFSET..]);
        if actual == self.header.crc {
            Ok(())
        } else {
            Err(RecordError::CrcMismatch {
                expected: self.header.crc,
                actual,
            })
        }
    }

    /// The records section after the 61-byte header, still compressed if the batch is.
    pub fn payload(&self) -> Bytes {
        self.bytes.slice(BATCH_HEADER_LEN..)
    }

    /// The whole batch as it came off the wire.
    pub fn bytes(&self) -> &Bytes {
        &self.bytes
    }

    /// Decompresses the records section in the calling thread (no copy when uncompressed) and
    /// iterates its records. `max_size` bounds the decompressed size.
    pub fn records(&self, max_size: usize) -> Result<super::RecordIter, RecordError> {
        let codec = self.header.compression()?;
        let records = match codec {
            Compression::None => self.payload(),
            _ => Bytes::from(compression::decompress(
                codec,
                &self.bytes[BATCH_HEADER_LEN..],
                max_size,
            )?),
        };
        Ok(super::RecordIter::new(&self.header, records))
    }
}

/// Iterates the batches in the `records` field of a Fetch response partition.
///
/// A last batch cut short (brokers stop at the fetch's byte limit mid-batch) ends the iteration
/// without an error; [`BatchIter::truncated`] then says so. A length field that cannot be right
/// is an error, after which the iterator is exhausted: nothing after it can be located. Legacy
/// message sets (magic 0 and 1) and unknown magics yield [`RecordError::UnsupportedMagic`] and
/// are skipped, since their length field sits in the same place.
#[derive(Clone, Debug)]
pub struct BatchIter {
    buf: Bytes,
    pos: usize,
    done: bool,
    truncated: bool,
}

impl BatchIter {
    /// Starts at the beginning of `records`.
    pub fn new(records: Bytes) -> Self {
        BatchIter {
            buf: records,
            pos: 0,
            done: false,
            truncated: false,
        }
    }

    /// Whether the iteration stopped at an incomplete last batch. If it yielded nothing at all,
    /// the fetch size is smaller than one batch.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Bytes not yet consumed (the partial batch, after a truncated end).
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    fn stop_truncated(&mut self) -> Option<Result<RawBatch, RecordError>> {
        self.done = true;
        self.truncated = true;
        None
    }

    fn fail(&mut self, err: RecordError) -> Option<Result<RawBatch, RecordError>> {
        self.done = true;
        Some(Err(err))
    }
}

impl Iterator for BatchIter {
    type Item = Result<RawBatch, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let rest = &self.buf[self.pos..];
        if rest.is_empty() {
            self.done = true;
            return None;
        }
        if rest.len() < LOG_OVERHEAD {
            return self.stop_truncated();
        }
        let length = be_i32(rest, 8);
        // Every format has at least the CRC and magic after the length field.
        if length < (MAGIC_OFFSET + 1 - LOG_OVERHEAD) as i32 {
            return self.fail(RecordError::Corrupt("record batch length too small"));
        }
        let total = LOG_OVERHEAD + length as usize;
        if rest.len() <= MAGIC_OFFSET {
            return self.stop_truncated();
        }
        let magic = rest[MAGIC_OFFSET] as i8;
        if magic == 2 && length < MIN_V2_BATCH_LENGTH {
            return self.fail(RecordError::Corrupt("record batch length too small"));
        }
        if rest.len() < total {
            return self.stop_truncated();
        }
        let start = self.pos;
        self.pos += total;
        if magic != 2 {
            return Some(Err(RecordError::UnsupportedMagic(magic)));
        }
        let bytes = self.buf.slice(start..start + total);
        let header = match BatchHeader::decode(&bytes) {
            Ok(h) => h,
            Err(e) => return self.fail(e),
        };
        Some(Ok(RawBatch { header, bytes }))
    }
}
