//! Three consumers in one group, each polling in its own thread, once per assignor: the three
//! assignments are disjoint and cover all partitions; when one consumer closes, the other two take
//! over its partitions; with a synchronous commit after every message, the union of what was
//! consumed has no gap and no duplicate (a redelivery is only accepted for a message whose commit
//! failed, e.g. during a rebalance).

mod common;

use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::consumer_util::{check_content, new_consumer, unique_group, SIZE};
use common::{produce_with_librdkafka, MockCluster, Tansu};
use kafka::{CommitMode, Consumer, ErrorCode};

const TOPIC: &str = "grp";
const PARTITIONS: i32 = 8;
const FIRST: u64 = 2000;
const SECOND: u64 = 2000;
/// Each rebalance on the mock waits `session.timeout.ms - 1000` = 5 s for members to rejoin, and
/// the mock completes a SyncGroup round with the leader's request alone, answering followers whose
/// SyncGroup arrives after it with INVALID_REQUEST: they rejoin, which costs another round. Our
/// leader assigns from cached metadata (librdkafka's leader first refreshes metadata, which
/// usually lets the followers win that race), so several rounds may be needed.
const ASSIGN_TIMEOUT: Duration = Duration::from_secs(60);

/// One delivery: which consumer got `partition`/`offset`, and whether its commit succeeded.
#[derive(Clone, Debug)]
struct Delivery {
    consumer: usize,
    partition: i32,
    offset: i64,
    committed: bool,
}

struct Member {
    consumer: Arc<Consumer>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Member {
    fn start(
        id: usize,
        bootstrap: &str,
        group: &str,
        assignor: &str,
        log: Arc<Mutex<Vec<Delivery>>>,
        errors: Arc<Mutex<Vec<String>>>,
    ) -> Member {
        let consumer = Arc::new(new_consumer(
            bootstrap,
            Some(group),
            &[
                ("enable.auto.commit", "false"),
                ("partition.assignment.strategy", assignor),
                ("client.id", &format!("member-{id}")),
            ],
        ));
        consumer.subscribe(&[TOPIC]).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (consumer.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !s.load(Ordering::Acquire) {
                match c.poll(Duration::from_millis(100)) {
                    Some(Ok(m)) => {
                        check_content(&m, SIZE);
                        let r = c.commit_message(&m, CommitMode::Sync);
                        let committed = match &r {
                            Ok(tps) => tps.iter().all(|tp| tp.error == ErrorCode::NONE),
                            Err(_) => false,
                        };
                        if !committed {
                            errors.lock().unwrap().push(format!(
                                "member {id}: commit of [{}] @{} failed: {r:?}",
                                m.partition, m.offset
                            ));
                        }
                        log.lock().unwrap().push(Delivery {
                            consumer: id,
                            partition: m.partition,
                            offset: m.offset,
                            committed,
                        });
                    }
                    Some(Err(e)) if e.code == ErrorCode::L_PARTITION_EOF => {}
                    Some(Err(e)) => errors
                        .lock()
                        .unwrap()
                        .push(format!("member {id}: poll error {e} ({:?})", e.code)),
                    None => {}
                }
            }
            c.close().unwrap();
        });
        Member {
            consumer,
            stop,
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            t.join().expect("consumer thread panicked");
        }
    }
}

/// The partitions assigned to each member, if they are disjoint and cover all partitions.
fn partitioned(members: &[&Member]) -> Option<Vec<Vec<i32>>> {
    let sets: Vec<Vec<i32>> = members
        .iter()
        .map(|m| {
            m.consumer
                .assignment()
                .iter()
                .map(|tp| tp.partition)
                .collect()
        })
        .collect();
    let all: BTreeSet<i32> = sets.iter().flatten().copied().collect();
    let total: usize = sets.iter().map(Vec::len).sum();
    (total == PARTITIONS as usize
        && all == (0..PARTITIONS).collect()
        && sets.iter().all(|s| !s.is_empty()))
    .then_some(sets)
}

/// Whether `total` distinct offsets were delivered and each partition's offsets are `0..n`
/// (the producer is idempotent and not transactional: offsets are contiguous).
fn covered(log: &[Delivery], total: u64) -> bool {
    let mut have: HashMap<i32, BTreeSet<i64>> = HashMap::new();
    for d in log {
        have.entry(d.partition).or_default().insert(d.offset);
    }
    have.values().map(BTreeSet::len).sum::<usize>() == total as usize
        && have
            .values()
            .all(|s| s.iter().next() == Some(&0) && s.iter().last() == Some(&(s.len() as i64 - 1)))
}

fn wait_for(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn group_test(bootstrap: &str, assignor: &str, produce: impl Fn(u64)) {
    let t0 = Instant::now();
    let group = unique_group(&format!("group-{assignor}"));
    let log = Arc::new(Mutex::new(Vec::<Delivery>::new()));
    let errors = Arc::new(Mutex::new(Vec::<String>::new()));
    let mut members: Vec<Member> = (0..3)
        .map(|id| Member::start(id, bootstrap, &group, assignor, log.clone(), errors.clone()))
        .collect();

    // All three members get partitions; together, every partition exactly once.
    let mut sets = None;
    wait_for(
        "three disjoint assignments covering all partitions",
        ASSIGN_TIMEOUT,
        || {
            sets = partitioned(&members.iter().collect::<Vec<_>>());
            sets.is_some()
        },
    );
    eprintln!(
        "{assignor}: assignments {:?} after {:.2} s",
        sets.unwrap(),
        t0.elapsed().as_secs_f64()
    );
    // Produced once the group is stable, so that the first commits are not refused by a
    // rebalance in progress (the mock refuses commits while the group is joining).
    produce(FIRST);
    wait_for("the first messages", Duration::from_secs(30), || {
        covered(&log.lock().unwrap(), FIRST)
    });
    // What member 0 owns when it leaves (a further rebalance may have happened meanwhile).
    let mut before = None;
    wait_for(
        "a stable assignment before member 0 leaves",
        ASSIGN_TIMEOUT,
        || {
            before = partitioned(&members.iter().collect::<Vec<_>>());
            before.is_some()
        },
    );
    let leaving: Vec<i32> = before.unwrap()[0].clone();

    // Member 0 leaves; more messages arrive on every partition, including its former ones.
    members[0].stop();
    produce(SECOND);
    let mut after = None;
    wait_for(
        "two disjoint assignments covering all partitions",
        ASSIGN_TIMEOUT,
        || {
            after = partitioned(&members[1..].iter().collect::<Vec<_>>());
            after.is_some()
        },
    );
    let after = after.unwrap();
    eprintln!("{assignor}: member 0 had {leaving:?}; now {after:?}");
    wait_for("all messages", ASSIGN_TIMEOUT, || {
        covered(&log.lock().unwrap(), FIRST + SECOND)
    });
    // Let anything that would be a duplicate show up.
    std::thread::sleep(Duration::from_millis(500));
    for m in &mut members[1..] {
        m.stop();
    }

    let log = log.lock().unwrap().clone();
    let errors = errors.lock().unwrap().clone();
    // Consumer 0's former partitions were read after the move, by the others.
    for p in &leaving {
        assert!(
            log.iter()
                .any(|d| d.partition == *p && d.consumer != 0 && d.offset >= 0),
            "partition {p} not taken over"
        );
    }
    // No gap, and a message delivered twice only if the first delivery's commit failed.
    let mut by_offset: HashMap<(i32, i64), Vec<&Delivery>> = HashMap::new();
    for d in &log {
        by_offset
            .entry((d.partition, d.offset))
            .or_default()
            .push(d);
    }
    assert_eq!(
        by_offset.len() as u64,
        FIRST + SECOND,
        "every offset delivered"
    );
    let bad_dups: Vec<_> = by_offset
        .values()
        .filter(|ds| ds.len() > 1 && ds[..ds.len() - 1].iter().any(|d| d.committed))
        .take(10)
        .collect();
    let dups = by_offset.values().filter(|ds| ds.len() > 1).count();
    assert!(
        bad_dups.is_empty(),
        "{dups} redelivered, of which committed ones: {bad_dups:?}"
    );
    eprintln!(
        "{assignor}: {} deliveries, {dups} redelivered uncommitted, {} errors {:?}; {:.2} s",
        log.len(),
        errors.len(),
        errors.iter().take(5).collect::<Vec<_>>(),
        t0.elapsed().as_secs_f64()
    );
    assert!(
        errors.iter().all(|e| e.contains("commit")),
        "poll errors: {errors:?}"
    );
}

fn mock(assignor: &str) {
    let cluster = MockCluster::builder(3)
        .topic(TOPIC, PARTITIONS)
        .initial_rebalance_delay_ms(0)
        .start();
    let bootstrap = cluster.bootstrap().to_string();
    group_test(&bootstrap, assignor, |n| {
        produce_with_librdkafka(&bootstrap, TOPIC, n, SIZE, "lz4")
    });
}

fn tansu(assignor: &str) {
    if !Tansu::available() {
        eprintln!("SKIPPED: tansu is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    let tansu = Tansu::start();
    tansu.create_topic(TOPIC, PARTITIONS).unwrap();
    let bootstrap = tansu.bootstrap().to_string();
    group_test(&bootstrap, assignor, |n| {
        produce_with_librdkafka(&bootstrap, TOPIC, n, SIZE, "lz4")
    });
}

#[test]
fn mock_range() {
    mock("range");
}

#[test]
fn mock_roundrobin() {
    mock("roundrobin");
}

#[test]
fn mock_cooperative_sticky() {
    mock("cooperative-sticky");
}

#[test]
#[ignore = "FLAKY on tansu 0.6 (run with --ignored): tansu answers the leader's rejoin at once but holds \
            the followers' JoinGroup ~3 s, their SyncGroup then fails and they rejoin, restarting the \
            round; three members settle after 3-95 s or not within the 60 s limit; librdkafka 2.12.1 \
            also fails to settle in about 1 of 4 groups there (docs/BROKERS.md)"]
fn tansu_range() {
    tansu("range");
}

#[test]
#[ignore = "FLAKY on tansu 0.6 (run with --ignored): tansu answers the leader's rejoin at once but holds \
            the followers' JoinGroup ~3 s, their SyncGroup then fails and they rejoin, restarting the \
            round; three members settle after 3-95 s or not within the 60 s limit; librdkafka 2.12.1 \
            also fails to settle in about 1 of 4 groups there (docs/BROKERS.md)"]
fn tansu_roundrobin() {
    tansu("roundrobin");
}

#[test]
#[ignore = "tansu 0.6 (run with --ignored): its coordinator breaks the cooperative protocol; three \
            librdkafka 2.12.1 members (mock-launcher group) end with overlapping assignments there \
            too (docs/BROKERS.md)"]
fn tansu_cooperative_sticky() {
    tansu("cooperative-sticky");
}
