//! The producer engine: partitioning, the accumulator, Produce requests, retries, message timeouts,
//! idempotence (InitProducerId, sequences, epoch bumps) and delivery reports. Sans-IO, driven like
//! the consumer's engine through the runtime's `Core` trait.

pub(crate) mod accumulator;
mod msg_list;
mod queue;
mod responses;
mod send;
mod stats;
mod txn;
mod txn_error;
mod txn_offsets;
#[cfg(test)]
mod txn_offsets_tests;
#[cfg(test)]
pub(super) mod txn_tests;

pub use self::txn::{TxnError, TxnState};
pub(crate) use self::txn::{TxnOp, TxnReply};

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use crossbeam_channel::Sender;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, DescribeGroupsResponse, InitProducerIdRequest, InitProducerIdResponse,
    ListGroupsResponse, ListOffsetsResponse, MetadataResponse, ProduceRequest, ProduceResponse,
    ProducerId, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use self::accumulator::{Accumulator, BatchLimits, PendingMsg, ProducerBatch};
use super::channel::Reply;
use super::connection::{BrokerKey, ConnId, FrameOutcome, InFlight, IoAction, Net, NetSettings};
use super::group_list::{GroupLists, GroupsCtx, GroupsResult};
use super::metadata::Metadata;
use super::metadata_query::{MetadataQueries, MetadataScope};
use super::offsets_for_times::{TimesCtx, TimesQueries, TimesResult};
use super::partitioner::{Partitioner, StickyPartition};
use super::stats::Throttle;
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
    pub topic: Arc<str>,
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
        scope: MetadataScope,
        timeout: Duration,
        reply: Reply<crate::metadata::Metadata>,
    },
    /// Offsets by timestamp (the partitions' offsets are the timestamps).
    OffsetsForTimes {
        partitions: Vec<crate::topic_partition::TopicPartition>,
        timeout: Duration,
        reply: Reply<TimesResult>,
    },
    /// Consumer groups of the cluster (one, or all) with their members.
    ListGroups {
        group: Option<String>,
        timeout: Duration,
        reply: Reply<GroupsResult>,
    },
    Close(Reply<()>),
    /// One step of a transactional API call.
    Txn {
        op: TxnOp,
        reply: TxnReply,
    },
    /// More bootstrap brokers (`rd_kafka_brokers_add`), as `host:port`.
    AddBrokers(Vec<String>),
    /// `send_offsets_to_transaction`: the consumer's offsets join the transaction.
    SendOffsets {
        offsets: Vec<crate::topic_partition::TopicPartition>,
        group: crate::group_metadata::ConsumerGroupMetadata,
        timeout: Option<Duration>,
        reply: TxnReply,
    },
}

/// What the engine hands the application.
pub(crate) enum ProducerOutput {
    /// Delivery reports to serve, in chunks (one hand-over wakes the application once);
    /// `silent` more messages were delivered without a report (`delivery.report.only.error`,
    /// or a waitable handle that got its report directly).
    Reports {
        chunks: Vec<Vec<DeliveryReport>>,
        silent: usize,
    },
    Error(KafkaError),
    /// A statistics document (`statistics.interval.ms`).
    Stats(String),
    /// A broker throttled a request (librdkafka's throttle_cb).
    Throttle(Throttle),
    /// A topic's partition count, first known or changed: `send` then refuses partitions past
    /// it at once, as librdkafka's produce() does once it has the topic's metadata.
    PartitionCount(String, i32),
}

enum Ctx {
    Metadata,
    Times(TimesCtx),
    Groups(GroupsCtx),
    InitProducerId,
    Produce {
        node: i32,
        parts: Vec<(Arc<str>, i32)>,
    },
    FindTxnCoordinator,
    AddPartitionsToTxn {
        parts: Vec<(Arc<str>, i32)>,
        sent: Instant,
    },
    EndTxn {
        commit: bool,
    },
    AddOffsetsToTxn,
    FindGroupCoordinator,
    TxnOffsetCommit {
        node: i32,
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
/// Reports per chunk: small enough that freeing one on the application thread stays below
/// glibc's consolidation threshold (64 KiB).
const REPORTS_PER_OUTPUT: usize = 256;

struct Reports {
    list: Vec<DeliveryReport>,
    /// Earlier chunks of `REPORTS_PER_OUTPUT`, in order.
    full: Vec<Vec<DeliveryReport>>,
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
            None => {
                if self.list.len() == REPORTS_PER_OUTPUT {
                    let chunk =
                        std::mem::replace(&mut self.list, Vec::with_capacity(REPORTS_PER_OUTPUT));
                    self.full.push(chunk);
                }
                self.list.push(r)
            }
        }
    }
}

/// The producer's sans-IO engine.
pub(crate) struct ProducerEngine {
    s: ProducerSettings,
    net: Net<Ctx>,
    metadata: Metadata,
    acc: Accumulator,
    partitioner: Partitioner,
    sticky: HashMap<Arc<str>, StickyPartition>,
    rng: u64,
    /// The last topic produced to and its partition count at a metadata generation: spares a
    /// hash lookup per message for the usual one-topic producer.
    /// Partition counts last told to the application (`ProducerOutput::PartitionCount`).
    told_counts: HashMap<String, i32>,
    last_topic: Option<(Arc<str>, i32, u64)>,
    /// Messages waiting for their topic's metadata, per topic, in order.
    waiting: HashMap<Arc<str>, VecDeque<ProduceRecord>>,
    unknown_since: HashMap<Arc<str>, Instant>,
    idem: IdemState,
    idem_retry_at: Option<Instant>,
    producer_id: i64,
    epoch: i16,
    out: VecDeque<ProducerOutput>,
    flushing: bool,
    metadata_queries: MetadataQueries,
    times: TimesQueries,
    group_lists: GroupLists,
    closing: Option<Reply<()>>,
    closed: bool,
    last_tick: Instant,
    debug: bool,
    start: Instant,
    stats: stats::ProducerStats,
    /// The last transport error reported per broker: librdkafka reports a broker's error once
    /// until it changes or the broker answers again.
    transport_errors: HashMap<BrokerKey, String>,
    /// `_ALL_BROKERS_DOWN` was reported and no broker has answered since.
    all_down_reported: bool,
    /// The transaction manager (`transactional.id` set).
    txn: Option<txn::Txn>,
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
    pub fn new(
        s: ProducerSettings,
        name: String,
        debug: bool,
        now: Instant,
    ) -> Result<Self, KafkaError> {
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
        let txn = s
            .transactional_id
            .clone()
            .map(|id| txn::Txn::new(id, s.transaction_timeout));
        Ok(ProducerEngine {
            txn,
            metadata,
            acc: Accumulator::new(limits),
            partitioner,
            sticky: HashMap::new(),
            rng: 0x9E37_79B9_7F4A_7C15
                ^ (now.elapsed().as_nanos() as u64)
                ^ std::process::id() as u64,
            told_counts: HashMap::new(),
            last_topic: None,
            waiting: HashMap::new(),
            unknown_since: HashMap::new(),
            idem,
            idem_retry_at: None,
            producer_id: -1,
            epoch: -1,
            out: VecDeque::new(),
            flushing: false,
            metadata_queries: MetadataQueries::default(),
            times: TimesQueries::default(),
            group_lists: GroupLists::default(),
            closing: None,
            closed: false,
            last_tick: now,
            debug,
            start: now,
            stats: stats::ProducerStats::new(name, s.statistics_interval, now),
            transport_errors: HashMap::new(),
            all_down_reported: false,
            net,
            s,
        })
    }

    /// Tells the application (error callback) that `key`'s connection failed, and when every
    /// broker is down, as librdkafka's `_TRANSPORT` and `_ALL_BROKERS_DOWN` errors.
    fn report_broker_down(&mut self, key: BrokerKey, reason: &str) {
        let name = match key {
            BrokerKey::Bootstrap(_) => "bootstrap".to_string(),
            BrokerKey::Node(id) | BrokerKey::Coordinator(id) => id.to_string(),
        };
        let addr = self.net.address(key).unwrap_or("?");
        let msg = format!("{addr}/{name}: {reason}");
        if self.transport_errors.get(&key) != Some(&msg) {
            self.transport_errors.insert(key, msg.clone());
            self.out.push_back(ProducerOutput::Error(KafkaError::new(
                ErrorCode::L_TRANSPORT,
                msg,
            )));
        }
        let all_down = self
            .net
            .keys()
            .all(|k| !self.net.is_connecting_or_ready(k) && self.net.failures(k) > 0);
        if all_down && !self.all_down_reported {
            self.all_down_reported = true;
            let n = self.net.keys().count();
            self.out.push_back(ProducerOutput::Error(KafkaError::new(
                ErrorCode::L_ALL_BROKERS_DOWN,
                format!("{n}/{n} brokers are down"),
            )));
        }
    }

    /// A broker answered: its next failure is news again.
    fn broker_answered(&mut self, key: BrokerKey) {
        self.transport_errors.remove(&key);
        self.all_down_reported = false;
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

    fn reports(&self) -> Reports {
        Reports {
            list: Vec::new(),
            full: Vec::new(),
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
        if let Some(t) = &mut self.txn {
            t.dr_fails += batch.msgs.len() as u64;
        }
        for m in batch.msgs {
            let ts = m.timestamp;
            out.add(topic, partition, m, -1, ts, Some(err.clone()));
        }
    }

    fn flush_reports(&mut self, r: Reports) {
        let mut chunks = r.full;
        if !r.list.is_empty() {
            chunks.push(r.list);
        }
        if !chunks.is_empty() || r.silent > 0 {
            self.out.push_back(ProducerOutput::Reports {
                chunks,
                silent: r.silent,
            });
        }
    }
}

impl ProducerEngine {
    /// The shared transaction state the application checks before producing.
    pub fn txn_shared(&self) -> Option<Arc<std::sync::atomic::AtomicU8>> {
        self.txn.as_ref().map(|t| t.shared.clone())
    }

    fn txn_deadline(&self) -> Option<Instant> {
        let t = self.txn.as_ref()?;
        [
            t.find_retry_at,
            t.add_retry_at,
            t.end_retry_at,
            self.offsets_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
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
                scope,
                timeout,
                reply,
            } => {
                self.metadata_queries
                    .add(scope, now + timeout, reply, &mut self.metadata, now);
            }
            ProducerCommand::OffsetsForTimes {
                partitions,
                timeout,
                reply,
            } => self
                .times
                .add(partitions, now + timeout, reply, &mut self.metadata, now),
            ProducerCommand::ListGroups {
                group,
                timeout,
                reply,
            } => self
                .group_lists
                .add(group, now + timeout, reply, &mut self.metadata, now),
            ProducerCommand::Close(reply) => {
                self.flushing = true;
                self.closing = Some(reply);
            }
            ProducerCommand::Txn { op, reply } => self.txn_command(op, reply, now),
            ProducerCommand::AddBrokers(addrs) => {
                for a in addrs {
                    self.net.add_bootstrap(a);
                }
                self.metadata.request_refresh(now);
                self.tick(now);
            }
            ProducerCommand::SendOffsets {
                offsets,
                group,
                timeout,
                reply,
            } => self.send_offsets_command(offsets, group, timeout, reply, now),
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
            FrameOutcome::Response(r) => {
                self.broker_answered(r.key);
                self.on_response(r.key, r.inflight, r.body, now)
            }
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
            self.report_broker_down(key, reason);
        }
    }

    fn handle_timeout(&mut self, now: Instant) {
        for (_, failed) in self.net.check_timeouts(now) {
            for f in failed {
                self.on_request_failed(f.ctx, now);
            }
        }
        self.stats_tick(now);
        let any_up = self.net.keys().any(|k| self.net.is_ready(k));
        self.metadata_queries.expire(now, any_up);
        self.times.expire(now);
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
        let queries = [
            self.metadata_queries.next_deadline(),
            self.times.next_deadline(),
            self.group_lists.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min();
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
            self.stats.next_deadline(),
            self.txn_deadline(),
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

    fn lazy_window(&self) -> Option<Duration> {
        (!self.flushing && self.closing.is_none() && !self.s.linger.is_zero())
            .then_some(self.s.linger)
    }

    fn is_closed(&self) -> bool {
        self.closed
    }

    fn max_frame(&self) -> usize {
        self.net.max_response_size()
    }
}
