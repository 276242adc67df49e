//! Produces to Kafka with librskafka and prints a throughput summary.
//!
//! ```text
//! cargo run --release --example produce -- --bootstrap 127.0.0.1:9092 --topic t --count 1000000 \
//!     [--size 100] [--codec lz4] [--keys N] [-X prop=value]...
//! ```
//! Message i has value `value-{i}-` padded to `--size` bytes; with `--keys N` its key is
//! `key-{i % N}`, without it messages are keyless.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kafka::{ClientConfig, Producer, Record};

fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn usage() -> ! {
    eprintln!("usage: produce --bootstrap HOST:PORT --topic T --count N [--size S] [--codec C] [--keys K] [-X prop=value]");
    std::process::exit(2);
}

fn main() {
    let mut args = std::env::args().skip(1);
    let mut config = ClientConfig::new();
    let (mut bootstrap, mut topic, mut count, mut size, mut keys) =
        (None, None, 0u64, 100usize, 0u64);
    let set = |config: &mut ClientConfig, k: &str, v: &str| {
        if let Err(e) = config.set(k, v) {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bootstrap" => bootstrap = args.next(),
            "--topic" => topic = args.next(),
            "--count" => {
                count = args
                    .next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--size" => {
                size = args
                    .next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--keys" => {
                keys = args
                    .next()
                    .and_then(|c| c.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--codec" => {
                let c = args.next().unwrap_or_else(|| usage());
                set(&mut config, "compression.codec", &c);
            }
            "-X" => {
                let kv = args.next().unwrap_or_else(|| usage());
                let (k, v) = kv.split_once('=').unwrap_or_else(|| usage());
                set(&mut config, k, v);
            }
            _ => usage(),
        }
    }
    let (Some(bootstrap), Some(topic)) = (bootstrap, topic) else {
        usage()
    };
    set(&mut config, "bootstrap.servers", &bootstrap);
    let producer = Producer::new(&config).unwrap_or_else(|e| {
        eprintln!("failed to create producer: {e}");
        std::process::exit(1);
    });
    let failed = Arc::new(AtomicU64::new(0));
    let f = failed.clone();
    producer.set_delivery_callback(Box::new(move |r| {
        if let Some(e) = &r.error {
            if f.fetch_add(1, Ordering::Relaxed) < 5 {
                eprintln!("% delivery failed: {e} ({:?})", e.code);
            }
        }
    }));

    let cpu0 = cpu_seconds();
    let start = Instant::now();
    let mut value = Vec::with_capacity(size);
    let mut key = String::new();
    for i in 0..count {
        value.clear();
        value.extend_from_slice(format!("value-{i}-").as_bytes());
        while value.len() < size {
            value.push(b'a' + (value.len() % 26) as u8);
        }
        let mut rec = Record::to(&topic).value(&value);
        if keys > 0 {
            key = format!("key-{}", i % keys);
            rec = rec.key(key.as_bytes());
        }
        if let Err(e) = producer.send_blocking(&rec, Duration::from_secs(60)) {
            eprintln!("% send failed: {e}");
            std::process::exit(1);
        }
        if i % 1024 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    let _ = key;
    if let Err(e) = producer.flush(Duration::from_secs(120)) {
        eprintln!("% {e}");
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu0;
    let bytes = count * size as u64;
    let failed = failed.load(Ordering::Relaxed);
    eprintln!(
        "produced {} messages ({failed} failed), {bytes} bytes in {secs:.3} s: {:.0} msgs/s, {:.1} MB/s, {cpu:.2} CPU s",
        count - failed,
        count as f64 / secs.max(1e-9),
        bytes as f64 / secs.max(1e-9) / 1e6
    );
    drop(producer);
    if failed > 0 {
        std::process::exit(1);
    }
}
