//! `mock-launcher group`: one librdkafka group member that only reports its assignment, so that
//! a test can check how a broker's group coordinator treats a third-party client (e.g. whether
//! three librdkafka members settle on tansu).

use std::io::Write;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::Opts;

/// Subscribes to `--topic` in `--group` with `--assignor`, polls for `--seconds` (consuming and
/// discarding messages), and prints `<seconds since start>\t<partitions>` whenever the
/// assignment changes, then `final\t<partitions>`.
pub fn cmd_group(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(
        args,
        &[
            "bootstrap",
            "topic",
            "group",
            "assignor",
            "seconds",
            "client-id",
        ],
        &[],
    )?;
    let seconds: u64 = o.num("seconds", Some(30))?;
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", o.required("bootstrap")?)
        .set("group.id", o.required("group")?)
        .set(
            "partition.assignment.strategy",
            o.get("assignor").unwrap_or("range"),
        )
        .set("client.id", o.get("client-id").unwrap_or("mock-launcher"))
        .set("session.timeout.ms", "6000")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .map_err(|e| format!("creating consumer: {e}"))?;
    consumer
        .subscribe(&[o.required("topic")?])
        .map_err(|e| format!("subscribe: {e}"))?;
    let start = Instant::now();
    let mut last: Option<Vec<i32>> = None;
    let mut out = std::io::stdout();
    let current = |c: &BaseConsumer| -> Vec<i32> {
        let mut v: Vec<i32> = c
            .assignment()
            .map(|l| l.elements().iter().map(|e| e.partition()).collect())
            .unwrap_or_default();
        v.sort_unstable();
        v
    };
    while start.elapsed() < Duration::from_secs(seconds) {
        let _ = consumer.poll(Duration::from_millis(100));
        let now = current(&consumer);
        if last.as_ref() != Some(&now) {
            writeln!(out, "{:.2}\t{now:?}", start.elapsed().as_secs_f64())
                .map_err(|e| e.to_string())?;
            out.flush().ok();
            last = Some(now);
        }
    }
    writeln!(out, "final\t{:?}", current(&consumer)).map_err(|e| e.to_string())?;
    Ok(())
}
