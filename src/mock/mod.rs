//! An in-process Kafka cluster for tests and demos, like librdkafka's mock cluster
//! (`rd_kafka_mock_cluster_new`): N brokers on loopback ports served by one thread, topics
//! auto-created with 4 partitions, produce/fetch/offsets/consumer groups/idempotent producers.
//!
//! ```no_run
//! let cluster = kafka::mock::MockCluster::new(3).unwrap();
//! let mut config = kafka::ClientConfig::new();
//! config.set("bootstrap.servers", cluster.bootstrap_servers()).unwrap();
//! ```
//!
//! Layers: `codec` (wire format), `cluster` (sans-IO state machine: connections, ordering,
//! parked requests) with its handlers in `topics`, `produce`, `fetch`, `group`, `offsets`;
//! `log` (one partition's batches); `server` (the mio thread).

mod cluster;
mod codec;
mod fetch;
mod group;
mod log;
mod offsets;
mod produce;
mod server;
mod topics;

#[cfg(test)]
mod tests;

use std::io;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;

use crate::{ClientConfig, ErrorCode, KafkaError};
use mio::{Poll, Waker};

use cluster::{BrokerAddr, Cluster, Settings};
use server::{Command, Server, WAKER};

/// Partitions of auto-created topics, as librdkafka's mock.
pub(crate) const DEFAULT_PARTITIONS: i32 = 4;
/// Kafka's (and librdkafka's mock's) `group.initial.rebalance.delay.ms`.
pub(crate) const DEFAULT_INITIAL_REBALANCE_DELAY: Duration = Duration::from_millis(3000);

/// A running mock cluster; dropping it stops the thread and closes every socket.
pub struct MockCluster {
    bootstrap: String,
    commands: Sender<Command>,
    waker: Arc<Waker>,
    thread: Option<JoinHandle<()>>,
}

impl MockCluster {
    /// Starts `brokers` brokers (ids 1..=N) on ephemeral 127.0.0.1 ports.
    pub fn new(brokers: usize) -> io::Result<Self> {
        if brokers == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a mock cluster needs at least one broker",
            ));
        }
        let bound = server::bind(brokers)?;
        let addrs: Vec<BrokerAddr> = bound
            .iter()
            .enumerate()
            .map(|(i, (_, a))| BrokerAddr {
                id: i as i32 + 1,
                host: a.ip().to_string(),
                port: a.port(),
            })
            .collect();
        let bootstrap = addrs
            .iter()
            .map(|a| format!("{}:{}", a.host, a.port))
            .collect::<Vec<_>>()
            .join(",");
        let settings = Settings {
            cluster_id: format!("mockCluster{:x}", addrs[0].port),
            brokers: addrs,
            default_partitions: DEFAULT_PARTITIONS,
            default_replication: brokers.min(3) as i32,
            initial_rebalance_delay: DEFAULT_INITIAL_REBALANCE_DELAY,
        };
        let poll = Poll::new()?;
        let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
        let (tx, rx) = crossbeam_channel::unbounded();
        let listeners = bound
            .into_iter()
            .enumerate()
            .map(|(i, (l, _))| (i as i32 + 1, l))
            .collect();
        let server = Server::new(poll, listeners, Cluster::new(settings), rx)?;
        let thread = std::thread::Builder::new()
            .name("kafka-mock".into())
            .spawn(move || server.run())?;
        Ok(MockCluster {
            bootstrap,
            commands: tx,
            waker,
            thread: Some(thread),
        })
    }

    /// `host:port` of every broker, comma-separated: a `bootstrap.servers` value.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    /// Creates a topic; the error is the Kafka error code (TOPIC_ALREADY_EXISTS, ...).
    pub fn create_topic(&self, name: &str, partitions: i32, replication: i32) -> Result<(), i16> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.send(Command::CreateTopic {
            name: name.to_string(),
            partitions,
            replication,
            reply,
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(0) => Ok(()),
            Ok(code) => Err(code),
            Err(_) => Err(-1),
        }
    }

    /// Sets how long the first JoinGroup of an empty group waits for more members (3 s).
    pub fn set_initial_rebalance_delay(&self, delay: Duration) {
        self.send(Command::InitialRebalanceDelay(delay));
    }

    fn send(&self, cmd: Command) {
        let _ = self.commands.send(cmd);
        let _ = self.waker.wake();
    }
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        self.send(Command::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::fmt::Debug for MockCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockCluster")
            .field("bootstrap", &self.bootstrap)
            .finish()
    }
}

/// `test.mock.num.brokers`: above 0, a mock cluster of that many brokers for one client, and the
/// client's configuration with `bootstrap.servers` (and `security.protocol`) replaced by the
/// cluster's, as librdkafka does. `None` when the property is 0.
pub(crate) fn for_config(
    config: &ClientConfig,
) -> crate::Result<Option<(MockCluster, ClientConfig)>> {
    let brokers: usize = config.get_str("test.mock.num.brokers").parse().unwrap_or(0);
    if brokers == 0 {
        return Ok(None);
    }
    let fail = |e: &dyn std::fmt::Display| {
        KafkaError::new(
            ErrorCode::L_FAIL,
            format!("Failed to create mock cluster: {e}"),
        )
    };
    let cluster = MockCluster::new(brokers).map_err(|e| fail(&e))?;
    let mut config = config.clone();
    config
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .and_then(|c| c.set("security.protocol", "plaintext"))
        .map_err(|e| fail(&e))?;
    Ok(Some((cluster, config)))
}
