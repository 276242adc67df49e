//! The producer's accumulator: per-partition queues of record batches. A batch keeps its
//! messages (which the delivery reports need anyway) and their exact wire size; it is written
//! in the wire format, compressed and CRC'd only when it is sent, so a queued message costs no
//! second copy of its bytes.
//!
//! A partition has at most one batch in flight, so retries never reorder a partition, with or
//! without idempotence.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::Sender;

use crate::protocol::compression::Compression;
use crate::protocol::records::{record_len, BatchWriter, RecordError, BATCH_HEADER_LEN};

use super::msg_list::MsgList;
use super::DeliveryReport;

/// What the engine keeps of a message until its delivery report.
pub(crate) struct PendingMsg {
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    /// Written into the batch when it is sealed (again for a retry).
    pub headers: Vec<(Bytes, Option<Bytes>)>,
    pub timestamp: i64,
    pub opaque: usize,
    pub reply: Option<Box<Sender<DeliveryReport>>>,
}

/// One batch of one partition.
pub(crate) struct ProducerBatch {
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
    /// Exact uncompressed wire size, header included.
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
        let mut writer =
            BatchWriter::with_capacity(self.compression, self.level, self.approx_bytes);
        for m in self.msgs.iter_mut() {
            let headers: Vec<(&[u8], Option<&[u8]>)> = m
                .headers
                .iter()
                .map(|(k, v)| (&k[..], v.as_deref()))
                .collect();
            writer.push(m.timestamp, m.key.as_deref(), m.value.as_deref(), &headers);
        }
        let b = writer.finish(0, producer_id, epoch, base_sequence, transactional)?;
        self.closed = true;
        self.sealed = Some(b.clone());
        self.stamp = Some((producer_id, epoch, base_sequence));
        Ok(b)
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
            q.batches.push_back(ProducerBatch {
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
                approx_bytes: BATCH_HEADER_LEN,
                payload_bytes: 0,
            });
        }
        let b = q.batches.back_mut().expect("a batch is open");
        let base_ts = b.msgs.first().map_or(msg.timestamp, |m| m.timestamp);
        let headers: Vec<(&[u8], Option<&[u8]>)> = msg
            .headers
            .iter()
            .map(|(k, v)| (&k[..], v.as_deref()))
            .collect();
        b.approx_bytes += record_len(
            msg.timestamp.wrapping_sub(base_ts),
            b.msgs.len() as i32,
            msg.key.as_deref(),
            msg.value.as_deref(),
            &headers,
        );
        drop(headers);
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
