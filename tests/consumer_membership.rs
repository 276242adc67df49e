//! Group membership rules on librdkafka's mock cluster: `max.poll.interval.ms` enforcement and
//! static membership (`group.instance.id`).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use common::{produce_with_librdkafka, MockCluster};
use kafka::{ClientConfig, Consumer, ErrorCode};

fn consumer(bootstrap: &str, group: &str, extra: &[(&str, &str)]) -> Consumer {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap).unwrap();
    c.set("group.id", group).unwrap();
    c.set("auto.offset.reset", "earliest").unwrap();
    c.set("session.timeout.ms", "6000").unwrap();
    c.set("heartbeat.interval.ms", "500").unwrap();
    for (k, v) in extra {
        c.set(k, v).unwrap();
    }
    Consumer::new(&c).unwrap()
}

/// Polls until `pred` holds for the assignment, or panics after `secs`.
fn wait_assignment(
    c: &Consumer,
    secs: u64,
    pred: impl Fn(&BTreeSet<i32>) -> bool,
) -> BTreeSet<i32> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let _ = c.poll(Duration::from_millis(100));
        let a: BTreeSet<i32> = c.assignment().iter().map(|tp| tp.partition).collect();
        if pred(&a) {
            return a;
        }
        assert!(
            Instant::now() < deadline,
            "assignment never satisfied the condition; last {a:?}"
        );
    }
}

#[test]
fn max_poll_interval_exceeded_leaves_and_rejoins() {
    let mock = MockCluster::builder(1)
        .topic("mpi", 4)
        .initial_rebalance_delay_ms(0)
        .start();
    produce_with_librdkafka(mock.bootstrap(), "mpi", 100, 50, "none");
    let c = consumer(
        mock.bootstrap(),
        "g-mpi",
        &[("max.poll.interval.ms", "6000")],
    );
    c.subscribe(&["mpi"]).unwrap();
    wait_assignment(&c, 20, |a| a.len() == 4);

    // The application stops polling for longer than max.poll.interval.ms.
    std::thread::sleep(Duration::from_millis(7500));

    // The next poll reports the breach with librdkafka's code, and the partitions were revoked.
    let mut saw_exceeded = false;
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline && !saw_exceeded {
        if let Some(Err(e)) = c.poll(Duration::from_millis(100)) {
            if e.code == ErrorCode::L_MAX_POLL_EXCEEDED {
                assert!(
                    e.message
                        .contains("maximum poll interval (6000ms) exceeded"),
                    "{}",
                    e.message
                );
                saw_exceeded = true;
            }
        }
    }
    assert!(saw_exceeded, "no _MAX_POLL_EXCEEDED error");

    // Polling again rejoins the group and gets the partitions back.
    let a = wait_assignment(&c, 20, |a| a.len() == 4);
    assert_eq!(a, (0..4).collect());
    c.close().unwrap();
}

#[test]
fn static_member_gets_its_partitions_back_without_leaving() {
    let mock = MockCluster::builder(1)
        .topic("stat", 4)
        .initial_rebalance_delay_ms(0)
        .start();
    let extra = [
        ("group.instance.id", "instance-a"),
        ("partition.assignment.strategy", "range"),
    ];
    let a = consumer(mock.bootstrap(), "g-static", &extra);
    a.subscribe(&["stat"]).unwrap();
    let b = consumer(
        mock.bootstrap(),
        "g-static",
        &[
            ("group.instance.id", "instance-b"),
            ("partition.assignment.strategy", "range"),
        ],
    );
    b.subscribe(&["stat"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let (mut got_a, mut got_b) = (BTreeSet::new(), BTreeSet::new());
    while Instant::now() < deadline && !(got_a.len() == 2 && got_b.len() == 2) {
        let _ = a.poll(Duration::from_millis(50));
        let _ = b.poll(Duration::from_millis(50));
        got_a = a.assignment().iter().map(|tp| tp.partition).collect();
        got_b = b.assignment().iter().map(|tp| tp.partition).collect();
    }
    assert_eq!(
        (got_a.len(), got_b.len()),
        (2, 2),
        "a {got_a:?} b {got_b:?}"
    );
    assert!(got_a.is_disjoint(&got_b));

    // A static member that closes sends no LeaveGroup: the other member keeps its partitions and
    // the restarted instance gets the same ones back.
    a.close().unwrap();
    drop(a);
    for _ in 0..20 {
        let _ = b.poll(Duration::from_millis(100));
    }
    let b_after: BTreeSet<i32> = b.assignment().iter().map(|tp| tp.partition).collect();
    assert_eq!(
        b_after, got_b,
        "the other member was rebalanced while the static member was away"
    );
    let a2 = consumer(mock.bootstrap(), "g-static", &extra);
    a2.subscribe(&["stat"]).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut got_a2 = BTreeSet::new();
    while Instant::now() < deadline && got_a2.len() != 2 {
        let _ = a2.poll(Duration::from_millis(50));
        let _ = b.poll(Duration::from_millis(50));
        got_a2 = a2.assignment().iter().map(|tp| tp.partition).collect();
    }
    assert_eq!(
        got_a2, got_a,
        "the static member did not get its partitions back"
    );
}
