//! The consumer engine: one sans-IO state machine that owns connections, metadata, the group,
//! fetch cursors and offsets.
//!
//! Driver contract (the runtime, or a test): feed `handle_command`, `handle_connected`,
//! `handle_frame`, `handle_closed` and `handle_timeout`; after each, drain `poll_io` and
//! `poll_delivery`, and sleep until `next_deadline`.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::{
    ApiKey, DescribeGroupsResponse, FetchResponse, FindCoordinatorResponse, HeartbeatResponse,
    JoinGroupResponse, ListGroupsResponse, ListOffsetsRequest, ListOffsetsResponse,
    MetadataResponse, OffsetCommitResponse, OffsetFetchResponse, SyncGroupResponse,
};
use kafka_protocol::protocol::Decodable;

mod commands;
mod responses;
mod stats;
mod ticks;

use super::channel::{ClientShared, Command, ConsumerEvent, Delivery, PartitionShared, Reply};
use super::connection::{BrokerKey, ConnId, FrameOutcome, InFlight, IoAction, Net, SendError};
use super::fetcher::{FetchCtx, FetchSinks, Fetcher, LookupCtx};
use super::group::{Group, GroupRequest, Phase};
use super::group_list::{GroupLists, GroupsCtx};
use super::metadata::Metadata;
use super::metadata_query::MetadataQueries;
use super::offsets;
use super::offsets_for_times::{TimesCtx, TimesQueries};
use super::queries::{self, CommittedQuery, Queries, WatermarkCtx};
use super::settings::EngineSettings;
use crate::error::{ErrorCode, KafkaError, Result};
use crate::protocol::frame::{self, Request};
use crate::runtime::decompress::DecompressPool;
use crate::topic_partition::{offset, TopicPartition};

/// A partition to assign, with the application's shared state for it.
type Assigned = (TopicPartition, Arc<PartitionShared>);

/// What an in-flight request was for.
pub(crate) enum RequestCtx {
    Metadata,
    FindCoordinator,
    Join,
    Sync,
    Heartbeat,
    Leave,
    Commit(CommitCtx),
    OffsetFetch(OffsetFetchCtx),
    Lookup(LookupCtx),
    Fetch(FetchCtx),
    Watermark(WatermarkCtx),
    Times(TimesCtx),
    Groups(GroupsCtx),
}

/// A commit waiting to be sent or answered.
pub(crate) struct CommitCtx {
    pub offsets: Vec<TopicPartition>,
    pub reply: Option<Reply<Vec<TopicPartition>>>,
    pub deadline: Instant,
}

/// Why committed offsets are being fetched.
pub(crate) enum OffsetFetchCtx {
    Cursors(Vec<(String, i32)>),
    Query(CommittedQuery),
}

/// The consumer engine.
pub(crate) struct Engine {
    pub settings: EngineSettings,
    net: Net<RequestCtx>,
    pub metadata: Metadata,
    pub fetcher: Fetcher,
    group: Option<Group>,
    out: VecDeque<Delivery>,
    pool: DecompressPool,
    shared: Arc<ClientShared>,
    start: Instant,
    pending_commits: VecDeque<CommitCtx>,
    last_committed: HashMap<(Arc<str>, i32), i64>,
    committed_in_flight: HashSet<(String, i32)>,
    next_auto_commit: Option<Instant>,
    queries: Queries,
    metadata_queries: MetadataQueries,
    times: TimesQueries,
    group_lists: GroupLists,
    closing: Option<(Reply<()>, Instant)>,
    closed: bool,
    /// When `tick` last ran: deadlines at or before it are blocked, not due.
    last_tick: Instant,
    /// Metadata responses up to this count predate the last JoinGroup: the leader waits for a newer one.
    leader_metadata_mark: u64,
    all_down_reported: bool,
    stats: stats::ConsumerStats,
}

impl Engine {
    /// Creates the engine; fails only if the decompression threads cannot start.
    pub fn new(
        settings: EngineSettings,
        shared: Arc<ClientShared>,
        start: Instant,
        now: Instant,
    ) -> std::io::Result<Self> {
        let mut net = Net::new(settings.net.clone());
        for (i, addr) in settings.bootstrap.iter().enumerate() {
            net.set_address(BrokerKey::Bootstrap(i), addr.clone(), now);
        }
        let group = settings
            .group_id
            .clone()
            .map(|g| Group::new(g, settings.group.clone()));
        let next_auto_commit = (settings.enable_auto_commit && group.is_some())
            .then(|| now + settings.auto_commit_interval);
        Ok(Engine {
            metadata: Metadata::new(
                settings.metadata_refresh_interval,
                settings.fetch.retry_backoff,
                now,
            ),
            fetcher: Fetcher::new(settings.fetch.clone()),
            pool: DecompressPool::new(settings.decompress_threads)?,
            net,
            group,
            out: VecDeque::new(),
            shared,
            start,
            pending_commits: VecDeque::new(),
            last_committed: HashMap::new(),
            committed_in_flight: HashSet::new(),
            next_auto_commit,
            queries: Queries::default(),
            metadata_queries: MetadataQueries::default(),
            times: TimesQueries::default(),
            group_lists: GroupLists::default(),
            closing: None,
            closed: false,
            last_tick: now,
            leader_metadata_mark: 0,
            all_down_reported: false,
            stats: stats::ConsumerStats::new(settings.statistics_interval, start, now),
            settings,
        })
    }

    /// Number of decompression threads started.
    pub fn pool_threads(&self) -> usize {
        self.pool.threads()
    }

    pub fn poll_io(&mut self) -> Option<IoAction> {
        self.net.poll_io()
    }

    pub fn poll_delivery(&mut self) -> Option<Delivery> {
        let d = self.out.pop_front();
        if let Some(Delivery::Event(ConsumerEvent::Rebalance(_))) = &d {
            self.stats.on_rebalance(Instant::now());
        }
        d
    }

    /// True once `Close` completed: the driver may stop.
    pub fn is_closed(&self) -> bool {
        self.closed
    }

    /// Largest response frame the driver should accept.
    pub fn max_frame(&self) -> usize {
        self.net.max_response_size()
    }

    /// When `handle_timeout` must run next.
    /// A deadline still in the past after a tick means work that is due but blocked (no broker
    /// to ask, say): it is retried after this delay rather than in a busy loop.
    const BLOCKED_RETRY: Duration = Duration::from_millis(100);

    pub fn next_deadline(&self) -> Option<Instant> {
        // A due refresh with no ready broker waits for a connection event, not for the clock.
        let metadata = self
            .metadata
            .next_deadline()
            .filter(|d| *d > self.last_tick || self.net.keys().any(|k| self.net.is_ready(k)));
        let mut d = [
            self.net.next_deadline(),
            metadata,
            self.fetcher.next_deadline(),
            self.group.as_ref().and_then(|g| g.next_deadline()),
            self.next_auto_commit,
            self.queries.next_deadline(),
            self.metadata_queries.next_deadline(),
            self.times.next_deadline(),
            self.group_lists.next_deadline(),
            self.closing.as_ref().map(|c| c.1),
            self.pending_commits.iter().map(|c| c.deadline).min(),
            self.stats.next_deadline(),
        ]
        .into_iter()
        .flatten()
        .min();
        if let Some(g) = &self.group {
            if g.in_generation() {
                let poll_deadline = self.poll_deadline();
                d = Some(d.map_or(poll_deadline, |x| x.min(poll_deadline)));
            }
        }
        // Reconnects after backoff: wake when the earliest one is allowed.
        let retry = self.net.keys().filter_map(|k| self.net.retry_at(k)).min();
        let d = match (d, retry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        d.map(|d| {
            if d <= self.last_tick {
                self.last_tick + Self::BLOCKED_RETRY
            } else {
                d
            }
        })
    }

    fn poll_deadline(&self) -> Instant {
        self.start
            + Duration::from_millis(self.shared.last_poll_ms.load(Ordering::Relaxed))
            + self.settings.group.max_poll_interval
    }

    pub fn handle_timeout(&mut self, now: Instant) {
        for (key, failed) in self.net.check_timeouts(now) {
            self.on_broker_down(key, failed, "request timed out", now);
        }
        self.tick(now);
        self.stats_tick(now);
    }

    pub fn handle_connected(&mut self, conn: ConnId, now: Instant) {
        self.net.on_connected(conn, now);
    }

    pub fn handle_closed(&mut self, conn: ConnId, reason: &str, now: Instant) {
        if let Some((key, failed)) = self.net.on_closed(conn, now) {
            self.on_broker_down(key, failed, reason, now);
        }
        self.tick(now);
    }

    pub fn handle_frame(&mut self, conn: ConnId, frame: Bytes, now: Instant) {
        match self.net.on_frame(conn, frame, now) {
            FrameOutcome::Handled | FrameOutcome::Ready => {}
            FrameOutcome::Failed(key, failed, why) => self.on_broker_down(key, failed, &why, now),
            FrameOutcome::Response(r) => self.on_response(r.key, r.inflight, r.body, now),
        }
        self.tick(now);
    }

    fn on_broker_down(
        &mut self,
        key: BrokerKey,
        failed: Vec<InFlight<RequestCtx>>,
        why: &str,
        now: Instant,
    ) {
        self.debug(|| {
            format!(
                "{key:?}: connection down ({why}), {} requests failed",
                failed.len()
            )
        });
        for f in failed {
            self.on_request_failed(f.ctx, now);
        }
        match key {
            BrokerKey::Node(id) => {
                self.fetcher.on_broker_lost(id);
                self.metadata.request_refresh_soon(now);
            }
            BrokerKey::Coordinator(_) => {
                if let Some(g) = &mut self.group {
                    g.coordinator_lost(now);
                }
            }
            BrokerKey::Bootstrap(_) => {}
        }
        let all_down = self
            .net
            .keys()
            .all(|k| !self.net.is_connecting_or_ready(k) && self.net.failures(k) > 0);
        if all_down && !self.all_down_reported {
            self.all_down_reported = true;
            let n = self.net.keys().count();
            self.event(ConsumerEvent::Error(KafkaError::new(
                ErrorCode::L_ALL_BROKERS_DOWN,
                format!("{n}/{n} brokers are down"),
            )));
        }
    }

    fn event(&mut self, e: ConsumerEvent) {
        self.out.push_back(Delivery::Event(e));
    }

    fn on_request_failed(&mut self, ctx: RequestCtx, now: Instant) {
        match ctx {
            RequestCtx::Metadata => self.metadata.on_failure(now),
            RequestCtx::FindCoordinator => self.with_group(|g, _| g.on_find_failed(now)),
            RequestCtx::Join | RequestCtx::Sync => self.with_group(|g, _| g.on_join_failed(now)),
            RequestCtx::Heartbeat => self.with_group(|g, _| g.on_heartbeat_failed(now)),
            RequestCtx::Leave => {}
            RequestCtx::Commit(c) => self.pending_commits.push_front(c),
            RequestCtx::OffsetFetch(OffsetFetchCtx::Cursors(parts)) => {
                for p in parts {
                    self.committed_in_flight.remove(&p);
                }
            }
            RequestCtx::OffsetFetch(OffsetFetchCtx::Query(q)) => self.queries.retry_committed(q),
            RequestCtx::Lookup(l) => self.fetcher.on_lookup_failed(l, now),
            RequestCtx::Fetch(f) => self.fetcher.on_fetch_failed(&f),
            RequestCtx::Watermark(w) => self.queries.retry_watermark(w),
            RequestCtx::Times(t) => self.times.on_failed(t),
            RequestCtx::Groups(g) => self.group_lists.on_failed(g, ErrorCode::L_TRANSPORT),
        }
    }

    fn with_group(&mut self, f: impl FnOnce(&mut Group, &mut VecDeque<Delivery>)) {
        if let Some(g) = &mut self.group {
            f(g, &mut self.out);
        }
    }

    fn decode<R: Decodable>(&mut self, body: &mut Bytes, version: i16, what: &str) -> Option<R> {
        match frame::decode_body::<R>(body, version) {
            Ok(r) => Some(r),
            Err(e) => {
                let msg = format!("Malformed {what} response: {e}");
                self.event(ConsumerEvent::Error(KafkaError::new(
                    ErrorCode::L_BAD_MSG,
                    msg,
                )));
                None
            }
        }
    }

    fn debug(&self, msg: impl FnOnce() -> String) {
        if self.settings.debug {
            eprintln!(
                "%7|{:.3}|RSKAFKA|{}",
                self.start.elapsed().as_secs_f64(),
                msg()
            );
        }
    }
}

impl crate::runtime::event_loop::Core for Engine {
    type Command = Command;
    type Output = Delivery;
    fn handle_command(&mut self, cmd: Command, now: Instant) {
        Engine::handle_command(self, cmd, now)
    }
    fn handle_connected(&mut self, conn: ConnId, now: Instant) {
        Engine::handle_connected(self, conn, now)
    }
    fn handle_frame(&mut self, conn: ConnId, frame: Bytes, now: Instant) {
        Engine::handle_frame(self, conn, frame, now)
    }
    fn handle_closed(&mut self, conn: ConnId, reason: &str, now: Instant) {
        Engine::handle_closed(self, conn, reason, now)
    }
    fn handle_timeout(&mut self, now: Instant) {
        Engine::handle_timeout(self, now)
    }
    fn poll_io(&mut self) -> Option<IoAction> {
        Engine::poll_io(self)
    }
    fn poll_output(&mut self) -> Option<Delivery> {
        self.poll_delivery()
    }
    fn outputs_sent(&self) {
        self.shared.on_output.fire();
    }
    fn next_deadline(&self) -> Option<Instant> {
        Engine::next_deadline(self)
    }
    fn is_closed(&self) -> bool {
        Engine::is_closed(self)
    }
    fn max_frame(&self) -> usize {
        Engine::max_frame(self)
    }
}
