//! Faults the owner injects, as librdkafka's mock offers them: queued request errors per API
//! (`_TRANSPORT` closes the connection), per-topic Metadata errors, brokers down, broker RTTs (pinned
//! coordinators live with the group coordinator). A request that meets a queued error is answered with it and not executed.

use std::collections::{HashMap, HashSet, VecDeque};

use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::metadata_response::MetadataResponseTopic;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::*;

/// librdkafka's `RD_KAFKA_RESP_ERR__TRANSPORT`: as an injected error, a disconnect.
pub const TRANSPORT: i16 = -195;

/// The injected faults of one cluster.
#[derive(Debug, Default)]
pub struct Faults {
    errors: HashMap<i16, VecDeque<i16>>,
    /// Errors Metadata reports for a topic.
    pub topic_errors: HashMap<String, i16>,
    /// Brokers that refuse connections.
    pub down: HashSet<i32>,
    /// Round-trip time added to each broker's responses.
    pub rtt: HashMap<i32, std::time::Duration>,
}

impl Faults {
    /// Queues `errors` for the next requests of API `key`.
    pub fn push(&mut self, key: i16, errors: &[i16]) {
        self.errors.entry(key).or_default().extend(errors);
    }

    /// How many errors are queued for API `key`.
    pub fn queued(&self, key: i16) -> usize {
        self.errors.get(&key).map_or(0, VecDeque::len)
    }

    /// Forgets the queued errors of API `key`.
    pub fn clear(&mut self, key: i16) {
        self.errors.remove(&key);
    }

    /// The error the next request of API `key` gets, if one is queued.
    pub fn next(&mut self, key: i16) -> Option<i16> {
        let q = self.errors.get_mut(&key)?;
        let e = q.pop_front();
        if q.is_empty() {
            self.errors.remove(&key);
        }
        e
    }
}

/// The response to `req` carrying `code` wherever the API reports errors (every partition,
/// topic or the top level); `None` for APIs the mock cannot fail this way.
pub fn error_response(req: &RequestKind, code: i16) -> Option<ResponseKind> {
    Some(match req {
        RequestKind::Produce(r) => {
            let mut resp = ProduceResponse::default();
            for t in &r.topic_data {
                let mut topic = TopicProduceResponse::default().with_name(t.name.clone());
                for p in &t.partition_data {
                    topic.partition_responses.push(
                        PartitionProduceResponse::default()
                            .with_index(p.index)
                            .with_error_code(code)
                            .with_base_offset(-1)
                            .with_log_append_time_ms(-1)
                            .with_log_start_offset(-1),
                    );
                }
                resp.responses.push(topic);
            }
            ResponseKind::Produce(resp)
        }
        RequestKind::Fetch(r) => {
            let mut resp = FetchResponse::default();
            for t in &r.topics {
                let mut topic = FetchableTopicResponse::default().with_topic(t.topic.clone());
                for p in &t.partitions {
                    topic.partitions.push(
                        PartitionData::default()
                            .with_partition_index(p.partition)
                            .with_error_code(code)
                            .with_high_watermark(-1)
                            .with_last_stable_offset(-1)
                            .with_log_start_offset(-1)
                            .with_records(Some(bytes::Bytes::new())),
                    );
                }
                resp.responses.push(topic);
            }
            ResponseKind::Fetch(resp)
        }
        RequestKind::ListOffsets(r) => {
            let mut resp = ListOffsetsResponse::default();
            for t in &r.topics {
                let mut topic = ListOffsetsTopicResponse::default().with_name(t.name.clone());
                for p in &t.partitions {
                    topic.partitions.push(
                        ListOffsetsPartitionResponse::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(code)
                            .with_timestamp(-1)
                            .with_offset(-1),
                    );
                }
                resp.topics.push(topic);
            }
            ResponseKind::ListOffsets(resp)
        }
        RequestKind::Metadata(r) => {
            let mut resp = MetadataResponse::default();
            for t in r.topics.iter().flatten() {
                resp.topics.push(
                    MetadataResponseTopic::default()
                        .with_name(t.name.clone())
                        .with_error_code(code),
                );
            }
            ResponseKind::Metadata(resp)
        }
        RequestKind::OffsetCommit(r) => {
            let mut resp = OffsetCommitResponse::default();
            for t in &r.topics {
                let mut topic = OffsetCommitResponseTopic::default().with_name(t.name.clone());
                for p in &t.partitions {
                    topic.partitions.push(
                        OffsetCommitResponsePartition::default()
                            .with_partition_index(p.partition_index)
                            .with_error_code(code),
                    );
                }
                resp.topics.push(topic);
            }
            ResponseKind::OffsetCommit(resp)
        }
        RequestKind::OffsetFetch(r) => {
            let mut resp = OffsetFetchResponse::default().with_error_code(code);
            for t in r.topics.iter().flatten() {
                let mut topic = OffsetFetchResponseTopic::default().with_name(t.name.clone());
                for &p in &t.partition_indexes {
                    topic.partitions.push(
                        OffsetFetchResponsePartition::default()
                            .with_partition_index(p)
                            .with_committed_offset(-1)
                            .with_error_code(code),
                    );
                }
                resp.topics.push(topic);
            }
            ResponseKind::OffsetFetch(resp)
        }
        RequestKind::FindCoordinator(_) => ResponseKind::FindCoordinator(
            FindCoordinatorResponse::default()
                .with_error_code(code)
                .with_node_id(BrokerId(-1))
                .with_port(-1),
        ),
        RequestKind::JoinGroup(r) => ResponseKind::JoinGroup(
            JoinGroupResponse::default()
                .with_error_code(code)
                .with_generation_id(-1)
                .with_member_id(r.member_id.clone()),
        ),
        RequestKind::SyncGroup(_) => {
            ResponseKind::SyncGroup(SyncGroupResponse::default().with_error_code(code))
        }
        RequestKind::Heartbeat(_) => {
            ResponseKind::Heartbeat(HeartbeatResponse::default().with_error_code(code))
        }
        RequestKind::LeaveGroup(_) => {
            ResponseKind::LeaveGroup(LeaveGroupResponse::default().with_error_code(code))
        }
        RequestKind::InitProducerId(_) => ResponseKind::InitProducerId(
            InitProducerIdResponse::default()
                .with_error_code(code)
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
        ),
        RequestKind::ListGroups(_) => {
            ResponseKind::ListGroups(ListGroupsResponse::default().with_error_code(code))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queued_errors_come_out_in_order_per_api() {
        let mut f = Faults::default();
        f.push(0, &[6, 7]);
        f.push(1, &[TRANSPORT]);
        assert_eq!(f.next(0), Some(6));
        assert_eq!(f.next(1), Some(TRANSPORT));
        assert_eq!(f.next(1), None);
        f.clear(0);
        assert_eq!(f.next(0), None);
    }
}
