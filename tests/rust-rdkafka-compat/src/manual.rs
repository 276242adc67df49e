//! A consumer that assigns partitions itself (group.id set, no subscription): manual assignment with logical offsets, partition EOF, seek,
//! pause and resume.

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};

use crate::{base_config, consumed, print_consumed, tpl, PARTITIONS, TIMEOUT};

/// Polls until `eofs` partition EOFs were seen (or 10 s passed): the messages and the EOFs.
fn poll_until_eofs(consumer: &BaseConsumer, eofs: usize) -> (Vec<(i32, i64, String)>, Vec<i32>) {
    let (mut got, mut eof) = (Vec::new(), Vec::new());
    let deadline = Instant::now() + TIMEOUT;
    while eof.len() < eofs && Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => got.push(consumed(&m)),
            Some(Err(KafkaError::PartitionEOF(p))) => eof.push(p),
            Some(Err(e)) => println!("manual consumer error {e}"),
            None => {}
        }
    }
    eof.sort();
    (got, eof)
}

pub fn consume_manual(bootstrap: &str, topic: &str) {
    let consumer: BaseConsumer = base_config(bootstrap)
        .set("group.id", "rrd-manual")
        .set("enable.partition.eof", "true")
        .create()
        .expect("BaseConsumer");
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, 0, Offset::OffsetTail(2))
        .unwrap();
    list.add_partition_offset(topic, 1, Offset::Beginning)
        .unwrap();
    list.add_partition_offset(topic, 2, Offset::End).unwrap();
    consumer.assign(&list).expect("assign");
    println!("manual assignment {}", tpl(&consumer.assignment().unwrap()));
    let (got, eof) = poll_until_eofs(&consumer, PARTITIONS as usize);
    print_consumed("manual", got);
    println!("manual partition EOF {eof:?}");
    println!("manual position {}", tpl(&consumer.position().unwrap()));

    consumer
        .seek(topic, 1, Offset::Offset(4), TIMEOUT)
        .expect("seek");
    let (got, eof) = poll_until_eofs(&consumer, 1);
    print_consumed("manual after seek", got);
    println!("manual partition EOF after seek {eof:?}");

    let mut p2 = TopicPartitionList::new();
    p2.add_partition(topic, 2);
    consumer.pause(&p2).expect("pause");
    let mut all = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        all.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    let seeked = consumer
        .seek_partitions(all, TIMEOUT)
        .expect("seek_partitions");
    println!("manual seek_partitions {}", tpl(&seeked));
    let (got, eof) = poll_until_eofs(&consumer, 2);
    print_consumed("manual paused [2]", got);
    println!("manual partition EOF while [2] paused {eof:?}");
    consumer.resume(&p2).expect("resume");
    let (got, eof) = poll_until_eofs(&consumer, 1);
    print_consumed("manual resumed [2]", got);
    println!("manual partition EOF after resume {eof:?}");
    consumer.unassign().expect("unassign");
    println!(
        "manual assignment after unassign {}",
        tpl(&consumer.assignment().unwrap())
    );
}
