//! Builds v2 batches for the producer: records go straight into wire format behind room left for
//! the header; `finish` fills the header in place (uncompressed: no copy) or compresses into a
//! new buffer, and patches the length and CRC.

use bytes::Bytes;

use super::batch::{
    ATTRIBUTES_OFFSET, ATTR_TRANSACTIONAL, BATCH_HEADER_LEN, CRC_OFFSET, LOG_OVERHEAD,
};
use super::varint::{varint_len, varlong_len, write_varint, write_varlong};
use super::{BatchHeader, RecordError};
use crate::protocol::compression::{self, Compression};

/// Accumulates records for one partition and produces a finished v2 batch.
///
/// ```text
/// push(record) --> buf: [61 bytes for the header][len][attrs][ts delta][offset delta][key]...
/// finish()     --> [61-byte header][records, compressed if asked]  (length + CRC32C patched)
/// ```
#[derive(Debug)]
pub struct BatchWriter {
    compression: Compression,
    level: Option<i32>,
    records: Vec<u8>,
    count: i32,
    base_timestamp: i64,
    max_timestamp: i64,
}

/// Length of a field as the i32 the wire carries.
///
/// # Panics
/// On fields of 2 GiB or more, which no broker accepts (`message.max.bytes` is far below).
fn wire_len(b: &[u8]) -> i32 {
    i32::try_from(b.len()).expect("record field larger than 2 GiB")
}

fn opt_bytes_len(b: Option<&[u8]>) -> usize {
    match b {
        None => varint_len(-1),
        Some(b) => varint_len(wire_len(b)) + b.len(),
    }
}

fn write_opt_bytes(out: &mut Vec<u8>, b: Option<&[u8]>) {
    match b {
        None => write_varint(out, -1),
        Some(b) => {
            write_varint(out, wire_len(b));
            out.extend_from_slice(b);
        }
    }
}

/// Bytes of a record's body (everything after its length varint).
fn body_len(
    timestamp_delta: i64,
    offset_delta: i32,
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[(&[u8], Option<&[u8]>)],
) -> usize {
    let header_count = i32::try_from(headers.len()).expect("too many headers");
    let mut len = 1 // attributes
        + varlong_len(timestamp_delta)
        + varint_len(offset_delta)
        + opt_bytes_len(key)
        + opt_bytes_len(value)
        + varint_len(header_count);
    for (k, v) in headers {
        len += varint_len(wire_len(k)) + k.len() + opt_bytes_len(*v);
    }
    len
}

impl BatchWriter {
    /// An empty writer; `level` is the codec's compression level (`None` = codec default).
    pub fn new(compression: Compression, level: Option<i32>) -> Self {
        Self::with_capacity(compression, level, 0)
    }

    /// An empty writer whose buffer holds `capacity` bytes of batch before it grows.
    pub fn with_capacity(compression: Compression, level: Option<i32>, capacity: usize) -> Self {
        let mut records = Vec::with_capacity(capacity.max(BATCH_HEADER_LEN));
        records.resize(BATCH_HEADER_LEN, 0);
        BatchWriter {
            compression,
            level,
            records,
            count: 0,
            base_timestamp: 0,
            max_timestamp: 0,
        }
    }

    /// The codec `finish` compresses with.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Appends one record. Its offset delta is the number of records pushed before it; its
    /// timestamp is stored relative to the first record's.
    ///
    /// # Panics
    /// If a key, value or header is 2 GiB or larger, or after `i32::MAX` records.
    pub fn push(
        &mut self,
        timestamp: i64,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        headers: &[(&[u8], Option<&[u8]>)],
    ) {
        if self.count == 0 {
            self.base_timestamp = timestamp;
            self.max_timestamp = timestamp;
        } else {
            self.max_timestamp = self.max_timestamp.max(timestamp);
        }
        let timestamp_delta = timestamp.wrapping_sub(self.base_timestamp);
        let offset_delta = self.count;
        let header_count = i32::try_from(headers.len()).expect("too many headers");
        let body_len = body_len(timestamp_delta, offset_delta, key, value, headers);
        let body_len_wire = i32::try_from(body_len).expect("record larger than 2 GiB");

        let out = &mut self.records;
        out.reserve(varint_len(body_len_wire) + body_len);
        write_varint(out, body_len_wire);
        out.push(0); // attributes
        write_varlong(out, timestamp_delta);
        write_varint(out, offset_delta);
        write_opt_bytes(out, key);
        write_opt_bytes(out, value);
        write_varint(out, header_count);
        for (k, v) in headers {
            write_varint(out, wire_len(k));
            out.extend_from_slice(k);
            write_opt_bytes(out, *v);
        }
        self.count = self
            .count
            .checked_add(1)
            .expect("too many records in a batch");
    }

    /// Size of the batch if finished now without compression (header included): an upper
    /// bound for the producer's `batch.size` accounting.
    pub fn len_bytes(&self) -> usize {
        self.records.len()
    }

    /// Records pushed since the writer was created or last finished.
    pub fn record_count(&self) -> usize {
        self.count as usize
    }

    /// Whether no record was pushed since the writer was created or last finished.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Drops the pushed records, keeping the buffer's capacity.
    pub fn clear(&mut self) {
        self.records.truncate(BATCH_HEADER_LEN);
        self.count = 0;
    }

    /// Writes the finished batch: header, records section (compressed with the writer's codec),
    /// length and CRC32C. The writer is then empty and reusable; its buffer went into the batch
    /// or was freed. Pass -1 for `producer_id`, `producer_epoch` and `base_sequence` when not
    /// idempotent.
    pub fn finish(
        &mut self,
        base_offset: i64,
        producer_id: i64,
        producer_epoch: i16,
        base_sequence: i32,
        transactional: bool,
    ) -> Result<Bytes, RecordError> {
        if self.count == 0 {
            return Err(RecordError::EmptyBatch);
        }
        let mut out = if self.compression == Compression::None {
            std::mem::take(&mut self.records)
        } else {
            let mut out = Vec::with_capacity(BATCH_HEADER_LEN + self.records.len() / 2);
            out.resize(BATCH_HEADER_LEN, 0);
            let section = &self.records[BATCH_HEADER_LEN..];
            compression::compress(self.compression, section, self.level, &mut out)?;
            out
        };

        let mut attributes = self.compression.attribute_bits();
        if transactional {
            attributes |= ATTR_TRANSACTIONAL;
        }
        let header = BatchHeader {
            base_offset,
            batch_length: i32::try_from(out.len() - LOG_OVERHEAD)
                .map_err(|_| RecordError::TooLarge)?,
            partition_leader_epoch: -1,
            magic: 2,
            crc: 0,
            attributes,
            last_offset_delta: self.count - 1,
            base_timestamp: self.base_timestamp,
            max_timestamp: self.max_timestamp,
            producer_id,
            producer_epoch,
            base_sequence,
            records_count: self.count,
        };
        header.encode_into(&mut out);
        let crc = crc32c::crc32c(&out[ATTRIBUTES_OFFSET..]);
        out[CRC_OFFSET..CRC_OFFSET + 4].copy_from_slice(&crc.to_be_bytes());
        self.records = vec![0; BATCH_HEADER_LEN];
        self.count = 0;
        out.shrink_to_fit();
        Ok(Bytes::from(out))
    }
}

/// A copy of a sealed batch with a new producer id, epoch and base sequence, its CRC recomputed:
/// what a retry needs after the idempotent producer's epoch was bumped.
pub fn restamp(batch: &Bytes, producer_id: i64, producer_epoch: i16, base_sequence: i32) -> Bytes {
    let mut b = bytes::BytesMut::from(&batch[..]);
    if b.len() < super::BATCH_HEADER_LEN {
        return batch.clone();
    }
    b[43..51].copy_from_slice(&producer_id.to_be_bytes());
    b[51..53].copy_from_slice(&producer_epoch.to_be_bytes());
    b[53..57].copy_from_slice(&base_sequence.to_be_bytes());
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b.freeze()
}

#[cfg(test)]
mod restamp_tests {
    use super::*;
    use crate::protocol::records::{BatchIter, RecordIter};

    #[test]
    fn restamped_batch_keeps_records_and_passes_crc() {
        let mut w = BatchWriter::new(Compression::Lz4, None);
        w.push(5, Some(b"k"), Some(b"v"), &[]);
        let sealed = w.finish(0, 7, 1, 10, false).unwrap();
        let out = restamp(&sealed, 9, 2, 20);
        let batch = BatchIter::new(out).next().unwrap().unwrap();
        batch.verify_crc().unwrap();
        assert_eq!(
            (
                batch.header.producer_id,
                batch.header.producer_epoch,
                batch.header.base_sequence
            ),
            (9, 2, 20)
        );
        let payload =
            crate::protocol::compression::decompress(Compression::Lz4, &batch.payload(), 1 << 20)
                .unwrap();
        let rec = RecordIter::new(&batch.header, Bytes::from(payload))
            .next()
            .unwrap()
            .unwrap();
        assert_eq!(rec.value.as_deref(), Some(&b"v"[..]));
    }
}
