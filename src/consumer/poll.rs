//! The poll path: `Consumer::poll` iterates fetched batches on the calling thread, turns engine
//! events into errors, EOFs and callbacks, and applies rebalances when no callback does.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;

use super::{engine_gone, lock, Consumer, CurrentBatch, PollState};
use crate::engine::channel::{
    BatchData, Command, ConsumerEvent, Delivery, FetchedBatch, Rebalance, RebalanceKind,
};
use crate::error::{ErrorCode, KafkaError, Result};
use crate::message::{Message, TimestampType};
use crate::protocol::records::RecordIter;

impl Consumer {
    /// Waits up to `timeout` for the next message. `Some(Err(..))` carries consumer errors and,
    /// with `enable.partition.eof`, `_PARTITION_EOF`; `None` means nothing arrived in time.
    pub fn poll(&self, timeout: Duration) -> Option<Result<Message>> {
        let deadline = Instant::now() + timeout;
        let now_ms = self.start.elapsed().as_millis() as u64;
        self.shared.last_poll_ms.store(now_ms, Ordering::Relaxed);
        if !self.shared.polled.swap(true, Ordering::AcqRel) {
            let _ = self.send(Command::Wake);
        }
        let mut state = lock(&self.state);
        self.interrupted.store(false, Ordering::Release);
        loop {
            if let Some(m) = self.split.take_backlog(self.auto_store) {
                return Some(m);
            }
            if let Some(m) = self.next_record(&mut state) {
                return Some(m);
            }
            let d = match self.deliveries.recv_deadline(deadline) {
                Ok(d) => d,
                Err(RecvTimeoutError::Timeout) => return None,
                Err(RecvTimeoutError::Disconnected) => return Some(Err(engine_gone())),
            };
            match d {
                Delivery::Batch(b) => {
                    if let Some(err) = self.start_batch(&mut state, b) {
                        return Some(Err(err));
                    }
                }
                Delivery::Event(ev) => {
                    if let Some(r) = self.handle_event(ev) {
                        return Some(r);
                    }
                    if self.interrupted.swap(false, Ordering::AcqRel) {
                        return None;
                    }
                }
            }
        }
    }

    /// The next record of the current batch, or `None` when it is exhausted.
    fn next_record(&self, state: &mut PollState) -> Option<Result<Message>> {
        loop {
            let cur = state.current.as_mut()?;
            if cur.batch.shared.version() != cur.batch.version {
                self.finish_batch(state);
                continue;
            }
            match cur.records.next() {
                Some(Ok(rec)) => {
                    if rec.offset < cur.batch.skip_before {
                        continue;
                    }
                    let b = &cur.batch;
                    let ts_type = if b.header.timestamp_type_is_log_append() {
                        TimestampType::LogAppendTime
                    } else {
                        TimestampType::CreateTime
                    };
                    let m = Message {
                        topic: b.topic.clone(),
                        partition: b.partition,
                        offset: rec.offset,
                        timestamp: rec.timestamp,
                        timestamp_type: ts_type,
                        key: rec.key,
                        value: rec.value,
                        headers: rec.headers,
                        leader_epoch: b.header.partition_leader_epoch,
                    };
                    if cur.split
                        && self.split.divert(
                            &b.topic,
                            b.partition,
                            &b.shared,
                            b.version,
                            Ok(m.clone()),
                        )
                    {
                        continue;
                    }
                    b.shared.position.store(rec.offset + 1, Ordering::Release);
                    if self.auto_store {
                        b.shared.stored.store(rec.offset + 1, Ordering::Release);
                    }
                    return Some(Ok(m));
                }
                Some(Err(e)) => {
                    let msg = format!(
                        "{} [{}]: corrupt record in batch at offset {}: {e}",
                        cur.batch.topic, cur.batch.partition, cur.batch.header.base_offset
                    );
                    self.finish_batch(state);
                    return Some(Err(KafkaError::new(ErrorCode::L_BAD_MSG, msg)));
                }
                None => self.finish_batch(state),
            }
        }
    }

    fn finish_batch(&self, state: &mut PollState) {
        if let Some(cur) = state.current.take() {
            self.release(&cur.batch);
        }
    }

    /// Returns a batch's queue accounting and wakes the engine if it stopped fetching for room.
    fn release(&self, b: &FetchedBatch) {
        b.shared
            .queued_msgs
            .fetch_sub(b.header.records_count as i64, Ordering::Relaxed);
        b.shared
            .queued_bytes
            .fetch_sub(b.accounted_bytes, Ordering::Relaxed);
        self.shared
            .queued_bytes
            .fetch_sub(b.accounted_bytes, Ordering::Relaxed);
        if self.shared.fetch_blocked.swap(false, Ordering::AcqRel) {
            let _ = self.send(Command::Wake);
        }
    }

    fn start_batch(&self, state: &mut PollState, mut b: FetchedBatch) -> Option<KafkaError> {
        if b.shared.version() != b.version {
            self.release(&b);
            return None;
        }
        let data = std::mem::replace(&mut b.data, BatchData::Ready(bytes::Bytes::new()));
        let payload = match data {
            BatchData::Ready(p) => Ok(p),
            BatchData::Pending(p) => p.wait(),
        };
        match payload {
            Ok(p) => {
                let records = RecordIter::new(&b.header, p);
                let split = self.split.is_split(&b.topic, b.partition);
                state.current = Some(CurrentBatch {
                    batch: b,
                    records,
                    split,
                });
                None
            }
            Err(e) => {
                let msg = format!(
                    "{} [{}]: failed to decompress batch at offset {}: {e}",
                    b.topic, b.partition, b.header.base_offset
                );
                self.release(&b);
                Some(KafkaError::new(ErrorCode::L_BAD_COMPRESSION, msg))
            }
        }
    }

    fn handle_event(&self, ev: ConsumerEvent) -> Option<Result<Message>> {
        match ev {
            ConsumerEvent::Error(e) => Some(Err(e)),
            ConsumerEvent::PartitionEof {
                topic,
                partition,
                offset,
            } => {
                let msg = format!("Fetch from broker reached end of partition {topic} [{partition}] at offset {offset}");
                let err = KafkaError::new(ErrorCode::L_PARTITION_EOF, msg);
                if self.split.is_split(&topic, partition) {
                    let shared = lock(&self.assignment)
                        .get(&(topic.to_string(), partition))
                        .cloned();
                    if let Some(s) = shared {
                        let v = s.version();
                        if self
                            .split
                            .divert(&topic, partition, &s, v, Err(err.clone()))
                        {
                            return None;
                        }
                    }
                }
                Some(Err(err))
            }
            ConsumerEvent::Rebalance(r) => {
                self.apply_rebalance(&r);
                None
            }
            ConsumerEvent::OffsetCommit { result, offsets } => {
                if let Some(cb) = lock(&self.commit_cb).as_mut() {
                    cb(&result, &offsets);
                }
                None
            }
            ConsumerEvent::Stats(json) => {
                if let Some(cb) = lock(&self.stats_cb).as_mut() {
                    cb(&json);
                }
                None
            }
            ConsumerEvent::Throttle(t) => {
                if let Some(cb) = lock(&self.throttle_cb).as_mut() {
                    cb(&t);
                }
                None
            }
        }
    }

    /// Hands a rebalance to the callback, or applies it the way librdkafka does without one.
    fn apply_rebalance(&self, r: &Rebalance) {
        self.acked.store(false, Ordering::Release);
        self.cooperative.store(r.cooperative, Ordering::Release);
        if let Some(cb) = lock(&self.rebalance_cb).as_mut() {
            cb(self, r);
        }
        if self.acked.load(Ordering::Acquire) {
            return;
        }
        let _ = match (r.kind, r.cooperative) {
            (RebalanceKind::Assign, false) => self.assign(&r.partitions),
            (RebalanceKind::Assign, true) => self.incremental_assign(&r.partitions),
            (RebalanceKind::Revoke, false) => self.unassign(),
            (RebalanceKind::Revoke, true) => self.incremental_unassign(&r.partitions),
        };
    }
}
