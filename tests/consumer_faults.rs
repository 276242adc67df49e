//! Broker faults injected into librdkafka's mock cluster while a group consumer reads: a partition
//! leader's broker goes down (leadership moved first), and coordinator errors on JoinGroup,
//! Heartbeat and OffsetCommit. Nothing may be lost or duplicated; commits succeed eventually.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::consumer_util::{new_consumer, poll_n, unique_group, Tracker, SIZE};
use common::{produce_with_librdkafka, MockCluster};
use kafka::{CommitMode, Consumer, ErrorCode, Message, TopicPartition};

const PARTITIONS: i32 = 8;

// Kafka error codes and API keys used with push_errors.
const NOT_COORDINATOR: i16 = 16;
const COORDINATOR_NOT_AVAILABLE: i16 = 15;
const API_OFFSET_COMMIT: i16 = 8;
const API_JOIN_GROUP: i16 = 11;
const API_HEARTBEAT: i16 = 12;

#[test]
fn consumer_follows_a_moved_leader_when_the_old_broker_goes_down() {
    const TOPIC: &str = "moving";
    const COUNT: u64 = 20_000;
    let cluster = MockCluster::builder(3)
        .topic_rf(TOPIC, PARTITIONS, 3)
        .initial_rebalance_delay_ms(0)
        .start();
    for p in 0..PARTITIONS {
        cluster.set_leader(TOPIC, p, 1).unwrap();
    }
    let group = unique_group("moving");
    cluster.set_coordinator(&group, 3).unwrap();
    produce_with_librdkafka(cluster.bootstrap(), TOPIC, COUNT, SIZE, "lz4");

    let c = new_consumer(
        cluster.bootstrap(),
        Some(&group),
        &[("enable.auto.commit", "false")],
    );
    c.subscribe(&[TOPIC]).unwrap();
    let mut t = Tracker::new(COUNT, SIZE);
    for m in poll_n(&c, 5000, Duration::from_secs(30)) {
        t.record(&m);
    }
    // Broker 1 led every partition: move the leadership to broker 2, then take 1 down. More
    // messages are produced after the move, so they can only be fetched from the new leader.
    for p in 0..PARTITIONS {
        cluster.set_leader(TOPIC, p, 2).unwrap();
    }
    cluster.broker_down(1).unwrap();
    let start = Instant::now();
    let mut errors = Vec::new();
    let mut drain = |t: &mut Tracker, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(45);
        while !t.complete() {
            assert!(
                Instant::now() < deadline,
                "{what}: stuck at {} of {} after the leader moved; errors {errors:?}",
                t.total,
                t.seen.len()
            );
            match c.poll(Duration::from_millis(200)) {
                Some(Ok(m)) => {
                    t.record(&m);
                }
                Some(Err(e)) => errors.push(format!("{e} ({:?})", e.code)),
                None => {}
            }
        }
    };
    drain(&mut t, "first batch");
    t.assert_exactly_once();
    let ends: HashMap<i32, i64> = t.last.iter().map(|(k, (o, _))| (k.1, o + 1)).collect();
    // The producer numbers the second batch 0.. again: a second tracker, and offsets that
    // continue exactly where the first batch ended.
    const MORE: u64 = 5000;
    produce_with_librdkafka(cluster.bootstrap(), TOPIC, MORE, SIZE, "lz4");
    let mut t2 = Tracker::new(MORE, SIZE);
    drain(&mut t2, "second batch");
    t2.assert_exactly_once();
    for ((_, p), first) in &t2.first {
        assert_eq!(*first, ends[p], "partition {p} continues after the move");
    }
    eprintln!(
        "moved leader: consumed the rest and {MORE} new in {:.2} s; consumer errors seen: {errors:?}",
        start.elapsed().as_secs_f64()
    );
    c.close().unwrap();
}

/// Commits the offset after `m`, retrying until it succeeds; returns the failed attempts.
fn commit_until_ok(c: &Consumer, m: &Message, failures: &mut Vec<String>) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match c.commit_message(m, CommitMode::Sync) {
            Ok(tps) if tps.iter().all(|tp| tp.error == ErrorCode::NONE) => return,
            r => {
                failures.push(format!("{r:?}"));
                assert!(
                    Instant::now() < deadline,
                    "commit never succeeded: {failures:?}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

#[test]
fn coordinator_errors_on_join_heartbeat_and_commit_are_recovered() {
    const TOPIC: &str = "coord";
    const COUNT: u64 = 3000;
    let cluster = MockCluster::builder(3)
        .topic(TOPIC, PARTITIONS)
        .initial_rebalance_delay_ms(0)
        .start();
    produce_with_librdkafka(cluster.bootstrap(), TOPIC, COUNT, SIZE, "none");
    let group = unique_group("coord");
    cluster
        .push_errors(
            API_JOIN_GROUP,
            &[NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE],
        )
        .unwrap();
    let c = new_consumer(
        cluster.bootstrap(),
        Some(&group),
        &[("enable.auto.commit", "false")],
    );
    c.subscribe(&[TOPIC]).unwrap();

    let mut t = Tracker::new(COUNT, SIZE);
    let mut failures = Vec::new();
    let mut errors = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(45);
    let mut heartbeat_errors_at: Option<Instant> = None;
    while !t.complete() {
        assert!(
            Instant::now() < deadline,
            "stuck at {} of {COUNT}; consumer errors {errors:?}; failed commits {failures:?}",
            t.total
        );
        if t.total == 1000 && heartbeat_errors_at.is_none() {
            cluster
                .push_errors(API_HEARTBEAT, &[NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE])
                .unwrap();
            heartbeat_errors_at = Some(Instant::now());
        }
        // Give the heartbeats (every 500 ms) time to hit the errors before going on.
        if heartbeat_errors_at.is_some_and(|at| at.elapsed() < Duration::from_millis(2000)) {
            if let Some(r) = c.poll(Duration::from_millis(100)) {
                if let Err(e) = r {
                    errors.push(format!("{e} ({:?})", e.code));
                    continue;
                }
                let m = r.unwrap();
                t.record(&m);
                commit_until_ok(&c, &m, &mut failures);
            }
            continue;
        }
        if t.total == 2000 {
            cluster
                .push_errors(
                    API_OFFSET_COMMIT,
                    &[NOT_COORDINATOR, COORDINATOR_NOT_AVAILABLE],
                )
                .unwrap();
        }
        match c.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                t.record(&m);
                commit_until_ok(&c, &m, &mut failures);
            }
            Some(Err(e)) => errors.push(format!("{e} ({:?})", e.code)),
            None => {}
        }
    }
    // Every message exactly once: each was committed before the next poll, so no rebalance
    // caused by the errors may redeliver anything.
    t.assert_exactly_once();
    let parts: Vec<TopicPartition> = (0..PARTITIONS)
        .map(|p| TopicPartition::new(TOPIC, p))
        .collect();
    let committed: HashMap<i32, i64> = c
        .committed(&parts, Duration::from_secs(10))
        .unwrap()
        .iter()
        .map(|tp| (tp.partition, tp.offset))
        .collect();
    let ends: HashMap<i32, i64> = t.last.iter().map(|(k, (o, _))| (k.1, o + 1)).collect();
    assert_eq!(committed, ends, "committed offsets at the end");
    eprintln!(
        "coordinator errors: {} failed commit attempts {:?}; consumer errors {errors:?}",
        failures.len(),
        failures.iter().take(4).collect::<Vec<_>>()
    );
    c.close().unwrap();
}
