//! librdkafka's mock cluster in a `mock-launcher cluster` child process.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

use super::launcher::launcher_path;

/// A running librdkafka 2.12.1 mock cluster (brokers `1..=N` on 127.0.0.1).
///
/// Fault-injection methods send one line to the launcher and wait for its `ok` / `err ...`
/// answer, so the fault is in place when they return. The child is killed in `Drop`.
pub struct MockCluster {
    child: Child,
    io: Mutex<(ChildStdin, BufReader<ChildStdout>)>,
    bootstrap: String,
}

/// Options for [`MockCluster`]; start with [`MockCluster::builder`].
#[derive(Debug, Clone)]
pub struct MockClusterBuilder {
    brokers: usize,
    topics: Vec<(String, i32, i32)>,
    initial_rebalance_delay_ms: Option<u32>,
}

impl MockClusterBuilder {
    /// Adds a topic with `partitions` partitions and replication factor 1.
    pub fn topic(self, name: &str, partitions: i32) -> Self {
        self.topic_rf(name, partitions, 1)
    }

    /// Adds a topic with a replication factor (capped at the broker count by the mock).
    pub fn topic_rf(mut self, name: &str, partitions: i32, replication_factor: i32) -> Self {
        self.topics
            .push((name.to_string(), partitions, replication_factor));
        self
    }

    /// The mock's `group.initial.rebalance.delay.ms` (librdkafka's default is 3000 ms: the
    /// first JoinGroup of a new group waits that long). 0 makes group tests fast.
    pub fn initial_rebalance_delay_ms(mut self, ms: u32) -> Self {
        self.initial_rebalance_delay_ms = Some(ms);
        self
    }

    /// Spawns the launcher and waits for its `BROKERS=` line. Panics if it fails.
    pub fn start(self) -> MockCluster {
        let mut cmd = Command::new(launcher_path());
        cmd.arg("cluster")
            .arg("--brokers")
            .arg(self.brokers.to_string());
        for (name, p, rf) in &self.topics {
            cmd.arg("--topic").arg(format!("{name}:{p}:{rf}"));
        }
        if let Some(ms) = self.initial_rebalance_delay_ms {
            cmd.arg("--initial-rebalance-delay-ms").arg(ms.to_string());
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawning mock-launcher cluster");
        let stdin = child.stdin.take().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        let n = stdout.read_line(&mut line).unwrap_or(0);
        let bootstrap = match line.trim_end().strip_prefix("BROKERS=") {
            Some(b) if n > 0 => b.to_string(),
            _ => {
                let _ = child.kill();
                let status = child.wait();
                panic!("mock-launcher cluster did not start ({status:?}); first line: {line:?}");
            }
        };
        MockCluster {
            child,
            io: Mutex::new((stdin, stdout)),
            bootstrap,
        }
    }
}

impl MockCluster {
    /// Options: topics with replication factors, the initial rebalance delay.
    pub fn builder(brokers: usize) -> MockClusterBuilder {
        MockClusterBuilder {
            brokers,
            topics: Vec::new(),
            initial_rebalance_delay_ms: None,
        }
    }

    /// A cluster of `brokers` brokers with the given `(topic, partitions)` (RF 1).
    pub fn start(brokers: usize, topics: &[(&str, i32)]) -> MockCluster {
        topics
            .iter()
            .fold(Self::builder(brokers), |b, (t, p)| b.topic(t, *p))
            .start()
    }

    /// `host:port,host:port,...` for `bootstrap.servers`.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// Sends one raw command line (see `tests/mock-launcher/src/main.rs`) and returns the
    /// launcher's answer: `Ok(())` for `ok`, `Err(message)` for `err message`.
    pub fn command(&self, line: &str) -> Result<(), String> {
        assert!(!line.contains('\n'), "one command per line");
        let mut io = self.io.lock().unwrap_or_else(|e| e.into_inner());
        let (stdin, stdout) = &mut *io;
        writeln!(stdin, "{line}")
            .and_then(|_| stdin.flush())
            .map_err(|e| format!("writing to mock-launcher: {e}"))?;
        let mut answer = String::new();
        match stdout.read_line(&mut answer) {
            Ok(0) => Err("mock-launcher exited".to_string()),
            Ok(_) => match answer.trim_end() {
                "ok" => Ok(()),
                a => Err(a.strip_prefix("err ").unwrap_or(a).to_string()),
            },
            Err(e) => Err(format!("reading from mock-launcher: {e}")),
        }
    }

    /// Creates a topic (`rd_kafka_mock_topic_create`).
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i32,
    ) -> Result<(), String> {
        self.command(&format!(
            "create_topic {name} {partitions} {replication_factor}"
        ))
    }

    /// Disconnects broker `id` (1..=N, or -1 for all) and refuses new connections. No leader change.
    pub fn broker_down(&self, id: i32) -> Result<(), String> {
        self.command(&format!("broker_down {id}"))
    }

    /// Makes broker `id` accept connections again.
    pub fn broker_up(&self, id: i32) -> Result<(), String> {
        self.command(&format!("broker_up {id}"))
    }

    /// Moves the leadership of `topic`/`partition` to `broker_id` (-1: leader-less).
    pub fn set_leader(&self, topic: &str, partition: i32, broker_id: i32) -> Result<(), String> {
        self.command(&format!("leader {topic} {partition} {broker_id}"))
    }

    /// The next `codes.len()` requests with `api_key`, on any broker, fail with these error
    /// codes in order (-195 = `_TRANSPORT`: the broker disconnects instead).
    pub fn push_errors(&self, api_key: i16, codes: &[i16]) -> Result<(), String> {
        self.command(&format!("push_errors {api_key} {}", join(codes)))
    }

    /// Like [`push_errors`](Self::push_errors) for broker `broker_id` only (takes precedence).
    pub fn broker_push_errors(
        &self,
        broker_id: i32,
        api_key: i16,
        codes: &[i16],
    ) -> Result<(), String> {
        self.command(&format!(
            "broker_push_errors {broker_id} {api_key} {}",
            join(codes)
        ))
    }

    /// Per-broker errors each with a response delay: `(code, rtt_ms)`; code 0 only delays.
    pub fn broker_push_errors_rtt(
        &self,
        broker_id: i32,
        api_key: i16,
        errors: &[(i16, u32)],
    ) -> Result<(), String> {
        let list: Vec<String> = errors.iter().map(|(c, r)| format!("{c}@{r}")).collect();
        self.command(&format!(
            "broker_push_errors {broker_id} {api_key} {}",
            list.join(" ")
        ))
    }

    /// Makes `broker_id` the coordinator of consumer group `group_id`.
    pub fn set_coordinator(&self, group_id: &str, broker_id: i32) -> Result<(), String> {
        self.command(&format!("coordinator group {group_id} {broker_id}"))
    }

    /// Delays every response of broker `broker_id` (-1: all) by `ms` milliseconds.
    pub fn set_rtt(&self, broker_id: i32, ms: u32) -> Result<(), String> {
        self.command(&format!("rtt {broker_id} {ms}"))
    }
}

fn join(codes: &[i16]) -> String {
    codes
        .iter()
        .map(i16::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
