//! The Rust producer API with librdkafka's semantics: `send` never blocks unless asked, delivery
//! reports are served by `poll` (or through a waitable handle), `flush` waits for all of them.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::{Bytes, BytesMut};
use crossbeam_channel::{Receiver, RecvTimeoutError};

use crate::config::{ClientConfig, ProducerSettings};
use crate::engine::group_list::{groups_result, GroupsResult};
use crate::engine::metadata_query::MetadataScope;
use crate::engine::offsets_for_times::{times_result, TimesResult};
use crate::engine::producer::{ProduceRecord, ProducerCommand, ProducerEngine, ProducerOutput};
pub use crate::engine::stats::Throttle;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::metadata::{GroupInfo, Metadata};
use crate::runtime::event_loop::{self, EngineThread};
use crate::topic_partition::TopicPartition;

pub use crate::engine::producer::DeliveryReport;

/// A message to send. Borrowed data is copied once, into one buffer, when it is sent.
#[derive(Clone, Debug)]
pub struct Record<'a> {
    /// Topic name.
    pub topic: &'a str,
    /// Partition, or `None` to let the partitioner choose.
    pub partition: Option<i32>,
    /// Key.
    pub key: Option<&'a [u8]>,
    /// Value (payload).
    pub value: Option<&'a [u8]>,
    /// Headers in order; duplicate names are kept.
    pub headers: Vec<(&'a str, Option<&'a [u8]>)>,
    /// Timestamp in milliseconds since the epoch; `None` is now.
    pub timestamp: Option<i64>,
    /// A value handed back in the delivery report.
    pub opaque: usize,
}

impl<'a> Record<'a> {
    /// A record for `topic` with no key, value or headers.
    pub fn to(topic: &'a str) -> Self {
        Record {
            topic,
            partition: None,
            key: None,
            value: None,
            headers: Vec::new(),
            timestamp: None,
            opaque: 0,
        }
    }
    /// Sets the key.
    pub fn key(mut self, key: &'a [u8]) -> Self {
        self.key = Some(key);
        self
    }
    /// Sets the value.
    pub fn value(mut self, value: &'a [u8]) -> Self {
        self.value = Some(value);
        self
    }
    /// Sets the partition.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }
    /// Adds a header.
    pub fn header(mut self, name: &'a str, value: Option<&'a [u8]>) -> Self {
        self.headers.push((name, value));
        self
    }
    /// Sets the timestamp (ms since the epoch).
    pub fn timestamp(mut self, ts: i64) -> Self {
        self.timestamp = Some(ts);
        self
    }
    /// Sets the opaque value of the delivery report.
    pub fn opaque(mut self, opaque: usize) -> Self {
        self.opaque = opaque;
        self
    }
}

/// Called from `poll` for each delivery report (librdkafka's `dr_msg_cb`).
pub type DeliveryCallback = Box<dyn FnMut(&DeliveryReport) + Send>;
/// Called from `poll` with each batch of delivery reports, which it takes over (the C ABI's
/// queue: no copy per report).
pub(crate) type DeliveryBatchCallback = Box<dyn FnMut(Vec<DeliveryReport>) + Send>;
/// Called from `poll` for client-level errors (librdkafka's `error_cb`).
pub type ErrorCallback = Box<dyn FnMut(&KafkaError) + Send>;
/// Called from `poll` with each statistics document (librdkafka's JSON, `statistics.interval.ms`).
pub type StatsCallback = Box<dyn FnMut(&str) + Send>;
/// Called from `poll` when a broker throttles the client, and once when throttling ends.
pub type ThrottleCallback = Box<dyn FnMut(&Throttle) + Send>;

/// The delivery report of one message, to wait for.
pub struct DeliveryFuture {
    rx: Receiver<DeliveryReport>,
}

impl DeliveryFuture {
    /// Waits up to `timeout` for the report.
    pub fn wait(&self, timeout: Duration) -> Result<DeliveryReport> {
        self.rx.recv_timeout(timeout).map_err(|e| match e {
            RecvTimeoutError::Timeout => KafkaError::new(
                ErrorCode::L_TIMED_OUT,
                "Timed out waiting for the delivery report",
            ),
            RecvTimeoutError::Disconnected => {
                KafkaError::new(ErrorCode::L_DESTROY, "The producer was destroyed")
            }
        })
    }
}

/// Messages' keys and values are copied into shared chunks of this size (larger ones get their
/// own buffer): no allocation per message, and one reference count per chunk, touched only by
/// the application's threads (the engine thread moves the buffers, never clones them).
const PAYLOAD_CHUNK: usize = 64 * 1024;

/// Per-producer state `send` reuses between messages.
#[derive(Default)]
struct Staging {
    /// The last topic name sent, shared with the engine so a message carries no name copy.
    topic: Option<Arc<str>>,
    /// The chunk keys and values are copied into.
    chunk: BytesMut,
    /// Partition counts of the topics the engine has metadata for.
    partition_counts: std::collections::HashMap<String, i32>,
}

impl Staging {
    fn topic_arc(&mut self, name: &str) -> Arc<str> {
        match &self.topic {
            Some(t) if &**t == name => t.clone(),
            _ => {
                let t: Arc<str> = Arc::from(name);
                self.topic = Some(t.clone());
                t
            }
        }
    }

    /// Copies key and value into the current chunk (a new one when it is full).
    fn copy(&mut self, key: Option<&[u8]>, value: Option<&[u8]>) -> (Option<Bytes>, Option<Bytes>) {
        let (k, v) = (key.unwrap_or_default(), value.unwrap_or_default());
        let len = k.len() + v.len();
        if len == 0 {
            return (key.map(|_| Bytes::new()), value.map(|_| Bytes::new()));
        }
        if len > PAYLOAD_CHUNK / 8 {
            let own = |b: &[u8]| Bytes::from(b.to_vec());
            return (key.map(own), value.map(own));
        }
        if self.chunk.capacity() - self.chunk.len() < len {
            self.chunk = BytesMut::with_capacity(PAYLOAD_CHUNK);
        }
        self.chunk.extend_from_slice(k);
        let key_part = self.chunk.split().freeze();
        self.chunk.extend_from_slice(v);
        let value_part = self.chunk.split().freeze();
        (key.map(|_| key_part), value.map(|_| value_part))
    }
}

/// A Kafka producer backed by one engine thread.
pub struct Producer {
    pub(crate) engine: EngineThread<ProducerCommand>,
    thread: Mutex<Option<JoinHandle<()>>>,
    outputs: Receiver<ProducerOutput>,
    /// Messages sent and not yet reported to the application (librdkafka's `outq_len`).
    queued: AtomicUsize,
    queued_bytes: AtomicUsize,
    max_messages: usize,
    max_bytes: usize,
    message_max_bytes: usize,
    dr_cb: Mutex<Option<DeliveryCallback>>,
    dr_batch_cb: Mutex<Option<DeliveryBatchCallback>>,
    error_cb: Mutex<Option<ErrorCallback>>,
    stats_cb: Mutex<Option<StatsCallback>>,
    throttle_cb: Mutex<Option<ThrottleCallback>>,
    /// librdkafka's instance name (`<client.id>#producer-<n>`).
    name: String,
    closed: AtomicBool,
    /// What `send` reuses from one message to the next (the application's threads only).
    staging: Mutex<Staging>,
    /// The transaction state (`transactional.id` set), written by the engine.
    pub(crate) txn_state: Option<Arc<std::sync::atomic::AtomicU8>>,
    /// `transaction.timeout.ms`: caps an infinite `init_transactions` wait at twice this.
    pub(crate) txn_timeout: Duration,
    /// The mock cluster `test.mock.num.brokers` started; dropped after the engine stopped.
    _mock: Option<crate::mock::MockCluster>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Producer {
    /// Creates a producer and starts its engine thread.
    pub fn new(config: &ClientConfig) -> Result<Producer> {
        let (mock, mocked) = crate::mock::for_config(config)?.unzip();
        let config = mocked.as_ref().unwrap_or(config);
        let s = ProducerSettings::from_config(config).map_err(KafkaError::from)?;
        let debug = !config.get_str("debug").is_empty();
        let max_messages = s.queue_buffering_max_messages.max(1) as usize;
        let max_bytes = (s.queue_buffering_max_kbytes.max(1) as usize) * 1024;
        let message_max_bytes = s.message_max_bytes.max(1) as usize;
        let batch_msgs = (s.batch_num_messages.max(1) as usize).min(max_messages / 2);
        let batch_bytes = (s.batch_size.max(1) as usize).min(max_bytes / 2);
        let name = crate::engine::stats::client_name(&s.client_id, "producer");
        let txn_timeout = s.transaction_timeout;
        let engine = ProducerEngine::new(s, name.clone(), debug, Instant::now())?;
        let txn_state = engine.txn_shared();
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut engine = event_loop::spawn(engine, tx, "rskafka-producer".into()).map_err(|e| {
            KafkaError::new(
                ErrorCode::L_FAIL,
                format!("Failed to start the engine thread: {e}"),
            )
        })?;
        engine.set_lazy_limits(batch_msgs, batch_bytes);
        let thread = engine.thread.take();
        Ok(Producer {
            engine,
            thread: Mutex::new(thread),
            outputs: rx,
            queued: AtomicUsize::new(0),
            queued_bytes: AtomicUsize::new(0),
            max_messages,
            max_bytes,
            message_max_bytes,
            dr_cb: Mutex::new(None),
            dr_batch_cb: Mutex::new(None),
            error_cb: Mutex::new(None),
            stats_cb: Mutex::new(None),
            throttle_cb: Mutex::new(None),
            name,
            closed: AtomicBool::new(false),
            staging: Mutex::new(Staging::default()),
            txn_state,
            txn_timeout,
            _mock: mock,
        })
    }

    /// The mock cluster `test.mock.num.brokers` started for this client (rust-rdkafka's
    /// `Client::mock_cluster`, librdkafka's `rd_kafka_handle_mock_cluster`).
    pub fn mock_cluster(&self) -> Option<&crate::mock::MockCluster> {
        self._mock.as_ref()
    }

    /// Sets the delivery report callback, called from `poll`.
    pub fn set_delivery_callback(&self, cb: DeliveryCallback) {
        *lock(&self.dr_cb) = Some(cb);
    }

    /// Sets a callback that takes each batch of reports whole; it replaces the per-report
    /// delivery callback.
    #[cfg(feature = "capi")]
    pub(crate) fn set_delivery_batch_callback(&self, cb: DeliveryBatchCallback) {
        *lock(&self.dr_batch_cb) = Some(cb);
    }

    /// Sets the error callback, called from `poll`.
    pub fn set_error_callback(&self, cb: ErrorCallback) {
        *lock(&self.error_cb) = Some(cb);
    }

    /// Sets the statistics callback, called from `poll` every `statistics.interval.ms` with a
    /// JSON document in librdkafka's format.
    pub fn set_stats_callback(&self, cb: StatsCallback) {
        *lock(&self.stats_cb) = Some(cb);
    }

    /// Sets the throttle callback, called from `poll` with brokers' Produce throttle times.
    pub fn set_throttle_callback(&self, cb: ThrottleCallback) {
        *lock(&self.throttle_cb) = Some(cb);
    }

    /// librdkafka's instance name: `<client.id>#producer-<n>` (the statistics' `name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    fn make(
        &self,
        rec: &Record<'_>,
        reply: Option<crossbeam_channel::Sender<DeliveryReport>>,
    ) -> Result<(ProduceRecord, usize)> {
        let klen = rec.key.map_or(0, <[u8]>::len);
        let vlen = rec.value.map_or(0, <[u8]>::len);
        let size = max_record_size(rec);
        if size > self.message_max_bytes {
            return Err(KafkaError::new(
                ErrorCode::MSG_SIZE_TOO_LARGE,
                format!(
                    "Message size {size} exceeds message.max.bytes {}",
                    self.message_max_bytes
                ),
            ));
        }
        let unknown_partition =
            || KafkaError::new(ErrorCode::L_UNKNOWN_PARTITION, "Local: Unknown partition");
        if rec.partition.is_some_and(|p| p < 0) {
            return Err(unknown_partition());
        }
        let (topic, key, value) = {
            let mut st = lock(&self.staging);
            if let Some(p) = rec.partition {
                if st.partition_counts.get(rec.topic).is_some_and(|n| p >= *n) {
                    return Err(unknown_partition());
                }
            }
            let topic = st.topic_arc(rec.topic);
            let (key, value) = st.copy(rec.key, rec.value);
            (topic, key, value)
        };
        let headers = rec
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    Bytes::copy_from_slice(k.as_bytes()),
                    v.map(Bytes::copy_from_slice),
                )
            })
            .collect();
        let r = ProduceRecord {
            topic,
            partition: rec.partition.unwrap_or(-1),
            key,
            value,
            headers,
            timestamp: rec.timestamp.filter(|t| *t > 0).unwrap_or_else(now_ms),
            opaque: rec.opaque,
            reply,
            enqueued: Instant::now(),
        };
        Ok((r, klen + vlen))
    }

    fn reserve(&self, bytes: usize) -> bool {
        let n = self.queued.fetch_add(1, Ordering::AcqRel);
        let b = self.queued_bytes.fetch_add(bytes, Ordering::AcqRel);
        if n >= self.max_messages || b + bytes > self.max_bytes {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
            return false;
        }
        true
    }

    fn submit(&self, r: ProduceRecord, bytes: usize, block: Option<Duration>) -> Result<()> {
        self.check_txn_produce()?;
        let deadline = block.map(|b| Instant::now() + b);
        while !self.reserve(bytes) {
            match deadline {
                Some(d) if Instant::now() < d => {
                    self.poll(Duration::from_millis(10));
                }
                _ => {
                    return Err(KafkaError::new(
                        ErrorCode::L_QUEUE_FULL,
                        "Local: Queue full",
                    ))
                }
            }
        }
        if !self
            .engine
            .send_lazy(ProducerCommand::Produce(r), bytes + RECORD_OVERHEAD)
        {
            self.queued.fetch_sub(1, Ordering::AcqRel);
            self.queued_bytes.fetch_sub(bytes, Ordering::AcqRel);
            return Err(KafkaError::new(
                ErrorCode::L_DESTROY,
                "The producer's engine thread has stopped",
            ));
        }
        Ok(())
    }

    /// Queues a message; its delivery report comes through the delivery callback from `poll`.
    /// Fails at once with `_QUEUE_FULL` when `queue.buffering.max.messages`/`.kbytes` is reached,
    /// and with `MSG_SIZE_TOO_LARGE` above `message.max.bytes`.
    pub fn send(&self, rec: &Record<'_>) -> Result<()> {
        let (r, bytes) = self.make(rec, None)?;
        self.submit(r, bytes, None)
    }

    /// Like `send`, but waits up to `timeout` for room in a full queue (serving delivery reports
    /// meanwhile), like librdkafka's `RD_KAFKA_MSG_F_BLOCK`.
    pub fn send_blocking(&self, rec: &Record<'_>, timeout: Duration) -> Result<()> {
        let (r, bytes) = self.make(rec, None)?;
        self.submit(r, bytes, Some(timeout))
    }

    /// Queues a message and returns a handle to wait for its delivery report (which then does not
    /// go to the delivery callback).
    pub fn send_with_handle(&self, rec: &Record<'_>) -> Result<DeliveryFuture> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let (r, bytes) = self.make(rec, Some(tx))?;
        self.submit(r, bytes, None)?;
        Ok(DeliveryFuture { rx })
    }

    /// Serves delivery reports and errors for up to `timeout`; returns how many reports it served.
    pub fn poll(&self, timeout: Duration) -> usize {
        let deadline = Instant::now() + timeout;
        let mut served = 0;
        loop {
            let out = match self.outputs.try_recv() {
                Ok(o) => o,
                Err(_) if served > 0 => return served,
                Err(_) => match self.outputs.recv_deadline(deadline) {
                    Ok(o) => o,
                    Err(_) => return served,
                },
            };
            match out {
                ProducerOutput::Reports { chunks, silent } => {
                    let mut total = 0;
                    for reports in chunks {
                        let bytes: usize = reports
                            .iter()
                            .map(|r| {
                                r.key.as_ref().map_or(0, Bytes::len)
                                    + r.value.as_ref().map_or(0, Bytes::len)
                            })
                            .sum();
                        let n = reports.len();
                        if let Some(cb) = lock(&self.dr_batch_cb).as_mut() {
                            cb(reports);
                        } else if let Some(cb) = lock(&self.dr_cb).as_mut() {
                            for r in &reports {
                                cb(r);
                            }
                        }
                        total += n;
                        self.queued.fetch_sub(n, Ordering::AcqRel);
                        // Silent reports' bytes are not known here; the byte bound is advisory
                        // for them.
                        self.queued_bytes.fetch_sub(
                            bytes.min(self.queued_bytes.load(Ordering::Acquire)),
                            Ordering::AcqRel,
                        );
                    }
                    served += total;
                    self.queued.fetch_sub(silent, Ordering::AcqRel);
                    if silent > 0 && self.queued.load(Ordering::Acquire) == 0 {
                        self.queued_bytes.store(0, Ordering::Release);
                    }
                }
                ProducerOutput::Error(e) => {
                    if let Some(cb) = lock(&self.error_cb).as_mut() {
                        cb(&e);
                    }
                }
                ProducerOutput::Stats(json) => {
                    if let Some(cb) = lock(&self.stats_cb).as_mut() {
                        cb(&json);
                    }
                }
                ProducerOutput::PartitionCount(topic, n) => {
                    lock(&self.staging).partition_counts.insert(topic, n);
                }
                ProducerOutput::Throttle(t) => {
                    if let Some(cb) = lock(&self.throttle_cb).as_mut() {
                        cb(&t);
                    }
                }
            }
        }
    }

    /// Messages not yet reported: queued, in flight, or with a report waiting to be served.
    pub fn in_flight_count(&self) -> usize {
        self.queued.load(Ordering::Acquire)
    }

    /// Sends everything now and serves reports until none is outstanding, or fails with
    /// `_TIMED_OUT`.
    pub fn flush(&self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        self.engine.send(ProducerCommand::Flush);
        while self.in_flight_count() > 0 {
            let now = Instant::now();
            if now >= deadline {
                return Err(KafkaError::new(
                    ErrorCode::L_TIMED_OUT,
                    format!(
                        "Flush timed out with {} messages outstanding",
                        self.in_flight_count()
                    ),
                ));
            }
            self.poll((deadline - now).min(Duration::from_millis(100)));
            self.engine.send(ProducerCommand::Flush);
        }
        Ok(())
    }

    /// Fails queued messages (`_PURGE_QUEUE`) and, with `in_flight`, those waiting for a broker's
    /// answer (`_PURGE_INFLIGHT`); their reports come from `poll`.
    pub fn purge(&self, queued: bool, in_flight: bool) -> Result<()> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if !self.engine.send(ProducerCommand::Purge {
            queued,
            in_flight,
            reply: tx,
        }) {
            return Err(KafkaError::new(
                ErrorCode::L_DESTROY,
                "The producer's engine thread has stopped",
            ));
        }
        rx.recv().unwrap_or_else(|_| {
            Err(KafkaError::new(
                ErrorCode::L_DESTROY,
                "The producer's engine thread has stopped",
            ))
        })
    }

    /// Cluster metadata from a fresh Metadata request: brokers and one topic, or every topic.
    pub fn fetch_metadata(&self, topic: Option<&str>, timeout: Duration) -> Result<Metadata> {
        self.metadata_query(MetadataScope::of(topic), timeout)
    }

    /// Cluster metadata for exactly `topics` (none: brokers only).
    pub fn fetch_metadata_of(&self, topics: &[&str], timeout: Duration) -> Result<Metadata> {
        let t = topics.iter().map(|t| t.to_string()).collect();
        self.metadata_query(MetadataScope::Topics(t), timeout)
    }

    /// The controller's broker id and the cluster id, from cached metadata or, before any,
    /// from the first Metadata response within `timeout`.
    pub fn cluster_info(&self, timeout: Duration) -> Result<(i32, Option<String>)> {
        let m = self.metadata_query(MetadataScope::Cached, timeout)?;
        Ok((m.controller_id, m.cluster_id))
    }

    /// For each partition, the offset of its first message with a timestamp at or after the
    /// one given as the partition's `offset` (ms since the epoch; -1 past the last message).
    /// The first partition error fails the call, as in librdkafka.
    pub fn offsets_for_times(
        &self,
        partitions: &[TopicPartition],
        timeout: Duration,
    ) -> Result<Vec<TopicPartition>> {
        times_result(self.offsets_for_times_raw(partitions, timeout)?)
    }

    /// `offsets_for_times` with librdkafka's outcome: the call's error and the list as left.
    pub(crate) fn offsets_for_times_raw(
        &self,
        partitions: &[TopicPartition],
        timeout: Duration,
    ) -> Result<TimesResult> {
        let partitions = partitions.to_vec();
        self.engine_call(|reply| ProducerCommand::OffsetsForTimes {
            partitions,
            timeout,
            reply,
        })
    }

    /// The consumer groups the brokers coordinate (`group`, or all) with their members, from
    /// ListGroups to every broker and DescribeGroups. An error if a broker failed or did not
    /// answer within `timeout`.
    pub fn list_groups(&self, group: Option<&str>, timeout: Duration) -> Result<Vec<GroupInfo>> {
        groups_result(self.list_groups_raw(group, timeout)?)
    }

    /// `list_groups` with librdkafka's outcome: the call's error (`_PARTIAL` with what was
    /// found when some brokers did not answer in time) and the groups.
    pub(crate) fn list_groups_raw(
        &self,
        group: Option<&str>,
        timeout: Duration,
    ) -> Result<GroupsResult> {
        let group = group.map(str::to_string);
        self.engine_call(|reply| ProducerCommand::ListGroups {
            group,
            timeout,
            reply,
        })
    }

    fn metadata_query(&self, scope: MetadataScope, timeout: Duration) -> Result<Metadata> {
        self.engine_call(|reply| ProducerCommand::Metadata {
            scope,
            timeout,
            reply,
        })
    }

    /// Sends a command with a reply channel and waits for the answer.
    fn engine_call<T>(
        &self,
        cmd: impl FnOnce(crate::engine::channel::Reply<T>) -> ProducerCommand,
    ) -> Result<T> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if !self.engine.send(cmd(tx)) {
            return Err(KafkaError::new(
                ErrorCode::L_DESTROY,
                "The producer's engine thread has stopped",
            ));
        }
        rx.recv().unwrap_or_else(|_| {
            Err(KafkaError::new(
                ErrorCode::L_DESTROY,
                "The producer's engine thread has stopped",
            ))
        })
    }

    /// Stops the engine: queued messages are purged (call `flush` first to deliver them) and
    /// in-flight requests are answered first. Called by `Drop`.
    pub fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let _ = self.purge(true, false);
        let (tx, rx) = crossbeam_channel::bounded(1);
        if self.engine.send(ProducerCommand::Close(tx)) {
            let _ = rx.recv_timeout(Duration::from_secs(30));
        }
        if let Some(t) = lock(&self.thread).take() {
            let _ = t.join();
        }
        self.poll(Duration::ZERO);
        Ok(())
    }
}

impl Drop for Producer {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// Bytes a record adds to a batch beyond its key and value, roughly (for waking a lingering
/// engine when a batch's worth of messages waits unseen).
const RECORD_OVERHEAD: usize = 16;

/// The largest size `rec` can take in a record batch, as librdkafka estimates it when checking
/// `message.max.bytes`: key, value, serialized headers, and the record fields' widest varints.
fn max_record_size(rec: &Record<'_>) -> usize {
    /// Length, attributes, timestamp and offset deltas, key and value lengths, header count.
    const RECORD_MAX_OVERHEAD: usize = 5 + 1 + 10 + 5 + 5 + 5 + 5;
    let headers: usize = rec
        .headers
        .iter()
        .map(|(name, value)| {
            let vlen = value.map_or(0, <[u8]>::len);
            name.len() + vlen + zigzag_varint_len(name.len()) + zigzag_varint_len(vlen)
        })
        .sum();
    RECORD_MAX_OVERHEAD
        + rec.key.map_or(0, <[u8]>::len)
        + rec.value.map_or(0, <[u8]>::len)
        + headers
}

/// Bytes of the zigzag varint encoding of the non-negative `n`.
fn zigzag_varint_len(n: usize) -> usize {
    let mut v = (n as u64) << 1;
    let mut len = 1;
    while v >= 0x80 {
        v >>= 7;
        len += 1;
    }
    len
}
