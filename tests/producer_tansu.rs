//! librskafka's producer against a broker that is not librdkafka's mock: tansu 0.6.0 (in-memory
//! storage). 100,000 messages with lz4, read back with librdkafka 2.12.1: every message present
//! exactly once, byte-identical, in order per partition, and each delivery report's
//! (partition, offset) is where librdkafka found the message. Skipped when tansu is not
//! installed (`scripts/install-deps.sh` installs it).

mod common;

use std::time::{Duration, Instant};

use common::producer_util::{check_exactly_once, config, drain, record_reports, send_all, SIZE};
use common::{consume_with_librdkafka, Tansu};
use kafka::Producer;

#[test]
fn tansu_100k_lz4_exactly_once_in_order() {
    if !Tansu::available() {
        eprintln!("tansu not installed: skipped");
        return;
    }
    let topic = "tansu-lz4";
    let count = 100_000u64;
    let tansu = Tansu::start();
    tansu.create_topic(topic, 3).unwrap();
    let producer = Producer::new(&config(
        tansu.bootstrap(),
        &[("compression.codec", "lz4"), ("linger.ms", "5")],
    ))
    .unwrap();
    let reports = record_reports(&producer, count as usize);
    let t0 = Instant::now();
    send_all(&producer, topic, count, SIZE);
    drain(&producer, Duration::from_secs(120));
    let produced = t0.elapsed();
    assert_eq!(producer.in_flight_count(), 0);
    drop(producer);

    let t1 = Instant::now();
    let msgs = consume_with_librdkafka(tansu.bootstrap(), topic, count, 120_000);
    assert_eq!(msgs.len() as u64, count);
    check_exactly_once(&msgs, &reports.lock().unwrap(), count, SIZE);
    eprintln!(
        "tansu: {count} messages produced in {produced:?}, read back in {:?}",
        t1.elapsed()
    );
}
