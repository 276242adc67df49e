//! One partition's log: record batches kept as the producer sent them, offsets assigned by
//! rewriting each batch's base offset (outside the CRC), read back by offset and byte budget.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::protocol::records::{BatchIter, RawBatch};

/// Largest decompressed batch the timestamp lookup inflates.
const MAX_INFLATE: usize = 64 << 20;

/// A batch in the log: its offset range, largest timestamp and wire bytes.
#[derive(Clone, Debug)]
struct Stored {
    base: i64,
    next: i64,
    max_timestamp: i64,
    bytes: Bytes,
}

/// The batches of one partition, in offset order.
#[derive(Debug, Default)]
pub struct PartitionLog {
    batches: VecDeque<Stored>,
    start: i64,
    end: i64,
}

impl PartitionLog {
    /// The first offset still held (the log start offset).
    pub fn start(&self) -> i64 {
        self.start
    }

    /// The offset the next record gets (the high watermark: every replica is in sync here).
    pub fn end(&self) -> i64 {
        self.end
    }

    /// Appends `batch` at the log end and returns its new base offset. The batch's base offset
    /// and partition leader epoch are rewritten; neither is covered by the CRC.
    pub fn append(&mut self, batch: &RawBatch) -> i64 {
        let base = self.end;
        let count = i64::from(batch.header.last_offset_delta) + 1;
        let mut bytes = BytesMut::from(&batch.bytes()[..]);
        bytes[0..8].copy_from_slice(&base.to_be_bytes());
        bytes[12..16].copy_from_slice(&0i32.to_be_bytes());
        self.batches.push_back(Stored {
            base,
            next: base + count.max(1),
            max_timestamp: batch.header.max_timestamp,
            bytes: bytes.freeze(),
        });
        self.end = base + count.max(1);
        base
    }

    /// The batches from the one holding `offset` on, as one records blob of at most `max_bytes`
    /// bytes, except that the first batch is always whole (KIP-74). Empty at the log end.
    pub fn read(&self, offset: i64, max_bytes: usize) -> Bytes {
        let first = self.batches.partition_point(|b| b.next <= offset);
        let mut out = BytesMut::new();
        for b in self.batches.iter().skip(first) {
            if !out.is_empty() && out.len() + b.bytes.len() > max_bytes {
                break;
            }
            out.extend_from_slice(&b.bytes);
        }
        out.freeze()
    }

    /// The first offset whose record's timestamp is at or after `timestamp`, with that
    /// timestamp; `None` when every record is older.
    pub fn offset_for_time(&self, timestamp: i64) -> Option<(i64, i64)> {
        let first = self
            .batches
            .partition_point(|b| b.max_timestamp < timestamp);
        let stored = self.batches.get(first)?;
        let exact = BatchIter::new(stored.bytes.clone())
            .next()
            .and_then(Result::ok)
            .and_then(|raw| raw.records(MAX_INFLATE).ok())
            .and_then(|mut records| {
                records.find_map(|r| r.ok().filter(|r| r.timestamp >= timestamp))
            });
        Some(match exact {
            Some(r) => (r.offset, r.timestamp),
            None => (stored.base, stored.max_timestamp),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::compression::Compression;
    use crate::protocol::records::BatchWriter;

    fn batch(values: &[&str], ts: i64) -> RawBatch {
        let mut w = BatchWriter::new(Compression::None, None);
        for (i, v) in values.iter().enumerate() {
            w.push(ts + i as i64, None, Some(v.as_bytes()), &[]);
        }
        let bytes = w.finish(0, -1, -1, -1, false).unwrap();
        BatchIter::new(bytes).next().unwrap().unwrap()
    }

    #[test]
    fn append_assigns_offsets_and_keeps_crc_valid() {
        let mut log = PartitionLog::default();
        assert_eq!(log.append(&batch(&["a", "b", "c"], 1000)), 0);
        assert_eq!(log.append(&batch(&["d"], 2000)), 3);
        assert_eq!((log.start(), log.end()), (0, 4));
        let blob = log.read(1, 1 << 20);
        let read: Vec<_> = BatchIter::new(blob).map(Result::unwrap).collect();
        assert_eq!(read.len(), 2);
        assert_eq!(read[1].header.base_offset, 3);
        read[1].verify_crc().unwrap();
        let offsets: Vec<i64> = read[0]
            .records(1 << 20)
            .unwrap()
            .map(|r| r.unwrap().offset)
            .collect();
        assert_eq!(offsets, vec![0, 1, 2]);
    }

    #[test]
    fn read_returns_one_whole_batch_over_budget_and_nothing_at_end() {
        let mut log = PartitionLog::default();
        log.append(&batch(&["aaaa", "bbbb"], 0));
        log.append(&batch(&["cccc"], 0));
        let one = log.read(0, 1);
        assert_eq!(BatchIter::new(one).count(), 1);
        assert!(log.read(3, 1 << 20).is_empty());
    }

    #[test]
    fn offset_for_time_finds_the_record_inside_a_batch() {
        let mut log = PartitionLog::default();
        log.append(&batch(&["a", "b", "c"], 1000));
        log.append(&batch(&["d", "e"], 2000));
        assert_eq!(log.offset_for_time(1001), Some((1, 1001)));
        assert_eq!(log.offset_for_time(1500), Some((3, 2000)));
        assert_eq!(log.offset_for_time(0), Some((0, 1000)));
        assert_eq!(log.offset_for_time(3000), None);
    }
}
