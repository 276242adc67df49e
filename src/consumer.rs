//! The Rust consumer API: a handle on the engine thread, with librdkafka's consumer semantics.
//!
//! `poll` iterates the records of fetched batches on the calling thread (zero-copy: key, value and
//! headers are slices of the fetched buffer), applies rebalances as librdkafka does when no
//! rebalance callback is set, and returns errors and partition EOFs as `Err` values.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crossbeam_channel::Receiver;

use crate::config::ClientConfig;
use crate::engine::channel::{
    ClientShared, Command, ConsumerEvent, Delivery, FetchedBatch, PartitionShared, RebalanceKind,
};
use crate::engine::client::Engine;
use crate::engine::group_list::{groups_result, GroupsResult};
use crate::engine::metadata_query::MetadataScope;
use crate::engine::offsets_for_times::{times_result, TimesResult};
use crate::engine::settings::EngineSettings;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::message::Message;
use crate::metadata::{GroupInfo, Metadata};
use crate::protocol::records::RecordIter;
use crate::runtime::event_loop::{self, EngineThread};
use crate::topic_partition::{offset, TopicPartition};

mod poll;
mod split;
pub use split::SplitHook;

pub use crate::engine::channel::{Rebalance, RebalanceKind as RebalanceType};

/// Whether a commit waits for the broker's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitMode {
    /// Wait for the result.
    Sync,
    /// Return at once; the result arrives through the offset-commit callback.
    Async,
}

/// Called from `poll` for each rebalance; it must apply the change with `assign`/`unassign` (or
/// the incremental variants when `Rebalance::cooperative`), as librdkafka's rebalance_cb must.
pub type RebalanceCallback = Box<dyn FnMut(&Consumer, &Rebalance) + Send>;
/// Called from `poll` with the result of each asynchronous or automatic commit.
pub type CommitCallback = Box<dyn FnMut(&Result<()>, &[TopicPartition]) + Send>;
/// Called from `poll` with each statistics document (librdkafka's JSON, `statistics.interval.ms`).
pub type StatsCallback = Box<dyn FnMut(&str) + Send>;
/// Called from `poll` when a broker throttles a Fetch, and once when throttling ends.
pub type ThrottleCallback = Box<dyn FnMut(&crate::Throttle) + Send>;

struct CurrentBatch {
    batch: FetchedBatch,
    records: RecordIter,
    /// The batch's partition is split: its records are diverted (`split.rs`).
    split: bool,
}

struct PollState {
    current: Option<CurrentBatch>,
}

/// A Kafka consumer backed by one engine thread.
pub struct Consumer {
    engine: Mutex<EngineThread<Command>>,
    deliveries: Receiver<Delivery>,
    shared: Arc<ClientShared>,
    start: Instant,
    state: Mutex<PollState>,
    assignment: Mutex<HashMap<(String, i32), Arc<PartitionShared>>>,
    subscription: Mutex<Vec<String>>,
    rebalance_cb: Mutex<Option<RebalanceCallback>>,
    commit_cb: Mutex<Option<CommitCallback>>,
    stats_cb: Mutex<Option<StatsCallback>>,
    throttle_cb: Mutex<Option<ThrottleCallback>>,
    /// librdkafka's instance name (`<client.id>#consumer-<n>`).
    name: String,
    acked: AtomicBool,
    /// Set by `interrupt_poll`: the running `poll` returns `None` after the event it handles.
    interrupted: AtomicBool,
    /// Partitions read with `poll_partition`.
    split: split::Split,
    /// Whether the group's last rebalance was cooperative (the close's revoke follows it).
    cooperative: AtomicBool,
    auto_store: bool,
    closed: AtomicBool,
    decompress_threads: usize,
    /// The mock cluster `test.mock.num.brokers` started; dropped after the engine stopped.
    _mock: Option<crate::mock::MockCluster>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn engine_gone() -> KafkaError {
    KafkaError::new(
        ErrorCode::L_DESTROY,
        "The consumer's engine thread has stopped",
    )
}

impl Consumer {
    /// Creates a consumer and starts its engine thread.
    pub fn new(config: &ClientConfig) -> Result<Consumer> {
        let (mock, mocked) = crate::mock::for_config(config)?.unzip();
        let config = mocked.as_ref().unwrap_or(config);
        let settings = EngineSettings::from_config(config)?;
        let auto_store = settings.enable_auto_offset_store;
        let name = settings.name.clone();
        let start = Instant::now();
        let shared = Arc::new(ClientShared::default());
        let engine = Engine::new(settings, shared.clone(), start, start).map_err(|e| {
            KafkaError::new(
                ErrorCode::L_FAIL,
                format!("Failed to start decompression threads: {e}"),
            )
        })?;
        let decompress_threads = engine.pool_threads();
        let (tx, rx) = crossbeam_channel::unbounded();
        let thread = event_loop::spawn(engine, tx, "rskafka-engine".into()).map_err(|e| {
            KafkaError::new(
                ErrorCode::L_FAIL,
                format!("Failed to start the engine thread: {e}"),
            )
        })?;
        Ok(Consumer {
            engine: Mutex::new(thread),
            deliveries: rx,
            shared,
            start,
            state: Mutex::new(PollState { current: None }),
            assignment: Mutex::new(HashMap::new()),
            subscription: Mutex::new(Vec::new()),
            rebalance_cb: Mutex::new(None),
            commit_cb: Mutex::new(None),
            stats_cb: Mutex::new(None),
            throttle_cb: Mutex::new(None),
            name,
            acked: AtomicBool::new(false),
            interrupted: AtomicBool::new(false),
            split: split::Split::default(),
            cooperative: AtomicBool::new(false),
            auto_store,
            closed: AtomicBool::new(false),
            decompress_threads,
            _mock: mock,
        })
    }

    /// The mock cluster `test.mock.num.brokers` started for this client (rust-rdkafka's
    /// `Client::mock_cluster`, librdkafka's `rd_kafka_handle_mock_cluster`).
    pub fn mock_cluster(&self) -> Option<&crate::mock::MockCluster> {
        self._mock.as_ref()
    }

    /// Threads this consumer started: the engine thread plus the decompression pool.
    pub fn thread_count(&self) -> usize {
        1 + self.decompress_threads
    }

    pub(crate) fn send(&self, cmd: Command) -> Result<()> {
        if lock(&self.engine).send(cmd) {
            Ok(())
        } else {
            Err(engine_gone())
        }
    }

    fn call<T>(&self, make: impl FnOnce(crate::engine::channel::Reply<T>) -> Command) -> Result<T> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.send(make(tx))?;
        rx.recv().unwrap_or_else(|_| Err(engine_gone()))
    }

    /// Sets the rebalance callback (librdkafka's `rebalance_cb`).
    pub fn set_rebalance_callback(&self, cb: RebalanceCallback) {
        *lock(&self.rebalance_cb) = Some(cb);
    }

    /// Sets the statistics callback, called from `poll` every `statistics.interval.ms` with a
    /// JSON document in librdkafka's format.
    pub fn set_stats_callback(&self, cb: StatsCallback) {
        *lock(&self.stats_cb) = Some(cb);
    }

    /// Sets the throttle callback, called from `poll` with brokers' Fetch throttle times.
    pub fn set_throttle_callback(&self, cb: ThrottleCallback) {
        *lock(&self.throttle_cb) = Some(cb);
    }

    /// librdkafka's instance name: `<client.id>#consumer-<n>` (the statistics' `name`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Sets the offset-commit callback (librdkafka's `offset_commit_cb`).
    pub fn set_commit_callback(&self, cb: CommitCallback) {
        *lock(&self.commit_cb) = Some(cb);
    }

    /// Sets a function the engine thread calls whenever it has handed messages or events to
    /// `poll` (None: removes it). It must be quick and must not call into the consumer.
    pub fn set_wakeup(&self, f: Option<Box<dyn Fn() + Send + Sync>>) {
        self.shared.on_output.set(f);
    }

    /// Called from a rebalance or commit callback: the running `poll` returns `None` once the
    /// callback is done, so that what the callback queued reaches the application now.
    pub fn interrupt_poll(&self) {
        self.interrupted.store(true, Ordering::Release);
    }

    /// Called from a rebalance callback: the application applies this rebalance later with
    /// `assign`/`unassign` (librdkafka's rebalance events), so `poll` must not apply it.
    pub fn defer_rebalance(&self) {
        self.acked.store(true, Ordering::Release);
    }

    /// From now on `poll` keeps the partition's messages and end-of-partition error for
    /// `poll_partition` (librdkafka's partition queue). They are fetched while `poll` runs.
    pub fn split_partition(&self, topic: &str, partition: i32) {
        self.split.add(topic, partition);
    }

    /// Undoes `split_partition`: what waits for the partition goes back to `poll`.
    pub fn unsplit_partition(&self, topic: &str, partition: i32) {
        self.split.remove(topic, partition);
    }

    /// Waits up to `timeout` for the next message (or end-of-partition error) of a split
    /// partition; `None` on timeout or when the partition is not split.
    pub fn poll_partition(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
    ) -> Option<Result<Message>> {
        self.split.take(topic, partition, timeout, self.auto_store)
    }

    /// Messages and errors waiting for a split partition.
    pub fn partition_queue_len(&self, topic: &str, partition: i32) -> usize {
        self.split.len(topic, partition)
    }

    /// Sets a function `poll` calls when it kept something for a split partition.
    pub fn set_split_hook(&self, hook: Option<SplitHook>) {
        self.split.set_hook(hook);
    }

    /// Subscribes to `topics`, replacing the previous subscription; the group assigns partitions.
    pub fn subscribe(&self, topics: &[&str]) -> Result<()> {
        if topics.is_empty() {
            return Err(KafkaError::new(
                ErrorCode::L_INVALID_ARG,
                "No topics to subscribe to",
            ));
        }
        let list: Vec<String> = topics.iter().map(|t| t.to_string()).collect();
        *lock(&self.subscription) = list.clone();
        self.call(|r| Command::Subscribe(list, r))
    }

    /// Leaves the group subscription.
    pub fn unsubscribe(&self) -> Result<()> {
        lock(&self.subscription).clear();
        self.call(Command::Unsubscribe)
    }

    /// The current subscription.
    pub fn subscription(&self) -> Vec<String> {
        lock(&self.subscription).clone()
    }

    fn assign_inner(
        &self,
        partitions: Option<&[TopicPartition]>,
        incremental: Option<bool>,
    ) -> Result<()> {
        self.acked.store(true, Ordering::Release);
        let mut assignment = lock(&self.assignment);
        let list = partitions.map(|ps| {
            ps.iter()
                .map(|tp| {
                    let shared = match incremental {
                        Some(false) => assignment
                            .get(&(tp.topic.clone(), tp.partition))
                            .cloned()
                            .unwrap_or_else(PartitionShared::new),
                        _ => PartitionShared::new(),
                    };
                    if incremental != Some(false) {
                        shared.assigned_offset.store(tp.offset, Ordering::Release);
                    }
                    (tp.clone(), shared)
                })
                .collect::<Vec<_>>()
        });
        let new_entries: Vec<((String, i32), Arc<PartitionShared>)> = list
            .iter()
            .flatten()
            .map(|(tp, s)| ((tp.topic.clone(), tp.partition), s.clone()))
            .collect();
        self.call(|r| Command::Assign {
            partitions: list,
            incremental,
            reply: r,
        })?;
        match incremental {
            None => {
                assignment.clear();
                assignment.extend(new_entries);
            }
            Some(true) => assignment.extend(new_entries),
            Some(false) => {
                for (k, _) in new_entries {
                    assignment.remove(&k);
                }
            }
        }
        Ok(())
    }

    /// Replaces the assignment with `partitions` (offsets: a position or a logical offset).
    pub fn assign(&self, partitions: &[TopicPartition]) -> Result<()> {
        self.assign_inner(Some(partitions), None)
    }

    /// Clears the assignment.
    pub fn unassign(&self) -> Result<()> {
        self.assign_inner(None, None)
    }

    /// Adds partitions to the assignment (cooperative rebalancing).
    pub fn incremental_assign(&self, partitions: &[TopicPartition]) -> Result<()> {
        self.assign_inner(Some(partitions), Some(true))
    }

    /// Removes partitions from the assignment (cooperative rebalancing).
    pub fn incremental_unassign(&self, partitions: &[TopicPartition]) -> Result<()> {
        self.assign_inner(Some(partitions), Some(false))
    }

    /// The current assignment, each partition with the offset it was assigned with.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        let mut v: Vec<TopicPartition> = lock(&self.assignment)
            .iter()
            .map(|((t, p), s)| {
                let off = s.assigned_offset.load(Ordering::Acquire);
                TopicPartition::with_offset(t.clone(), *p, off)
            })
            .collect();
        v.sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
        v
    }

    /// Commits `offsets`, or the stored offsets of the assignment when `None`.
    pub fn commit(
        &self,
        offsets: Option<&[TopicPartition]>,
        mode: CommitMode,
    ) -> Result<Vec<TopicPartition>> {
        let offsets = offsets.map(|o| o.to_vec());
        match mode {
            CommitMode::Sync => self.call(|r| Command::Commit {
                offsets,
                reply: Some(r),
            }),
            CommitMode::Async => self
                .send(Command::Commit {
                    offsets,
                    reply: None,
                })
                .map(|_| Vec::new()),
        }
    }

    /// Commits the offset after `msg`.
    pub fn commit_message(&self, msg: &Message, mode: CommitMode) -> Result<Vec<TopicPartition>> {
        let tp = TopicPartition::with_offset(msg.topic(), msg.partition, msg.offset + 1);
        self.commit(Some(&[tp]), mode)
    }

    /// Whether offsets are stored automatically (`enable.auto.offset.store`), which makes
    /// [`store_offset`](Self::store_offset) fail.
    pub fn auto_offset_store(&self) -> bool {
        self.auto_store
    }

    /// Stores `offset` (the next offset to consume) for the next commit. Fails with
    /// `_INVALID_ARG` when `enable.auto.offset.store` is true and `_STATE` for an unassigned partition.
    pub fn store_offset(&self, topic: &str, partition: i32, offset: i64) -> Result<()> {
        if self.auto_store {
            return Err(KafkaError::new(
                ErrorCode::L_INVALID_ARG,
                "Operation not allowed when enable.auto.offset.store=true",
            ));
        }
        let assignment = lock(&self.assignment);
        let shared = assignment
            .get(&(topic.to_string(), partition))
            .ok_or_else(|| {
                KafkaError::new(
                    ErrorCode::L_STATE,
                    format!("{topic} [{partition}] is not assigned"),
                )
            })?;
        shared.stored.store(offset, Ordering::Release);
        Ok(())
    }

    /// The low and high watermarks of an assigned partition as the last fetch response
    /// reported them, without a request; `offset::INVALID` (-1001) until one arrived.
    pub fn cached_watermarks(&self, topic: &str, partition: i32) -> (i64, i64) {
        lock(&self.assignment)
            .get(&(topic.to_string(), partition))
            .map_or((offset::INVALID, offset::INVALID), |s| {
                (
                    s.low_watermark.load(Ordering::Acquire),
                    s.high_watermark.load(Ordering::Acquire),
                )
            })
    }

    /// Stores the offset after `msg` for the next commit.
    pub fn store_offset_from_message(&self, msg: &Message) -> Result<()> {
        self.store_offset(msg.topic(), msg.partition, msg.offset + 1)
    }

    /// The group's committed offsets for `partitions`.
    pub fn committed(
        &self,
        partitions: &[TopicPartition],
        timeout: Duration,
    ) -> Result<Vec<TopicPartition>> {
        let partitions = partitions.to_vec();
        self.call(|r| Command::Committed {
            partitions,
            timeout,
            reply: r,
        })
    }

    /// The offset after the last message returned by `poll`, per partition (`INVALID` if none).
    pub fn position(&self, partitions: &[TopicPartition]) -> Vec<TopicPartition> {
        let assignment = lock(&self.assignment);
        partitions
            .iter()
            .map(|tp| {
                let off = assignment
                    .get(&(tp.topic.clone(), tp.partition))
                    .map_or(offset::INVALID, |s| s.position.load(Ordering::Acquire));
                TopicPartition::with_offset(tp.topic.clone(), tp.partition, off)
            })
            .collect()
    }

    /// Moves the fetch position of an assigned partition; queued messages before it are dropped.
    pub fn seek(&self, topic: &str, partition: i32, offset: i64) -> Result<()> {
        let tp = TopicPartition::with_offset(topic, partition, offset);
        self.call(|r| Command::Seek {
            partition: tp,
            reply: r,
        })
    }

    /// Stops fetching from `partitions` until `resume`.
    pub fn pause(&self, partitions: &[TopicPartition]) -> Result<()> {
        let parts = partitions.to_vec();
        self.call(|r| Command::Pause(parts, true, r))
    }

    /// Resumes fetching from `partitions`.
    pub fn resume(&self, partitions: &[TopicPartition]) -> Result<()> {
        let parts = partitions.to_vec();
        self.call(|r| Command::Pause(parts, false, r))
    }

    /// The low and high watermark offsets of a partition, from its leader.
    pub fn fetch_watermarks(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
    ) -> Result<(i64, i64)> {
        let topic = topic.to_string();
        self.call(|r| Command::Watermarks {
            topic,
            partition,
            timeout,
            reply: r,
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
        self.call(|r| Command::OffsetsForTimes {
            partitions,
            timeout,
            reply: r,
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
        self.call(|reply| Command::ListGroups {
            group,
            timeout,
            reply,
        })
    }

    fn metadata_query(&self, scope: MetadataScope, timeout: Duration) -> Result<Metadata> {
        self.call(|r| Command::Metadata {
            scope,
            timeout,
            reply: r,
        })
    }

    /// The member id the group coordinator assigned ("" before joining or without a group).
    pub fn member_id(&self) -> Result<String> {
        self.call(Command::MemberId)
    }

    /// The group membership to pass to a transactional producer (`None` without `group.id`).
    pub fn group_metadata(&self) -> Result<Option<crate::ConsumerGroupMetadata>> {
        self.call(Command::GroupMetadata)
    }

    /// Commits (with `enable.auto.commit`), revokes the assignment, leaves the group and stops the
    /// engine thread. Called by `Drop` if not called before.
    pub fn close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let assigned: Vec<TopicPartition> = self
            .assignment()
            .into_iter()
            .map(|tp| TopicPartition::new(tp.topic, tp.partition))
            .collect();
        if !assigned.is_empty() && !lock(&self.subscription).is_empty() {
            let r = Rebalance {
                kind: RebalanceKind::Revoke,
                partitions: assigned,
                cooperative: self.cooperative.load(Ordering::Acquire),
                lost: false,
            };
            if let Some(cb) = lock(&self.rebalance_cb).as_mut() {
                cb(self, &r);
            }
        }
        let result = self.call(Command::Close);
        let thread = lock(&self.engine).thread.take();
        if let Some(t) = thread {
            let _ = t.join();
        }
        // Deliveries still queued (e.g. commit results) are dropped with the channel.
        while let Ok(d) = self.deliveries.try_recv() {
            if let Delivery::Event(ConsumerEvent::OffsetCommit { result, offsets }) = d {
                if let Some(cb) = lock(&self.commit_cb).as_mut() {
                    cb(&result, &offsets);
                }
            }
        }
        result
    }
}

impl Drop for Consumer {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
