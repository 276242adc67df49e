//! Statistics as rust-rdkafka decodes them: `statistics.interval.ms` JSON parsed into its
//! `Statistics` struct (a field it needs that the library leaves out fails the whole decode).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, ProducerContext};
use rdkafka::statistics::Statistics;

use crate::{base_config, group_config, PARTITIONS, TIMEOUT};

/// The last decoded statistics, and the decode errors seen.
#[derive(Default)]
struct StatsLog {
    last: Mutex<Option<Statistics>>,
    errors: Mutex<Vec<String>>,
}

#[derive(Clone, Default)]
struct StatsContext(Arc<StatsLog>);

impl ClientContext for StatsContext {
    fn stats_raw(&self, json: &[u8]) {
        match serde_json::from_slice::<Statistics>(json) {
            Ok(s) => *self.0.last.lock().unwrap() = Some(s),
            Err(e) => self.0.errors.lock().unwrap().push(e.to_string()),
        }
    }
}

impl ProducerContext for StatsContext {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::producer::DeliveryResult<'_>, _: ()) {}
}

impl ConsumerContext for StatsContext {}

/// Waits until statistics emitted after `since` were decoded (or a decode failed).
fn wait_stats(ctx: &StatsContext, mut poll: impl FnMut(), since_ts: i64) {
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        poll();
        let fresh = ctx
            .0
            .last
            .lock()
            .unwrap()
            .as_ref()
            .is_some_and(|s| s.ts > since_ts);
        if fresh || !ctx.0.errors.lock().unwrap().is_empty() {
            return;
        }
    }
}

fn print_stats(who: &str, ctx: &StatsContext) {
    let errors = std::mem::take(&mut *ctx.0.errors.lock().unwrap());
    for e in &errors {
        println!("{who} stats decode error: {e}");
    }
    let Some(s) = ctx.0.last.lock().unwrap().take() else {
        println!("{who} stats: none decoded");
        return;
    };
    // rxmsgs depends on how far prefetch got when the document was written: not printed.
    println!(
        "{who} stats: name {} client_id {} type {} msg_cnt {} txmsgs {}",
        s.name, s.client_id, s.client_type, s.msg_cnt, s.txmsgs
    );
    // Versions differ on bootstrap entries and the coordinator's nodeid (2.0.2: its broker's id,
    // 2.12: -1): only the brokers' own entries are compared.
    let mut ids: Vec<i32> = s
        .brokers
        .values()
        .filter(|b| b.source != "logical" && b.nodeid >= 0)
        .map(|b| b.nodeid)
        .collect();
    ids.sort();
    println!("{who} stats brokers with ids {ids:?}");
    let coordinator = s.brokers.values().any(|b| b.name == "GroupCoordinator");
    println!("{who} stats GroupCoordinator entry: {coordinator}");
    let mut topics: Vec<_> = s.topics.iter().collect();
    topics.sort_by_key(|(k, _)| k.as_str());
    for (name, t) in topics {
        let mut parts: Vec<(i32, i32)> = t
            .partitions
            .values()
            .filter(|p| p.partition >= 0)
            .map(|p| (p.partition, p.leader))
            .collect();
        parts.sort();
        println!("{who} stats topic {name} (partition, leader) {parts:?}");
    }
    if let Some(g) = &s.cgrp {
        println!(
            "{who} stats cgrp state {} join_state {} assignment_size {}",
            g.state, g.join_state, g.assignment_size
        );
    }
}

pub fn statistics(bootstrap: &str, topic: &str) {
    let ctx = StatsContext::default();
    let producer: BaseProducer<StatsContext> = base_config(bootstrap)
        .set("statistics.interval.ms", "100")
        .set("linger.ms", "1")
        .create_with_context(ctx.clone())
        .expect("BaseProducer with statistics");
    for p in 0..PARTITIONS {
        producer
            .send(BaseRecord::to(topic).partition(p).key("stats").payload("v"))
            .map_err(|(e, _)| e)
            .expect("send");
    }
    producer.flush(TIMEOUT).expect("flush");
    let ts = ctx.0.last.lock().unwrap().as_ref().map_or(0, |s| s.ts);
    wait_stats(
        &ctx,
        || {
            producer.poll(Duration::from_millis(50));
        },
        ts,
    );
    print_stats("producer", &ctx);
    drop(producer);

    let ctx = StatsContext::default();
    let consumer: BaseConsumer<StatsContext> = group_config(bootstrap, "rrd-stats")
        .set("statistics.interval.ms", "100")
        .create_with_context(ctx.clone())
        .expect("BaseConsumer with statistics");
    consumer.subscribe(&[topic]).expect("subscribe");
    let deadline = Instant::now() + TIMEOUT;
    while consumer.assignment().map_or(0, |a| a.count()) < PARTITIONS as usize
        && Instant::now() < deadline
    {
        consumer.poll(Duration::from_millis(50));
    }
    let _ = ctx.0.last.lock().unwrap().take();
    wait_stats(
        &ctx,
        || {
            consumer.poll(Duration::from_millis(50));
        },
        0,
    );
    print_stats("consumer", &ctx);
}
