//! Application queries in simulated time: metadata answered from a fresh response, offsets by
//! timestamp from the partition leaders, watermarks cached from fetch responses.

use std::sync::atomic::Ordering;
use std::time::Duration;

use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ApiKey, ListOffsetsRequest, ListOffsetsResponse, MetadataRequest};

use super::harness::Harness;
use super::*;
use crate::engine::channel::Command;
use crate::engine::metadata_query::MetadataScope;
use crate::error::ErrorCode;
use crate::topic_partition::offset;

#[test]
fn metadata_query_waits_for_a_fresh_response_and_names_the_broker() {
    let mut h = Harness::new(&[]);
    let first = h.expect(ApiKey::Metadata);
    let rx = h.command(|reply| Command::Metadata {
        scope: MetadataScope::All,
        timeout: Duration::from_secs(5),
        reply,
    });
    // The response to the request sent before the query does not answer it.
    h.respond(&first, &metadata(&[1, 2], &[("t", &[2, 1])]));
    assert!(rx.try_recv().is_err());
    let md = h.expect(ApiKey::Metadata);
    let req: MetadataRequest = md.decode();
    assert!(req.topics.is_none(), "asks for every topic");
    h.respond(&md, &metadata(&[1, 2], &[("t", &[2, 1]), ("u", &[1])]));
    let m = rx.try_recv().unwrap().unwrap();
    assert_eq!(
        m.orig_broker_name,
        format!("{}/{}", md.addr, m.orig_broker_id)
    );
    assert_eq!(m.brokers.iter().map(|b| b.id).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(m.topics.len(), 2);
    assert_eq!(m.topics[0].partitions[0].leader, 2);
    assert_eq!(m.topics[0].partitions[0].replicas, [2]);
}

#[test]
fn offsets_for_times_asks_each_leader() {
    let mut h = Harness::new(&[]);
    let md = h.expect(ApiKey::Metadata);
    h.respond(&md, &metadata(&[1, 2], &[("t", &[1, 2])]));
    let parts = vec![tp_at("t", 0, 1000), tp_at("t", 1, 2000)];
    let rx = h.command(|reply| Command::OffsetsForTimes {
        partitions: parts,
        timeout: Duration::from_secs(5),
        reply,
    });
    for _ in 0..2 {
        let lo = h.expect(ApiKey::ListOffsets);
        let req: ListOffsetsRequest = lo.decode();
        let p = &req.topics[0].partitions[0];
        let leader = if lo.addr == "b1:9092" { 0 } else { 1 };
        assert_eq!(
            (p.partition_index, p.timestamp),
            (leader, 1000 * (leader as i64 + 1))
        );
        let resp =
            ListOffsetsResponse::default().with_topics(vec![ListOffsetsTopicResponse::default()
                .with_name(TopicName(s("t")))
                .with_partitions(vec![ListOffsetsPartitionResponse::default()
                    .with_partition_index(p.partition_index)
                    .with_offset(10 + p.partition_index as i64)])]);
        h.respond(&lo, &resp);
    }
    let (err, parts) = rx.try_recv().unwrap().unwrap();
    assert_eq!(err, ErrorCode::NO_ERROR);
    assert_eq!(parts.iter().map(|p| p.offset).collect::<Vec<_>>(), [10, 11]);
}

#[test]
fn fetch_responses_set_the_cached_watermarks() {
    let mut h = Harness::new(&[]);
    let md = h.expect(ApiKey::Metadata);
    h.respond(&md, &metadata(&[1], &[("t", &[1])]));
    h.assign(Some(&[tp_at("t", 0, 5)]), None);
    let shared = h.parts[&("t".to_string(), 0)].clone();
    assert_eq!(
        shared.high_watermark.load(Ordering::Acquire),
        offset::INVALID
    );
    assert_eq!(
        shared.low_watermark.load(Ordering::Acquire),
        offset::INVALID
    );
    let f = h.expect(ApiKey::Fetch);
    h.respond(&f, &fetch_response(vec![fetched("t", 0, 0, 42, None)]));
    assert_eq!(shared.high_watermark.load(Ordering::Acquire), 42);
    assert_eq!(shared.low_watermark.load(Ordering::Acquire), 0);
}
