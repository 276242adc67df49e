//! rust-rdkafka (crate `rdkafka`, `dynamic-linking`) driving whatever `librdkafka.so.1` the loader
//! finds: librskafka or librdkafka. It produces with BaseProducer, ThreadedProducer and
//! FutureProducer, consumes in groups with BaseConsumer and StreamConsumer, and prints a transcript
//! that depends only on what the broker did, so that both libraries must print the same.
//!
//! Usage: `rust-rdkafka-compat BOOTSTRAP TOPIC KEYED_TOPIC` (TOPIC: 3 partitions, KEYED_TOPIC: 4,
//! both empty, on a fresh cluster). BOOTSTRAP `mock` runs on a cluster the program creates with
//! rust-rdkafka's `MockCluster` (`rd_kafka_mock_cluster_new`, `rd_kafka_mock_topic_create`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::executor::block_on;
use futures::StreamExt;
use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, RebalanceProtocol,
    StreamConsumer,
};
use rdkafka::error::KafkaResult;
use rdkafka::message::{BorrowedMessage, Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{
    BaseProducer, BaseRecord, DeliveryResult, FutureProducer, FutureRecord, Producer,
    ProducerContext, ThreadedProducer,
};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};

mod manual;
mod produce_errors;
mod stats;

pub(crate) const PARTITIONS: i32 = 3;
/// Messages each producer sends: message i goes to partition i % PARTITIONS.
const PER_PRODUCER: usize = 6;
const TOTAL: usize = 3 * PER_PRODUCER;
pub(crate) const TIMEOUT: Duration = Duration::from_secs(10);

/// Lines written by callbacks, printed at fixed points of the run (callback timing varies).
pub(crate) type Log = Arc<Mutex<Vec<String>>>;

fn flush_log(log: &Log) {
    for line in log.lock().unwrap().drain(..) {
        println!("{line}");
    }
}

/// Delivery reports of BaseProducer and ThreadedProducer, keyed by the message's index.
pub(crate) struct Deliveries {
    stage: &'static str,
    log: Log,
}

impl ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, index: usize) {
        let line = match result {
            Ok(m) => format!(
                "{} delivered #{index} key={} partition={} offset={}",
                self.stage,
                text(m.key()),
                m.partition(),
                m.offset()
            ),
            Err((e, m)) => format!("{} FAILED #{index} key={}: {e}", self.stage, text(m.key())),
        };
        self.log.lock().unwrap().push(line);
    }
}

/// Rebalance and commit callbacks of a group consumer.
struct GroupEvents {
    name: &'static str,
    log: Log,
}

impl ClientContext for GroupEvents {}

impl ConsumerContext for GroupEvents {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let line = format!("{} pre_rebalance {}", self.name, describe(rebalance));
        self.log.lock().unwrap().push(line);
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let line = format!("{} post_rebalance {}", self.name, describe(rebalance));
        self.log.lock().unwrap().push(line);
    }

    fn commit_callback(&self, result: KafkaResult<()>, offsets: &TopicPartitionList) {
        let outcome = match result {
            Ok(()) => "ok".to_string(),
            Err(e) => format!("error {e}"),
        };
        let line = format!("{} commit_callback {outcome} {}", self.name, tpl(offsets));
        self.log.lock().unwrap().push(line);
    }
}

fn describe(rebalance: &Rebalance<'_>) -> String {
    match rebalance {
        Rebalance::Assign(list) => format!("assign {}", tpl(list)),
        Rebalance::Revoke(list) => format!("revoke {}", tpl(list)),
        Rebalance::Error(e) => format!("error {e}"),
    }
}

fn text(bytes: Option<&[u8]>) -> String {
    bytes.map_or("NULL".into(), |b| String::from_utf8_lossy(b).into_owned())
}

fn offset(o: Offset) -> String {
    match o {
        Offset::Offset(n) => n.to_string(),
        other => format!("{other:?}"),
    }
}

/// A partition list as `topic[p]=offset ...`, sorted by topic and partition.
pub(crate) fn tpl(list: &TopicPartitionList) -> String {
    let mut elems: Vec<_> = list
        .elements()
        .iter()
        .map(|e| {
            let err = e
                .error()
                .err()
                .map(|e| format!("({e})"))
                .unwrap_or_default();
            (
                e.topic().to_string(),
                e.partition(),
                offset(e.offset()),
                err,
            )
        })
        .collect();
    elems.sort();
    let parts: Vec<String> = elems
        .iter()
        .map(|(t, p, o, err)| format!("{t}[{p}]={o}{err}"))
        .collect();
    format!("{{{}}}", parts.join(" "))
}

pub(crate) fn base_config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap);
    c
}

fn record_key(stage: &str, i: usize) -> String {
    format!("{stage}-{i}")
}

fn record_value(stage: &str, i: usize) -> String {
    format!("value-{stage}-{i}")
}

fn produce_base(bootstrap: &str, topic: &str, log: &Log) {
    let producer: BaseProducer<Deliveries> = base_config(bootstrap)
        .set("linger.ms", "1")
        .create_with_context(Deliveries {
            stage: "base",
            log: log.clone(),
        })
        .expect("BaseProducer");
    for i in 0..PER_PRODUCER {
        let (key, value) = (record_key("base", i), record_value("base", i));
        let index = i.to_string();
        let headers = OwnedHeaders::new().insert(Header {
            key: "idx",
            value: Some(&index),
        });
        producer
            .send(
                BaseRecord::with_opaque_to(topic, i)
                    .partition(i as i32 % PARTITIONS)
                    .key(&key)
                    .payload(&value)
                    .headers(headers),
            )
            .map_err(|(e, _)| e)
            .expect("BaseProducer::send");
    }
    println!(
        "base in_flight_count after send: {}",
        producer.in_flight_count()
    );
    let deadline = Instant::now() + TIMEOUT;
    while log.lock().unwrap().len() < PER_PRODUCER && Instant::now() < deadline {
        producer.poll(Duration::from_millis(100));
    }
    producer.flush(TIMEOUT).expect("BaseProducer::flush");
    println!(
        "base in_flight_count after flush: {}",
        producer.in_flight_count()
    );
    print_sorted(log);
}

fn produce_threaded(bootstrap: &str, topic: &str, log: &Log) {
    let producer: ThreadedProducer<Deliveries> = base_config(bootstrap)
        .set("linger.ms", "1")
        .create_with_context(Deliveries {
            stage: "threaded",
            log: log.clone(),
        })
        .expect("ThreadedProducer");
    for i in 0..PER_PRODUCER {
        let (key, value) = (record_key("threaded", i), record_value("threaded", i));
        producer
            .send(
                BaseRecord::with_opaque_to(topic, i)
                    .partition(i as i32 % PARTITIONS)
                    .key(&key)
                    .payload(&value),
            )
            .map_err(|(e, _)| e)
            .expect("ThreadedProducer::send");
    }
    producer.flush(TIMEOUT).expect("ThreadedProducer::flush");
    println!(
        "threaded in_flight_count after flush: {}",
        producer.in_flight_count()
    );
    print_sorted(log);
}

/// Prints the delivery lines in message order (reports of different partitions race).
pub(crate) fn print_sorted(log: &Log) {
    let mut lines = std::mem::take(&mut *log.lock().unwrap());
    lines.sort_by_key(|l| {
        let idx = l.split('#').nth(1).unwrap_or("");
        idx.split(' ')
            .next()
            .unwrap_or("")
            .parse::<usize>()
            .unwrap_or(usize::MAX)
    });
    println!("{} delivery reports", lines.len());
    for l in lines {
        println!("{l}");
    }
}

fn produce_future(bootstrap: &str, topic: &str) {
    let producer: FutureProducer = base_config(bootstrap)
        .set("linger.ms", "1")
        .create()
        .expect("FutureProducer");
    let keys: Vec<(String, String)> = (0..PER_PRODUCER)
        .map(|i| (record_key("future", i), record_value("future", i)))
        .collect();
    let futures: Vec<_> = keys
        .iter()
        .enumerate()
        .map(|(i, (key, value))| {
            producer
                .send_result(
                    FutureRecord::to(topic)
                        .partition(i as i32 % PARTITIONS)
                        .key(key)
                        .payload(value),
                )
                .map_err(|(e, _)| e)
                .expect("FutureProducer::send_result")
        })
        .collect();
    for (i, f) in futures.into_iter().enumerate() {
        match block_on(f) {
            Ok(Ok(d)) => println!(
                "future delivered #{i} key={} partition={} offset={}",
                keys[i].0, d.partition, d.offset
            ),
            Ok(Err((e, _))) => println!("future FAILED #{i}: {e}"),
            Err(_) => println!("future CANCELED #{i}"),
        }
    }
    let (key, value) = (record_key("future", PER_PRODUCER), "not sent");
    // send() with a queue timeout is FutureProducer's main API: one more message through it.
    let sent = block_on(
        producer.send(
            FutureRecord::to(topic)
                .partition(0)
                .key(&key)
                .payload(value),
            TIMEOUT,
        ),
    );
    match sent {
        Ok(d) => println!(
            "future send key={key} partition={} offset={}",
            d.partition, d.offset
        ),
        Err((e, _)) => println!("future send FAILED: {e}"),
    }
}

fn print_metadata(producer: &BaseProducer, topic: &str) {
    let md = producer
        .client()
        .fetch_metadata(Some(topic), TIMEOUT)
        .expect("fetch_metadata");
    let mut brokers: Vec<_> = md
        .brokers()
        .iter()
        .map(|b| (b.id(), b.host().to_string()))
        .collect();
    brokers.sort();
    println!("metadata: {} brokers", brokers.len());
    for (id, host) in brokers {
        println!("  broker {id} host {host}");
    }
    for t in md.topics() {
        println!(
            "  topic {} error {:?} partitions {}",
            t.name(),
            t.error(),
            t.partitions().len()
        );
        let mut parts: Vec<_> = t.partitions().iter().collect();
        parts.sort_by_key(|p| p.id());
        for p in parts {
            println!(
                "    partition {} leader {} replicas {:?} isr {:?} error {:?}",
                p.id(),
                p.leader(),
                p.replicas(),
                p.isr(),
                p.error()
            );
        }
    }
}

fn print_watermarks<C: Consumer<X>, X: ConsumerContext>(who: &str, consumer: &C, topic: &str) {
    for p in 0..PARTITIONS {
        match consumer.fetch_watermarks(topic, p, TIMEOUT) {
            Ok((lo, hi)) => println!("{who} watermarks [{p}] low {lo} high {hi}"),
            Err(e) => println!("{who} watermarks [{p}] error {e}"),
        }
    }
}

/// One consumed message as printed: `[partition]@offset key=value headers`.
pub(crate) fn consumed(m: &BorrowedMessage<'_>) -> (i32, i64, String) {
    let headers = m.headers().map_or(String::new(), |h| {
        h.iter()
            .map(|h| format!(" {}={}", h.key, text(h.value)))
            .collect()
    });
    let line = format!(
        "[{}]@{} {}={}{headers}",
        m.partition(),
        m.offset(),
        text(m.key()),
        text(m.payload())
    );
    (m.partition(), m.offset(), line)
}

/// Prints consumed messages by partition, and whether each partition came in offset order.
pub(crate) fn print_consumed(who: &str, got: Vec<(i32, i64, String)>) {
    let mut by_partition: BTreeMap<i32, Vec<(i64, String)>> = BTreeMap::new();
    for (p, o, line) in got {
        by_partition.entry(p).or_default().push((o, line));
    }
    let count: usize = by_partition.values().map(Vec::len).sum();
    println!("{who} consumed {count} messages");
    for (p, msgs) in by_partition {
        let ordered = msgs.windows(2).all(|w| w[0].0 < w[1].0);
        println!(
            "{who} partition {p}: {} messages, in order: {ordered}",
            msgs.len()
        );
        for (_, line) in msgs {
            println!("  {line}");
        }
    }
}

pub(crate) fn group_config(bootstrap: &str, group: &str) -> ClientConfig {
    let mut c = base_config(bootstrap);
    c.set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000");
    c
}

fn consume_base(bootstrap: &str, topic: &str) {
    let log = Log::default();
    let consumer: BaseConsumer<GroupEvents> = group_config(bootstrap, "rrd-base")
        .create_with_context(GroupEvents {
            name: "base",
            log: log.clone(),
        })
        .expect("BaseConsumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    println!(
        "base subscription {}",
        tpl(&consumer.subscription().unwrap())
    );
    let mut got = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while got.len() < TOTAL + 1 && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => got.push(consumed(&m)),
            Some(Err(e)) => println!("base consumer error {e}"),
            None => {}
        }
    }
    flush_log(&log);
    print_consumed("base", got);
    println!("base assignment {}", tpl(&consumer.assignment().unwrap()));
    println!("base position {}", tpl(&consumer.position().unwrap()));
    consumer
        .commit_consumer_state(CommitMode::Sync)
        .expect("commit_consumer_state");
    for _ in 0..3 {
        consumer.poll(Duration::from_millis(100));
    }
    flush_log(&log);
    println!(
        "base committed {}",
        tpl(&consumer.committed(TIMEOUT).unwrap())
    );
    let mut list = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        list.add_partition_offset(topic, p, Offset::Offset(5))
            .unwrap();
    }
    consumer
        .commit(&list, CommitMode::Async)
        .expect("async commit");
    // librdkafka serves a manual commit's result to an offset_commit_cb only, not as the
    // OFFSET_COMMIT event rust-rdkafka enables: commit_callback must not run. Poll to see that.
    let deadline = Instant::now() + Duration::from_secs(1);
    while !log
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.contains("commit_callback"))
        && Instant::now() < deadline
    {
        consumer.poll(Duration::from_millis(100));
    }
    flush_log(&log);
    println!(
        "base committed after async commit {}",
        tpl(&consumer.committed(TIMEOUT).unwrap())
    );
    print_watermarks("base", &consumer, topic);
    println!(
        "base rebalance_protocol {} assignment_lost {} group_metadata {}",
        match consumer.rebalance_protocol() {
            RebalanceProtocol::None => "none",
            RebalanceProtocol::Eager => "eager",
            RebalanceProtocol::Cooperative => "cooperative",
        },
        consumer.assignment_lost(),
        consumer.group_metadata().is_some()
    );
    match consumer.offsets_for_timestamp(0, TIMEOUT) {
        Ok(list) => println!("base offsets_for_timestamp(0) {}", tpl(&list)),
        Err(e) => println!("base offsets_for_timestamp(0) error {e}"),
    }
    let md = consumer
        .fetch_metadata(None, TIMEOUT)
        .expect("fetch_metadata(None)");
    let mut names: Vec<&str> = md.topics().iter().map(|t| t.name()).collect();
    names.sort();
    println!("base fetch_metadata(all) topics {names:?}");
    drop(consumer);
    flush_log(&log);
    println!("base closed");
}

fn consume_stream(bootstrap: &str, topic: &str) {
    let log = Log::default();
    let consumer: StreamConsumer<GroupEvents> = group_config(bootstrap, "rrd-stream")
        .create_with_context(GroupEvents {
            name: "stream",
            log: log.clone(),
        })
        .expect("StreamConsumer");
    consumer.subscribe(&[topic]).expect("subscribe");
    let mut got = Vec::new();
    let mut stream = consumer.stream();
    block_on(async {
        while got.len() < TOTAL + 1 {
            match stream.next().await {
                Some(Ok(m)) => {
                    if m.offset() == 2 {
                        consumer
                            .commit_message(&m, CommitMode::Sync)
                            .expect("commit_message");
                    }
                    got.push(consumed(&m));
                }
                Some(Err(e)) => println!("stream consumer error {e}"),
                None => break,
            }
        }
    });
    drop(stream);
    flush_log(&log);
    print_consumed("stream", got);
    println!(
        "stream committed after commit_message {}",
        tpl(&consumer.committed(TIMEOUT).unwrap())
    );
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, 1, Offset::Offset(5))
        .unwrap();
    consumer.commit(&list, CommitMode::Sync).expect("commit");
    let mut query = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        query.add_partition(topic, p);
    }
    println!(
        "stream committed_offsets {}",
        tpl(&consumer.committed_offsets(query, TIMEOUT).unwrap())
    );
    println!("stream position {}", tpl(&consumer.position().unwrap()));
    print_watermarks("stream", &consumer, topic);
    drop(consumer);
    flush_log(&log);
    println!("stream closed");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, bootstrap, topic, keyed_topic] = args.as_slice() else {
        eprintln!("usage: rust-rdkafka-compat BOOTSTRAP TOPIC KEYED_TOPIC");
        std::process::exit(2);
    };
    let (version_n, version) = rdkafka::util::get_rdkafka_version();
    eprintln!("librdkafka version {version} (0x{version_n:08x})");
    let mock = (bootstrap == "mock").then(|| {
        let mock = rdkafka::mocking::MockCluster::new(3).expect("MockCluster::new");
        mock.create_topic(topic, PARTITIONS, 1).expect("create_topic");
        mock.create_topic(keyed_topic, 4, 1).expect("create_topic");
        mock
    });
    let bootstrap = &mock.as_ref().map_or(bootstrap.clone(), |m| m.bootstrap_servers());

    let log = Log::default();
    produce_base(bootstrap, topic, &log);
    produce_threaded(bootstrap, topic, &log);
    produce_future(bootstrap, topic);

    let producer: BaseProducer = base_config(bootstrap).create().expect("BaseProducer");
    print_metadata(&producer, topic);
    drop(producer);

    consume_base(bootstrap, topic);
    consume_stream(bootstrap, topic);
    manual::consume_manual(bootstrap, topic);
    produce_errors::produce_errors(bootstrap, topic, keyed_topic);
    stats::statistics(bootstrap, keyed_topic);
    drop(mock);
    println!("done");
}
