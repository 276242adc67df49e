//! A group consumer reads part of a topic, commits and closes; a new consumer of the same group
//! sees the committed offsets and resumes exactly there (mock cluster and tansu).

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::consumer_util::{new_consumer, poll_for, poll_n, unique_group, Tracker, SIZE};
use common::{produce_with_librdkafka, MockCluster, Tansu};
use kafka::{offset, CommitMode, TopicPartition};

const TOPIC: &str = "resume";
const PARTITIONS: i32 = 4;
const COUNT: u64 = 1000;
const FIRST_PART: usize = 400;

fn all_partitions() -> Vec<TopicPartition> {
    (0..PARTITIONS)
        .map(|p| TopicPartition::new(TOPIC, p))
        .collect()
}

fn resume_test(bootstrap: &str) {
    produce_with_librdkafka(bootstrap, TOPIC, COUNT, SIZE, "none");
    let group = unique_group("resume");
    let extra = [("enable.auto.commit", "false")];
    let mut tracker = Tracker::new(COUNT, SIZE);

    // First consumer: part of the topic, then a synchronous commit of what it consumed.
    let a = new_consumer(bootstrap, Some(&group), &extra);
    a.subscribe(&[TOPIC]).unwrap();
    let first = poll_n(&a, FIRST_PART, Duration::from_secs(30));
    let mut next: HashMap<i32, i64> = HashMap::new();
    for m in &first {
        tracker.record(m);
        next.insert(m.partition, m.offset + 1);
    }
    let committed = a.commit(None, CommitMode::Sync).unwrap();
    let mut got: HashMap<i32, i64> = committed
        .iter()
        .filter(|tp| tp.offset >= 0)
        .map(|tp| (tp.partition, tp.offset))
        .collect();
    assert_eq!(got, next, "commit(None) committed the consumed positions");
    let expect_committed = |tps: Vec<TopicPartition>| {
        for tp in tps {
            let want = next.get(&tp.partition).copied().unwrap_or(offset::INVALID);
            assert_eq!(
                tp.offset, want,
                "committed offset of partition {}",
                tp.partition
            );
        }
    };
    expect_committed(
        a.committed(&all_partitions(), Duration::from_secs(10))
            .unwrap(),
    );
    a.close().unwrap();
    drop(a);

    // Second consumer of the same group: the same committed offsets, and it resumes there.
    let b = new_consumer(bootstrap, Some(&group), &extra);
    expect_committed(
        b.committed(&all_partitions(), Duration::from_secs(10))
            .unwrap(),
    );
    b.subscribe(&[TOPIC]).unwrap();
    let before: HashMap<_, _> = tracker.last.clone();
    let mut rest = Tracker::new(COUNT, SIZE);
    // `tracker` counts both consumers' messages; `rest` records where B started per partition.
    let mut seen_b = 0usize;
    while seen_b < COUNT as usize - FIRST_PART {
        let msgs = match b.poll(Duration::from_secs(20)) {
            Some(Ok(m)) => vec![m],
            Some(Err(e)) if e.code == kafka::ErrorCode::L_PARTITION_EOF => continue,
            Some(Err(e)) => panic!("{e}"),
            None => panic!(
                "second consumer stalled after {seen_b} messages; committed {next:?}; \
                 it started at {:?} and is at {:?}",
                rest.first, rest.last
            ),
        };
        for m in &msgs {
            rest.record(m);
            tracker.record(m);
            seen_b += 1;
        }
    }
    for (key, first_offset) in &rest.first {
        let want = next.get(&key.1).copied().unwrap_or(0);
        assert_eq!(
            *first_offset, want,
            "partition {} resumed at {first_offset}, committed {want}",
            key.1
        );
    }
    // Partitions A had read to the end got nothing more.
    for (key, (o, _)) in &before {
        if !rest.first.contains_key(key) {
            assert_eq!(next[&key.1], o + 1);
        }
    }
    tracker.assert_exactly_once();
    // Nothing more arrives.
    let (extra_msgs, _) = poll_for(&b, Duration::from_millis(300));
    assert!(
        extra_msgs.is_empty(),
        "{} duplicates after the end",
        extra_msgs.len()
    );
    b.commit(None, CommitMode::Sync).unwrap();
    got = b
        .committed(&all_partitions(), Duration::from_secs(10))
        .unwrap()
        .iter()
        .map(|tp| (tp.partition, tp.offset))
        .collect();
    let ends: HashMap<i32, i64> = tracker
        .last
        .iter()
        .map(|(k, (o, _))| (k.1, o + 1))
        .collect();
    assert_eq!(got, ends, "final commit at the end of every partition");
    b.close().unwrap();
}

#[test]
fn mock_resume_at_committed() {
    let cluster = MockCluster::builder(3)
        .topic(TOPIC, PARTITIONS)
        .initial_rebalance_delay_ms(0)
        .start();
    resume_test(cluster.bootstrap());
}

#[test]
#[ignore = "tansu 0.6 quirk: a Fetch from an offset inside a record batch (committed 149 in a \
            batch 0..999) gets an empty record set with no error, where Kafka returns the batch \
            holding the offset; any client stalls there (seen with examples/consume --offset 149)"]
fn tansu_resume_at_committed() {
    if !Tansu::available() {
        eprintln!("SKIPPED: tansu is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, PARTITIONS).unwrap();
    resume_test(tansu.bootstrap());
}
