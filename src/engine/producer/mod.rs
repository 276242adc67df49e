//! The producer engine: partitioning, the accumulator, Produce requests, retries, message timeouts,
//! idempotence (InitProducerId, sequences, epoch bumps) and delivery reports. Sans-IO, driven like
//! the consumer's engine through the runtime's `Core` trait.

pub(crate) mod accumulator;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::Sender;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, InitProducerIdRequest, InitProducerIdResponse, MetadataResponse, ProduceRequest,
    ProduceResponse, ProducerId, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use self::accumulator::{Accumulator, BatchLimits, PendingMsg, ProducerBatch};
use super::channel::Reply;
use super::connection::{BrokerKey, ConnId, FrameOutcome, InFlight, IoAction, Net, NetSettings};
use super::metadata::Metadata;
use super::partitioner::{Partitioner, StickyPartition};
use crate::config::{CompressionCodec, ProducerSettings};
use crate::error::{ErrorCode, KafkaError};
use crate::protocol::compression::Compression;
use crate::protocol::frame;

/// The outcome of one produced message, as librdkafka's delivery report.
#[derive(Clone, Debug)]
pub struct DeliveryReport {
    /// Topic name.
    pub topic: Arc<str>,
    /// Partition the message went to (-1 if it was never partitioned).
    pub partition: i32,
    /// Offset the broker assigned; -1 when unknown (errors, `acks=0`, a duplicate retry).
    pub offset: i64,
    /// The message timestamp (the broker's when it sets log-append time).
    pub timestamp: i64,
    /// `None` when delivered.
    pub error: Option<KafkaError>,
    /// The application's opaque value given at send time.
    pub opaque: usize,
    /// The key sent.
    pub key: Option<Bytes>,
    /// The value sent.
    pub value: Option<Bytes>,
}

/// A message for the engine.
pub(crate) struct ProduceRecord {
    pub topic: String,
    /// -1 (`RD_KAFKA_PARTITION_UA`) lets the partitioner choose.
    pub partition: i32,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub headers: Vec<(Bytes, Option<Bytes>)>,
    pub timestamp: i64,
    pub opaque: usize,
    pub reply: Option<Sender<DeliveryReport>>,
    pub enqueued: Instant,
}

/// Requests from the application.
pub(crate) enum ProducerCommand {
    Produce(ProduceRecord),
    /// Send every queued batch now, ignoring `linger.ms`, until the queue is empty.
    Flush,
    /// Fail queued (and, with `in_flight`, in-flight) messages with `_PURGE_QUEUE`/`_PURGE_INFLIGHT`.
    Purge {
        queued: bool,
        in_flight: bool,
        reply: Reply<()>,
    },
    Metadata {
        topic: Option<String>,
        timeout: Duration,
        reply: Reply<Vec<(String, i32)>>,
    },
    Close(Reply<()>),
}

/// What the engine hands the application.
pub(crate) enum ProducerOutput {
    /// Delivery reports to serve; `silent` more messages were delivered without a report
    /// (`delivery.report.only.error`, or a waitable handle that got its report directly).
    Reports {
        reports: Vec<DeliveryReport>,
        silent: usize,
    },
    Error(KafkaError),
}

enum Ctx {
    Metadata,
    InitProducerId,
    Produce {
        node: i32,
        parts: Vec<(Arc<str>, i32)>,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum IdemState {
    Disabled,
    NeedInit,
    Initializing,
    /// An error needs a new epoch once nothing is in flight.
    NeedBump,
    Ready,
}

/// Delivery reports being gathered, and how many messages completed without one.
struct Reports {
    list: Vec<DeliveryReport>,
    silent: usize,
    /// `delivery.report.only.error`: successes are counted, not reported.
    only_error: bool,
}

impl Reports {
    fn add(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        msg: PendingMsg,
        offset: i64,
        timestamp: i64,
        error: Option<KafkaError>,
    ) {
        let r = DeliveryReport {
            topic: topic.clone(),
            partition,
            offset,
            timestamp,
            error,
            opaque: msg.opaque,
            key: msg.key,
            value: msg.value,
        };
        match msg.reply {
            Some(tx) => {
                let _ = tx.send(r);
                self.silent += 1;
            }
            None if r.error.is_none() && self.only_error => self.silent += 1,
            None => self.list.push(r),
        }
    }
}

/// An application's metadata query: topic (or all), deadline, reply.
type MetadataQuery = (Option<String>, Instant, Reply<Vec<(String, i32)>>);

/// The producer's sans-IO engine.
pub(crate) struct ProducerEngine {
    s: ProducerSettings,
    net: Net<Ctx>,
    metadata: Metadata,
    acc: Accumulator,
    partitioner: Partitioner,
    sticky: HashMap<Arc<str>, StickyPartition>,
    rng: u64,
    topics: HashMap<String, Arc<str>>,
    /// Messages waiting for their topic's metadata, per topic, in order.
    waiting: HashMap<Arc<str>, VecDeque<ProduceRecord>>,
    unknown_since: HashMap<Arc<str>, Instant>,
    idem: IdemState,
    idem_retry_at: Option<Instant>,
    producer_id: i64,
    epoch: i16,
    out: VecDeque<ProducerOutput>,
    flushing: bool,
    metadata_queries: Vec<MetadataQuery>,
    closing: Option<Reply<()>>,
    closed: bool,
    last_tick: Instant,
    debug: bool,
    start: Instant,
}

/// How long an unknown topic may stay unknown before its messages fail
/// (librdkafka's `topic.metadata.propagation.max.ms` default).
const PROPAGATION_MAX: Duration = Duration::from_secs(30);
/// Largest Produce request we build; one batch per partition is always allowed.
const MAX_REQUEST_BYTES: usize = 16 << 20;

fn codec(c: CompressionCodec) -> Compression {
    match c {
        CompressionCodec::None => Compression::None,
        CompressionCodec::Gzip => Compression::Gzip,
        CompressionCodec::Snappy => Compression::Snappy,
        CompressionCodec::Lz4 => Compression::Lz4,
        CompressionCodec::Zstd => Compression::Zstd,
    }
}

impl ProducerEngine {
    pub fn new(s: ProducerSettings, debug: bool, now: Instant) -> Result<Self, KafkaError> {
        let bootstrap: Vec<String> = s
            .bootstrap_servers
            .iter()
            .map(|b| b.strip_prefix("PLAINTEXT://").unwrap_or(b).to_string())
            .map(|b| {
                if b.contains(':') {
                    b
                } else {
                    format!("{b}:9092")
                }
            })
            .collect();
        if bootstrap.is_empty() {
            return Err(KafkaError::new(
                ErrorCode::L_INVALID_ARG,
                "No `bootstrap.servers` configured: client will not be able to connect to Kafka cluster",
            ));
        }
        let partitioner = Partitioner::from_name(&s.partitioner).ok_or_else(|| {
            KafkaError::new(
                ErrorCode::L_INVALID_ARG,
                format!(
                    "Invalid value \"{}\" for configuration property \"partitioner\"",
                    s.partitioner
                ),
            )
        })?;
        let mut net = Net::new(NetSettings {
            client_id: s.client_id.clone(),
            reconnect_backoff: s.reconnect_backoff,
            reconnect_backoff_max: s.reconnect_backoff_max,
            socket_timeout: s.socket_timeout,
            max_response_size: s.receive_message_max_bytes.max(1 << 20) as usize,
        });
        for (i, addr) in bootstrap.iter().enumerate() {
            net.set_address(BrokerKey::Bootstrap(i), addr.clone(), now);
        }
        let refresh = s
            .topic_metadata_refresh_interval
            .unwrap_or(Duration::from_secs(300));
        let limits = BatchLimits {
            linger: s.linger,
            batch_size: s.batch_size.max(1) as usize,
            batch_num_messages: s.batch_num_messages.max(1) as usize,
            compression: codec(s.compression_codec),
            compression_level: (s.compression_level >= 0).then_some(s.compression_level),
        };
        let idem = if s.enable_idempotence {
            IdemState::NeedInit
        } else {
            IdemState::Disabled
        };
        let mut metadata = Metadata::new(refresh, s.retry_backoff, now);
        metadata.allow_auto_create = s.allow_auto_create_topics;
        metadata.request_refresh(now);
        Ok(ProducerEngine {
            metadata,
            acc: Accumulator::new(limits),
            partitioner,
            sticky: HashMap::new(),
            rng: 0x9E37_79B9_7F4A_7C15
                ^ (now.elapsed().as_nanos() as u64)
                ^ std::process::id() as u64,
            topics: HashMap::new(),
            waiting: HashMap::new(),
            unknown_since: HashMap::new(),
            idem,
            idem_retry_at: None,
            producer_id: -1,
            epoch: -1,
            out: VecDeque::new(),
            flushing: false,
            metadata_queries: Vec::new(),
            closing: None,
            closed: false,
            last_tick: now,
            debug,
            start: now,
            net,
            s,
        })
    }

    fn debug(&self, msg: impl FnOnce() -> String) {
        if self.debug {
            eprintln!(
                "%7|{:.3}|RSKAFKA|producer: {}",
                self.start.elapsed().as_secs_f64(),
                msg()
            );
        }
    }

    fn topic_arc(&mut self, name: &str) -> Arc<str> {
        if let Some(t) = self.topics.get(name) {
            return t.clone();
        }
        let t: Arc<str> = Arc::from(name);
        self.topics.insert(name.to_string(), t.clone());
        t
    }

    fn reports(&self) -> Reports {
        Reports {
            list: Vec::new(),
            silent: 0,
            only_error: self.s.delivery_report_only_error,
        }
    }

    fn fail_batch(
        &mut self,
        topic: &Arc<str>,
        partition: i32,
        batch: ProducerBatch,
        err: &KafkaError,
        out: &mut Reports,
    ) {
        for m in batch.msgs {
            let ts = m.timestamp;
            out.add(topic, partition, m, -1, ts, Some(err.clone()));
        }
    }

    fn flush_reports(&mut self, r: Reports) {
        if !r.list.is_empty() || r.silent > 0 {
            self.out.push_back(ProducerOutput::Reports {
                reports: r.list,
                silent: r.silent,
            });
        }
    }

    /// Places a record on a partition and appends it, or parks it until metadata arrives.
    fn enqueue(&mut self, rec: ProduceRecord, now: Instant) {
        let topic = self.topic_arc(&rec.topic);
        if let Some(q) = self.waiting.get_mut(&topic) {
            q.push_back(rec);
            return;
        }
        let Some(count) = self.metadata.partition_count(&topic) else {
            if self.metadata.wanted.insert(topic.to_string()) {
                self.metadata.request_refresh(now);
            }
            self.waiting.entry(topic).or_default().push_back(rec);
            return;
        };
        let partition = if rec.partition >= 0 {
            if rec.partition >= count {
                let err = KafkaError::new(
                    ErrorCode::L_UNKNOWN_PARTITION,
                    format!("{topic} [{}]: Local: Unknown partition", rec.partition),
                );
                let mut reports = self.reports();
                let msg = PendingMsg {
                    key: rec.key,
                    value: rec.value,
                    timestamp: rec.timestamp,
                    opaque: rec.opaque,
                    enqueued: rec.enqueued,
                    reply: rec.reply,
                };
                reports.add(&topic, rec.partition, msg, -1, rec.timestamp, Some(err));
                self.flush_reports(reports);
                return;
            }
            rec.partition
        } else {
            self.choose_partition(&topic, rec.key.as_deref(), count, now)
        };
        let headers: Vec<(&[u8], Option<&[u8]>)> = rec
            .headers
            .iter()
            .map(|(k, v)| (&k[..], v.as_deref()))
            .collect();
        let msg = PendingMsg {
            key: rec.key.clone(),
            value: rec.value.clone(),
            timestamp: rec.timestamp,
            opaque: rec.opaque,
            enqueued: rec.enqueued,
            reply: rec.reply,
        };
        self.acc.append(&topic, partition, msg, &headers, now);
    }

    fn choose_partition(
        &mut self,
        topic: &Arc<str>,
        key: Option<&[u8]>,
        count: i32,
        now: Instant,
    ) -> i32 {
        let linger = self.s.sticky_partitioning_linger;
        let mut rng = self.rng;
        let mut next = || {
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            (rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
        };
        let sticky = self
            .sticky
            .entry(topic.clone())
            .or_insert_with(|| StickyPartition::new(now));
        let p = self
            .partitioner
            .place(key, count, sticky, now, linger, &mut next);
        self.rng = rng;
        p
    }

    /// Handles metadata for topics with parked messages.
    fn drain_waiting(&mut self, now: Instant) {
        let topics: Vec<Arc<str>> = self.waiting.keys().cloned().collect();
        for topic in topics {
            if self.metadata.partition_count(&topic).is_some() {
                self.unknown_since.remove(&topic);
                let q = self.waiting.remove(&topic).unwrap_or_default();
                for rec in q {
                    self.enqueue(rec, now);
                }
            } else if self.metadata.is_unknown(&topic) {
                // Like librdkafka's fast refresh: ask again soon while messages wait for the topic.
                self.metadata.request_refresh_soon(now);
                let since = *self.unknown_since.entry(topic.clone()).or_insert(now);
                if now.duration_since(since) >= PROPAGATION_MAX {
                    let q = self.waiting.remove(&topic).unwrap_or_default();
                    let err = KafkaError::new(
                        ErrorCode::L_UNKNOWN_TOPIC,
                        format!("{topic}: Local: Unknown topic"),
                    );
                    let mut reports = self.reports();
                    for rec in q {
                        let msg = PendingMsg {
                            key: rec.key,
                            value: rec.value,
                            timestamp: rec.timestamp,
                            opaque: rec.opaque,
                            enqueued: rec.enqueued,
                            reply: rec.reply,
                        };
                        reports.add(&topic, -1, msg, -1, rec.timestamp, Some(err.clone()));
                    }
                    self.flush_reports(reports);
                }
            }
        }
    }

    /// Fails messages older than `message.timeout.ms` that are not in flight.
    fn expire(&mut self, now: Instant) {
        let Some(timeout) = self.s.message_timeout else {
            return;
        };
        let err = KafkaError::new(ErrorCode::L_MSG_TIMED_OUT, "Local: Message timed out");
        let mut reports = self.reports();
        let keys: Vec<(Arc<str>, i32)> = self.acc.queues.keys().cloned().collect();
        for key in keys {
            loop {
                let q = self.acc.queues.get_mut(&key).expect("key from map");
                let expired = q
                    .batches
                    .front()
                    .is_some_and(|b| b.expires(Some(timeout)).is_some_and(|t| t <= now));
                if q.in_flight || !expired {
                    break;
                }
                let b = q.batches.pop_front().expect("checked");
                // The sequence numbers of a batch that never reached the broker are reused.
                if b.stamp.is_some() && b.attempts > 0 && self.idem != IdemState::Disabled {
                    self.idem = IdemState::NeedBump;
                }
                self.fail_batch(&key.0, key.1, b, &err, &mut reports);
            }
        }
        let topics: Vec<Arc<str>> = self.waiting.keys().cloned().collect();
        for t in topics {
            let q = self.waiting.get_mut(&t).expect("key from map");
            let mut dead = Vec::new();
            while q.front().is_some_and(|r| r.enqueued + timeout <= now) {
                dead.push(q.pop_front().expect("checked"));
            }
            if q.is_empty() {
                self.waiting.remove(&t);
            }
            for rec in dead {
                let msg = PendingMsg {
                    key: rec.key,
                    value: rec.value,
                    timestamp: rec.timestamp,
                    opaque: rec.opaque,
                    enqueued: rec.enqueued,
                    reply: rec.reply,
                };
                reports.add(&t, -1, msg, -1, rec.timestamp, Some(err.clone()));
            }
        }
        self.flush_reports(reports);
    }

    fn any_ready_broker(&mut self, now: Instant) -> Option<BrokerKey> {
        let mut keys: Vec<BrokerKey> = self.net.keys().collect();
        keys.sort_by_key(|k| {
            (
                matches!(k, BrokerKey::Bootstrap(_)),
                self.net.failures(*k),
                *k,
            )
        });
        if let Some(k) = keys.iter().find(|k| self.net.is_ready(**k)) {
            return Some(*k);
        }
        if !keys.iter().any(|k| self.net.is_connecting_or_ready(*k)) {
            for k in &keys {
                self.net.ensure(*k, now);
                if self.net.is_connecting_or_ready(*k) {
                    break;
                }
            }
        }
        None
    }

    fn tick(&mut self, now: Instant) {
        self.last_tick = now;
        if self.closed {
            return;
        }
        if self.metadata.due(now) {
            if let Some(k) = self.any_ready_broker(now) {
                if let Some(v) = self.net.version(k, ApiKey::Metadata) {
                    let req = self.metadata.build_request(v);
                    self.debug(|| {
                        format!(
                            "Metadata v{v} for {:?} (auto-create {})",
                            req.topics.as_ref().map(|t| t.len()),
                            req.allow_auto_topic_creation
                        )
                    });
                    if self
                        .net
                        .send(k, &req, v, Ctx::Metadata, Duration::ZERO, now)
                        .is_err()
                    {
                        self.metadata.on_failure(now);
                    }
                }
            }
        }
        self.drain_waiting(now);
        self.expire(now);
        self.tick_idempotence(now);
        self.send_batches(now);
        if self.flushing && self.acc.message_count() == 0 && self.waiting.is_empty() {
            self.flushing = false;
        }
        if self.closing.is_some() && self.acc.queues.values().all(|q| !q.in_flight) {
            let reply = self.closing.take().expect("checked");
            let _ = reply.send(Ok(()));
            self.closed = true;
        }
    }

    fn tick_idempotence(&mut self, now: Instant) {
        let any_in_flight = self.acc.queues.values().any(|q| q.in_flight);
        let want = match self.idem {
            IdemState::NeedInit => true,
            IdemState::NeedBump => !any_in_flight,
            _ => false,
        };
        if !want || self.idem_retry_at.is_some_and(|t| t > now) {
            return;
        }
        let Some(k) = self.any_ready_broker(now) else {
            return;
        };
        let Some(v) = self.net.version(k, ApiKey::InitProducerId) else {
            if self.net.is_ready(k) {
                self.out.push_back(ProducerOutput::Error(KafkaError::new(
                    ErrorCode::L_UNSUPPORTED_FEATURE,
                    "The broker does not support InitProducerId: idempotence is not available",
                )));
                self.idem = IdemState::Disabled;
            }
            return;
        };
        let bump = self.idem == IdemState::NeedBump && v >= 3;
        let req = InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(60_000)
            .with_producer_id(ProducerId(if bump { self.producer_id } else { -1 }))
            .with_producer_epoch(if bump { self.epoch } else { -1 });
        self.debug(|| format!("InitProducerId v{v} (bump {bump})"));
        if self
            .net
            .send(k, &req, v, Ctx::InitProducerId, Duration::ZERO, now)
            .is_ok()
        {
            self.idem = IdemState::Initializing;
        }
    }

    fn on_init_producer_id(&mut self, resp: InitProducerIdResponse, now: Instant) {
        let err = ErrorCode::from(resp.error_code);
        if err.0 != 0 {
            self.debug(|| format!("InitProducerId failed: {err}"));
            self.idem = if self.producer_id >= 0 {
                IdemState::NeedBump
            } else {
                IdemState::NeedInit
            };
            self.idem_retry_at = Some(now + self.s.retry_backoff);
            self.metadata.request_refresh_soon(now);
            if !err.is_retriable() && err != ErrorCode::COORDINATOR_LOAD_IN_PROGRESS {
                self.out.push_back(ProducerOutput::Error(KafkaError::new(
                    err,
                    format!("Failed to acquire idempotence PID: {err}"),
                )));
            }
            return;
        }
        self.producer_id = resp.producer_id.0;
        self.epoch = resp.producer_epoch;
        self.idem = IdemState::Ready;
        // A new epoch restarts every partition's sequence at 0; unacknowledged batches are
        // re-stamped in order when next sent.
        for q in self.acc.queues.values_mut() {
            q.next_sequence = 0;
            for b in q.batches.iter_mut() {
                // A stamp no producer can have: the batch gets a new sequence and is re-stamped.
                b.stamp = b.stamp.map(|_| (-2, -2, -2));
            }
        }
        self.debug(|| format!("producer id {} epoch {}", self.producer_id, self.epoch));
    }

    fn send_batches(&mut self, now: Instant) {
        if matches!(
            self.idem,
            IdemState::NeedInit | IdemState::Initializing | IdemState::NeedBump
        ) {
            return;
        }
        let mut plan: HashMap<i32, Vec<(Arc<str>, i32)>> = HashMap::new();
        let mut need_metadata = false;
        for (key, q) in &self.acc.queues {
            if !self
                .acc
                .is_ready(q, now, self.flushing || self.closing.is_some())
            {
                continue;
            }
            match self.metadata.leader(&key.0, key.1) {
                Some((leader, _)) => plan.entry(leader).or_default().push(key.clone()),
                None => need_metadata = true,
            }
        }
        if need_metadata {
            self.metadata.request_refresh_soon(now);
        }
        let max_in_flight = self.s.max_in_flight.max(1) as usize;
        for (node, parts) in plan {
            let key = BrokerKey::Node(node);
            if !self.net.ensure(key, now) || self.net.inflight_count(key) >= max_in_flight {
                continue;
            }
            let Some(v) = self.net.version(key, ApiKey::Produce) else {
                continue;
            };
            let mut topics: Vec<TopicProduceData> = Vec::new();
            let mut sent = Vec::new();
            let mut bytes = 0;
            for tp in parts {
                let idem = self.idem == IdemState::Ready;
                let (pid, epoch) = (self.producer_id, self.epoch);
                let q = self.acc.queues.get_mut(&tp).expect("planned partition");
                let b = q.batches.front_mut().expect("ready batch");
                let (pid, epoch, seq) = if idem {
                    let seq = match b.stamp {
                        Some((p, e, s)) if p == pid && e == epoch => s,
                        _ => {
                            let s = q.next_sequence;
                            q.next_sequence = s.wrapping_add(b.record_count()) & i32::MAX;
                            s
                        }
                    };
                    (pid, epoch, seq)
                } else {
                    (-1, -1, -1)
                };
                let records = match b.seal(pid, epoch, seq) {
                    Ok(r) => r,
                    Err(e) => {
                        let b = q.batches.pop_front().expect("checked");
                        let err = KafkaError::new(
                            ErrorCode::L_BAD_MSG,
                            format!("Failed to encode batch: {e}"),
                        );
                        let mut reports = self.reports();
                        self.fail_batch(&tp.0, tp.1, b, &err, &mut reports);
                        self.flush_reports(reports);
                        continue;
                    }
                };
                if bytes > 0 && bytes + records.len() > MAX_REQUEST_BYTES {
                    break;
                }
                bytes += records.len();
                b.attempts += 1;
                q.in_flight = true;
                let p = PartitionProduceData::default()
                    .with_index(tp.1)
                    .with_records(Some(records));
                match topics.last_mut() {
                    Some(t) if t.name.0.as_str() == &*tp.0 => t.partition_data.push(p),
                    _ => topics.push(
                        TopicProduceData::default()
                            .with_name(TopicName(StrBytes::from_string(tp.0.to_string())))
                            .with_partition_data(vec![p]),
                    ),
                }
                sent.push(tp);
            }
            if sent.is_empty() {
                continue;
            }
            let req = ProduceRequest::default()
                .with_acks(self.s.acks)
                .with_timeout_ms(self.s.request_timeout.as_millis() as i32)
                .with_topic_data(topics);
            if self.s.acks == 0 {
                // No response will come: report delivery as soon as the request is handed over.
                if self.net.send_no_response(key, &req, v, now).is_ok() {
                    self.complete_without_response(&sent);
                } else {
                    self.requeue(&sent, now, false);
                }
                continue;
            }
            let extra = self.s.request_timeout;
            self.debug(|| {
                format!(
                    "Produce v{v} to broker {node}: {} partitions, {bytes} bytes",
                    sent.len()
                )
            });
            if let Err((_, Ctx::Produce { parts, .. })) =
                self.net
                    .send(key, &req, v, Ctx::Produce { node, parts: sent }, extra, now)
            {
                self.requeue(&parts, now, false);
            }
        }
    }

    fn complete_without_response(&mut self, parts: &[(Arc<str>, i32)]) {
        let mut reports = self.reports();
        for tp in parts {
            let Some(q) = self.acc.queues.get_mut(tp) else {
                continue;
            };
            q.in_flight = false;
            let Some(b) = q.batches.pop_front() else {
                continue;
            };
            for m in b.msgs {
                let ts = m.timestamp;
                reports.add(&tp.0, tp.1, m, -1, ts, None);
            }
        }
        self.flush_reports(reports);
    }

    /// Puts in-flight batches back at the front of their queues for a retry after the backoff.
    fn requeue(&mut self, parts: &[(Arc<str>, i32)], now: Instant, count_attempt: bool) {
        for tp in parts {
            if let Some(q) = self.acc.queues.get_mut(tp) {
                q.in_flight = false;
                if let Some(b) = q.batches.front_mut() {
                    if !count_attempt {
                        b.attempts = b.attempts.saturating_sub(1);
                    }
                    let shift = b.attempts.min(10);
                    let backoff = (self.s.retry_backoff * (1 << shift))
                        .min(self.s.retry_backoff_max.max(self.s.retry_backoff));
                    b.retry_at = Some(now + backoff);
                }
            }
        }
    }

    fn on_produce(
        &mut self,
        node: i32,
        parts: Vec<(Arc<str>, i32)>,
        resp: Option<ProduceResponse>,
        now: Instant,
    ) {
        let Some(resp) = resp else {
            return self.on_produce_failed(parts, now);
        };
        let mut reports = self.reports();
        let debug = self.debug.then_some(self.start);
        let log = |msg: String| {
            if let Some(start) = debug {
                eprintln!(
                    "%7|{:.3}|RSKAFKA|producer: {msg}",
                    start.elapsed().as_secs_f64()
                );
            }
        };
        for tp in parts {
            let found = resp
                .responses
                .iter()
                .filter(|t| t.name.0.as_str() == &*tp.0)
                .flat_map(|t| t.partition_responses.iter())
                .find(|p| p.index == tp.1)
                .cloned();
            let (err, base, append_ts, msg) = match &found {
                Some(p) => (
                    ErrorCode::from(p.error_code),
                    p.base_offset,
                    p.log_append_time_ms,
                    p.error_message.as_ref().map(|m| m.to_string()),
                ),
                None => (ErrorCode::UNKNOWN_TOPIC_OR_PART, -1, -1, None),
            };
            let q = self.acc.queues.get_mut(&tp).expect("in-flight partition");
            q.in_flight = false;
            let retriable = err.is_retriable()
                || matches!(
                    err,
                    ErrorCode::NOT_ENOUGH_REPLICAS
                        | ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND
                        | ErrorCode::LEADER_NOT_AVAILABLE
                );
            match err {
                ErrorCode::NONE | ErrorCode::DUPLICATE_SEQUENCE_NUMBER => {
                    let b = q.batches.pop_front().expect("in-flight batch");
                    let known = err == ErrorCode::NONE;
                    for (i, m) in b.msgs.into_iter().enumerate() {
                        let offset = if known && base >= 0 {
                            base + i as i64
                        } else {
                            -1
                        };
                        let ts = if append_ts >= 0 {
                            append_ts
                        } else {
                            m.timestamp
                        };
                        reports.add(&tp.0, tp.1, m, offset, ts, None);
                    }
                }
                ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
                | ErrorCode::UNKNOWN_PRODUCER_ID
                | ErrorCode::INVALID_PRODUCER_EPOCH
                    if self.idem != IdemState::Disabled =>
                {
                    log(format!(
                        "{} [{}]: {err}: bumping the producer epoch",
                        tp.0, tp.1
                    ));
                    self.idem = IdemState::NeedBump;
                    if let Some(b) = q.batches.front_mut() {
                        b.retry_at = Some(now + self.s.retry_backoff);
                    }
                }
                _ if retriable
                    && q.batches
                        .front()
                        .is_some_and(|b| (b.attempts as i64) <= self.s.retries as i64) =>
                {
                    log(format!(
                        "{} [{}]: {err} from broker {node}: retrying",
                        tp.0, tp.1
                    ));
                    if let Some(b) = q.batches.front_mut() {
                        b.retry_at = Some(now + self.s.retry_backoff);
                    }
                    self.metadata.request_refresh(now);
                }
                _ => {
                    let b = q.batches.pop_front().expect("in-flight batch");
                    let text = msg.unwrap_or_else(|| err.to_string());
                    let e = KafkaError::new(err, text);
                    if self.idem == IdemState::Ready {
                        // The sequence numbers given to this batch are gone: start a new epoch.
                        self.idem = IdemState::NeedBump;
                    }
                    self.fail_batch(&tp.0, tp.1, b, &e, &mut reports);
                }
            }
        }
        self.flush_reports(reports);
    }

    /// A Produce got no response (connection lost, timeout): retry; with idempotence the broker
    /// tells duplicates apart by sequence number.
    fn on_produce_failed(&mut self, parts: Vec<(Arc<str>, i32)>, now: Instant) {
        let mut reports = self.reports();
        let mut retry = Vec::new();
        for tp in parts {
            let Some(q) = self.acc.queues.get_mut(&tp) else {
                continue;
            };
            let exhausted = q
                .batches
                .front()
                .is_some_and(|b| b.attempts as i64 > self.s.retries as i64);
            if exhausted {
                q.in_flight = false;
                let b = q.batches.pop_front().expect("checked");
                let e = KafkaError::new(ErrorCode::L_TRANSPORT, "Local: Broker transport failure");
                self.fail_batch(&tp.0, tp.1, b, &e, &mut reports);
            } else {
                retry.push(tp);
            }
        }
        self.requeue(&retry, now, true);
        self.flush_reports(reports);
        self.metadata.request_refresh_soon(now);
    }

    fn on_metadata(&mut self, resp: &MetadataResponse, now: Instant) {
        self.metadata.apply(resp, now);
        self.debug(|| {
            let t: Vec<String> = self
                .metadata
                .topics
                .iter()
                .map(|(n, m)| format!("{n}:{}/{}", m.partitions.len(), m.error.name()))
                .collect();
            format!(
                "metadata: {} brokers, topics {}",
                self.metadata.brokers.len(),
                t.join(" ")
            )
        });
        let brokers: Vec<(i32, String)> = self
            .metadata
            .brokers
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for (id, addr) in &brokers {
            for f in self
                .net
                .set_address(BrokerKey::Node(*id), addr.clone(), now)
            {
                self.on_request_failed(f.ctx, now);
            }
        }
        let queries = std::mem::take(&mut self.metadata_queries);
        for (topic, deadline, reply) in queries {
            let answer = match &topic {
                Some(t) => match self.metadata.partition_count(t) {
                    Some(n) => Ok(vec![(t.clone(), n)]),
                    None => Err(KafkaError::new(
                        ErrorCode::UNKNOWN_TOPIC_OR_PART,
                        format!("{t}: Broker: Unknown topic or partition"),
                    )),
                },
                None => {
                    let mut all: Vec<(String, i32)> = self
                        .metadata
                        .topics
                        .iter()
                        .filter(|(_, m)| m.error.0 == 0)
                        .map(|(t, m)| (t.clone(), m.partitions.len() as i32))
                        .collect();
                    all.sort();
                    Ok(all)
                }
            };
            let _ = deadline;
            let _ = reply.send(answer);
        }
    }

    fn on_request_failed(&mut self, ctx: Ctx, now: Instant) {
        match ctx {
            Ctx::Metadata => self.metadata.on_failure(now),
            Ctx::InitProducerId => {
                self.idem = if self.producer_id >= 0 {
                    IdemState::NeedBump
                } else {
                    IdemState::NeedInit
                }
            }
            Ctx::Produce { parts, .. } => self.on_produce_failed(parts, now),
        }
    }

    fn on_response(&mut self, f: InFlight<Ctx>, mut body: Bytes, now: Instant) {
        let v = f.version;
        match f.ctx {
            Ctx::Metadata => match frame::decode_body::<MetadataResponse>(&mut body, v) {
                Ok(resp) => self.on_metadata(&resp, now),
                Err(_) => self.metadata.on_failure(now),
            },
            Ctx::InitProducerId => match frame::decode_body::<InitProducerIdResponse>(&mut body, v)
            {
                Ok(resp) => self.on_init_producer_id(resp, now),
                Err(_) => self.idem = IdemState::NeedInit,
            },
            Ctx::Produce { node, parts } => {
                let resp = frame::decode_body::<ProduceResponse>(&mut body, v).ok();
                self.on_produce(node, parts, resp, now);
            }
        }
    }

    fn purge(&mut self, queued: bool, in_flight: bool) {
        let mut reports = self.reports();
        if queued {
            let err = KafkaError::new(ErrorCode::L_PURGE_QUEUE, "Local: Purged in queue");
            let keys: Vec<(Arc<str>, i32)> = self.acc.queues.keys().cloned().collect();
            for key in keys {
                let q = self.acc.queues.get_mut(&key).expect("key from map");
                let keep = usize::from(q.in_flight);
                let purged: Vec<ProducerBatch> = q.batches.drain(keep..).collect();
                for b in purged {
                    self.fail_batch(&key.0, key.1, b, &err, &mut reports);
                }
            }
            let waiting = std::mem::take(&mut self.waiting);
            for (t, recs) in waiting {
                for rec in recs {
                    let msg = PendingMsg {
                        key: rec.key,
                        value: rec.value,
                        timestamp: rec.timestamp,
                        opaque: rec.opaque,
                        enqueued: rec.enqueued,
                        reply: rec.reply,
                    };
                    reports.add(&t, -1, msg, -1, rec.timestamp, Some(err.clone()));
                }
            }
        }
        if in_flight {
            // The requests stay on the wire; their batches are reported now and their responses ignored.
            let err = KafkaError::new(ErrorCode::L_PURGE_INFLIGHT, "Local: Purged in flight");
            let keys: Vec<(Arc<str>, i32)> = self.acc.queues.keys().cloned().collect();
            for key in keys {
                let q = self.acc.queues.get_mut(&key).expect("key from map");
                if q.in_flight {
                    if let Some(b) = q.batches.front_mut() {
                        let msgs = std::mem::take(&mut b.msgs);
                        for m in msgs {
                            let ts = m.timestamp;
                            reports.add(&key.0, key.1, m, -1, ts, Some(err.clone()));
                        }
                    }
                }
            }
        }
        self.flush_reports(reports);
    }
}

impl crate::runtime::event_loop::Core for ProducerEngine {
    type Command = ProducerCommand;
    type Output = ProducerOutput;

    fn handle_command(&mut self, cmd: ProducerCommand, now: Instant) {
        match cmd {
            ProducerCommand::Produce(rec) => self.enqueue(rec, now),
            ProducerCommand::Flush => self.flushing = true,
            ProducerCommand::Purge {
                queued,
                in_flight,
                reply,
            } => {
                self.purge(queued, in_flight);
                let _ = reply.send(Ok(()));
            }
            ProducerCommand::Metadata {
                topic,
                timeout,
                reply,
            } => {
                match &topic {
                    Some(t) => {
                        self.metadata.wanted.insert(t.clone());
                    }
                    None => self.metadata.want_all = true,
                }
                self.metadata.request_refresh(now);
                self.metadata_queries.push((topic, now + timeout, reply));
            }
            ProducerCommand::Close(reply) => {
                self.flushing = true;
                self.closing = Some(reply);
            }
        }
    }

    fn handle_connected(&mut self, conn: ConnId, now: Instant) {
        self.net.on_connected(conn, now);
    }

    fn handle_frame(&mut self, conn: ConnId, frame: Bytes, now: Instant) {
        match self.net.on_frame(conn, frame, now) {
            FrameOutcome::Handled | FrameOutcome::Ready => {}
            FrameOutcome::Failed(_, failed, _) => {
                for f in failed {
                    self.on_request_failed(f.ctx, now);
                }
            }
            FrameOutcome::Response(r) => self.on_response(r.inflight, r.body, now),
        }
    }

    fn handle_closed(&mut self, conn: ConnId, reason: &str, now: Instant) {
        if let Some((key, failed)) = self.net.on_closed(conn, now) {
            self.debug(|| {
                format!(
                    "{key:?}: connection down ({reason}), {} requests failed",
                    failed.len()
                )
            });
            for f in failed {
                self.on_request_failed(f.ctx, now);
            }
            self.metadata.request_refresh_soon(now);
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        for (_, failed) in self.net.check_timeouts(now) {
            for f in failed {
                self.on_request_failed(f.ctx, now);
            }
        }
        let (dead, live): (Vec<_>, Vec<_>) = std::mem::take(&mut self.metadata_queries)
            .into_iter()
            .partition(|q| q.1 <= now);
        self.metadata_queries = live;
        for (_, _, reply) in dead {
            let _ = reply.send(Err(KafkaError::new(
                ErrorCode::L_TIMED_OUT,
                "Metadata request timed out",
            )));
        }
        self.tick(now);
    }

    fn poll_io(&mut self) -> Option<IoAction> {
        self.net.poll_io()
    }

    fn poll_output(&mut self) -> Option<ProducerOutput> {
        self.out.pop_front()
    }

    fn next_deadline(&self) -> Option<Instant> {
        let metadata = self
            .metadata
            .next_deadline()
            .filter(|d| *d > self.last_tick || self.net.keys().any(|k| self.net.is_ready(k)));
        let expiry = self.s.message_timeout.and_then(|t| {
            let acc = self
                .acc
                .queues
                .values()
                .filter(|q| !q.in_flight)
                .filter_map(|q| q.batches.front())
                .filter_map(|b| b.expires(Some(t)));
            let waiting = self
                .waiting
                .values()
                .filter_map(|q| q.front())
                .map(|r| r.enqueued + t);
            acc.chain(waiting).min()
        });
        let linger = if self.flushing || self.closing.is_some() {
            self.acc.next_deadline().map(|_| self.last_tick)
        } else {
            self.acc.next_deadline()
        };
        let retry = self.net.keys().filter_map(|k| self.net.retry_at(k)).min();
        let queries = self.metadata_queries.iter().map(|q| q.1).min();
        let propagation = self
            .unknown_since
            .values()
            .map(|t| *t + PROPAGATION_MAX)
            .min();
        let d = [
            self.net.next_deadline(),
            metadata,
            expiry,
            linger,
            retry,
            queries,
            propagation,
            self.idem_retry_at,
        ]
        .into_iter()
        .flatten()
        .min();
        d.map(|d| {
            if d <= self.last_tick {
                self.last_tick + Duration::from_millis(if self.flushing { 1 } else { 100 })
            } else {
                d
            }
        })
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn max_frame(&self) -> usize {
        self.net.max_response_size()
    }
}
