//! The transactional producer against librdkafka's mock cluster (which implements the
//! transaction coordinator, but writes no transaction markers): commit, abort and commit again,
//! read back by librdkafka and by our consumer; injected AddPartitionsToTxn / EndTxn errors,
//! retriable and abortable; fencing (injected, as the mock never fences by itself).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::consumer_util::new_consumer;
use common::producer_util::{config, record_reports, send_expected, SIZE};
use common::{consume_all_with_librdkafka, MockCluster};
use kafka::{offset, ErrorCode, Producer, TopicPartition, TxnState};

const T: Option<Duration> = Some(Duration::from_secs(30));

fn txn_producer(bootstrap: &str, id: &str) -> Producer {
    let mut c = config(bootstrap, &[("transactional.id", id), ("linger.ms", "5")]);
    if std::env::var_os("RSKAFKA_TEST_DEBUG").is_some() {
        c.set("debug", "all").unwrap();
    }
    Producer::new(&c).expect("transactional producer")
}

/// Message indices per partition, in offset order, from `(partition, offset, index)`.
fn by_partition(mut v: Vec<(i32, i64, u64)>) -> BTreeMap<i32, Vec<u64>> {
    v.sort();
    let mut m: BTreeMap<i32, Vec<u64>> = BTreeMap::new();
    for (p, _, i) in v {
        m.entry(p).or_default().push(i);
    }
    m
}

fn all_indices(m: &BTreeMap<i32, Vec<u64>>) -> Vec<u64> {
    let mut v: Vec<u64> = m.values().flatten().copied().collect();
    v.sort();
    v
}

/// Reads every message with our consumer at `isolation` until `n` arrived.
fn read_ours(
    bootstrap: &str,
    topic: &str,
    parts: i32,
    isolation: &str,
    n: usize,
) -> Vec<(i32, i64, u64)> {
    let c = new_consumer(bootstrap, None, &[("isolation.level", isolation)]);
    let tps: Vec<TopicPartition> = (0..parts)
        .map(|p| TopicPartition::with_offset(topic, p, offset::BEGINNING))
        .collect();
    c.assign(&tps).unwrap();
    let msgs = common::consumer_util::poll_n(&c, n, Duration::from_secs(30));
    // Nothing more arrives.
    let (more, _) = common::consumer_util::poll_for(&c, Duration::from_millis(1500));
    assert!(
        more.is_empty(),
        "{isolation}: {} extra messages",
        more.len()
    );
    msgs.iter()
        .map(|m| (m.partition, m.offset, common::consumer_util::index_of(m)))
        .collect()
}

#[test]
fn commit_abort_commit_on_the_mock() {
    let mock = MockCluster::start(3, &[("txn-cac", 4)]);
    let p = txn_producer(mock.bootstrap(), "txn-cac");
    let log = record_reports(&p, 2500);
    assert_eq!(p.transaction_state(), Some(TxnState::Init));
    // Producing outside a transaction is refused, as librdkafka does.
    let e = send_expected(&p, "txn-cac", 0, SIZE).unwrap_err();
    assert_eq!(e.code, ErrorCode::L_STATE);
    assert_eq!(
        e.message,
        "Producing not allowed in transactional state Init"
    );

    p.init_transactions(T).unwrap();
    assert_eq!(p.transaction_state(), Some(TxnState::Ready));
    p.begin_transaction().unwrap();
    for i in 0..1000 {
        send_expected(&p, "txn-cac", i, SIZE).unwrap();
    }
    p.commit_transaction(T).unwrap();

    p.begin_transaction().unwrap();
    for i in 1000..1500 {
        send_expected(&p, "txn-cac", i, SIZE).unwrap();
    }
    p.flush(Duration::from_secs(30)).unwrap();
    p.abort_transaction(T).unwrap();

    p.begin_transaction().unwrap();
    for i in 1500..2500 {
        send_expected(&p, "txn-cac", i, SIZE).unwrap();
    }
    p.commit_transaction(T).unwrap();
    p.poll(Duration::ZERO);
    {
        let l = log.lock().unwrap();
        assert!(
            l.not_exactly_once().is_empty(),
            "{:?}",
            l.not_exactly_once()
        );
        assert_eq!(l.delivered().len(), 2500, "{:?}", l.histogram());
    }

    // librdkafka's mock cluster writes no transaction markers on EndTxn and reports no aborted
    // transactions in Fetch (docs/BROKERS.md), so a read_committed reader sees the aborted
    // messages too: every reader gets all 2,500 once, in order per partition. That the
    // batches are marked transactional is checked in `engine::producer::txn_tests`, and that
    // read_committed drops aborted ones given markers in `engine::tests::read_committed`.
    let theirs = consume_all_with_librdkafka(mock.bootstrap(), "txn-cac", 30_000);
    let theirs: Vec<(i32, i64, u64)> = theirs
        .iter()
        .map(|m| (m.partition, m.offset, common::producer_util::index_of(m)))
        .collect();
    let theirs = by_partition(theirs);
    assert_eq!(all_indices(&theirs), (0..2500).collect::<Vec<_>>());
    for v in theirs.values() {
        assert!(v.windows(2).all(|w| w[0] < w[1]), "order: {v:?}");
    }
    let ours = by_partition(read_ours(
        mock.bootstrap(),
        "txn-cac",
        4,
        "read_committed",
        2500,
    ));
    assert_eq!(ours, theirs);
    let all = by_partition(read_ours(
        mock.bootstrap(),
        "txn-cac",
        4,
        "read_uncommitted",
        2500,
    ));
    assert_eq!(all, theirs);
}

#[test]
fn abort_purges_queued_messages() {
    let mock = MockCluster::start(1, &[("txn-purge", 2)]);
    let p = Producer::new(&config(
        mock.bootstrap(),
        &[("transactional.id", "txn-purge"), ("linger.ms", "60000")],
    ))
    .unwrap();
    let log = record_reports(&p, 10);
    p.init_transactions(T).unwrap();
    p.begin_transaction().unwrap();
    for i in 0..10 {
        send_expected(&p, "txn-purge", i, SIZE).unwrap();
    }
    p.abort_transaction(T).unwrap();
    let l = log.lock().unwrap();
    assert_eq!(
        l.failed_with(ErrorCode::L_PURGE_QUEUE).len(),
        10,
        "{:?}",
        l.histogram()
    );
    drop(l);
    assert_eq!(p.transaction_state(), Some(TxnState::Ready));
    // Misuse: commit without begin.
    let e = p.commit_transaction(T).unwrap_err();
    assert_eq!(e.code(), ErrorCode::L_STATE);
    assert_eq!(e.message(), "Operation not valid in state Ready");
    assert!(!e.is_fatal() && !e.is_retriable() && !e.txn_requires_abort());
}

#[test]
fn retriable_txn_errors_recover() {
    let mock = MockCluster::start(3, &[("txn-retry", 2)]);
    let p = txn_producer(mock.bootstrap(), "txn-retry");
    p.init_transactions(T).unwrap();
    p.begin_transaction().unwrap();
    // AddPartitionsToTxn (24): concurrent transactions, coordinator loading, not coordinator.
    mock.push_errors(24, &[51, 14, 16]).unwrap();
    for i in 0..100 {
        send_expected(&p, "txn-retry", i, SIZE).unwrap();
    }
    // EndTxn (26), and the coordinator moves to broker 2: the old one answers NOT_COORDINATOR.
    mock.push_errors(26, &[51, 14, 16]).unwrap();
    mock.command("coordinator transaction txn-retry 2").unwrap();
    p.commit_transaction(T).unwrap();
    // The next transaction runs on broker 3 as coordinator.
    mock.command("coordinator transaction txn-retry 3").unwrap();
    p.begin_transaction().unwrap();
    for i in 100..150 {
        send_expected(&p, "txn-retry", i, SIZE).unwrap();
    }
    p.commit_transaction(T).unwrap();
    let got = consume_all_with_librdkafka(mock.bootstrap(), "txn-retry", 30_000);
    let mut idx: Vec<u64> = got.iter().map(common::producer_util::index_of).collect();
    idx.sort();
    assert_eq!(idx, (0..150).collect::<Vec<_>>());
}

#[test]
fn abortable_add_partitions_error_requires_abort() {
    let mock = MockCluster::start(1, &[("txn-abortable", 2)]);
    let p = txn_producer(mock.bootstrap(), "txn-abortable");
    let log = record_reports(&p, 20);
    p.init_transactions(T).unwrap();
    p.begin_transaction().unwrap();
    // TOPIC_AUTHORIZATION_FAILED (29) is a permanent, abortable error.
    mock.push_errors(24, &[29]).unwrap();
    send_expected(&p, "txn-abortable", 0, SIZE).unwrap();
    // Once the error is in, producing is refused until the abort (as librdkafka).
    for i in 1..10 {
        if let Err(e) = send_expected(&p, "txn-abortable", i, SIZE) {
            assert_eq!(
                e.message,
                "Producing not allowed in transactional state AbortableError"
            );
        }
    }
    let e = p.commit_transaction(T).unwrap_err();
    assert!(e.txn_requires_abort(), "{e:?}");
    assert!(!e.is_fatal());
    assert_eq!(e.code(), ErrorCode::TOPIC_AUTHORIZATION_FAILED);
    assert_eq!(p.transaction_state(), Some(TxnState::AbortableError));
    p.abort_transaction(T).unwrap();
    // The next transaction works.
    p.begin_transaction().unwrap();
    for i in 10..20 {
        send_expected(&p, "txn-abortable", i, SIZE).unwrap();
    }
    p.commit_transaction(T).unwrap();
    let got = consume_all_with_librdkafka(mock.bootstrap(), "txn-abortable", 30_000);
    let mut idx: Vec<u64> = got.iter().map(common::producer_util::index_of).collect();
    idx.sort();
    assert_eq!(idx, (10..20).collect::<Vec<_>>());
    let l = log.lock().unwrap();
    assert_eq!(l.delivered().len(), 10, "{:?}", l.histogram());
}

/// librdkafka's mock gives every InitProducerId a new producer id and keeps the old one valid
/// (`rd_kafka_mock_pid_new`), so it never fences by itself: the coordinator's answer to the
/// older instance is injected (PRODUCER_FENCED on its EndTxn), as a real broker would send it.
#[test]
fn fenced_producer_gets_a_fatal_error() {
    let mock = MockCluster::start(1, &[("txn-fence", 1)]);
    let first = txn_producer(mock.bootstrap(), "txn-fence");
    first.init_transactions(T).unwrap();
    first.begin_transaction().unwrap();
    send_expected(&first, "txn-fence", 0, SIZE).unwrap();
    first.flush(Duration::from_secs(30)).unwrap();

    let second = txn_producer(mock.bootstrap(), "txn-fence");
    second.init_transactions(T).unwrap();
    mock.push_errors(26, &[90]).unwrap();
    let e = first.commit_transaction(T).unwrap_err();
    assert!(e.is_fatal(), "{e:?}");
    assert_eq!(e.code(), ErrorCode::L_FENCED, "{e:?}");
    assert_eq!(
        e.message(),
        "Failed to end transaction: Local: This instance has been fenced by a newer instance"
    );
    assert_eq!(first.transaction_state(), Some(TxnState::FatalError));
    // Every later call fails with the same fatal error.
    let again = first.abort_transaction(T).unwrap_err();
    assert!(again.is_fatal());
    assert_eq!(again.code(), ErrorCode::L_FENCED);
    assert!(first.begin_transaction().unwrap_err().is_fatal());

    // The new instance works.
    second.begin_transaction().unwrap();
    send_expected(&second, "txn-fence", 2, SIZE).unwrap();
    second.commit_transaction(T).unwrap();
    let got = consume_all_with_librdkafka(mock.bootstrap(), "txn-fence", 30_000);
    let idx: Vec<u64> = got.iter().map(common::producer_util::index_of).collect();
    // The mock writes no transaction markers: the fenced instance's open message 0 shows too.
    assert_eq!(idx, vec![0, 2]);
}

/// INVALID_PRODUCER_EPOCH on InitProducerId (an older epoch than the coordinator's) is fatal.
#[test]
fn fenced_on_init_is_fatal() {
    let mock = MockCluster::start(1, &[("txn-fence-init", 1)]);
    let p = txn_producer(mock.bootstrap(), "txn-fence-init");
    mock.push_errors(22, &[47]).unwrap();
    let e = p.init_transactions(T).unwrap_err();
    assert!(e.is_fatal(), "{e:?}");
    assert_eq!(e.code(), ErrorCode::L_FENCED);
    assert_eq!(p.transaction_state(), Some(TxnState::FatalError));
}
