//! Message timeouts: the partition leader's broker is down for longer than `message.timeout.ms`.
//! Every pending message must get exactly one `_MSG_TIMED_OUT` (-192) delivery report, and
//! nothing may be reported delivered that is not on the broker (checked by reading the topic
//! back with librdkafka 2.12.1 after `broker_up`).
//!
//! What librdkafka guarantees about a timed-out message depends on whether it was ever sent:
//! a message that never left the client is `RD_KAFKA_MSG_STATUS_NOT_PERSISTED` (it is certainly
//! not on the broker), while one whose Produce request was in flight when the connection broke is
//! `POSSIBLY_PERSISTED`: the broker may have appended it and lost only the response. So:
//! - `timeout_of_messages_never_sent`: everything sent after the leader went down must time out
//!   and must not be on the broker (timed-out ∩ on-broker = ∅); everything flushed before is
//!   delivered and on the broker.
//! - `timeout_with_requests_in_flight`: the leader delays its responses (rtt) and is taken down
//!   while requests are in flight; then timed-out ∩ on-broker may be non-empty, but only for
//!   messages sent before the broker went down; delivered ⊆ on-broker still holds, and no
//!   message is on the broker twice.

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::producer_util::{config, drain, index_of, record_reports, send_expected, SIZE};
use common::{consume_all_with_librdkafka, MockCluster};
use kafka::{ErrorCode, Producer};

const TIMEOUT_MS: u64 = 3000;

fn on_broker(cluster: &MockCluster, topic: &str) -> Vec<u64> {
    consume_all_with_librdkafka(cluster.bootstrap(), topic, 30_000)
        .iter()
        .map(index_of)
        .collect()
}

fn producer(cluster: &MockCluster) -> Producer {
    let timeout = TIMEOUT_MS.to_string();
    Producer::new(&config(
        cluster.bootstrap(),
        &[
            ("message.timeout.ms", &timeout),
            ("linger.ms", "5"),
            ("retry.backoff.ms", "100"),
        ],
    ))
    .unwrap()
}

#[test]
fn timeout_of_messages_never_sent() {
    let topic = "timeout-queued";
    let cluster = MockCluster::start(3, &[(topic, 2)]);
    cluster.set_leader(topic, 0, 1).unwrap();
    cluster.set_leader(topic, 1, 2).unwrap();
    let p = producer(&cluster);
    let total = 2000u64;
    let reports = record_reports(&p, total as usize);

    // Phase 1: delivered and acknowledged before anything goes wrong.
    for i in 0..1000 {
        send_expected(&p, topic, i, SIZE).unwrap();
    }
    drain(&p, Duration::from_secs(30));
    assert_eq!(reports.lock().unwrap().delivered().len(), 1000);

    // Phase 2: the leader of partition 0 is down; the messages of partition 0 can never be sent.
    cluster.broker_down(1).unwrap();
    let t0 = Instant::now();
    for i in 1000..total {
        send_expected(&p, topic, i, SIZE).unwrap();
    }
    drain(&p, Duration::from_millis(TIMEOUT_MS * 4));
    let waited = t0.elapsed();
    assert_eq!(p.in_flight_count(), 0);
    cluster.broker_up(1).unwrap();

    let log = reports.lock().unwrap();
    assert_eq!(log.total as u64, total, "one report per send");
    assert!(
        log.not_exactly_once().is_empty(),
        "{:?}",
        log.not_exactly_once()
    );
    let timed_out: BTreeSet<u64> = log
        .failed_with(ErrorCode::L_MSG_TIMED_OUT)
        .into_iter()
        .map(|i| i as u64)
        .collect();
    let delivered: BTreeSet<u64> = log.delivered().into_iter().map(|i| i as u64).collect();
    assert_eq!(
        timed_out.len() + delivered.len(),
        total as usize,
        "only delivered or timed out: {:?}",
        log.histogram()
    );
    // Partition 0's share of phase 2 timed out, not before message.timeout.ms.
    assert!(!timed_out.is_empty());
    assert!(timed_out.iter().all(|i| *i >= 1000));
    assert!(
        waited >= Duration::from_millis(TIMEOUT_MS - 100),
        "timed out after only {waited:?}"
    );
    for i in &timed_out {
        assert_eq!(log.by_index[*i as usize][0].partition, 0, "message {i}");
    }
    drop(log);
    drop(p);

    let stored: Vec<u64> = on_broker(&cluster, topic);
    let stored_set: BTreeSet<u64> = stored.iter().copied().collect();
    assert_eq!(
        stored.len(),
        stored_set.len(),
        "a message is on the broker twice"
    );
    assert_eq!(
        delivered, stored_set,
        "delivered must be exactly what is on the broker"
    );
    assert!(timed_out.is_disjoint(&stored_set));
    eprintln!(
        "{} delivered, {} timed out after {waited:?}",
        delivered.len(),
        timed_out.len()
    );
}

#[test]
fn timeout_with_requests_in_flight() {
    let topic = "timeout-inflight";
    let cluster = MockCluster::start(3, &[(topic, 1)]);
    cluster.set_leader(topic, 0, 1).unwrap();
    let p = producer(&cluster);
    let total = 3000u64;
    let reports = record_reports(&p, total as usize);

    // Warm up (connection, metadata), then slow the leader's responses so that requests are in
    // flight when it goes down.
    for i in 0..100 {
        send_expected(&p, topic, i, SIZE).unwrap();
    }
    drain(&p, Duration::from_secs(30));
    cluster.set_rtt(1, 1000).unwrap();
    for i in 100..2000 {
        send_expected(&p, topic, i, SIZE).unwrap();
    }
    std::thread::sleep(Duration::from_millis(300));
    cluster.broker_down(1).unwrap();
    // Sent after the broker went down: never on the broker.
    for i in 2000..total {
        send_expected(&p, topic, i, SIZE).unwrap();
    }
    drain(&p, Duration::from_millis(TIMEOUT_MS * 4));
    assert_eq!(p.in_flight_count(), 0);
    cluster.set_rtt(1, 0).unwrap();
    cluster.broker_up(1).unwrap();

    let log = reports.lock().unwrap();
    assert_eq!(log.total as u64, total, "one report per send");
    assert!(
        log.not_exactly_once().is_empty(),
        "{:?}",
        log.not_exactly_once()
    );
    let timed_out: BTreeSet<u64> = log
        .failed_with(ErrorCode::L_MSG_TIMED_OUT)
        .into_iter()
        .map(|i| i as u64)
        .collect();
    let delivered: BTreeSet<u64> = log.delivered().into_iter().map(|i| i as u64).collect();
    assert_eq!(
        timed_out.len() + delivered.len(),
        total as usize,
        "only delivered or timed out: {:?}",
        log.histogram()
    );
    assert!((2000..total).all(|i| timed_out.contains(&i)));
    drop(log);
    drop(p);

    let stored: Vec<u64> = on_broker(&cluster, topic);
    let stored_set: BTreeSet<u64> = stored.iter().copied().collect();
    assert_eq!(
        stored.len(),
        stored_set.len(),
        "a message is on the broker twice"
    );
    assert!(
        delivered.is_subset(&stored_set),
        "reported delivered but not on the broker: {:?}",
        delivered
            .difference(&stored_set)
            .take(10)
            .collect::<Vec<_>>()
    );
    let possibly_persisted: Vec<u64> = timed_out.intersection(&stored_set).copied().collect();
    assert!(
        possibly_persisted.iter().all(|i| *i < 2000),
        "sent after the broker went down, yet on the broker: {possibly_persisted:?}"
    );
    eprintln!(
        "{} delivered, {} timed out, of which {} were in flight and are on the broker",
        delivered.len(),
        timed_out.len(),
        possibly_persisted.len()
    );
}
