//! The produce and consume workloads of `benches/c/perf.c` through `rskafka` on tokio, printing
//! the same `key=value` line, so an async/await client is the third architecture in the comparison.
//!
//!   rskafka-bench produce -b BROKERS -t TOPIC -c COUNT [-s SIZE] [-z CODEC] [-X prop=val]...
//!   rskafka-bench consume -b BROKERS -t TOPIC -c COUNT [-g GROUP] [-X fetch.wait.max.ms=MS]...
//!
//! rskafka has no consumer groups and no partitioner: the consumer reads every partition from the
//! earliest offset with one `StreamConsumer` each, and the producer spreads messages round-robin
//! over one `BatchProducer` per partition. Of the `-X` properties only `linger.ms`,
//! `batch.size`, `queue.buffering.max.messages` and `fetch.wait.max.ms` mean anything here.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, StreamExt};
use rskafka::client::consumer::{StartOffset, StreamConsumerBuilder};
use rskafka::client::partition::{Compression, PartitionClient, UnknownTopicHandling};
use rskafka::client::producer::aggregator::RecordAggregator;
use rskafka::client::producer::BatchProducerBuilder;
use rskafka::client::{Client, ClientBuilder};
use rskafka::record::Record;

/// Command line, in perf.c's spelling.
struct Args {
    mode: String,
    brokers: String,
    topic: String,
    count: u64,
    size: usize,
    codec: String,
    props: BTreeMap<String, String>,
}

fn usage() -> ! {
    eprintln!(
        "usage: rskafka-bench produce|consume -b BROKERS -t TOPIC [-c COUNT] [-s SIZE] [-z CODEC] [-X prop=val]..."
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut it = std::env::args().skip(1);
    let mode = it.next().unwrap_or_else(|| usage());
    let mut a = Args {
        mode,
        brokers: String::new(),
        topic: String::new(),
        count: 1_000_000,
        size: 100,
        codec: "none".into(),
        props: BTreeMap::new(),
    };
    while let Some(flag) = it.next() {
        let val = it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "-b" => a.brokers = val,
            "-t" => a.topic = val,
            "-c" => a.count = val.parse().unwrap_or_else(|_| usage()),
            "-s" => a.size = val.parse().unwrap_or_else(|_| usage()),
            "-z" => a.codec = val,
            // No consumer groups in rskafka: the group id is accepted and unused.
            "-g" => {}
            "-X" => {
                let (k, v) = val.split_once('=').unwrap_or_else(|| usage());
                a.props.insert(k.into(), v.into());
            }
            _ => usage(),
        }
    }
    if a.brokers.is_empty() || a.topic.is_empty() {
        usage()
    }
    a
}

impl Args {
    fn prop(&self, name: &str, default: u64) -> u64 {
        self.props
            .get(name)
            .map(|v| v.parse().unwrap_or_else(|_| usage()))
            .unwrap_or(default)
    }
}

/// User + system CPU seconds of the whole process (getrusage).
fn cpu_s() -> f64 {
    rusage_s(libc::RUSAGE_SELF)
}

/// CPU seconds of the calling thread: the one `#[tokio::main]` blocks on, perf.c's application thread.
fn main_cpu_s() -> f64 {
    rusage_s(libc::RUSAGE_THREAD)
}

fn rusage_s(who: libc::c_int) -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// Peak RSS in KiB from VmHWM, as perf.c reads it (getrusage's ru_maxrss keeps the parent's
/// peak across fork and exec).
fn maxrss_kb() -> i64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(-1)
}

/// Threads of the process and the sum of their voluntary context switches, as perf.c counts them.
fn sched_stats() -> (usize, u64) {
    let mut threads = 0;
    let mut vcsw = 0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for e in dir.flatten() {
            threads += 1;
            let status = std::fs::read_to_string(e.path().join("status")).unwrap_or_default();
            for line in status.lines() {
                if let Some(v) = line.strip_prefix("voluntary_ctxt_switches:") {
                    vcsw += v.trim().parse::<u64>().unwrap_or(0);
                }
            }
        }
    }
    (threads, vcsw)
}

fn report(mode: &str, msgs: u64, bytes: u64, secs: f64, cpu0: (f64, f64), extra: &str) {
    let cpu = cpu_s() - cpu0.0;
    let app = main_cpu_s() - cpu0.1;
    let (threads, vcsw) = sched_stats();
    let per_s = |x: f64| if secs > 0.0 { x / secs } else { 0.0 };
    println!(
        "mode={mode} lib=\"rskafka 0.6.0 (tokio)\" msgs={msgs} bytes={bytes} secs={secs:.3} \
         msgs_per_s={:.0} mb_per_s={:.2} cpu_s={cpu:.3} cpu_s_per_M={:.3} app_thread_cpu_s={app:.3} maxrss_kb={} \
         threads={threads} vcsw={vcsw}{}{extra}",
        per_s(msgs as f64),
        per_s(bytes as f64) / 1e6,
        if msgs > 0 {
            cpu * 1e6 / msgs as f64
        } else {
            0.0
        },
        maxrss_kb(),
        if extra.is_empty() { "" } else { " " },
    );
}

fn die(what: &str, why: impl std::fmt::Display) -> ! {
    eprintln!("rskafka-bench: {what}: {why}");
    std::process::exit(1)
}

/// One client per partition of the topic, in partition order.
async fn partition_clients(client: &Client, topic: &str) -> Vec<Arc<PartitionClient>> {
    let topics = client
        .list_topics()
        .await
        .unwrap_or_else(|e| die("metadata", e));
    let t = topics
        .into_iter()
        .find(|t| t.name == topic)
        .unwrap_or_else(|| die("metadata", "unknown topic"));
    let mut out = Vec::new();
    for p in t.partitions {
        let pc = client
            .partition_client(topic, p, UnknownTopicHandling::Retry)
            .await
            .unwrap_or_else(|e| die("partition_client", e));
        out.push(Arc::new(pc));
    }
    out
}

fn compression(codec: &str) -> Compression {
    match codec {
        "none" => Compression::NoCompression,
        "gzip" => Compression::Gzip,
        "lz4" => Compression::Lz4,
        "snappy" => Compression::Snappy,
        "zstd" => Compression::Zstd,
        _ => die("compression.codec", codec),
    }
}

async fn produce(a: &Args) -> i32 {
    let cpu0 = (cpu_s(), main_cpu_s());
    let t0 = Instant::now();
    let client = ClientBuilder::new(a.brokers.split(',').map(String::from).collect())
        .build()
        .await
        .unwrap_or_else(|e| die("connect", e));
    let parts = partition_clients(&client, &a.topic).await;
    let linger = Duration::from_millis(a.prop("linger.ms", 5));
    let batch = a.prop("batch.size", 1_000_000) as usize;
    let producers: Vec<_> = parts
        .iter()
        .map(|pc| {
            BatchProducerBuilder::new(Arc::clone(pc))
                .with_linger(linger)
                .with_compression(compression(&a.codec))
                .build(RecordAggregator::new(batch))
        })
        .collect();
    let payload: Vec<u8> = (0..a.size).map(|i| b'a' + (i % 26) as u8).collect();
    let in_flight = a.prop("queue.buffering.max.messages", 100_000) as usize;
    let (mut delivered, mut failed) = (0u64, 0u64);
    let mut results = stream::iter(0..a.count)
        .map(|i| {
            let record = Record {
                key: Some((i % 1000).to_string().into_bytes()),
                value: Some(payload.clone()),
                headers: BTreeMap::new(),
                timestamp: chrono::Utc::now(),
            };
            producers[(i % producers.len() as u64) as usize].produce(record)
        })
        .buffer_unordered(in_flight);
    while let Some(r) = results.next().await {
        match r {
            Ok(_) => delivered += 1,
            Err(_) => failed += 1,
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    report(
        "produce",
        delivered,
        delivered * a.size as u64,
        secs,
        cpu0,
        &format!("failed={failed}"),
    );
    i32::from(failed > 0)
}

async fn consume(a: &Args) -> i32 {
    let client = ClientBuilder::new(a.brokers.split(',').map(String::from).collect())
        .build()
        .await
        .unwrap_or_else(|e| die("connect", e));
    let parts = partition_clients(&client, &a.topic).await;
    let wait = a.prop("fetch.wait.max.ms", 500) as i32;
    let streams = parts.iter().map(|pc| {
        StreamConsumerBuilder::new(Arc::clone(pc), StartOffset::Earliest)
            .with_max_wait_ms(wait)
            .build()
    });
    let mut all = stream::select_all(streams);
    let (mut got, mut bytes) = (0u64, 0u64);
    let (mut cpu0, mut t0) = ((0.0, 0.0), Instant::now());
    while got < a.count {
        match tokio::time::timeout(Duration::from_secs(60), all.next()).await {
            Err(_) => die("consume", "no message for 60 s"),
            Ok(None) => die("consume", "every partition stream ended"),
            Ok(Some(Err(e))) => die("consume", e),
            Ok(Some(Ok((r, _)))) => {
                if got == 0 {
                    // As in perf.c: the clock starts at the first message.
                    cpu0 = (cpu_s(), main_cpu_s());
                    t0 = Instant::now();
                }
                got += 1;
                bytes += r.record.value.map_or(0, |v| v.len() as u64);
            }
        }
    }
    report("consume", got, bytes, t0.elapsed().as_secs_f64(), cpu0, "");
    0
}

#[tokio::main]
async fn main() {
    let a = parse_args();
    let rc = match a.mode.as_str() {
        "produce" => produce(&a).await,
        "consume" => consume(&a).await,
        _ => usage(),
    };
    std::process::exit(rc)
}
