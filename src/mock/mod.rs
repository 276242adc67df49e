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
mod faults;
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

/// A running mock cluster; dropping it (its last clone) stops the thread and closes every socket.
/// Clones share the cluster: it stops when the last one is dropped.
#[derive(Clone)]
pub struct MockCluster {
    inner: Arc<Inner>,
}

/// What the clones share; dropping it stops the thread.
struct Inner {
    bootstrap: String,
    commands: Sender<Command>,
    waker: Waker,
    thread: Option<JoinHandle<()>>,
}

/// A handle on a cluster that does not keep it running (see [`MockCluster::downgrade`]).
#[derive(Clone, Debug)]
pub struct WeakMockCluster(std::sync::Weak<Inner>);

impl WeakMockCluster {
    /// The cluster, if it still runs.
    pub fn upgrade(&self) -> Option<MockCluster> {
        self.0.upgrade().map(|inner| MockCluster { inner })
    }
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
        let waker = Waker::new(poll.registry(), WAKER)?;
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
            inner: Arc::new(Inner {
                bootstrap,
                commands: tx,
                waker,
                thread: Some(thread),
            }),
        })
    }

    /// A handle that does not keep the cluster running.
    pub fn downgrade(&self) -> WeakMockCluster {
        WeakMockCluster(Arc::downgrade(&self.inner))
    }

    /// `host:port` of every broker, comma-separated: a `bootstrap.servers` value.
    pub fn bootstrap_servers(&self) -> &str {
        &self.inner.bootstrap
    }

    /// Runs `f` on the cluster's thread and returns its result (`None` if the thread is gone).
    fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Cluster) -> T + Send + 'static,
    ) -> Option<T> {
        let (reply, rx) = crossbeam_channel::bounded(1);
        self.send(Command::Run(Box::new(move |c| {
            let _ = reply.send(f(c));
        })));
        rx.recv_timeout(Duration::from_secs(10)).ok()
    }

    /// Creates a topic (`replication` capped at the broker count), as
    /// `rd_kafka_mock_topic_create`: `TOPIC_ALREADY_EXISTS`, or Kafka's error for a bad name or count.
    pub fn create_topic(
        &self,
        name: &str,
        partitions: i32,
        replication: i32,
    ) -> Result<(), ErrorCode> {
        let name = name.to_string();
        let r = self.run(move |c| c.create_topic(&name, partitions, replication));
        code_result(r.map(|r| r.err().unwrap_or(0)))
    }

    /// Sets how long the first JoinGroup of an empty group waits for more members (3 s).
    pub fn set_initial_rebalance_delay(&self, delay: Duration) {
        self.run(move |c| c.set_initial_rebalance_delay(delay));
    }

    /// Closes broker `id`'s connections and refuses new ones until [`MockCluster::broker_up`];
    /// leadership stays (`rd_kafka_mock_broker_set_down`). `_UNKNOWN_BROKER` for a bad id.
    pub fn broker_down(&self, id: i32) -> Result<(), ErrorCode> {
        self.broker_state(id, false)
    }

    /// Lets broker `id` accept connections again.
    pub fn broker_up(&self, id: i32) -> Result<(), ErrorCode> {
        self.broker_state(id, true)
    }

    fn broker_state(&self, id: i32, up: bool) -> Result<(), ErrorCode> {
        match self.run(move |c| c.set_broker_up(id, up)) {
            Some(true) => Ok(()),
            Some(false) => Err(ErrorCode::L_UNKNOWN_BROKER),
            None => Err(ErrorCode::L_FAIL),
        }
    }

    /// Moves `topic` [`partition`]'s leadership to broker `id` (-1: leaderless), creating the
    /// topic if needed (`rd_kafka_mock_partition_set_leader`).
    pub fn partition_leader(&self, topic: &str, partition: i32, id: i32) -> Result<(), ErrorCode> {
        let topic = topic.to_string();
        let r = self.run(move |c| c.set_leader(&topic, partition, id));
        code_result(r.map(|r| r.err().unwrap_or(0)))
    }

    /// Pins the coordinator of a group (`key_type` 0) or transactional id (1) to broker `id`
    /// (`rd_kafka_mock_coordinator_set`).
    pub fn set_coordinator(&self, key_type: i8, key: &str, id: i32) {
        let key = key.to_string();
        self.run(move |c| {
            c.coordinator.pinned.insert((key_type, key), id);
        });
    }

    /// Makes Metadata report `code` for `topic` (0 clears it; `rd_kafka_mock_topic_set_error`).
    pub fn topic_error(&self, topic: &str, code: ErrorCode) {
        let topic = topic.to_string();
        self.run(move |c| {
            if code.0 == 0 {
                c.faults.topic_errors.remove(&topic);
            } else {
                c.faults.topic_errors.insert(topic, code.0 as i16);
            }
        });
    }

    /// The next requests of API `api_key` (any broker) fail with `errors`, in order, without
    /// being executed; `_TRANSPORT` closes the connection (`rd_kafka_mock_push_request_errors`).
    pub fn push_request_errors(&self, api_key: i16, errors: &[ErrorCode]) {
        let errors: Vec<i16> = errors.iter().map(|e| e.0 as i16).collect();
        self.run(move |c| c.faults.push(api_key, &errors));
    }

    /// Delays every response of broker `id` by `rtt` (`-1`: every broker), as
    /// `rd_kafka_mock_broker_set_rtt`. `_UNKNOWN_BROKER` for a bad id.
    pub fn broker_rtt(&self, id: i32, rtt: Duration) -> Result<(), ErrorCode> {
        let r = self.run(move |c| {
            let ids = c.broker_ids();
            if id != -1 && !ids.contains(&id) {
                return false;
            }
            for b in ids.into_iter().filter(|&b| id == -1 || b == id) {
                c.faults.rtt.insert(b, rtt);
            }
            true
        });
        match r {
            Some(true) => Ok(()),
            Some(false) => Err(ErrorCode::L_UNKNOWN_BROKER),
            None => Err(ErrorCode::L_FAIL),
        }
    }

    /// How many errors are still queued for API `api_key`.
    pub fn queued_request_errors(&self, api_key: i16) -> usize {
        self.run(move |c| c.faults.queued(api_key)).unwrap_or(0)
    }

    /// Drops the errors still queued for API `api_key`.
    pub fn clear_request_errors(&self, api_key: i16) {
        self.run(move |c| c.faults.clear(api_key));
    }

    fn send(&self, cmd: Command) {
        self.inner.send(cmd);
    }
}

/// A Kafka error code from the cluster thread as a result (`_FAIL` when the thread is gone).
fn code_result(code: Option<i16>) -> Result<(), ErrorCode> {
    match code {
        Some(0) => Ok(()),
        Some(c) => Err(ErrorCode(i32::from(c))),
        None => Err(ErrorCode::L_FAIL),
    }
}

impl Inner {
    fn send(&self, cmd: Command) {
        let _ = self.commands.send(cmd);
        let _ = self.waker.wake();
    }
}

impl Drop for Inner {
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
            .field("bootstrap", &self.inner.bootstrap)
            .finish()
    }
}

/// `test.mock.num.brokers`: above 0, a mock cluster of that many brokers for one client (with
/// `test.mock.broker.rtt` on every broker), and the client's configuration with
/// `bootstrap.servers` (and `security.protocol`) replaced by the cluster's, as librdkafka does.
/// `None` when the property is 0.
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
    let rtt: u64 = config.get_str("test.mock.broker.rtt").parse().unwrap_or(0);
    if rtt > 0 {
        cluster
            .broker_rtt(-1, Duration::from_millis(rtt))
            .map_err(|e| fail(&e))?;
    }
    let mut config = config.clone();
    config
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .and_then(|c| c.set("security.protocol", "plaintext"))
        .map_err(|e| fail(&e))?;
    Ok(Some((cluster, config)))
}
