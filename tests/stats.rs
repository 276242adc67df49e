//! Statistics (`statistics.interval.ms`) from the Rust API against librdkafka's mock cluster: the
//! JSON documents are parsed and their values checked against what the test did and what the
//! cluster is: messages produced and consumed, committed offsets, brokers' names and node ids,
//! partition leaders, the group's state.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::consumer_util::{consumer_config, unique_group};
use common::MockCluster;
use kafka::{ClientConfig, CommitMode, Consumer, Producer, Record, TopicPartition};
use serde_json::Value;

type Docs = Arc<Mutex<Vec<Value>>>;

fn collector() -> (Docs, kafka::producer::StatsCallback) {
    let docs: Docs = Arc::default();
    let d = docs.clone();
    let cb = Box::new(move |json: &str| {
        let v: Value = serde_json::from_str(json).expect("statistics are valid JSON");
        d.lock().unwrap().push(v);
    });
    (docs, cb)
}

/// Polls with `poll` until the newest document satisfies `pred`; returns it.
fn wait_doc(docs: &Docs, mut poll: impl FnMut(), pred: impl Fn(&Value) -> bool) -> Value {
    let end = Instant::now() + Duration::from_secs(20);
    while Instant::now() < end {
        poll();
        if let Some(d) = docs.lock().unwrap().last() {
            if pred(d) {
                return d.clone();
            }
        }
    }
    panic!(
        "no statistics document matched; last: {:#}",
        docs.lock().unwrap().last().cloned().unwrap_or_default()
    );
}

/// Checks the `brokers` object against the cluster: each learned broker is `host:port/id` with
/// the address the mock gave broker `id`, and lists exactly the partitions it leads in `topic`.
fn check_brokers(doc: &Value, bootstrap: &str, topic: &str) {
    let addrs: Vec<&str> = bootstrap.split(',').collect();
    let mut ids = Vec::new();
    for (name, b) in doc["brokers"].as_object().unwrap() {
        assert_eq!(b["name"], name.as_str());
        if b["source"] != "learned" {
            continue;
        }
        let id = b["nodeid"].as_i64().unwrap();
        let addr = addrs[id as usize - 1];
        assert_eq!(name, &format!("{addr}/{id}"));
        assert_eq!(b["nodename"], addr);
        assert_eq!(b["state"], "UP", "{name}");
        assert!(b["connects"].as_u64().unwrap() >= 1);
        assert!(b["tx"].as_u64().unwrap() >= 1 && b["rx"].as_u64().unwrap() >= 1);
        assert!(b["req"]["ApiVersion"].as_u64().unwrap() >= 1);
        ids.push(id);
        let led: Vec<String> = doc["topics"][topic]["partitions"]
            .as_object()
            .unwrap()
            .values()
            .filter(|p| p["leader"] == id)
            .map(|p| format!("{topic}-{}", p["partition"]))
            .collect();
        let mut listed: Vec<String> = b["toppars"].as_object().unwrap().keys().cloned().collect();
        let mut led = led;
        led.sort();
        listed.sort();
        assert_eq!(listed, led, "toppars of broker {id}");
    }
    ids.sort();
    assert_eq!(ids, vec![1, 2, 3]);
}

#[test]
fn producer_statistics_count_what_was_sent() {
    let cluster = MockCluster::builder(3).topic("stats-p", 4).start();
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", cluster.bootstrap()).unwrap();
    c.set("statistics.interval.ms", "100").unwrap();
    c.set("enable.idempotence", "true").unwrap();
    c.set("client.id", "stats-rust").unwrap();
    let p = Producer::new(&c).unwrap();
    let (docs, cb) = collector();
    p.set_stats_callback(cb);
    for i in 0..200i32 {
        let v = format!("value-{:04}", i);
        p.send(&Record::to("stats-p").partition(i % 4).value(v.as_bytes()))
            .unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
    let doc = wait_doc(
        &docs,
        || {
            p.poll(Duration::from_millis(50));
        },
        |d| d["txmsgs"] == 200,
    );
    assert_eq!(doc["type"], "producer");
    assert_eq!(doc["name"], p.name());
    assert!(p.name().starts_with("stats-rust#producer-"));
    assert_eq!(doc["client_id"], "stats-rust");
    assert_eq!(doc["txmsg_bytes"], 200 * 10);
    assert_eq!(doc["msg_cnt"], 0);
    assert_eq!(doc["msg_max"], 100_000);
    let parts = doc["topics"]["stats-p"]["partitions"].as_object().unwrap();
    for p in 0..4 {
        let part = &parts[&p.to_string()];
        assert_eq!(part["txmsgs"], 50, "{part}");
        assert_eq!(part["txbytes"], 500);
        assert_eq!(part["msgs"], 50);
        assert_eq!(part["msgq_cnt"], 0);
    }
    assert!(parts.contains_key("-1"));
    check_brokers(&doc, cluster.bootstrap(), "stats-p");
    let produce: u64 = doc["brokers"]
        .as_object()
        .unwrap()
        .values()
        .map(|b| b["req"]["Produce"].as_u64().unwrap())
        .sum();
    assert!(produce >= 3, "one Produce per leader at least: {produce}");
    let tx: u64 = doc["brokers"]
        .as_object()
        .unwrap()
        .values()
        .map(|b| b["tx"].as_u64().unwrap())
        .sum();
    assert_eq!(doc["tx"], tx);
    assert_eq!(doc["eos"]["idemp_state"], "Assigned");
    assert!(doc["eos"]["producer_id"].as_i64().unwrap() >= 0);
    assert_eq!(doc["eos"]["epoch_cnt"], 1);
    // Documents keep coming every interval.
    let n = docs.lock().unwrap().len();
    std::thread::sleep(Duration::from_millis(350));
    p.poll(Duration::ZERO);
    assert!(docs.lock().unwrap().len() >= n + 2);
}

#[test]
fn consumer_statistics_match_committed_offsets() {
    let cluster = MockCluster::builder(3)
        .topic("stats-c", 4)
        .initial_rebalance_delay_ms(0)
        .start();
    let mut pc = ClientConfig::new();
    pc.set("bootstrap.servers", cluster.bootstrap()).unwrap();
    let p = Producer::new(&pc).unwrap();
    for i in 0..100i32 {
        p.send(&Record::to("stats-c").partition(i % 4).value(b"0123456789"))
            .unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();

    let group = unique_group("stats");
    let c = consumer_config(
        cluster.bootstrap(),
        Some(&group),
        &[
            ("statistics.interval.ms", "100"),
            ("enable.auto.commit", "false"),
        ],
    );
    let consumer = Consumer::new(&c).unwrap();
    let (docs, cb) = collector();
    consumer.set_stats_callback(cb);
    consumer.subscribe(&["stats-c"]).unwrap();
    let mut got = 0;
    let end = Instant::now() + Duration::from_secs(20);
    while got < 100 && Instant::now() < end {
        if let Some(Ok(_)) = consumer.poll(Duration::from_millis(100)) {
            got += 1;
        }
    }
    assert_eq!(got, 100);
    consumer.commit(None, CommitMode::Sync).unwrap();
    let committed = consumer
        .committed(
            &(0..4)
                .map(|p| TopicPartition::new("stats-c", p))
                .collect::<Vec<_>>(),
            Duration::from_secs(5),
        )
        .unwrap();
    let doc = wait_doc(
        &docs,
        || {
            consumer.poll(Duration::from_millis(50));
        },
        |d| {
            (0..4).all(|p| {
                d["topics"]["stats-c"]["partitions"][p.to_string()]["committed_offset"] == 25
            })
        },
    );
    assert_eq!(doc["type"], "consumer");
    assert_eq!(doc["name"], consumer.name());
    assert_eq!(doc["rxmsgs"], 100);
    for tp in &committed {
        let part = &doc["topics"]["stats-c"]["partitions"][tp.partition.to_string()];
        assert_eq!(part["committed_offset"], tp.offset, "{part}");
        assert_eq!(part["app_offset"], 25);
        assert_eq!(part["stored_offset"], 25);
        assert_eq!(part["hi_offset"], 25);
        assert_eq!(part["lo_offset"], 0);
        assert_eq!(part["consumer_lag"], 0);
        assert_eq!(part["rxmsgs"], 25);
        assert_eq!(part["desired"], true);
        assert_eq!(part["fetch_state"], "active");
        assert_eq!(part["fetchq_cnt"], 0);
    }
    check_brokers(&doc, cluster.bootstrap(), "stats-c");
    let coord = &doc["brokers"]["GroupCoordinator"];
    assert_eq!(coord["source"], "logical");
    assert!(coord["req"]["JoinGroup"].as_u64().unwrap() >= 1);
    assert!(coord["req"]["OffsetCommit"].as_u64().unwrap() >= 1);
    let cgrp = &doc["cgrp"];
    assert_eq!(cgrp["state"], "up");
    assert_eq!(cgrp["join_state"], "steady");
    assert_eq!(cgrp["assignment_size"], 4);
    assert!(cgrp["rebalance_cnt"].as_u64().unwrap() >= 1);
    consumer.close().unwrap();
}

#[test]
fn statistics_are_off_by_default_and_report_unreachable_brokers() {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", "127.0.0.1:1").unwrap();
    let p = Producer::new(&c).unwrap();
    let (docs, cb) = collector();
    p.set_stats_callback(cb);
    p.poll(Duration::from_millis(400));
    assert!(docs.lock().unwrap().is_empty());

    c.set("statistics.interval.ms", "50").unwrap();
    let p = Producer::new(&c).unwrap();
    let (docs, cb) = collector();
    p.set_stats_callback(cb);
    let doc = wait_doc(
        &docs,
        || {
            p.poll(Duration::from_millis(50));
        },
        |d| d["brokers"]["127.0.0.1:1/bootstrap"]["connects"].as_u64() >= Some(1),
    );
    let b = &doc["brokers"]["127.0.0.1:1/bootstrap"];
    assert_eq!(b["nodeid"], -1);
    assert_eq!(b["source"], "configured");
    assert_ne!(b["state"], "UP");
    assert_eq!(doc["tx"], 0);
}
