//! Runs librskafka's in-process mock cluster until stdin closes, for third-party clients.
//!
//! `cargo run --example mock_cluster -- [--brokers N] [--topic NAME:PARTITIONS[:RF]]...
//! [--initial-rebalance-delay-ms MS]` prints `BROKERS=127.0.0.1:p1,...` and then serves.

use std::io::Read;
use std::time::Duration;

use kafka::mock::MockCluster;

fn main() {
    let mut brokers = 3usize;
    let mut topics = Vec::new();
    let mut delay = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--brokers" => brokers = value().parse().unwrap_or_else(|_| usage("bad --brokers")),
            "--topic" => topics.push(value()),
            "--initial-rebalance-delay-ms" => {
                delay = Some(value().parse().unwrap_or_else(|_| usage("bad delay")))
            }
            _ => usage(&format!("unknown argument {arg}")),
        }
    }
    let cluster = MockCluster::new(brokers).unwrap_or_else(|e| {
        eprintln!("mock_cluster: {e}");
        std::process::exit(1);
    });
    if let Some(ms) = delay {
        cluster.set_initial_rebalance_delay(Duration::from_millis(ms));
    }
    for t in &topics {
        let mut parts = t.split(':');
        let name = parts.next().unwrap_or_default();
        let partitions = parts.next().and_then(|p| p.parse().ok()).unwrap_or(4);
        let rf = parts.next().and_then(|p| p.parse().ok()).unwrap_or(1);
        if let Err(code) = cluster.create_topic(name, partitions, rf) {
            eprintln!("mock_cluster: creating {name} failed with error {code}");
            std::process::exit(1);
        }
    }
    println!("BROKERS={}", cluster.bootstrap_servers());
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
}

fn usage(msg: &str) -> ! {
    eprintln!("mock_cluster: {msg}");
    eprintln!("usage: mock_cluster [--brokers N] [--topic NAME:PARTITIONS[:RF]]... [--initial-rebalance-delay-ms MS]");
    std::process::exit(2);
}
