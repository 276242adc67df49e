//! The producer's accumulator: per-partition queues of record batches, written in the wire format
//! as messages arrive (the engine reads each payload right after the application wrote it,
//! while it is still in cache), sealed (compressed, CRC'd) when sent and dropped once framed into
//! the request; the messages stay for the delivery reports, and a retry writes them again.
//!
//! A partition has at most one batch in flight, so retries never reorder a partition, with or
//! without idempotence.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::Sender;

use crate::protocol::compression::Compression;
use crate::protocol::records::{BatchWriter, RecordError};

use super::msg_list::MsgList;
use super::DeliveryReport;

/// What the engine keeps of a message until its delivery report.
pub(crate) struct PendingMsg {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    /// Kept for a retry, which writes the batch again.
    pub headers: Vec<(Bytes, Option<Bytes>)>,
    pub timestamp: i64,
    pub opaque: usize,
    pub reply: Option<Box<Sender<DeliveryReport>>>,
}

/// One batch of one partition.
pub(crate) struct ProducerBatch {
    /// The records written so far; taken when the batch is sealed.
    writer: Option<BatchWriter>,
    compression: Compression,
    level: Option<i32>,
    /// The sealed wire bytes until they are framed into a request (a retry seals again).
    pub sealed: Option<Bytes>,
    /// Sealed at least once: no more messages join the batch.
    pub closed: bool,
    pub msgs: MsgList,
    /// When its first message was sent by the application (linger and expiry count from it).
    pub created: Instant,
    pub attempts: u32,
    pub retry_at: Option<Instant>,
    /// Producer id, epoch and base sequence the batch was sealed with (idempotence).
    pub stamp: Option<(i64, i16, i32)>,
    /// Uncompressed wire size, header included.
    approx_bytes: usize,
    /// Key and value bytes of the batch's messages (statistics).
    pub payload_bytes: usize,
}

impl ProducerBatch {
    /// When the oldest message in the batch expires.
    pub fn expires(&self, timeout: Option<Duration>) -> Option<Instant> {
        self.msgs.first()?;
        timeout.map(|t| self.created + t)
    }

    /// Seals the batch with producer id, epoch and base sequence (-1s without idempotence),
    /// marked transactional in a transaction.
    pub fn seal(
        &mut self,
        producer_id: i64,
        epoch: i16,
        base_sequence: i32,
        transactional: bool,
    ) -> Result<Bytes, RecordError> {
        if let Some(b) = &self.sealed {
            if self.stamp == Some((producer_id, epoch, base_sequence)) || producer_id < 0 {
                return Ok(b.clone());
            }
            let b = crate::protocol::records::restamp(b, producer_id, epoch, base_sequence);
            self.sealed = Some(b.clone());
            self.stamp = Some((producer_id, epoch, base_sequence));
            return Ok(b);
        }
        let mut writer = match self.writer.take() {
            Some(w) => w,
            None => {
                // Dropped after its request was framed: a retry writes the messages again.
                let mut w =
                    BatchWriter::with_capacity(self.compression, self.level, self.approx_bytes);
                for m in self.msgs.iter_mut() {
                    let headers: Vec<(&[u8], Option<&[u8]>)> = m
                        .headers
                        .iter()
                        .map(|(k, v)| (&k[..], v.as_deref()))
                        .collect();
                    w.push(m.timestamp, m.key.as_deref(), m.value.as_deref(), &headers);
                }
                w
            }
        };
        let b = writer.finish(0, producer_id, epoch, base_sequence, transactional)?;
        self.closed = true;
        self.sealed = Some(b.clone());
        self.stamp = Some((producer_id, epoch, base_sequence));
        Ok(b)
    }

    /// The batch's uncompressed size, header included.
    pub fn approx_bytes(&self) -> usize {
        self.approx_bytes
    }

    pub fn record_count(&self) -> i32 {
        self.msgs.len() as i32
    }
}

/// The queue of one partition.
#[derive(Default)]
pub(crate) struct PartitionQueue {
    pub batches: VecDeque<ProducerBatch>,
    pub in_flight: bool,
    /// Next sequence number to give a new batch (idempotence).
    pub next_sequence: i32,
    /// Messages ever queued for the partition (statistics `msgs`).
    pub msgs: u64,
    /// Messages and their key + value bytes the broker acknowledged (statistics).
    pub tx_msgs: u64,
    pub tx_bytes: u64,
    /// Uncompressed bytes of the partition's last sealed batch: a new batch's buffer starts that
    /// large, so a busy partition's buffers do not grow (and copy) by doubling.
    pub size_hint: usize,
}

/// Batching limits.
#[derive(Clone, Debug)]
pub(crate) struct BatchLimits {
    pub linger: Duration,
    pub batch_size: usize,
    pub batch_num_messages: usize,
    pub compression: Compression,
    pub compression_level: Option<i32>,
}

/// Every partition's queue.
pub(crate) struct Accumulator {
    pub queues: BTreeMap<(Arc<str>, i32), PartitionQueue>,
    limits: BatchLimits,
}

impl Accumulator {
    pub fn new(limits: BatchLimits) -> Self {
        Accumulator {
            queues: BTreeMap::new(),
            limits,
        }
    }

    /// Appends a message to its partition's open batch, opening a new one when full.
    pub fn append(
        &mut self,
        topic: Arc<str>,
        partition: i32,
        msg: PendingMsg,
        enqueued: Instant,
        now: Instant,
    ) {
        let limits = &self.limits;
        let q = self.queues.entry((topic, partition)).or_default();
        let size = msg.key.as_ref().map_or(0, |k| k.len())
            + msg.value.as_ref().map_or(0, |v| v.len())
            + 24;
        let open = q.batches.back().is_some_and(|b| {
            !b.closed
                && b.msgs.len() < limits.batch_num_messages
                && (b.msgs.is_empty() || b.approx_bytes + size <= limits.batch_size)
        });
        if !open {
            let hint = q.size_hint + q.size_hint / 8;
            q.batches.push_back(ProducerBatch {
                writer: Some(BatchWriter::with_capacity(
                    limits.compression,
                    limits.compression_level,
                    hint.min(limits.batch_size + size),
                )),
                compression: limits.compression,
                level: limits.compression_level,
                sealed: None,
                closed: false,
                msgs: MsgList::default(),
                // Linger counts from the message's send: it may have waited unseen for a
                // lingering engine thread.
                created: enqueued.min(now),
                attempts: 0,
                retry_at: None,
                stamp: None,
                approx_bytes: 0,
                payload_bytes: 0,
            });
        }
        let b = q.batches.back_mut().expect("a batch is open");
        if let Some(w) = &mut b.writer {
            let headers: Vec<(&[u8], Option<&[u8]>)> = msg
                .headers
                .iter()
                .map(|(k, v)| (&k[..], v.as_deref()))
                .collect();
            w.push(
                msg.timestamp,
                msg.key.as_deref(),
                msg.value.as_deref(),
                &headers,
            );
            b.approx_bytes = w.len_bytes();
        }
        b.payload_bytes += size - 24;
        b.msgs.push(msg);
        q.msgs += 1;
    }

    /// True when the partition's first batch may be sent now.
    pub fn is_ready(&self, q: &PartitionQueue, now: Instant, flush: bool) -> bool {
        let Some(b) = q.batches.front() else {
            return false;
        };
        if q.in_flight || b.retry_at.is_some_and(|t| t > now) {
            return false;
        }
        flush
            || b.closed
            || q.batches.len() > 1
            || b.msgs.len() >= self.limits.batch_num_messages
            || b.approx_bytes >= self.limits.batch_size
            || b.created + self.limits.linger <= now
    }

    /// When the next batch becomes ready by linger or retry backoff.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.queues
            .values()
            .filter(|q| !q.in_flight)
            .filter_map(|q| q.batches.front())
            .map(|b| b.retry_at.unwrap_or(b.created + self.limits.linger))
            .min()
    }

    /// Messages queued, in flight or not.
    pub fn message_count(&self) -> usize {
        self.queues
            .values()
            .flat_map(|q| q.batches.iter())
            .map(|b| b.msgs.len())
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> BatchLimits {
        BatchLimits {
            linger: Duration::from_millis(5),
            batch_size: 1 << 20,
            batch_num_messages: 10_000,
            compression: Compression::Lz4,
            compression_level: None,
        }
    }

    #[test]
    fn a_retry_writes_the_same_batch_again() {
        let mut acc = Accumulator::new(limits());
        let topic: Arc<str> = Arc::from("t");
        let now = Instant::now();
        for i in 0..300u32 {
            let header = (Bytes::from_static(b"h"), Some(Bytes::from(i.to_string())));
            let msg = PendingMsg {
                key: Some(Bytes::from(format!("k{i}"))),
                value: (i % 7 != 0).then(|| Bytes::from(vec![b'v'; i as usize])),
                headers: if i % 3 == 0 { vec![header] } else { Vec::new() },
                timestamp: 1_000 + i as i64,
                opaque: i as usize,
                reply: None,
            };
            acc.append(topic.clone(), 0, msg, now, now);
        }
        let q = acc.queues.get_mut(&(topic, 0)).unwrap();
        let b = q.batches.front_mut().unwrap();
        let first = b.seal(5, 1, 40, false).unwrap();
        assert!(b.closed);
        // Framed into a request: the sealed bytes go; a retry seals again from the messages.
        b.sealed = None;
        assert_eq!(b.seal(5, 1, 40, false).unwrap(), first);
        // A new epoch restamps the batch it holds.
        let bumped = b.seal(5, 2, 0, false).unwrap();
        assert_ne!(bumped, first);
        assert_eq!(bumped.len(), first.len());
        assert_eq!(b.record_count(), 300);
    }
}
