//! What producers report when they cannot deliver: oversized messages, purged queues; and where the default partitioner puts keyed messages.

use std::time::Duration;

use rdkafka::producer::{BaseProducer, BaseRecord, Producer, PurgeConfig};

use crate::{base_config, print_sorted, Deliveries, Log, TIMEOUT};

pub fn produce_errors(bootstrap: &str, topic: &str, keyed_topic: &str) {
    let log = Log::default();
    let producer: BaseProducer<Deliveries> = base_config(bootstrap)
        .set("message.max.bytes", "1000")
        .set("linger.ms", "60000")
        .create_with_context(Deliveries {
            stage: "errors",
            log: log.clone(),
        })
        .expect("BaseProducer");
    let big = vec![b'x'; 2000];
    match producer.send(
        BaseRecord::with_opaque_to(topic, 0)
            .key("big")
            .payload(&big),
    ) {
        Ok(()) => println!("oversized message accepted"),
        Err((e, _)) => println!("oversized message: {e}"),
    }

    // Queued behind linger.ms=60000, then purged: each reports _PURGE_QUEUE.
    for i in 2..5 {
        let key = format!("purged-{i}");
        producer
            .send(
                BaseRecord::with_opaque_to(topic, i)
                    .partition(0)
                    .key(&key)
                    .payload("v"),
            )
            .map_err(|(e, _)| e)
            .expect("send before purge");
    }
    println!(
        "errors in_flight_count before purge: {}",
        producer.in_flight_count()
    );
    producer.purge(PurgeConfig::default().queue().inflight());
    for _ in 0..10 {
        producer.poll(Duration::from_millis(50));
    }
    println!(
        "errors in_flight_count after purge: {}",
        producer.in_flight_count()
    );
    print_sorted(&log);
    drop(producer);

    // The default partitioner (consistent_random) places keys identically in both libraries.
    let producer: BaseProducer<Deliveries> = base_config(bootstrap)
        .set("linger.ms", "1")
        .create_with_context(Deliveries {
            stage: "keyed",
            log: log.clone(),
        })
        .expect("BaseProducer");
    for i in 0..8 {
        let key = format!("key-{i}");
        producer
            .send(
                BaseRecord::with_opaque_to(keyed_topic, i)
                    .key(&key)
                    .payload("v"),
            )
            .map_err(|(e, _)| e)
            .expect("keyed send");
    }
    producer.flush(TIMEOUT).expect("flush");
    print_sorted(&log);
}
