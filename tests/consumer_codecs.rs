//! One group consumer reads every message of an 8-partition topic exactly once, in partition
//! order, byte-identical to what librdkafka 2.12.1 produced, for every compression codec, from
//! librdkafka's mock cluster (3 brokers) and from tansu (1 broker).
//!
//! 200,000 messages of 100 bytes per test (the whole file takes about half a minute on 2 shared
//! cores; producing dominates). The mock keeps the last 5 MiB per partition: 200,000 uncompressed
//! messages over 8 partitions stay below that.

mod common;

use std::time::{Duration, Instant};

use common::consumer_util::{consume_all, new_consumer, poll_for, unique_group, Tracker, SIZE};
use common::{produce_with_librdkafka, MockCluster, Tansu};
use kafka::ErrorCode;

const PARTITIONS: i32 = 8;

/// Consumes `count` messages of `topic` with a fresh group consumer and checks all of them.
fn consume_and_check(bootstrap: &str, topic: &str, count: u64) {
    let group = unique_group(&format!("codecs-{topic}"));
    let consumer = new_consumer(bootstrap, Some(&group), &[("enable.auto.commit", "false")]);
    consumer.subscribe(&[topic]).unwrap();
    let start = Instant::now();
    let mut tracker = Tracker::new(count, SIZE);
    consume_all(&consumer, &mut tracker, Duration::from_secs(90));
    let took = start.elapsed();
    tracker.assert_exactly_once();
    assert_eq!(
        tracker.last.len(),
        PARTITIONS as usize,
        "messages from every partition"
    );
    // Offsets of each partition start at 0 and are contiguous: with exactly-once delivery and
    // rising offsets, the per-partition end offsets add up to the count.
    assert!(
        tracker.first.values().all(|o| *o == 0),
        "{:?}",
        tracker.first
    );
    let ends: i64 = tracker.last.values().map(|(o, _)| o + 1).sum();
    assert_eq!(ends, count as i64, "offsets contiguous");
    // Nothing beyond the produced messages arrives.
    let (extra, errs) = poll_for(&consumer, Duration::from_millis(300));
    assert!(
        extra.is_empty(),
        "{} unexpected extra messages",
        extra.len()
    );
    assert!(
        errs.iter().all(|e| e.code == ErrorCode::L_PARTITION_EOF),
        "{errs:?}"
    );
    consumer.close().unwrap();
    eprintln!(
        "{topic}: consumed {count} messages in {:.2} s ({:.0} msgs/s)",
        took.as_secs_f64(),
        count as f64 / took.as_secs_f64()
    );
}

fn mock(codec: &str, count: u64) {
    let t0 = Instant::now();
    let topic = format!("codec-{codec}");
    let cluster = MockCluster::builder(3)
        .topic(&topic, PARTITIONS)
        .initial_rebalance_delay_ms(0)
        .start();
    produce_with_librdkafka(cluster.bootstrap(), &topic, count, SIZE, codec);
    eprintln!(
        "{topic}: produced {count} in {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    consume_and_check(cluster.bootstrap(), &topic, count);
}

fn tansu(codec: &str, count: u64) {
    if !Tansu::available() {
        eprintln!("SKIPPED: tansu is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    let t0 = Instant::now();
    let topic = format!("codec-{codec}");
    let tansu = Tansu::start();
    tansu.create_topic(&topic, PARTITIONS).unwrap();
    produce_with_librdkafka(tansu.bootstrap(), &topic, count, SIZE, codec);
    eprintln!(
        "tansu {topic}: produced {count} in {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    consume_and_check(tansu.bootstrap(), &topic, count);
}

#[test]
fn mock_none() {
    mock("none", 200_000);
}

#[test]
fn mock_gzip() {
    mock("gzip", 200_000);
}

#[test]
fn mock_snappy() {
    mock("snappy", 200_000);
}

#[test]
fn mock_lz4() {
    mock("lz4", 200_000);
}

#[test]
fn mock_zstd() {
    mock("zstd", 200_000);
}

#[test]
fn tansu_none() {
    tansu("none", 200_000);
}

#[test]
fn tansu_gzip() {
    tansu("gzip", 200_000);
}

#[test]
fn tansu_snappy() {
    tansu("snappy", 200_000);
}

#[test]
fn tansu_lz4() {
    tansu("lz4", 200_000);
}

#[test]
fn tansu_zstd() {
    tansu("zstd", 200_000);
}
