//! Application queries answered from the cluster: committed offsets and watermarks, each with a deadline after which it fails with `_TIMED_OUT`.

use std::time::Instant;

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest, ListOffsetsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::channel::Reply;
use super::metadata::Metadata;
use crate::error::{ErrorCode, KafkaError};
use crate::topic_partition::TopicPartition;

/// A `committed()` call waiting for the coordinator.
pub(crate) struct CommittedQuery {
    pub parts: Vec<(String, i32)>,
    pub deadline: Instant,
    pub reply: Reply<Vec<TopicPartition>>,
}

/// A watermark query: first the low (earliest) offset, then the high (latest).
pub(crate) struct WatermarkCtx {
    pub topic: String,
    pub partition: i32,
    deadline: Instant,
    reply: Reply<(i64, i64)>,
    low: Option<i64>,
}

/// Outstanding application queries.
#[derive(Default)]
pub(crate) struct Queries {
    committed: Vec<CommittedQuery>,
    watermarks: Vec<WatermarkCtx>,
}

fn timed_out(what: &str) -> KafkaError {
    KafkaError::new(ErrorCode::L_TIMED_OUT, format!("{what} timed out"))
}

impl Queries {
    pub fn add_committed(
        &mut self,
        parts: Vec<(String, i32)>,
        deadline: Instant,
        reply: Reply<Vec<TopicPartition>>,
    ) {
        self.committed.push(CommittedQuery {
            parts,
            deadline,
            reply,
        });
    }

    pub fn take_committed(&mut self) -> Option<CommittedQuery> {
        self.committed.pop()
    }

    pub fn retry_committed(&mut self, q: CommittedQuery) {
        self.committed.push(q);
    }

    pub fn wants_coordinator(&self) -> bool {
        !self.committed.is_empty()
    }

    pub fn add_watermark(
        &mut self,
        topic: String,
        partition: i32,
        deadline: Instant,
        reply: Reply<(i64, i64)>,
    ) {
        self.watermarks.push(WatermarkCtx {
            topic,
            partition,
            deadline,
            reply,
            low: None,
        });
    }

    pub fn retry_watermark(&mut self, w: WatermarkCtx) {
        self.watermarks.push(w);
    }

    /// Watermark queries whose leader is known: (leader, query, timestamp to ask for).
    pub fn take_watermarks(&mut self, md: &Metadata) -> Vec<(i32, WatermarkCtx, i64)> {
        let mut out = Vec::new();
        let mut keep = Vec::new();
        for w in self.watermarks.drain(..) {
            match md.leader(&w.topic, w.partition) {
                Some((leader, _)) => {
                    let ts = if w.low.is_none() { -2 } else { -1 };
                    out.push((leader, w, ts));
                }
                None => keep.push(w),
            }
        }
        self.watermarks = keep;
        out
    }

    /// Applies a watermark response; returns true when metadata should be refreshed.
    pub fn on_watermark(&mut self, mut w: WatermarkCtx, resp: Option<ListOffsetsResponse>) -> bool {
        let found = resp.as_ref().and_then(|r| {
            r.topics
                .iter()
                .filter(|t| t.name.0.as_str() == w.topic)
                .flat_map(|t| t.partitions.iter())
                .find(|p| p.partition_index == w.partition)
                .cloned()
        });
        let Some(p) = found else {
            let _ = w.reply.send(Err(KafkaError::new(
                ErrorCode::UNKNOWN_TOPIC_OR_PART,
                format!("{} [{}]: no offsets in response", w.topic, w.partition),
            )));
            return false;
        };
        let err = ErrorCode::from(p.error_code);
        if err.is_retriable() {
            self.watermarks.push(w);
            return true;
        }
        if err.0 != 0 {
            let _ = w.reply.send(Err(KafkaError::new(
                err,
                format!(
                    "Failed to query watermarks of {} [{}]: {err}",
                    w.topic, w.partition
                ),
            )));
            return false;
        }
        match w.low {
            None => {
                w.low = Some(p.offset);
                self.watermarks.push(w);
            }
            Some(low) => {
                let _ = w.reply.send(Ok((low, p.offset)));
            }
        }
        false
    }

    /// Fails the queries whose deadline passed.
    pub fn expire(&mut self, now: Instant, _md: &Metadata) {
        let (dead, live): (Vec<_>, Vec<_>) =
            self.committed.drain(..).partition(|q| q.deadline <= now);
        self.committed = live;
        dead.into_iter()
            .for_each(|q| drop(q.reply.send(Err(timed_out("Fetching committed offsets")))));
        let (dead, live): (Vec<_>, Vec<_>) =
            self.watermarks.drain(..).partition(|q| q.deadline <= now);
        self.watermarks = live;
        dead.into_iter()
            .for_each(|q| drop(q.reply.send(Err(timed_out("Querying watermarks")))));
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        let c = self.committed.iter().map(|q| q.deadline);
        let w = self.watermarks.iter().map(|q| q.deadline);
        c.chain(w).min()
    }
}

/// A ListOffsets for one partition at `timestamp` (-2 earliest, -1 latest).
pub(crate) fn watermark_request(w: &WatermarkCtx, timestamp: i64) -> ListOffsetsRequest {
    let p = ListOffsetsPartition::default()
        .with_partition_index(w.partition)
        .with_timestamp(timestamp)
        .with_current_leader_epoch(-1);
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_topics(vec![ListOffsetsTopic::default()
            .with_name(TopicName(StrBytes::from_string(w.topic.clone())))
            .with_partitions(vec![p])])
}
