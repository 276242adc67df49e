//! Where consumption starts and stops, on librdkafka's mock cluster: `auto.offset.reset`
//! (earliest, latest, error), `enable.partition.eof`, `seek`, `pause`/`resume`, and
//! `fetch_watermarks`.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use common::consumer_util::{
    consume_all, new_consumer, parse_eof, poll_for, poll_n, unique_group, Tracker, SIZE,
};
use common::{produce_with_librdkafka, MockCluster};
use kafka::{offset, Consumer, ErrorCode, TopicPartition};

const TOPIC: &str = "reset";
const PARTITIONS: i32 = 4;
const COUNT: u64 = 400;

fn cluster_with_messages() -> MockCluster {
    let cluster = MockCluster::builder(3)
        .topic(TOPIC, PARTITIONS)
        .initial_rebalance_delay_ms(0)
        .start();
    produce_with_librdkafka(cluster.bootstrap(), TOPIC, COUNT, SIZE, "none");
    cluster
}

/// Per-partition message counts (= end offsets), from the watermarks, which must start at 0.
fn ends(c: &Consumer) -> BTreeMap<i32, i64> {
    (0..PARTITIONS)
        .map(|p| {
            let (lo, hi) = c
                .fetch_watermarks(TOPIC, p, Duration::from_secs(10))
                .unwrap();
            assert_eq!(lo, 0, "low watermark of partition {p}");
            (p, hi)
        })
        .collect()
}

fn assign_all(c: &Consumer, at: i64) {
    let parts: Vec<TopicPartition> = (0..PARTITIONS)
        .map(|p| TopicPartition::with_offset(TOPIC, p, at))
        .collect();
    c.assign(&parts).unwrap();
}

#[test]
fn earliest_reads_from_the_start() {
    let cluster = cluster_with_messages();
    let group = unique_group("earliest");
    let c = new_consumer(
        cluster.bootstrap(),
        Some(&group),
        &[("auto.offset.reset", "earliest")],
    );
    c.subscribe(&[TOPIC]).unwrap();
    let mut t = Tracker::new(COUNT, SIZE);
    consume_all(&c, &mut t, Duration::from_secs(30));
    t.assert_exactly_once();
    assert_eq!(t.first.len(), PARTITIONS as usize);
    assert!(t.first.values().all(|o| *o == 0), "{:?}", t.first);
    c.close().unwrap();
}

#[test]
fn latest_reads_only_messages_produced_after_the_assignment() {
    let cluster = cluster_with_messages();
    let group = unique_group("latest");
    let c = new_consumer(
        cluster.bootstrap(),
        Some(&group),
        &[
            ("auto.offset.reset", "latest"),
            ("enable.partition.eof", "true"),
        ],
    );
    let before = ends(&c);
    c.subscribe(&[TOPIC]).unwrap();
    // The fetcher is at the end of every partition when each has reported EOF.
    let mut eof: HashMap<i32, i64> = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while eof.len() < PARTITIONS as usize {
        assert!(Instant::now() < deadline, "EOFs so far: {eof:?}");
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => panic!(
                "latest delivered an old message: [{}] @{}",
                m.partition, m.offset
            ),
            Some(Err(e)) if e.code == ErrorCode::L_PARTITION_EOF => {
                let (p, o) = parse_eof(&e);
                eof.insert(p, o);
            }
            Some(Err(e)) => panic!("{e}"),
            None => {}
        }
    }
    let eof: BTreeMap<i32, i64> = eof.into_iter().collect();
    assert_eq!(eof, before, "EOF at the end offsets");

    // New messages (the producer numbers them 0.. again; offsets tell them apart).
    const NEW: u64 = 100;
    produce_with_librdkafka(cluster.bootstrap(), TOPIC, NEW, SIZE, "none");
    let mut t = Tracker::new(NEW, SIZE);
    consume_all(&c, &mut t, Duration::from_secs(30));
    t.assert_exactly_once();
    for ((_, p), first) in &t.first {
        assert_eq!(
            *first, before[p],
            "partition {p} starts at the old end offset"
        );
    }
    let (extra, _) = poll_for(&c, Duration::from_millis(300));
    assert!(extra.is_empty(), "{} unexpected messages", extra.len());
    c.close().unwrap();
}

#[test]
fn error_reset_reports_auto_offset_reset() {
    let cluster = cluster_with_messages();
    let group = unique_group("reset-error");
    let c = new_consumer(
        cluster.bootstrap(),
        Some(&group),
        &[("auto.offset.reset", "error")],
    );
    c.subscribe(&[TOPIC]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let err = loop {
        assert!(
            Instant::now() < deadline,
            "no _AUTO_OFFSET_RESET error in time"
        );
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => panic!(
                "auto.offset.reset=error delivered [{}] @{}",
                m.partition, m.offset
            ),
            Some(Err(e)) => break e,
            None => {}
        }
    };
    assert_eq!(err.code, ErrorCode::L_AUTO_OFFSET_RESET, "{err}");
    assert_eq!(err.code.0, -140);
    // Still no messages afterwards.
    let (msgs, errs) = poll_for(&c, Duration::from_millis(500));
    assert!(msgs.is_empty());
    assert!(
        errs.iter()
            .all(|e| e.code == ErrorCode::L_AUTO_OFFSET_RESET),
        "{errs:?}"
    );
    c.close().unwrap();
}

#[test]
fn partition_eof_seek_and_watermarks() {
    let cluster = cluster_with_messages();
    let c = new_consumer(
        cluster.bootstrap(),
        None,
        &[("enable.partition.eof", "true")],
    );
    let ends = ends(&c);
    assert_eq!(ends.values().sum::<i64>(), COUNT as i64, "{ends:?}");
    assign_all(&c, offset::BEGINNING);

    // Every message once, then one EOF per partition at its end offset.
    let mut t = Tracker::new(COUNT, SIZE);
    let mut eofs: Vec<(i32, i64)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !(t.complete() && eofs.len() >= PARTITIONS as usize) {
        assert!(
            Instant::now() < deadline,
            "{} messages, EOFs {eofs:?}",
            t.total
        );
        match c.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                t.record(&m);
            }
            Some(Err(e)) if e.code == ErrorCode::L_PARTITION_EOF => eofs.push(parse_eof(&e)),
            Some(Err(e)) => panic!("{e}"),
            None => {}
        }
    }
    t.assert_exactly_once();
    // An EOF for a partition comes after its last message, at its end offset, once.
    eofs.sort();
    let want: Vec<(i32, i64)> = ends.iter().map(|(p, e)| (*p, *e)).collect();
    assert_eq!(eofs, want);
    let (more, errs) = poll_for(&c, Duration::from_millis(500));
    assert!(more.is_empty());
    assert!(errs.is_empty(), "EOF repeated without new data: {errs:?}");

    // seek back to 0 on partition 1 re-reads exactly that partition, then EOF again.
    c.seek(TOPIC, 1, 0).unwrap();
    let again = poll_n(&c, ends[&1] as usize, Duration::from_secs(20));
    for (i, m) in again.iter().enumerate() {
        assert_eq!((m.partition, m.offset), (1, i as i64));
        common::consumer_util::check_content(m, SIZE);
    }
    let (more, errs) = poll_for(&c, Duration::from_millis(500));
    assert!(more.is_empty(), "{} more after the re-read", more.len());
    let errs: Vec<(i32, i64)> = errs.iter().map(parse_eof).collect();
    assert_eq!(errs, vec![(1, ends[&1])]);
    c.close().unwrap();
}

#[test]
fn pause_stops_a_partition_and_resume_restarts_it() {
    let cluster = cluster_with_messages();
    let c = new_consumer(cluster.bootstrap(), None, &[]);
    let ends = ends(&c);
    let p0 = [TopicPartition::new(TOPIC, 0)];
    assign_all(&c, offset::BEGINNING);
    c.pause(&p0).unwrap();

    // Everything of partitions 1..3, nothing of the paused partition 0.
    let others = (COUNT as i64 - ends[&0]) as usize;
    let msgs = poll_n(&c, others, Duration::from_secs(20));
    assert!(msgs.iter().all(|m| m.partition != 0));
    let (more, _) = poll_for(&c, Duration::from_millis(1000));
    assert!(
        more.is_empty(),
        "{} messages while paused (partition {:?})",
        more.len(),
        more.first().map(|m| m.partition)
    );

    // Resume: partition 0 from its start; pause again after 10 messages: nothing more,
    // even what was already fetched; resume: it continues right after the 10th.
    c.resume(&p0).unwrap();
    let first = poll_n(&c, 10, Duration::from_secs(20));
    for (i, m) in first.iter().enumerate() {
        assert_eq!((m.partition, m.offset), (0, i as i64));
    }
    c.pause(&p0).unwrap();
    let (more, _) = poll_for(&c, Duration::from_millis(1000));
    assert!(
        more.is_empty(),
        "{} messages after pause, first at offset {:?}",
        more.len(),
        more.first().map(|m| m.offset)
    );
    c.resume(&p0).unwrap();
    let rest = poll_n(&c, ends[&0] as usize - 10, Duration::from_secs(20));
    for (i, m) in rest.iter().enumerate() {
        assert_eq!((m.partition, m.offset), (0, 10 + i as i64));
        common::consumer_util::check_content(m, SIZE);
    }
    let (more, _) = poll_for(&c, Duration::from_millis(300));
    assert!(more.is_empty());
    c.close().unwrap();
}
