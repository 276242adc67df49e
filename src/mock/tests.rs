//! The cluster state machine driven by encoded requests and a scripted clock: versions, request
//! ordering per connection, fetch long-polls, acks=0, and a group's rebalance timeline.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::{Decodable, StrBytes};

use super::cluster::{err, BrokerAddr, Cluster, ConnId, Output, Settings};
use crate::protocol::compression::Compression;
use crate::protocol::frame::{encode_request, strip_response_header, Request};
use crate::protocol::records::BatchWriter;

fn cluster(brokers: i32) -> Cluster {
    Cluster::new(Settings {
        brokers: (1..=brokers)
            .map(|id| BrokerAddr {
                id,
                host: "127.0.0.1".into(),
                port: 9000 + id as u16,
            })
            .collect(),
        default_partitions: 4,
        default_replication: brokers.min(3),
        initial_rebalance_delay: Duration::from_millis(3000),
        cluster_id: "test".into(),
    })
}

fn frame<R: Request>(r: &R, version: i16, correlation_id: i32) -> Bytes {
    let mut out = BytesMut::new();
    encode_request(
        r,
        version,
        correlation_id,
        &StrBytes::from_static_str("t"),
        &mut out,
    )
    .unwrap();
    Bytes::from(out).slice(4..)
}

/// Decodes the single response queued for `conn`; panics unless exactly one is there.
fn answer<R: Decodable>(c: &mut Cluster, conn: ConnId, api: ApiKey, version: i16) -> R {
    let out = c.take_output();
    let mine: Vec<Bytes> = out
        .iter()
        .filter_map(|o| match o {
            Output::Send(id, b) if *id == conn => Some(b.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(mine.len(), 1, "{out:?}");
    let mut b = mine[0].slice(4..);
    strip_response_header(&mut b, api, version).unwrap();
    R::decode(&mut b, version).unwrap()
}

fn sent_to(c: &mut Cluster) -> Vec<ConnId> {
    c.take_output()
        .into_iter()
        .map(|o| match o {
            Output::Send(id, _) | Output::Close(id) => id,
        })
        .collect()
}

fn records(values: &[&str]) -> Bytes {
    let mut w = BatchWriter::new(Compression::None, None);
    for v in values {
        w.push(0, None, Some(v.as_bytes()), &[]);
    }
    w.finish(0, -1, -1, -1, false).unwrap()
}

fn produce(topic: &str, partition: i32, acks: i16, values: &[&str]) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(1000)
        .with_topic_data(vec![TopicProduceData::default()
            .with_name(TopicName(StrBytes::from_string(topic.into())))
            .with_partition_data(vec![PartitionProduceData::default()
                .with_index(partition)
                .with_records(Some(records(values)))])])
}

fn fetch(topic: &str, partition: i32, offset: i64, max_wait_ms: i32) -> FetchRequest {
    FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(max_wait_ms)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default()
            .with_topic(TopicName(StrBytes::from_string(topic.into())))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1 << 20)])])
}

#[test]
fn api_versions_lists_served_apis_and_refuses_newer_versions() {
    let mut c = cluster(1);
    let now = Instant::now();
    c.connect(1, 1);
    c.request(1, frame(&ApiVersionsRequest::default(), 3, 1), now);
    let r: ApiVersionsResponse = answer(&mut c, 1, ApiKey::ApiVersions, 3);
    let produce = r
        .api_keys
        .iter()
        .find(|k| k.api_key == ApiKey::Produce as i16)
        .unwrap();
    assert_eq!((produce.min_version, produce.max_version), (3, 9));
    c.request(1, frame(&ApiVersionsRequest::default(), 4, 2), now);
    let r: ApiVersionsResponse = answer(&mut c, 1, ApiKey::ApiVersions, 0);
    assert_eq!(r.error_code, err::UNSUPPORTED_VERSION);
}

#[test]
fn fetch_long_polls_until_data_and_holds_later_requests_of_its_connection() {
    let mut c = cluster(1);
    let t0 = Instant::now();
    c.create_topic("t", 1, 1).unwrap();
    c.connect(1, 1);
    c.connect(2, 1);
    c.request(1, frame(&fetch("t", 0, 0, 500), 11, 1), t0);
    c.request(1, frame(&MetadataRequest::default(), 9, 2), t0);
    assert!(
        sent_to(&mut c).is_empty(),
        "the fetch waits; the metadata waits behind it"
    );
    assert_eq!(c.next_deadline(), Some(t0 + Duration::from_millis(500)));

    // acks=0: appended, no answer.
    c.request(2, frame(&produce("t", 0, 0, &["a", "b"]), 9, 1), t0);
    let out = c.take_output();
    let to_fetcher: Vec<_> = out
        .iter()
        .filter(|o| matches!(o, Output::Send(1, _)))
        .collect();
    assert_eq!(
        to_fetcher.len(),
        2,
        "fetch answered with data, then the metadata"
    );
    assert!(
        !out.iter().any(|o| matches!(o, Output::Send(2, _))),
        "acks=0 has no response"
    );

    c.request(2, frame(&fetch("t", 0, 2, 500), 11, 2), t0);
    assert!(sent_to(&mut c).is_empty());
    c.tick(t0 + Duration::from_millis(499));
    assert!(sent_to(&mut c).is_empty());
    c.tick(t0 + Duration::from_millis(500));
    let r: FetchResponse = answer(&mut c, 2, ApiKey::Fetch, 11);
    let p = &r.responses[0].partitions[0];
    assert_eq!((p.error_code, p.high_watermark), (err::NONE, 2));
    assert!(p.records.as_ref().unwrap().is_empty());

    c.request(2, frame(&fetch("t", 0, 3, 500), 11, 3), t0);
    let r: FetchResponse = answer(&mut c, 2, ApiKey::Fetch, 11);
    assert_eq!(
        r.responses[0].partitions[0].error_code,
        err::OFFSET_OUT_OF_RANGE
    );
}

#[test]
fn produce_to_a_follower_is_refused() {
    let mut c = cluster(2);
    let now = Instant::now();
    c.create_topic("t", 2, 2).unwrap();
    c.connect(1, 2);
    c.request(1, frame(&produce("t", 0, 1, &["x"]), 9, 1), now);
    let r: ProduceResponse = answer(&mut c, 1, ApiKey::Produce, 9);
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        err::NOT_LEADER_OR_FOLLOWER
    );
    c.request(1, frame(&produce("t", 1, -1, &["x", "y"]), 9, 2), now);
    let r: ProduceResponse = answer(&mut c, 1, ApiKey::Produce, 9);
    let p = &r.responses[0].partition_responses[0];
    assert_eq!((p.error_code, p.base_offset), (err::NONE, 0));
}

fn join(group: &str, member: &str) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group.into())))
        .with_session_timeout_ms(6000)
        .with_rebalance_timeout_ms(10000)
        .with_member_id(StrBytes::from_string(member.into()))
        .with_protocol_type(StrBytes::from_static_str("consumer"))
        .with_protocols(vec![JoinGroupRequestProtocol::default()
            .with_name(StrBytes::from_static_str("range"))
            .with_metadata(Bytes::from_static(b"md"))])
}

fn heartbeat(c: &mut Cluster, conn: ConnId, member: &str, generation: i32, now: Instant) -> i16 {
    let hb = HeartbeatRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("g")))
        .with_generation_id(generation)
        .with_member_id(StrBytes::from_string(member.into()));
    c.request(conn, frame(&hb, 3, 9), now);
    answer::<HeartbeatResponse>(c, conn, ApiKey::Heartbeat, 3).error_code
}

#[test]
fn group_rebalances_after_the_initial_delay_and_when_a_session_expires() {
    let mut c = cluster(1);
    let t0 = Instant::now();
    c.connect(1, 1);
    c.connect(2, 1);
    c.request(1, frame(&join("g", ""), 5, 1), t0);
    c.request(
        2,
        frame(&join("g", ""), 5, 1),
        t0 + Duration::from_millis(100),
    );
    c.tick(t0 + Duration::from_millis(2999));
    assert!(
        sent_to(&mut c).is_empty(),
        "the initial delay holds both joins"
    );
    c.tick(t0 + Duration::from_millis(3000));
    let out = c.take_output();
    assert_eq!(out.len(), 2);
    let decode = |o: &Output| {
        let Output::Send(id, b) = o else { panic!() };
        let mut b = b.slice(4..);
        strip_response_header(&mut b, ApiKey::JoinGroup, 5).unwrap();
        (*id, JoinGroupResponse::decode(&mut b, 5).unwrap())
    };
    let (first, second) = (decode(&out[0]), decode(&out[1]));
    let (leader, follower) = if first.1.members.is_empty() {
        (second, first)
    } else {
        (first, second)
    };
    assert_eq!(leader.1.generation_id, 1);
    assert_eq!(leader.1.members.len(), 2);
    assert_eq!(leader.1.leader, leader.1.member_id);
    assert_eq!(follower.1.leader, leader.1.member_id);
    let (lid, fid) = (
        leader.1.member_id.to_string(),
        follower.1.member_id.to_string(),
    );
    let t1 = t0 + Duration::from_millis(3000);

    // The follower's SyncGroup waits for the leader's assignment.
    let sync = |member: &str, assignments: Vec<SyncGroupRequestAssignment>| {
        SyncGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_static_str("g")))
            .with_generation_id(1)
            .with_member_id(StrBytes::from_string(member.into()))
            .with_assignments(assignments)
    };
    c.request(follower.0, frame(&sync(&fid, vec![]), 3, 2), t1);
    c.tick(t1 + Duration::from_millis(10));
    assert!(sent_to(&mut c).is_empty(), "still waiting after a tick");
    let assignments = vec![
        SyncGroupRequestAssignment::default()
            .with_member_id(StrBytes::from_string(lid.clone()))
            .with_assignment(Bytes::from_static(b"L")),
        SyncGroupRequestAssignment::default()
            .with_member_id(StrBytes::from_string(fid.clone()))
            .with_assignment(Bytes::from_static(b"F")),
    ];
    c.request(leader.0, frame(&sync(&lid, assignments), 3, 2), t1);
    let r: SyncGroupResponse = answer(&mut c, follower.0, ApiKey::SyncGroup, 3);
    assert_eq!(&r.assignment[..], b"F");
    assert_eq!(heartbeat(&mut c, leader.0, &lid, 1, t1), err::NONE);
    assert_eq!(
        heartbeat(&mut c, leader.0, &lid, 0, t1),
        err::ILLEGAL_GENERATION
    );
    assert_eq!(
        heartbeat(&mut c, leader.0, "nobody", 1, t1),
        err::UNKNOWN_MEMBER_ID
    );

    // The follower stops heartbeating: after its session timeout the leader must rejoin.
    let t2 = t1 + Duration::from_millis(5000);
    assert_eq!(heartbeat(&mut c, leader.0, &lid, 1, t2), err::NONE);
    c.tick(t1 + Duration::from_millis(6001));
    assert_eq!(
        heartbeat(&mut c, leader.0, &lid, 1, t1 + Duration::from_millis(6001)),
        err::REBALANCE_IN_PROGRESS
    );
    let t3 = t1 + Duration::from_millis(6100);
    c.request(leader.0, frame(&join("g", &lid), 5, 3), t3);
    let r: JoinGroupResponse = answer(&mut c, leader.0, ApiKey::JoinGroup, 5);
    assert_eq!(
        (r.generation_id, r.members.len()),
        (2, 1),
        "alone in generation 2, no delay"
    );
}

#[test]
fn leaving_rebalances_the_rest_and_commits_need_existing_partitions() {
    use kafka_protocol::messages::offset_commit_request::{
        OffsetCommitRequestPartition, OffsetCommitRequestTopic,
    };
    let mut c = cluster(1);
    c.set_initial_rebalance_delay(Duration::ZERO);
    c.create_topic("t", 1, 1).unwrap();
    let t0 = Instant::now();
    c.connect(1, 1);
    c.connect(2, 1);
    c.request(1, frame(&join("g", ""), 5, 1), t0);
    let a: JoinGroupResponse = answer(&mut c, 1, ApiKey::JoinGroup, 5);
    c.request(2, frame(&join("g", ""), 5, 1), t0);
    assert_eq!(
        heartbeat(&mut c, 1, &a.member_id, 1, t0),
        err::REBALANCE_IN_PROGRESS
    );
    c.request(1, frame(&join("g", &a.member_id), 5, 2), t0);
    let out = sent_to(&mut c);
    assert_eq!(out.len(), 2, "both joins answered: generation 2");

    let leave = LeaveGroupRequest::default()
        .with_group_id(GroupId(StrBytes::from_static_str("g")))
        .with_member_id(a.member_id.clone());
    c.request(1, frame(&leave, 1, 3), t0);
    let r: LeaveGroupResponse = answer(&mut c, 1, ApiKey::LeaveGroup, 1);
    assert_eq!(r.error_code, err::NONE);
    let (_, group) = c.coordinator.groups.iter().next().unwrap();
    assert_eq!(group.members.len(), 1);
    assert_eq!(group.state.name(), "PreparingRebalance");

    let commit = |topic: &str| {
        OffsetCommitRequest::default()
            .with_group_id(GroupId(StrBytes::from_static_str("simple")))
            .with_generation_id_or_member_epoch(-1)
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name(TopicName(StrBytes::from_string(topic.into())))
                .with_partitions(vec![OffsetCommitRequestPartition::default()
                    .with_partition_index(0)
                    .with_committed_offset(5)])])
    };
    c.request(1, frame(&commit("t"), 7, 4), t0);
    let r: OffsetCommitResponse = answer(&mut c, 1, ApiKey::OffsetCommit, 7);
    assert_eq!(r.topics[0].partitions[0].error_code, err::NONE);
    c.request(1, frame(&commit("nope"), 7, 5), t0);
    let r: OffsetCommitResponse = answer(&mut c, 1, ApiKey::OffsetCommit, 7);
    assert_eq!(
        r.topics[0].partitions[0].error_code,
        err::UNKNOWN_TOPIC_OR_PARTITION
    );

    c.request(1, frame(&produce("t", 0, 2, &["x"]), 9, 6), t0);
    let r: ProduceResponse = answer(&mut c, 1, ApiKey::Produce, 9);
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        err::INVALID_REQUIRED_ACKS
    );
}

#[test]
fn injected_errors_answer_without_executing_and_transport_closes() {
    let mut c = cluster(1);
    c.create_topic("t", 1, 1).unwrap();
    let now = Instant::now();
    c.connect(1, 1);
    c.faults.push(
        ApiKey::Produce as i16,
        &[err::NOT_LEADER_OR_FOLLOWER, super::faults::TRANSPORT],
    );
    c.request(1, frame(&produce("t", 0, -1, &["a"]), 9, 1), now);
    let r: ProduceResponse = answer(&mut c, 1, ApiKey::Produce, 9);
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        err::NOT_LEADER_OR_FOLLOWER
    );
    c.request(1, frame(&produce("t", 0, -1, &["a"]), 9, 2), now);
    assert_eq!(c.take_output(), vec![Output::Close(1)]);
    c.connect(2, 1);
    c.request(2, frame(&produce("t", 0, -1, &["a"]), 9, 1), now);
    let r: ProduceResponse = answer(&mut c, 2, ApiKey::Produce, 9);
    let p = &r.responses[0].partition_responses[0];
    assert_eq!(
        (p.error_code, p.base_offset),
        (err::NONE, 0),
        "the failed ones were not appended"
    );
}

#[test]
fn brokers_go_down_and_up_and_leaders_move() {
    let mut c = cluster(2);
    c.create_topic("t", 1, 2).unwrap();
    let now = Instant::now();
    c.connect(1, 1);
    c.connect(2, 2);
    assert!(c.set_broker_up(1, false));
    assert!(!c.set_broker_up(3, false), "unknown broker");
    assert_eq!(c.take_output(), vec![Output::Close(1)]);
    c.connect(3, 1);
    assert_eq!(
        c.take_output(),
        vec![Output::Close(3)],
        "refused while down"
    );
    assert!(c.set_broker_up(1, true));
    c.connect(4, 1);
    assert!(c.take_output().is_empty());

    c.set_leader("t", 0, 2).unwrap();
    assert_eq!(c.set_leader("t", 0, 9), Err(err::BROKER_NOT_AVAILABLE));
    c.request(
        4,
        frame(&MetadataRequest::default().with_topics(None), 9, 1),
        now,
    );
    let r: MetadataResponse = answer(&mut c, 4, ApiKey::Metadata, 9);
    let p = &r.topics[0].partitions[0];
    assert_eq!((p.leader_id, p.leader_epoch), (BrokerId(2), 1));
    c.request(4, frame(&produce("t", 0, 1, &["a"]), 9, 2), now);
    let r: ProduceResponse = answer(&mut c, 4, ApiKey::Produce, 9);
    assert_eq!(
        r.responses[0].partition_responses[0].error_code,
        err::NOT_LEADER_OR_FOLLOWER
    );

    c.set_leader("t", 0, -1).unwrap();
    c.request(
        4,
        frame(&MetadataRequest::default().with_topics(None), 9, 3),
        now,
    );
    let r: MetadataResponse = answer(&mut c, 4, ApiKey::Metadata, 9);
    let p = &r.topics[0].partitions[0];
    assert_eq!(
        (p.error_code, p.leader_id),
        (err::LEADER_NOT_AVAILABLE, BrokerId(-1))
    );

    c.coordinator.pinned.insert((0, "g".into()), 2);
    let fc = FindCoordinatorRequest::default().with_key(StrBytes::from_static_str("g"));
    c.request(4, frame(&fc, 2, 4), now);
    let r: FindCoordinatorResponse = answer(&mut c, 4, ApiKey::FindCoordinator, 2);
    assert_eq!((r.node_id, r.port), (BrokerId(2), 9002));
    c.faults.topic_errors.insert("t".into(), 29);
    c.request(
        4,
        frame(&MetadataRequest::default().with_topics(None), 9, 5),
        now,
    );
    let r: MetadataResponse = answer(&mut c, 4, ApiKey::Metadata, 9);
    assert_eq!(r.topics[0].error_code, 29);
}

#[test]
fn a_broker_rtt_holds_responses_back_in_order() {
    let mut c = cluster(2);
    let t0 = Instant::now();
    c.faults.rtt.insert(1, Duration::from_millis(100));
    c.connect(1, 1);
    c.connect(2, 2);
    c.request(1, frame(&ApiVersionsRequest::default(), 3, 1), t0);
    c.request(2, frame(&ApiVersionsRequest::default(), 3, 1), t0);
    assert_eq!(sent_to(&mut c), vec![2], "broker 2 has no RTT");
    assert_eq!(c.next_deadline(), Some(t0 + Duration::from_millis(100)));
    c.faults.rtt.remove(&1);
    c.request(
        1,
        frame(&ApiVersionsRequest::default(), 3, 2),
        t0 + Duration::from_millis(10),
    );
    c.tick(t0 + Duration::from_millis(99));
    assert!(
        sent_to(&mut c).is_empty(),
        "the second waits behind the first"
    );
    c.tick(t0 + Duration::from_millis(100));
    let out = c.take_output();
    let ids: Vec<i32> = out
        .iter()
        .map(|o| match o {
            Output::Send(1, b) => i32::from_be_bytes(b[4..8].try_into().unwrap()),
            o => panic!("{o:?}"),
        })
        .collect();
    assert_eq!(ids, vec![1, 2], "correlation ids in order");
}

proptest::proptest! {
    /// Whatever header a client sends, the cluster answers or closes; it never panics. (Bodies
    /// are not fuzzed: kafka-protocol 0.18's decoders reserve `Vec::with_capacity(count)` from the
    /// wire, so a huge array count aborts the process on allocation failure.)
    #[test]
    fn arbitrary_frames_do_not_panic(key in 0i16..70, version in -1i16..20, body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)) {
        let mut c = cluster(2);
        c.connect(1, 1);
        let mut frame = Vec::new();
        frame.extend_from_slice(&key.to_be_bytes());
        frame.extend_from_slice(&version.to_be_bytes());
        frame.extend_from_slice(&7i32.to_be_bytes());
        frame.extend_from_slice(&body);
        c.request(1, Bytes::from(frame), Instant::now());
        c.tick(Instant::now() + Duration::from_secs(60));
        let _ = c.take_output();
    }
}
