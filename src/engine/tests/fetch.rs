//! Fetching without a group: leader moves, offset resets, truncated and corrupt responses.

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{ApiKey, ListOffsetsRequest, ListOffsetsResponse, TopicName};

use super::harness::Harness;
use super::*;
use crate::error::ErrorCode;

const OFFSET_OUT_OF_RANGE: i16 = 1;
const NOT_LEADER_OR_FOLLOWER: i16 = 6;

/// A consumer without a group, topic `t` with partitions led by `leaders`, assigned `parts`
/// (partition, offset). Returns with the first Fetch pending.
fn assigned(props: &[(&str, &str)], leaders: &[i32], parts: &[(i32, i64)]) -> Harness {
    let mut h = Harness::new(props);
    let md = h.expect(ApiKey::Metadata);
    h.respond(&md, &metadata(&[1, 2], &[("t", leaders)]));
    let tps: Vec<TopicPartition> = parts.iter().map(|(p, o)| tp_at("t", *p, *o)).collect();
    h.assign(Some(&tps), None);
    h
}

fn t(p: i32, offset: i64) -> (String, i32, i64) {
    ("t".to_string(), p, offset)
}

#[test]
fn not_leader_refreshes_metadata_and_fetches_from_new_leader() {
    let mut h = assigned(&[], &[1, 1], &[(0, 5), (1, 7)]);
    let f = h.expect(ApiKey::Fetch);
    assert_eq!(f.addr, "b1:9092");
    assert_eq!(fetch_offsets(&f), [t(0, 5), t(1, 7)]);
    h.respond(
        &f,
        &fetch_response(vec![
            fetched("t", 0, NOT_LEADER_OR_FOLLOWER, -1, None),
            fetched("t", 1, 0, 7, None),
        ]),
    );
    let md = h.expect(ApiKey::Metadata);
    h.respond(&md, &metadata(&[1, 2], &[("t", &[2, 1])]));
    // Partition 1 keeps fetching from b1; partition 0 moves to b2 after its backoff.
    let f1 = h.expect(ApiKey::Fetch);
    assert_eq!(
        (f1.addr.as_str(), fetch_offsets(&f1)),
        ("b1:9092", vec![t(1, 7)])
    );
    let f2 = loop {
        h.sleep();
        if let Some(f) = h.take(ApiKey::Fetch) {
            break f;
        }
    };
    assert_eq!(
        (f2.addr.as_str(), fetch_offsets(&f2)),
        ("b2:9092", vec![t(0, 5)])
    );
    let to_b1: Vec<_> = h
        .log
        .iter()
        .filter(|r| r.api == ApiKey::Fetch && r.addr == "b1:9092")
        .collect();
    assert!(to_b1
        .iter()
        .skip(1)
        .all(|r| !fetch_offsets(r).iter().any(|x| x.1 == 0)));
}

#[test]
fn offset_out_of_range_earliest_looks_up_beginning() {
    let mut h = assigned(&[("auto.offset.reset", "earliest")], &[1], &[(0, 100)]);
    let f = h.expect(ApiKey::Fetch);
    h.respond(
        &f,
        &fetch_response(vec![fetched("t", 0, OFFSET_OUT_OF_RANGE, 50, None)]),
    );
    let lo = h.expect(ApiKey::ListOffsets);
    assert_eq!(lo.addr, "b1:9092");
    let r: ListOffsetsRequest = lo.decode();
    assert_eq!(r.topics[0].partitions[0].timestamp, -2);
    assert!(
        h.take(ApiKey::Fetch).is_none(),
        "no fetch before the reset offset is known"
    );
    h.respond(
        &lo,
        &ListOffsetsResponse::default().with_topics(vec![ListOffsetsTopicResponse::default()
            .with_name(TopicName(s("t")))
            .with_partitions(vec![ListOffsetsPartitionResponse::default()
                .with_partition_index(0)
                .with_offset(40)])]),
    );
    let f = h.expect(ApiKey::Fetch);
    assert_eq!(fetch_offsets(&f), [t(0, 40)]);
}

#[test]
fn offset_out_of_range_error_stops_the_partition() {
    let mut h = assigned(
        &[("auto.offset.reset", "error")],
        &[1, 1],
        &[(0, 100), (1, 0)],
    );
    let f = h.expect(ApiKey::Fetch);
    h.respond(
        &f,
        &fetch_response(vec![
            fetched("t", 0, OFFSET_OUT_OF_RANGE, 50, None),
            fetched("t", 1, 0, 0, None),
        ]),
    );
    let errs = errors(&mut h);
    assert_eq!(errs.len(), 1);
    assert_eq!(errs[0].code, ErrorCode::L_AUTO_OFFSET_RESET);
    assert_eq!(errs[0].code.0, -140);
    for _ in 0..3 {
        let f = h.expect(ApiKey::Fetch);
        assert_eq!(fetch_offsets(&f), [t(1, 0)]);
        h.respond(&f, &fetch_response(vec![fetched("t", 1, 0, 0, None)]));
    }
    assert!(h.log.iter().all(|r| r.api != ApiKey::ListOffsets));
}

#[test]
fn truncated_last_batch_delivers_complete_batches() {
    let mut h = assigned(&[], &[1], &[(0, 10)]);
    let f = h.expect(ApiKey::Fetch);
    let mut records = BytesMut::new();
    records.put(batch(10, 3));
    records.put(batch(13, 2));
    let last = batch(15, 4);
    records.put(&last[..last.len() - 7]);
    h.respond(
        &f,
        &fetch_response(vec![fetched("t", 0, 0, 19, Some(records.freeze()))]),
    );
    assert!(errors(&mut h).is_empty());
    let got: Vec<(i64, i32)> = h
        .batches
        .iter()
        .map(|b| (b.header.base_offset, b.header.records_count))
        .collect();
    assert_eq!(got, [(10, 3), (13, 2)]);
    let f = h.expect(ApiKey::Fetch);
    assert_eq!(fetch_offsets(&f), [t(0, 15)]);
}

/// Deterministic garbage.
fn garbage(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.max(1);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// Random bytes often carry an array length near `i32::MAX`; kafka-protocol 0.18's decoder calls
/// `Vec::with_capacity` with it before reading an element, and the failed allocation aborts the
/// process (kafka-protocol-rs PRs #152, #161, #200 bound it by the bytes left; none is released).
#[test]
#[ignore = "aborts: kafka-protocol 0.18 pre-allocates arrays from untrusted lengths (upstream PR #152)"]
fn garbage_fetch_response_is_bad_msg() {
    for seed in 1..20u64 {
        let mut h = assigned(&[], &[1], &[(0, 0)]);
        let f = h.expect(ApiKey::Fetch);
        h.respond_body(&f, &garbage(seed, 64 + seed as usize * 13));
        let errs = errors(&mut h);
        assert_eq!(errs.len(), 1, "seed {seed}: {errs:?}");
        assert_eq!(errs[0].code, ErrorCode::L_BAD_MSG);
        assert!(h.batches.is_empty());
    }
}

#[test]
fn cut_short_fetch_response_is_bad_msg() {
    let mut h = assigned(&[], &[1], &[(0, 0)]);
    let f = h.expect(ApiKey::Fetch);
    let resp = fetch_response(vec![fetched("t", 0, 0, 2, Some(batch(0, 2)))]);
    let mut body = BytesMut::new();
    kafka_protocol::protocol::Encodable::encode(&resp, &mut body, f.version).unwrap();
    h.respond_body(&f, &body[..body.len() - 20]);
    let errs = errors(&mut h);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].code, ErrorCode::L_BAD_MSG);
    assert!(h.batches.is_empty());
    // The partition is fetched again from where it was.
    let f = h.expect(ApiKey::Fetch);
    assert_eq!(fetch_offsets(&f), [t(0, 0)]);
}

#[test]
fn corrupt_records_are_bad_msg() {
    let mut h = assigned(&[], &[1], &[(0, 0)]);
    let f = h.expect(ApiKey::Fetch);
    let mut records = BytesMut::new();
    records.put(batch(0, 2));
    let mut bad = batch(2, 2).to_vec();
    bad[8..12].copy_from_slice(&(-5i32).to_be_bytes()); // an impossible batch length
    records.put(&bad[..]);
    h.respond(
        &f,
        &fetch_response(vec![fetched("t", 0, 0, 4, Some(records.freeze()))]),
    );
    let errs = errors(&mut h);
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].code, ErrorCode::L_BAD_MSG);
    assert_eq!(
        h.batches.len(),
        1,
        "the good batch before the corrupt one is delivered"
    );
    assert_eq!(h.batches[0].header.base_offset, 0);
}

/// Pausing a partition before the application consumed anything of it restarts at the offset
/// fetching started from, not after what was prefetched (that data is dropped); after some
/// consumption it restarts at the position; a seek invalidates the position (librdkafka #3567).
#[test]
fn pause_restarts_at_the_application_position() {
    use crate::engine::channel::PartitionShared;
    use crate::engine::fetcher::PartitionCursor;
    use std::sync::atomic::Ordering;

    let shared = PartitionShared::new();
    let mut c = PartitionCursor::new("t", 0, shared.clone(), 5);
    c.fetch_offset = 100;
    c.pause(true);
    assert_eq!(c.fetch_offset, 5);
    c.pause(false);
    c.fetch_offset = 100;
    shared.position.store(42, Ordering::Release);
    c.pause(true);
    assert_eq!(c.fetch_offset, 42);
    c.seek(7);
    assert_eq!(
        shared.position.load(Ordering::Acquire),
        crate::offset::INVALID
    );
    assert_eq!(c.fetch_offset, 7);
    assert!(c.paused);
}
