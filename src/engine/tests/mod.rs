//! Engine tests in simulated time: each test drives one [`Engine`](super::client::Engine) through
//! the [`harness`], answers the requests its scenario needs with hand-built responses, and checks
//! what went out, what the application got and when the engine wants to wake up.
//!
//! Brokers are `b<id>:9092`; the bootstrap server is `boot:9092`. Groups use group id `g` and
//! member ids `m-1`, `m-2`.

mod fetch;
mod group_timeline;
mod harness;
mod queries;
mod read_committed;
mod throttle;

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use kafka_protocol::messages::{
    ApiKey, BrokerId, FetchRequest, FetchResponse, FindCoordinatorResponse, JoinGroupRequest,
    JoinGroupResponse, MetadataResponse, OffsetFetchRequest, OffsetFetchResponse, SyncGroupRequest,
    SyncGroupResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use self::harness::{Harness, Sent};
use super::assignor::{self, TopicPartitions};
use super::channel::{ConsumerEvent, Rebalance};
use crate::protocol::compression::Compression;
use crate::protocol::records::BatchWriter;
use crate::topic_partition::TopicPartition;

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_string())
}

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, partition)
}

fn tp_at(topic: &str, partition: i32, offset: i64) -> TopicPartition {
    TopicPartition::with_offset(topic, partition, offset)
}

/// Brokers `b<id>:9092` and topics with one leader id per partition (epoch 1).
fn metadata(brokers: &[i32], topics: &[(&str, &[i32])]) -> MetadataResponse {
    MetadataResponse::default()
        .with_brokers(
            brokers
                .iter()
                .map(|id| {
                    MetadataResponseBroker::default()
                        .with_node_id(BrokerId(*id))
                        .with_host(s(&format!("b{id}")))
                        .with_port(9092)
                })
                .collect(),
        )
        .with_topics(
            topics
                .iter()
                .map(|(name, leaders)| {
                    let partitions = leaders
                        .iter()
                        .enumerate()
                        .map(|(i, l)| {
                            MetadataResponsePartition::default()
                                .with_partition_index(i as i32)
                                .with_leader_id(BrokerId(*l))
                                .with_leader_epoch(1)
                                .with_replica_nodes(vec![BrokerId(*l)])
                                .with_isr_nodes(vec![BrokerId(*l)])
                        })
                        .collect();
                    MetadataResponseTopic::default()
                        .with_name(Some(TopicName(s(name))))
                        .with_partitions(partitions)
                })
                .collect(),
        )
}

/// FindCoordinator (v0..v3 layout) naming broker `node`, or an error.
fn coordinator(node: i32, error: i16) -> FindCoordinatorResponse {
    FindCoordinatorResponse::default()
        .with_error_code(error)
        .with_node_id(BrokerId(node))
        .with_host(s(&format!("b{node}")))
        .with_port(9092)
}

/// `n` records at `base_offset`, values `v<offset>`.
fn batch(base_offset: i64, n: usize) -> Bytes {
    let mut w = BatchWriter::new(Compression::None, None);
    for i in 0..n {
        let v = format!("v{}", base_offset + i as i64);
        w.push(1_700_000_000_000, None, Some(v.as_bytes()), &[]);
    }
    w.finish(base_offset, -1, -1, -1, false).unwrap()
}

/// One partition of a Fetch response.
fn fetched(
    topic: &str,
    partition: i32,
    error: i16,
    hw: i64,
    records: Option<Bytes>,
) -> (String, PartitionData) {
    let pd = PartitionData::default()
        .with_partition_index(partition)
        .with_error_code(error)
        .with_high_watermark(hw)
        .with_last_stable_offset(hw)
        .with_log_start_offset(0)
        .with_records(records);
    (topic.to_string(), pd)
}

fn fetch_response(parts: Vec<(String, PartitionData)>) -> FetchResponse {
    let mut topics: Vec<FetchableTopicResponse> = Vec::new();
    for (t, pd) in parts {
        match topics.iter_mut().find(|x| x.topic.0.as_str() == t) {
            Some(x) => x.partitions.push(pd),
            None => topics.push(
                FetchableTopicResponse::default()
                    .with_topic(TopicName(s(&t)))
                    .with_partitions(vec![pd]),
            ),
        }
    }
    FetchResponse::default().with_responses(topics)
}

/// (topic, partition, fetch offset) of every partition in a Fetch request.
fn fetch_offsets(req: &Sent) -> Vec<(String, i32, i64)> {
    let f: FetchRequest = req.decode();
    f.topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(move |p| (t.topic.0.to_string(), p.partition, p.fetch_offset))
        })
        .collect()
}

/// Committed offsets for an OffsetFetch (v1..v7 layout).
fn committed(offsets: &[(&str, i32, i64)]) -> OffsetFetchResponse {
    let mut topics: Vec<OffsetFetchResponseTopic> = Vec::new();
    for (t, p, o) in offsets {
        let part = OffsetFetchResponsePartition::default()
            .with_partition_index(*p)
            .with_committed_offset(*o)
            .with_metadata(Some(s("")));
        match topics.iter_mut().find(|x| x.name.0.as_str() == *t) {
            Some(x) => x.partitions.push(part),
            None => topics.push(
                OffsetFetchResponseTopic::default()
                    .with_name(TopicName(s(t)))
                    .with_partitions(vec![part]),
            ),
        }
    }
    OffsetFetchResponse::default().with_topics(topics)
}

/// The partitions an OffsetFetch asks for.
fn offset_fetch_parts(req: &Sent) -> Vec<(String, i32)> {
    let r: OffsetFetchRequest = req.decode();
    let mut v: Vec<(String, i32)> = r
        .topics
        .unwrap_or_default()
        .iter()
        .flat_map(|t| {
            t.partition_indexes
                .iter()
                .map(move |p| (t.name.0.to_string(), *p))
        })
        .collect();
    v.sort();
    v
}

/// A JoinGroup success naming `leader`; as leader we get every member's metadata back.
fn joined(req: &Sent, member: &str, leader: &str, generation: i32) -> JoinGroupResponse {
    let r: JoinGroupRequest = req.decode();
    let proto = &r.protocols[0];
    let members = if member == leader {
        vec![JoinGroupResponseMember::default()
            .with_member_id(s(member))
            .with_metadata(proto.metadata.clone())]
    } else {
        Vec::new()
    };
    JoinGroupResponse::default()
        .with_generation_id(generation)
        .with_protocol_name(Some(proto.name.clone()))
        .with_leader(s(leader))
        .with_member_id(s(member))
        .with_members(members)
}

/// The assignment a SyncGroup carries for `member`.
fn sync_assignment(req: &Sent, member: &str) -> TopicPartitions {
    let r: SyncGroupRequest = req.decode();
    let a = r
        .assignments
        .iter()
        .find(|a| a.member_id.as_str() == member)
        .unwrap_or_else(|| panic!("no assignment for {member}"));
    assignor::decode_assignment(&a.assignment).unwrap()
}

fn synced(assigned: &TopicPartitions) -> SyncGroupResponse {
    SyncGroupResponse::default().with_assignment(assignor::encode_assignment(assigned))
}

/// The rebalance events delivered so far (other events are kept).
fn rebalances(h: &mut Harness) -> Vec<Rebalance> {
    let mut out = Vec::new();
    h.events.retain(|e| match e {
        ConsumerEvent::Rebalance(r) => {
            out.push(r.clone());
            false
        }
        _ => true,
    });
    out
}

fn names(tps: &[TopicPartition]) -> Vec<(String, i32)> {
    let mut v: Vec<(String, i32)> = tps.iter().map(|t| (t.topic.clone(), t.partition)).collect();
    v.sort();
    v
}

/// The error codes among the events delivered so far (other events are kept).
fn errors(h: &mut Harness) -> Vec<crate::error::KafkaError> {
    let mut out = Vec::new();
    h.events.retain(|e| match e {
        ConsumerEvent::Error(err) => {
            out.push(err.clone());
            false
        }
        _ => true,
    });
    out
}

/// As leader after a JoinGroup, the engine refreshes metadata before assigning: answer it.
fn answer_leader_metadata(h: &mut Harness) {
    let md = h.expect(ApiKey::Metadata);
    h.respond(&md, &metadata(&[1, 2], &[("a", &[1, 2]), ("b", &[1, 2])]));
}

/// Subscribes to `a` and `b` (two partitions each, leaders b1 and b2), joins as the only member
/// `m-1` with generation 1, acks the assignment and answers the OffsetFetch (committed 10 for
/// every partition). Returns with one Fetch in flight to each leader.
fn stable_group(props: &[(&str, &str)]) -> Harness {
    let mut props = props.to_vec();
    props.push(("group.id", "g"));
    let mut h = Harness::new(&props);
    h.subscribe(&["a", "b"]);
    let md = h.expect(ApiKey::Metadata);
    h.respond(&md, &metadata(&[1, 2], &[("a", &[1, 2]), ("b", &[1, 2])]));
    let fc = h.expect(ApiKey::FindCoordinator);
    h.respond(&fc, &coordinator(1, 0));
    if let Some(md) = h.take(ApiKey::Metadata) {
        h.respond(&md, &metadata(&[1, 2], &[("a", &[1, 2]), ("b", &[1, 2])]));
    }
    let join = h.expect(ApiKey::JoinGroup);
    h.respond(&join, &joined(&join, "m-1", "m-1", 1));
    answer_leader_metadata(&mut h);
    let sync = h.expect(ApiKey::SyncGroup);
    let assigned = sync_assignment(&sync, "m-1");
    h.respond(&sync, &synced(&assigned));
    let ev = rebalances(&mut h);
    assert_eq!(ev.len(), 1);
    h.assign(Some(&ev[0].partitions), ev[0].cooperative.then_some(true));
    let of = h.expect(ApiKey::OffsetFetch);
    h.respond(
        &of,
        &committed(&[("a", 0, 10), ("a", 1, 10), ("b", 0, 10), ("b", 1, 10)]),
    );
    assert_eq!(
        h.pending.iter().filter(|r| r.api == ApiKey::Fetch).count(),
        2
    );
    h
}
