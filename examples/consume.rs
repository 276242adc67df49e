//! Consumes from Kafka with librskafka and prints a throughput summary.
//!
//! ```text
//! cargo run --release --example consume -- --bootstrap 127.0.0.1:9092 --group g --topic t \
//!     [--topic t2] [--count N] [--print] [-X prop=value]...
//! ```
//! `--print` writes one tab-separated line per message: topic, partition, offset, key, value.
//! Without `--group` the consumer assigns every partition of the topics from the beginning, or
//! from `--offset N`.

use std::io::Write;
use std::time::{Duration, Instant};

use kafka::{offset, ClientConfig, Consumer, ErrorCode, TopicPartition};

fn cpu_seconds() -> f64 {
    // utime and stime of this process, in clock ticks, from /proc (Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn usage() -> ! {
    eprintln!("usage: consume --bootstrap HOST:PORT --topic T [--topic T2] [--group G] [--count N] [--offset N] [--print] [-X prop=value]");
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut config = ClientConfig::new();
    let (mut topics, mut group, mut count, mut print, mut bootstrap) =
        (Vec::new(), None, u64::MAX, false, None);
    let mut start = offset::BEGINNING;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bootstrap" => bootstrap = args.next(),
            "--group" => group = args.next(),
            "--topic" => topics.push(args.next().unwrap_or_else(|| usage())),
            "--count" => {
                count = args
                    .next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--print" => print = true,
            "--offset" => {
                start = args
                    .next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "-X" => {
                let kv = args.next().unwrap_or_else(|| usage());
                let (k, v) = kv.split_once('=').unwrap_or_else(|| usage());
                if let Err(e) = config.set(k, v) {
                    eprintln!("{e}");
                    std::process::exit(2);
                }
            }
            _ => usage(),
        }
    }
    let bootstrap = bootstrap.unwrap_or_else(|| usage());
    if topics.is_empty() {
        usage();
    }
    let setup = config
        .set("bootstrap.servers", &bootstrap)
        .and_then(|c| c.set("auto.offset.reset", "earliest"));
    if let Some(g) = &group {
        if let Err(e) = setup.and_then(|c| c.set("group.id", g)) {
            eprintln!("{e}");
            std::process::exit(2);
        }
    }
    let consumer = Consumer::new(&config).unwrap_or_else(|e| {
        eprintln!("failed to create consumer: {e}");
        std::process::exit(1);
    });
    let refs: Vec<&str> = topics.iter().map(String::as_str).collect();
    if group.is_some() {
        consumer.subscribe(&refs).expect("subscribe");
    } else {
        let mut parts = Vec::new();
        for t in &topics {
            let meta = consumer
                .fetch_metadata(Some(t), Duration::from_secs(10))
                .expect("metadata");
            for t in meta.topics.iter().filter(|t| t.error.0 == 0) {
                parts.extend(
                    t.partitions
                        .iter()
                        .map(|p| TopicPartition::with_offset(t.name.clone(), p.id, start)),
                );
            }
        }
        consumer.assign(&parts).expect("assign");
    }

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let (mut msgs, mut bytes) = (0u64, 0u64);
    let mut started: Option<Instant> = None;
    let cpu0 = cpu_seconds();
    let mut idle_since = Instant::now();
    while msgs < count {
        match consumer.poll(Duration::from_millis(500)) {
            Some(Ok(m)) => {
                started.get_or_insert_with(Instant::now);
                msgs += 1;
                bytes += m.payload().map_or(0, |p| p.len() as u64)
                    + m.key().map_or(0, |k| k.len() as u64);
                if print {
                    let key = String::from_utf8_lossy(m.key().unwrap_or_default());
                    let val = String::from_utf8_lossy(m.payload().unwrap_or_default());
                    let _ = writeln!(
                        out,
                        "{}\t{}\t{}\t{}\t{}",
                        m.topic(),
                        m.partition,
                        m.offset,
                        key,
                        val
                    );
                }
                idle_since = Instant::now();
            }
            Some(Err(e)) if e.code == ErrorCode::L_PARTITION_EOF => {}
            Some(Err(e)) => eprintln!("% consumer error: {} ({:?})", e, e.code),
            None => {
                if count == u64::MAX && msgs > 0 && idle_since.elapsed() > Duration::from_secs(5) {
                    break;
                }
            }
        }
    }
    let _ = out.flush();
    let secs = started.map_or(0.0, |s| s.elapsed().as_secs_f64());
    let cpu = cpu_seconds() - cpu0;
    let _ = consumer.close();
    eprintln!(
        "consumed {msgs} messages, {bytes} bytes in {secs:.3} s: {:.0} msgs/s, {:.1} MB/s, {cpu:.2} CPU s",
        msgs as f64 / secs.max(1e-9),
        bytes as f64 / secs.max(1e-9) / 1e6
    );
}
