//! Fetch and ListOffsets: reading a partition's log from an offset within the request's byte
//! budgets, and the earliest, latest and by-timestamp offsets.

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{
    BrokerId, FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse,
};

use super::cluster::{err, Cluster};
use super::topics::Partition;

/// ListOffsets' special timestamps.
const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

impl Cluster {
    fn partition(&self, topic: &str, index: i32) -> Option<&Partition> {
        self.topics
            .get(topic)
            .and_then(|parts| usize::try_from(index).ok().and_then(|i| parts.get(i)))
    }

    /// Builds the Fetch response for `req` on broker `broker`, with the record bytes it carries
    /// and whether any partition has an error (both decide whether a long-poll answers now).
    pub(super) fn fetch(&self, broker: i32, req: &FetchRequest) -> (FetchResponse, usize, bool) {
        let max_bytes = if req.max_bytes <= 0 {
            i32::MAX as usize
        } else {
            req.max_bytes as usize
        };
        let mut total = 0usize;
        let mut errors = false;
        let mut resp = FetchResponse::default();
        for t in &req.topics {
            let mut topic = FetchableTopicResponse::default().with_topic(t.topic.clone());
            for p in &t.partitions {
                let mut pd = PartitionData::default()
                    .with_partition_index(p.partition)
                    .with_high_watermark(-1)
                    .with_last_stable_offset(-1)
                    .with_log_start_offset(-1)
                    .with_preferred_read_replica(BrokerId(-1))
                    .with_records(Some(Bytes::new()));
                match self.partition(&t.topic.0, p.partition) {
                    None => pd.error_code = err::UNKNOWN_TOPIC_OR_PARTITION,
                    Some(part) if part.leader != broker => {
                        pd.error_code = err::NOT_LEADER_OR_FOLLOWER
                    }
                    Some(part) => {
                        let log = &part.log;
                        pd.high_watermark = log.end();
                        pd.last_stable_offset = log.end();
                        pd.log_start_offset = log.start();
                        if p.fetch_offset < log.start() || p.fetch_offset > log.end() {
                            pd.error_code = err::OFFSET_OUT_OF_RANGE;
                        } else {
                            let budget = (p.partition_max_bytes.max(0) as usize)
                                .min(max_bytes.saturating_sub(total));
                            // The first batch of the response goes out whole, however large.
                            let budget = if total == 0 { budget.max(1) } else { budget };
                            if budget > 0 {
                                let records = log.read(p.fetch_offset, budget);
                                if total > 0 && records.len() > budget {
                                    // Only the first partition may exceed the budget.
                                } else {
                                    total += records.len();
                                    pd.records = Some(records);
                                }
                            }
                        }
                    }
                }
                errors |= pd.error_code != err::NONE;
                topic.partitions.push(pd);
            }
            resp.responses.push(topic);
        }
        (resp, total, errors)
    }

    /// Answers ListOffsets on broker `broker`: -1 latest, -2 earliest, -3 the offset of the
    /// largest timestamp (approximated by the last batch), else the first record at or after
    /// the timestamp (-1 when there is none).
    pub(super) fn list_offsets(&self, broker: i32, req: ListOffsetsRequest) -> ListOffsetsResponse {
        let mut resp = ListOffsetsResponse::default();
        for t in req.topics {
            let mut topic = ListOffsetsTopicResponse::default().with_name(t.name.clone());
            for p in t.partitions {
                let mut pr = ListOffsetsPartitionResponse::default()
                    .with_partition_index(p.partition_index)
                    .with_timestamp(-1)
                    .with_offset(-1);
                match self.partition(&t.name.0, p.partition_index) {
                    None => pr.error_code = err::UNKNOWN_TOPIC_OR_PARTITION,
                    Some(part) if part.leader != broker => {
                        pr.error_code = err::NOT_LEADER_OR_FOLLOWER
                    }
                    Some(part) => match p.timestamp {
                        LATEST => pr.offset = part.log.end(),
                        EARLIEST => pr.offset = part.log.start(),
                        MAX_TIMESTAMP => pr.offset = (part.log.end() - 1).max(-1),
                        ts => {
                            if let Some((offset, at)) = part.log.offset_for_time(ts) {
                                pr.offset = offset;
                                pr.timestamp = at;
                            }
                        }
                    },
                }
                topic.partitions.push(pr);
            }
            resp.topics.push(topic);
        }
        resp
    }
}
