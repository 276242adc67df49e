//! Records inside an (uncompressed) v2 records section, decoded lazily as zero-copy slices.

use bytes::Bytes;

use super::varint::{read_varint, read_varlong};
use super::{BatchHeader, RecordError};

/// One record with its absolute offset and timestamp. Key, value and headers share the
/// (decompressed) records buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// Absolute offset: the batch's base offset plus the record's offset delta.
    pub offset: i64,
    /// Absolute timestamp (create time, or the batch's max timestamp under log-append time).
    pub timestamp: i64,
    /// The key; `None` is a null key, distinct from an empty one.
    pub key: Option<Bytes>,
    /// The value; `None` is a null value (a tombstone on compacted topics).
    pub value: Option<Bytes>,
    /// Headers in wire order, duplicate keys included.
    pub headers: Vec<Header>,
}

/// One record header. Keys are kept as bytes: Kafka says UTF-8 but does not check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The header key.
    pub key: Bytes,
    /// The header value; `None` is a null value.
    pub value: Option<Bytes>,
}

/// The type of a control record (transaction marker) in a control batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ControlType {
    /// The producer's transaction was aborted: drop its records under `read_committed`.
    Abort,
    /// The producer's transaction was committed.
    Commit,
}

/// Decodes the key of a control record: `version: i16, type: i16`. `None` for a key too short,
/// a negative version, or a type other than ABORT (0) and COMMIT (1) (e.g. KRaft's own markers).
pub fn decode_control_record(key: &[u8]) -> Option<ControlType> {
    if key.len() < 4 {
        return None;
    }
    let version = i16::from_be_bytes([key[0], key[1]]);
    if version < 0 {
        return None;
    }
    match i16::from_be_bytes([key[2], key[3]]) {
        0 => Some(ControlType::Abort),
        1 => Some(ControlType::Commit),
        _ => None,
    }
}

/// Iterates the records of one batch's uncompressed records section, yielding exactly
/// `records_count` records. Each length is checked against the bytes left, so corrupt input
/// gives an error (after which the iterator is exhausted), never a panic or a large allocation.
#[derive(Clone, Debug)]
pub struct RecordIter {
    buf: Bytes,
    pos: usize,
    /// Records still to yield; negative when the header's count is.
    left: i64,
    base_offset: i64,
    base_timestamp: i64,
    /// `Some(max_timestamp)` under log-append time.
    log_append_time: Option<i64>,
    done: bool,
}

impl RecordIter {
    /// Iterates `records`, the uncompressed records section of the batch described by `header`.
    pub fn new(header: &BatchHeader, records: Bytes) -> Self {
        RecordIter {
            buf: records,
            pos: 0,
            left: i64::from(header.records_count),
            base_offset: header.base_offset,
            base_timestamp: header.base_timestamp,
            log_append_time: header
                .timestamp_type_is_log_append()
                .then_some(header.max_timestamp),
            done: false,
        }
    }

    /// Records not yet yielded, by the header's count.
    pub fn records_left(&self) -> usize {
        usize::try_from(self.left).unwrap_or(0)
    }

    /// Reads a length-prefixed byte string (length -1 = null) ending at or before `end`.
    fn read_bytes(&self, pos: &mut usize, end: usize) -> Result<Option<Bytes>, RecordError> {
        let len = read_varint(&self.buf[..end], pos)?;
        if len == -1 {
            return Ok(None);
        }
        Ok(Some(self.read_exact(pos, end, len)?))
    }

    fn read_exact(&self, pos: &mut usize, end: usize, len: i32) -> Result<Bytes, RecordError> {
        let len =
            usize::try_from(len).map_err(|_| RecordError::Corrupt("negative field length"))?;
        if len > end - *pos {
            return Err(RecordError::Corrupt(
                "field runs past the end of its record",
            ));
        }
        let out = self.buf.slice(*pos..*pos + len);
        *pos += len;
        Ok(out)
    }

    fn decode_one(&mut self) -> Result<Record, RecordError> {
        let mut pos = self.pos;
        if pos == self.buf.len() {
            return Err(RecordError::Truncated);
        }
        let body_len = read_varint(&self.buf, &mut pos)?;
        let body_len = usize::try_from(body_len)
            .map_err(|_| RecordError::Corrupt("negative record length"))?;
        if body_len > self.buf.len() - pos {
            return Err(RecordError::Truncated);
        }
        let end = pos + body_len;
        let body = &self.buf[..end];

        // Record attributes: unused by every version so far.
        if pos >= end {
            return Err(RecordError::Corrupt("empty record"));
        }
        pos += 1;
        let timestamp_delta = read_varlong(body, &mut pos)?;
        let offset_delta = read_varint(body, &mut pos)?;
        let key = self.read_bytes(&mut pos, end)?;
        let value = self.read_bytes(&mut pos, end)?;
        let header_count = read_varint(body, &mut pos)?;
        let header_count = usize::try_from(header_count)
            .map_err(|_| RecordError::Corrupt("negative header count"))?;
        // Each header takes at least two bytes (two one-byte lengths), which bounds the
        // allocation by the record's own size.
        if header_count > (end - pos) / 2 {
            return Err(RecordError::Corrupt(
                "header count exceeds the record's size",
            ));
        }
        let mut headers = Vec::with_capacity(header_count);
        for _ in 0..header_count {
            let key_len = read_varint(body, &mut pos)?;
            let key = self.read_exact(&mut pos, end, key_len)?;
            let value = self.read_bytes(&mut pos, end)?;
            headers.push(Header { key, value });
        }
        if pos != end {
            return Err(RecordError::Corrupt(
                "record length does not match its fields",
            ));
        }
        self.pos = end;

        let timestamp = match self.log_append_time {
            Some(ts) => ts,
            None => self.base_timestamp.wrapping_add(timestamp_delta),
        };
        Ok(Record {
            offset: self.base_offset.wrapping_add(i64::from(offset_delta)),
            timestamp,
            key,
            value,
            headers,
        })
    }
}

impl Iterator for RecordIter {
    type Item = Result<Record, RecordError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        if self.left < 0 {
            self.done = true;
            return Some(Err(RecordError::Corrupt("negative record count")));
        }
        if self.left == 0 {
            self.done = true;
            // The Java client rejects a batch whose records outlast its count; so do we, after
            // yielding the records the count promised.
            if self.pos != self.buf.len() {
                return Some(Err(RecordError::Corrupt(
                    "bytes left after the last record",
                )));
            }
            return None;
        }
        match self.decode_one() {
            Ok(record) => {
                self.left -= 1;
                Some(Ok(record))
            }
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        if self.done {
            (0, Some(0))
        } else {
            // Plus one for a possible trailing error.
            (0, Some(self.records_left() + 1))
        }
    }
}
