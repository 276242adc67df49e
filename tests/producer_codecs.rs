//! The producer with every compression codec: messages produced by librskafka to librdkafka's
//! mock cluster, read back by librdkafka 2.12.1 (a third-party reader): every message present
//! exactly once, byte-identical (key, value, headers), per-partition order kept, and exactly one
//! delivery report per message whose (partition, offset) is where librdkafka found it.
//!
//! Partitions: the mock keeps only the last 5 MiB of each partition. 1,000,000 records of 100-byte
//! values with key and headers take about 140 MB uncompressed, i.e. 17 MB per partition over 8
//! partitions, and the oldest batches would be dropped. Rather than checking in windows (which
//! would need a producer paused between windows and would not prove the whole stream), the topic
//! has 64 partitions: about 2.2 MB per partition even without compression, well under the bound,
//! so the whole stream is on the broker at the end and is read back in one pass.
//!
//! Counts: 1,000,000 messages for every codec. On 2 cores the whole file takes about a minute
//! (each codec: 3-5 s to produce, 7-9 s for librdkafka to read back). The tests of this file
//! take a lock so they run one at a time (memory: the read-back holds a million messages).

mod common;

use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::producer_util::{check_exactly_once, config, drain, record_reports, send_all, SIZE};
use common::{consume_with_librdkafka, MockCluster};
use kafka::Producer;

const PARTITIONS: i32 = 64;

static SERIAL: Mutex<()> = Mutex::new(());

fn roundtrip(codec: &str, count: u64) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let topic = format!("codec-{codec}");
    let cluster = MockCluster::start(3, &[(&topic, PARTITIONS)]);
    let producer = Producer::new(&config(
        cluster.bootstrap(),
        &[
            ("compression.codec", codec),
            ("linger.ms", "5"),
            ("queue.buffering.max.messages", "200000"),
        ],
    ))
    .unwrap();
    let reports = record_reports(&producer, count as usize);

    let t0 = Instant::now();
    send_all(&producer, &topic, count, SIZE);
    drain(&producer, Duration::from_secs(300));
    let produced = t0.elapsed();
    assert_eq!(producer.in_flight_count(), 0);
    drop(producer);

    let t1 = Instant::now();
    let msgs = consume_with_librdkafka(cluster.bootstrap(), &topic, count, 300_000);
    let consumed = t1.elapsed();
    assert_eq!(msgs.len() as u64, count);
    check_exactly_once(&msgs, &reports.lock().unwrap(), count, SIZE);
    eprintln!("{codec}: {count} messages produced in {produced:?}, read back in {consumed:?}");
}

#[test]
fn codec_none_1m() {
    roundtrip("none", 1_000_000);
}

#[test]
fn codec_lz4_1m() {
    roundtrip("lz4", 1_000_000);
}

#[test]
fn codec_gzip_1m() {
    roundtrip("gzip", 1_000_000);
}

#[test]
fn codec_snappy_1m() {
    roundtrip("snappy", 1_000_000);
}

#[test]
fn codec_zstd_1m() {
    roundtrip("zstd", 1_000_000);
}
