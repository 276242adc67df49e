//! `send_offsets_to_transaction` against librdkafka's mock cluster: consume-transform-produce with
//! a group consumer (auto-commit off) and a transactional producer whose coordinator is another
//! broker than the group's; injected TxnOffsetCommit / AddOffsetsToTxn errors (abortable,
//! retriable, fatal). The mock answers TxnOffsetCommit but stores no offsets (docs/BROKERS.md),
//! so what a later group member resumes at cannot be checked there.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::consumer_util::{new_consumer, poll_n, unique_group};
use common::producer_util::config;
use common::{consume_all_with_librdkafka, produce_with_librdkafka, MockCluster};
use kafka::{ErrorCode, Producer, Record, TopicPartition, TxnState};

const T: Option<Duration> = Some(Duration::from_secs(30));

fn txn_producer(bootstrap: &str, id: &str) -> Producer {
    let c = config(bootstrap, &[("transactional.id", id), ("linger.ms", "5")]);
    Producer::new(&c).expect("transactional producer")
}

/// The offsets after the last message of each partition, as a group commits them.
fn next_offsets(msgs: &[kafka::Message]) -> Vec<TopicPartition> {
    let mut last: BTreeMap<i32, i64> = BTreeMap::new();
    for m in msgs {
        let e = last.entry(m.partition).or_insert(-1);
        *e = (*e).max(m.offset);
    }
    last.into_iter()
        .map(|(p, o)| TopicPartition::with_offset(msgs[0].topic(), p, o + 1))
        .collect()
}

#[test]
fn consume_transform_produce_on_the_mock() {
    let mock = MockCluster::builder(3)
        .topic("ctp-in", 2)
        .topic("ctp-out", 2)
        .initial_rebalance_delay_ms(0)
        .start();
    let group = unique_group("ctp");
    mock.set_coordinator(&group, 2).unwrap();
    mock.command("coordinator transaction ctp-tx 3").unwrap();
    produce_with_librdkafka(mock.bootstrap(), "ctp-in", 200, 50, "none");

    let c = new_consumer(
        mock.bootstrap(),
        Some(&group),
        &[("enable.auto.commit", "false")],
    );
    c.subscribe(&["ctp-in"]).unwrap();
    let p = txn_producer(mock.bootstrap(), "ctp-tx");
    p.init_transactions(T).unwrap();
    p.begin_transaction().unwrap();
    let msgs = poll_n(&c, 200, Duration::from_secs(30));
    for m in &msgs {
        let upper = m.payload().unwrap().to_ascii_uppercase();
        let rec = Record::to("ctp-out").key(m.key().unwrap()).value(&upper);
        p.send(&rec).unwrap();
    }
    let offsets = next_offsets(&msgs);
    let meta = c.group_metadata().unwrap().expect("a group member");
    assert!(
        meta.generation_id > 0 && !meta.member_id.is_empty(),
        "{meta:?}"
    );
    p.send_offsets_to_transaction(&offsets, &meta, T).unwrap();
    p.commit_transaction(T).unwrap();
    assert_eq!(p.transaction_state(), Some(TxnState::Ready));
    let out = consume_all_with_librdkafka(mock.bootstrap(), "ctp-out", 30_000);
    assert_eq!(out.len(), 200);
    assert!(
        out.iter().all(|m| m.value.starts_with("VALUE-")),
        "{:?}",
        out[0]
    );

    // The next transaction: nothing new consumed, only offsets (an EndTxn still follows).
    p.begin_transaction().unwrap();
    p.send_offsets_to_transaction(&offsets, &meta, T).unwrap();
    p.commit_transaction(T).unwrap();
    c.close().unwrap();
}

#[test]
fn offset_commit_errors_are_abortable_retriable_or_fatal() {
    let mock = MockCluster::builder(3).topic("txo-in", 2).start();
    let p = txn_producer(mock.bootstrap(), "txo-tx");
    p.init_transactions(T).unwrap();
    let meta = kafka::ConsumerGroupMetadata::new("txo-group");
    let offsets = vec![
        TopicPartition::with_offset("txo-in", 0, 3),
        TopicPartition::with_offset("txo-in", 1, 7),
    ];

    // TxnOffsetCommit (28): ILLEGAL_GENERATION must abort the transaction.
    p.begin_transaction().unwrap();
    mock.push_errors(28, &[22]).unwrap();
    let e = p
        .send_offsets_to_transaction(&offsets, &meta, T)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::ILLEGAL_GENERATION);
    assert!(e.txn_requires_abort() && !e.is_fatal(), "{e:?}");
    assert!(
        e.message()
            .contains("txo-in((null))[0](Broker: Specified group generation id is not valid)"),
        "{}",
        e.message()
    );
    assert_eq!(p.transaction_state(), Some(TxnState::AbortableError));
    p.abort_transaction(T).unwrap();

    // AddOffsetsToTxn (25): concurrent transactions, coordinator loading, not coordinator are
    // retried; TxnOffsetCommit's COORDINATOR_LOAD_IN_PROGRESS too.
    p.begin_transaction().unwrap();
    mock.push_errors(25, &[51, 14, 16]).unwrap();
    mock.push_errors(28, &[14]).unwrap();
    p.send_offsets_to_transaction(&offsets, &meta, T).unwrap();
    p.commit_transaction(T).unwrap();

    // A fenced producer is unusable.
    p.begin_transaction().unwrap();
    mock.push_errors(25, &[90]).unwrap();
    let e = p
        .send_offsets_to_transaction(&offsets, &meta, T)
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::L_FENCED);
    assert!(e.is_fatal(), "{e:?}");
    assert_eq!(p.transaction_state(), Some(TxnState::FatalError));
}
