//! The producer's error paths, each checked for "nothing silently dropped": every accepted
//! `send` gets exactly one delivery report, and `in_flight_count()` returns to 0.
//!
//! - queue full: `queue.buffering.max.messages=10`, 11 sends without polling → the 11th fails at
//!   once with `_QUEUE_FULL` (-184); `send_blocking` waits and succeeds once reports are served;
//! - oversized: above `message.max.bytes` → `MSG_SIZE_TOO_LARGE` (10) from `send` itself, no
//!   report; a message the client accepts but the broker rejects (the mock fails the Produce
//!   request with 10) → a delivery report with that error;
//! - unknown topic on tansu (which never auto-creates): with `message.timeout.ms` shorter than
//!   librdkafka's `topic.metadata.propagation.max.ms` (30 s) the report says `_MSG_TIMED_OUT`
//!   (-192) after message.timeout.ms; with the default (300 s) timeout it says `_UNKNOWN_TOPIC`
//!   (-188) after 30 s, as librdkafka does;
//! - bad configuration: unknown property, invalid value, `partitioner=foo` → clear errors.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::producer_util::{config, drain, record_reports, send_expected, ReportLog, SIZE};
use common::{MockCluster, Tansu};
use kafka::config::ConfigError;
use kafka::{ClientConfig, ErrorCode, Producer, Record};

/// Every accepted send was reported exactly once and nothing is outstanding.
fn assert_all_reported(p: &Producer, log: &Arc<Mutex<ReportLog>>, sends: usize) {
    assert_eq!(p.in_flight_count(), 0, "messages still outstanding");
    let log = log.lock().unwrap();
    assert_eq!(
        log.total,
        sends,
        "reports vs accepted sends: {:?}",
        log.histogram()
    );
    assert_eq!(log.stray, 0);
    let bad: Vec<_> = log
        .not_exactly_once()
        .into_iter()
        .filter(|(i, _)| *i < sends)
        .collect();
    assert!(bad.is_empty(), "(index, reports): {bad:?}");
}

#[test]
fn queue_full_then_send_blocking() {
    let topic = "qfull";
    let cluster = MockCluster::start(1, &[(topic, 1)]);
    let p = Producer::new(&config(
        cluster.bootstrap(),
        &[("queue.buffering.max.messages", "10")],
    ))
    .unwrap();
    let log = record_reports(&p, 11);
    for i in 0..10 {
        send_expected(&p, topic, i, SIZE).unwrap();
    }
    // Even once the engine has delivered them, the 10 count until their reports are served.
    std::thread::sleep(Duration::from_millis(500));
    let (key, value, _) = common::expected_message(10, SIZE);
    let rec = Record::to(topic).key(&key).value(&value).opaque(10);
    let t = Instant::now();
    let e = p.send(&rec).unwrap_err();
    assert!(t.elapsed() < Duration::from_millis(100), "send blocked");
    assert_eq!(e.code, ErrorCode::L_QUEUE_FULL, "{e}");
    assert_eq!(e.code.0, -184);
    assert_eq!(log.lock().unwrap().total, 0, "no report without poll");
    assert_eq!(p.in_flight_count(), 10);

    // send_blocking serves reports while it waits, so room appears and the send succeeds.
    p.send_blocking(&rec, Duration::from_secs(10)).unwrap();
    assert!(log.lock().unwrap().total >= 1);
    drain(&p, Duration::from_secs(10));
    assert_all_reported(&p, &log, 11);
    assert_eq!(log.lock().unwrap().delivered().len(), 11);
}

#[test]
fn oversized_message_rejected_by_client() {
    let topic = "oversized";
    let cluster = MockCluster::start(1, &[(topic, 1)]);
    let p = Producer::new(&config(
        cluster.bootstrap(),
        &[("message.max.bytes", "1000")],
    ))
    .unwrap();
    let log = record_reports(&p, 2);
    let big = vec![b'x'; 2000];
    let e = p
        .send(&Record::to(topic).value(&big).opaque(0))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::MSG_SIZE_TOO_LARGE, "{e}");
    let e = p
        .send_blocking(
            &Record::to(topic).value(&big).opaque(0),
            Duration::from_secs(1),
        )
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::MSG_SIZE_TOO_LARGE, "{e}");
    assert!(p.send_with_handle(&Record::to(topic).value(&big)).is_err());
    assert_eq!(p.in_flight_count(), 0, "a rejected send must not count");
    // A message within the limit still goes through.
    p.send(&Record::to(topic).value(&big[..500]).opaque(0))
        .unwrap();
    drain(&p, Duration::from_secs(10));
    assert_all_reported(&p, &log, 1);
    assert_eq!(log.lock().unwrap().delivered(), vec![0]);
}

#[test]
fn broker_rejects_message_size() {
    let topic = "broker-rejects";
    let cluster = MockCluster::start(1, &[(topic, 1)]);
    let p = Producer::new(&config(cluster.bootstrap(), &[("linger.ms", "0")])).unwrap();
    let log = record_reports(&p, 3);
    // Warm up, so that exactly the next Produce request fails.
    send_expected(&p, topic, 0, SIZE).unwrap();
    drain(&p, Duration::from_secs(10));
    cluster.push_errors(0, &[10]).unwrap();
    send_expected(&p, topic, 1, SIZE).unwrap();
    drain(&p, Duration::from_secs(10));
    send_expected(&p, topic, 2, SIZE).unwrap();
    drain(&p, Duration::from_secs(10));
    assert_all_reported(&p, &log, 3);
    let l = log.lock().unwrap();
    assert_eq!(
        l.failed_with(ErrorCode::MSG_SIZE_TOO_LARGE),
        vec![1],
        "{:?}",
        l.histogram()
    );
    assert_eq!(
        l.delivered(),
        vec![0, 2],
        "not retried, the next one unaffected"
    );
    drop(l);

    // The same through a waitable handle.
    cluster.push_errors(0, &[10]).unwrap();
    let h = p.send_with_handle(&Record::to(topic).value(b"v")).unwrap();
    let r = h.wait(Duration::from_secs(10)).unwrap();
    assert_eq!(r.error.map(|e| e.code), Some(ErrorCode::MSG_SIZE_TOO_LARGE));
    // The handle is answered by the engine thread directly; the queue count drops when `poll`
    // takes the matching bookkeeping output, which may come a moment later.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while p.in_flight_count() > 0 && std::time::Instant::now() < deadline {
        p.poll(Duration::from_millis(10));
    }
    assert_eq!(p.in_flight_count(), 0);
}

fn unknown_topic_on_tansu(message_timeout_ms: Option<u64>) -> (ErrorCode, Duration) {
    let tansu = Tansu::start();
    let mut props = vec![];
    let t = message_timeout_ms.map(|t| t.to_string());
    if let Some(t) = &t {
        props.push(("message.timeout.ms", t.as_str()));
    }
    let p = Producer::new(&config(tansu.bootstrap(), &props)).unwrap();
    let log = record_reports(&p, 5);
    let t0 = Instant::now();
    for i in 0..5 {
        send_expected(&p, "no-such-topic", i, SIZE).unwrap();
    }
    drain(&p, Duration::from_secs(60));
    let took = t0.elapsed();
    assert_all_reported(&p, &log, 5);
    let h = log.lock().unwrap().histogram();
    assert_eq!(h.len(), 1, "all five fail the same way: {h:?}");
    let code = ErrorCode(*h.keys().next().unwrap().as_ref().expect("failed"));
    (code, took)
}

#[test]
fn unknown_topic_times_out_first_with_short_message_timeout() {
    if !Tansu::available() {
        eprintln!("tansu not installed: skipped");
        return;
    }
    let (code, took) = unknown_topic_on_tansu(Some(3000));
    assert_eq!(code, ErrorCode::L_MSG_TIMED_OUT);
    assert!(
        took >= Duration::from_millis(2900) && took < Duration::from_secs(10),
        "{took:?}"
    );
}

#[test]
fn unknown_topic_reported_after_propagation_max() {
    if !Tansu::available() {
        eprintln!("tansu not installed: skipped");
        return;
    }
    let (code, took) = unknown_topic_on_tansu(None);
    assert_eq!(code, ErrorCode::L_UNKNOWN_TOPIC);
    assert_eq!(code.0, -188);
    assert!(
        took >= Duration::from_secs(29) && took < Duration::from_secs(40),
        "{took:?}"
    );
}

#[test]
fn bad_configuration_is_refused_clearly() {
    let mut c = ClientConfig::new();
    let e = c.set("no.such.property", "1").map(|_| ()).unwrap_err();
    assert!(matches!(e, ConfigError::Unknown(_)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "No such configuration property: \"no.such.property\""
    );

    // (name, value, the property the message names): like librdkafka, an alias is reported
    // under the property it stands for.
    for (name, value, named) in [
        ("linger.ms", "soon", "queue.buffering.max.ms"),
        ("linger.ms", "-1", "queue.buffering.max.ms"),
        ("acks", "some", "request.required.acks"),
        ("compression.codec", "brotli", "compression.codec"),
        ("enable.idempotence", "maybe", "enable.idempotence"),
        ("message.timeout.ms", "-5", "message.timeout.ms"),
        ("partitioner", "foo", "partitioner"),
    ] {
        let e = c.set(name, value).map(|_| ()).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid(_)),
            "{name}={value}: {e:?}"
        );
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("\"{named}\"")),
            "{name}={value}: message does not name the property: {msg}"
        );
        eprintln!("{name}={value}: {msg}");
    }
    assert_eq!(
        c.set("partitioner", "foo")
            .map(|_| ())
            .unwrap_err()
            .to_string(),
        "Invalid value for configuration property \"partitioner\": foo"
    );

    // Conflicts are refused when the producer is created (librdkafka's rd_kafka_new).
    let e = Producer::new(&config(
        "127.0.0.1:1",
        &[("enable.idempotence", "true"), ("acks", "1")],
    ))
    .err()
    .expect("idempotence with acks=1");
    eprintln!("idempotence + acks=1: {e}");
    assert!(e.to_string().contains("acks"), "{e}");
    let e = Producer::new(&config(
        "127.0.0.1:1",
        &[
            ("enable.idempotence", "true"),
            ("max.in.flight.requests.per.connection", "6"),
        ],
    ))
    .err()
    .expect("idempotence with max.in.flight 6");
    eprintln!("idempotence + max.in.flight=6: {e}");
    assert!(e.to_string().contains("max.in.flight"), "{e}");
}

/// Without `bootstrap.servers` a producer is created (as in librdkafka) but reaches no broker
/// until `add_brokers` gives it some.
#[test]
fn producer_without_bootstrap_servers_gets_brokers_later() {
    let cluster = MockCluster::start(3, &[("late-brokers", 2)]);
    let p = Producer::new(&ClientConfig::new()).expect("created without bootstrap.servers");
    let e = p
        .fetch_metadata(None, Duration::from_millis(500))
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::L_TRANSPORT, "{e}");
    let log = record_reports(&p, 10);
    for i in 0..10 {
        send_expected(&p, "late-brokers", i, SIZE).unwrap();
    }
    let list = format!("PLAINTEXT://{}", cluster.bootstrap().replace(',', ", "));
    assert_eq!(p.add_brokers(&list), 3);
    assert_eq!(p.add_brokers("SSL://127.0.0.1:1"), 0);
    drain(&p, Duration::from_secs(10));
    assert_all_reported(&p, &log, 10);
    assert_eq!(log.lock().unwrap().delivered().len(), 10);
    let md = p.fetch_metadata(None, Duration::from_secs(5)).unwrap();
    assert_eq!(md.brokers.len(), 3);
}

#[test]
fn unknown_partition_fails_without_loss() {
    let topic = "few-partitions";
    let cluster = MockCluster::start(1, &[(topic, 2)]);
    let p = Producer::new(&config(cluster.bootstrap(), &[])).unwrap();
    let log = record_reports(&p, 2);
    // Partition 7 of a 2-partition topic: librdkafka reports `_UNKNOWN_PARTITION` (-190),
    // from produce() when the topic's metadata is known, or as the delivery report otherwise.
    let sync = p.send(&Record::to(topic).value(b"x").partition(7).opaque(0));
    p.send(&Record::to(topic).value(b"y").partition(1).opaque(1))
        .unwrap();
    drain(&p, Duration::from_secs(10));
    let l = log.lock().unwrap();
    match sync {
        Err(e) => {
            assert_eq!(e.code, ErrorCode::L_UNKNOWN_PARTITION, "{e}");
            assert_eq!(l.total, 1);
        }
        Ok(()) => {
            assert_eq!(l.total, 2);
            assert_eq!(
                l.failed_with(ErrorCode::L_UNKNOWN_PARTITION),
                vec![0],
                "{:?}",
                l.histogram()
            );
        }
    }
    assert_eq!(l.delivered(), vec![1]);
    assert_eq!(p.in_flight_count(), 0);
}

/// Once the client has the topic's metadata, a partition past its count is refused by `send`
/// itself (librdkafka's produce() returns `_UNKNOWN_PARTITION`), and nothing is queued for it.
#[test]
fn unknown_partition_refused_at_send_once_metadata_is_known() {
    let topic = "few-partitions-known";
    let cluster = MockCluster::start(1, &[(topic, 2)]);
    let p = Producer::new(&config(cluster.bootstrap(), &[])).unwrap();
    let log = record_reports(&p, 1);
    p.send(&Record::to(topic).value(b"first").partition(1).opaque(0))
        .unwrap();
    drain(&p, Duration::from_secs(10));
    let err = p
        .send(&Record::to(topic).value(b"late").partition(2).opaque(1))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::L_UNKNOWN_PARTITION, "{err}");
    assert_eq!(p.in_flight_count(), 0);
    let l = log.lock().unwrap();
    assert_eq!((l.total, l.delivered()), (1, vec![0]));
}
