//! What crosses between the application thread and the engine thread: commands in, deliveries out,
//! and the few atomics that both read without a round trip.
//!
//! Per-partition atomics carry what the application consumed (`position`, `stored`) and what is still
//! queued for it, so the engine can commit and bound prefetch without asking. Everything else is a
//! message on a channel.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crossbeam_channel::Sender;

use crate::error::{KafkaError, Result};
use crate::protocol::records::BatchHeader;
use crate::runtime::decompress::Pending;
use crate::topic_partition::{offset, TopicPartition};

/// State of one assigned partition shared by the engine and the application.
#[derive(Debug)]
pub(crate) struct PartitionShared {
    /// Bumped to invalidate everything queued before (seek, revoke): stale batches are dropped.
    pub version: AtomicU32,
    /// Offset of the next message the application will see (librdkafka's "position").
    pub position: AtomicI64,
    /// Offset to commit, set by the application (`store_offset`, or automatically on delivery).
    pub stored: AtomicI64,
    /// Messages fetched but not yet consumed by the application.
    pub queued_msgs: AtomicI64,
    /// Bytes of the batches behind `queued_msgs` (statistics `fetchq_size`).
    pub queued_bytes: AtomicI64,
    /// Log start offset from the last fetch response (`INVALID` until one arrived).
    pub low_watermark: AtomicI64,
    /// High watermark from the last fetch response (`INVALID` until one arrived).
    pub high_watermark: AtomicI64,
    /// The offset the partition was assigned with (librdkafka's `rd_kafka_assignment()` reports it).
    pub assigned_offset: AtomicI64,
}

impl PartitionShared {
    pub fn new() -> Arc<Self> {
        Arc::new(PartitionShared {
            version: AtomicU32::new(1),
            position: AtomicI64::new(offset::INVALID),
            stored: AtomicI64::new(offset::INVALID),
            queued_msgs: AtomicI64::new(0),
            queued_bytes: AtomicI64::new(0),
            low_watermark: AtomicI64::new(offset::INVALID),
            high_watermark: AtomicI64::new(offset::INVALID),
            assigned_offset: AtomicI64::new(offset::INVALID),
        })
    }

    pub fn version(&self) -> u32 {
        self.version.load(Ordering::Acquire)
    }

    /// Invalidates queued data and returns the new version.
    pub fn bump_version(&self) -> u32 {
        self.version.fetch_add(1, Ordering::AcqRel) + 1
    }
}

/// Client-wide counters shared by the engine and the application.
#[derive(Debug, Default)]
pub(crate) struct ClientShared {
    /// Bytes fetched and not yet consumed, across partitions (`queued.max.messages.kbytes`).
    pub queued_bytes: AtomicI64,
    /// Set by the engine when prefetch stopped for lack of room; the application wakes it on drain.
    pub fetch_blocked: AtomicBool,
    /// Milliseconds since the client started at the application's last poll (`max.poll.interval.ms`).
    pub last_poll_ms: AtomicU64,
    /// Set once the application has polled at least once since the last `max.poll.interval.ms` breach.
    pub polled: AtomicBool,
    /// Called on the engine thread after it handed deliveries to the application.
    pub on_output: OutputHook,
}

/// A callback for the engine thread to run when deliveries are ready (the C ABI's queue events).
#[derive(Default)]
pub(crate) struct OutputHook(std::sync::Mutex<Option<Box<dyn Fn() + Send + Sync>>>);

impl OutputHook {
    /// Sets (or clears) the callback.
    pub fn set(&self, f: Option<Box<dyn Fn() + Send + Sync>>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = f;
    }

    /// Runs the callback, if any.
    pub fn fire(&self) {
        if let Some(f) = &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            f();
        }
    }
}

impl std::fmt::Debug for OutputHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OutputHook")
    }
}

/// Kinds of assignment change the application is asked to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RebalanceKind {
    /// Partitions are being assigned.
    Assign,
    /// Partitions are being revoked.
    Revoke,
}

/// A rebalance the application must acknowledge with an (incremental) assign or unassign.
#[derive(Clone, Debug)]
pub struct Rebalance {
    /// Assign or revoke.
    pub kind: RebalanceKind,
    /// The partitions concerned.
    pub partitions: Vec<TopicPartition>,
    /// True when the group uses the cooperative protocol: apply it incrementally.
    pub cooperative: bool,
    /// True when partitions were lost (session timed out, fenced) rather than cleanly revoked.
    pub lost: bool,
}

/// Events for the application besides messages.
#[derive(Clone, Debug)]
pub enum ConsumerEvent {
    /// An error the application should see (librdkafka's consumer error messages and error_cb).
    Error(KafkaError),
    /// The consumer reached the end of a partition (`enable.partition.eof`).
    PartitionEof {
        /// Topic name.
        topic: String,
        /// Partition number.
        partition: i32,
        /// The end offset reached.
        offset: i64,
    },
    /// The group assigned or revoked partitions.
    Rebalance(Rebalance),
    /// The result of an asynchronous or automatic commit (librdkafka's offset_commit_cb).
    OffsetCommit {
        /// Overall result.
        result: Result<()>,
        /// The offsets committed, each with its own error.
        offsets: Vec<TopicPartition>,
    },
    /// A statistics document (`statistics.interval.ms`), in librdkafka's JSON format.
    Stats(String),
    /// A broker throttled a Fetch (librdkafka's throttle_cb), or throttling ended.
    Throttle(crate::engine::stats::Throttle),
}

/// The records of one fetched batch, either ready or being decompressed on the pool.
pub(crate) enum BatchData {
    Ready(bytes::Bytes),
    Pending(Pending),
}

/// A record batch fetched for the application, in partition order.
pub(crate) struct FetchedBatch {
    pub topic: Arc<str>,
    pub partition: i32,
    pub shared: Arc<PartitionShared>,
    pub version: u32,
    pub header: BatchHeader,
    pub data: BatchData,
    /// Records below this offset were already delivered or skipped (a batch can start before the
    /// fetch offset).
    pub skip_before: i64,
    /// Bytes accounted in `ClientShared::queued_bytes` for this batch.
    pub accounted_bytes: i64,
}

/// What the engine sends to the application.
pub(crate) enum Delivery {
    Batch(FetchedBatch),
    Event(ConsumerEvent),
}

/// Queues an error event for the application.
pub(crate) fn push_error(
    out: &mut std::collections::VecDeque<Delivery>,
    code: crate::error::ErrorCode,
    msg: String,
) {
    out.push_back(Delivery::Event(ConsumerEvent::Error(KafkaError::new(
        code, msg,
    ))));
}

/// A one-shot reply channel.
pub(crate) type Reply<T> = Sender<Result<T>>;

/// Requests from the application to the engine.
pub(crate) enum Command {
    Subscribe(Vec<String>, Reply<()>),
    Unsubscribe(Reply<()>),
    /// Replace the assignment (`None` clears it), or with `incremental` add (`Some(true)`) or remove
    /// (`Some(false)`) partitions. `shared` carries the application's atomics for added partitions.
    Assign {
        partitions: Option<Vec<(TopicPartition, Arc<PartitionShared>)>>,
        incremental: Option<bool>,
        reply: Reply<()>,
    },
    /// Commit `offsets`, or the stored offsets of the assignment when `None`. A reply makes it
    /// synchronous; without one the result comes back as an `OffsetCommit` event.
    Commit {
        offsets: Option<Vec<TopicPartition>>,
        reply: Option<Reply<Vec<TopicPartition>>>,
    },
    Committed {
        partitions: Vec<TopicPartition>,
        timeout: Duration,
        reply: Reply<Vec<TopicPartition>>,
    },
    Seek {
        partition: TopicPartition,
        reply: Reply<()>,
    },
    Pause(Vec<TopicPartition>, bool, Reply<()>),
    Watermarks {
        topic: String,
        partition: i32,
        timeout: Duration,
        reply: Reply<(i64, i64)>,
    },
    /// Cluster metadata from a fresh Metadata request (or the cache, for `Cached`).
    Metadata {
        scope: crate::engine::metadata_query::MetadataScope,
        timeout: Duration,
        reply: Reply<crate::metadata::Metadata>,
    },
    /// Offsets by timestamp (the partitions' offsets are the timestamps).
    OffsetsForTimes {
        partitions: Vec<TopicPartition>,
        timeout: Duration,
        reply: Reply<crate::engine::offsets_for_times::TimesResult>,
    },
    /// Consumer groups of the cluster (one, or all) with their members.
    ListGroups {
        group: Option<String>,
        timeout: Duration,
        reply: Reply<crate::engine::group_list::GroupsResult>,
    },
    /// The application made room in its queue.
    Wake,
    /// The member id the group coordinator gave this consumer ("" before joining).
    MemberId(Reply<String>),
    /// Group id, generation, member id and instance id (`None` without `group.id`).
    GroupMetadata(Reply<Option<crate::group_metadata::ConsumerGroupMetadata>>),
    Close(Reply<()>),
    /// More bootstrap brokers (`rd_kafka_brokers_add`), as `host:port`.
    AddBrokers(Vec<String>),
}
