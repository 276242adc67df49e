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
    ApiKey, FetchResponse, FindCoordinatorResponse, HeartbeatResponse, JoinGroupResponse,
    ListOffsetsRequest, ListOffsetsResponse, MetadataResponse, OffsetCommitResponse,
    OffsetFetchResponse, SyncGroupResponse,
};
use kafka_protocol::protocol::Decodable;

use super::channel::{ClientShared, Command, ConsumerEvent, Delivery, PartitionShared, Reply};
use super::connection::{BrokerKey, ConnId, FrameOutcome, InFlight, IoAction, Net, SendError};
use super::fetcher::{FetchCtx, FetchSinks, Fetcher, LookupCtx};
use super::group::{Group, GroupRequest, Phase};
use super::metadata::Metadata;
use super::offsets;
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
    closing: Option<(Reply<()>, Instant)>,
    closed: bool,
    /// When `tick` last ran: deadlines at or before it are blocked, not due.
    last_tick: Instant,
    /// Metadata responses up to this count predate the last JoinGroup: the leader waits for a newer one.
    leader_metadata_mark: u64,
    all_down_reported: bool,
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
            closing: None,
            closed: false,
            last_tick: now,
            leader_metadata_mark: 0,
            all_down_reported: false,
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
        self.out.pop_front()
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
            self.closing.as_ref().map(|c| c.1),
            self.pending_commits.iter().map(|c| c.deadline).min(),
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

    fn on_response(
        &mut self,
        key: BrokerKey,
        f: InFlight<RequestCtx>,
        mut body: Bytes,
        now: Instant,
    ) {
        let v = f.version;
        self.debug(|| {
            format!(
                "{key:?}: {:?} v{v} response ({} bytes)",
                f.api_key,
                body.len()
            )
        });
        self.all_down_reported = false;
        match f.ctx {
            RequestCtx::Metadata => match self.decode::<MetadataResponse>(&mut body, v, "Metadata")
            {
                Some(resp) => self.on_metadata(&resp, now),
                None => self.metadata.on_failure(now),
            },
            RequestCtx::FindCoordinator => {
                let Some(resp) =
                    self.decode::<FindCoordinatorResponse>(&mut body, v, "FindCoordinator")
                else {
                    return self.with_group(|g, _| g.on_find_failed(now));
                };
                let mut found = None;
                self.with_group(|g, out| found = g.on_find_coordinator(&resp, now, out));
                if let Some((node, addr)) = found {
                    for old in self
                        .net
                        .keys()
                        .filter(|k| matches!(k, BrokerKey::Coordinator(n) if *n != node))
                        .collect::<Vec<_>>()
                    {
                        let failed = self.net.remove(old, now);
                        failed
                            .into_iter()
                            .for_each(|f| self.on_request_failed(f.ctx, now));
                    }
                    let failed = self
                        .net
                        .set_address(BrokerKey::Coordinator(node), addr, now);
                    failed
                        .into_iter()
                        .for_each(|f| self.on_request_failed(f.ctx, now));
                }
            }
            RequestCtx::Join => {
                let error_only = join_error_response(&body, v);
                let Some(resp) = error_only
                    .or_else(|| self.decode::<JoinGroupResponse>(&mut body, v, "JoinGroup"))
                else {
                    return self.with_group(|g, _| g.on_join_failed(now));
                };
                self.want_group_topics(&resp, now);
                // Like librdkafka, the leader assigns from metadata fetched after the join: the
                // partition counts are fresh, and followers' SyncGroups are not outrun.
                let mark = self.metadata.fresh_mark();
                self.leader_metadata_mark = mark;
                let next = match &mut self.group {
                    Some(g) => g.on_join(resp, now, &|_| None, &mut self.out),
                    None => None,
                };
                if let Some(req) = next {
                    self.send_group(req, now);
                }
                if self
                    .group
                    .as_ref()
                    .is_some_and(|g| matches!(g.phase, Phase::AwaitMetadata(_)))
                {
                    self.metadata.request_refresh(now);
                }
            }
            RequestCtx::Sync => {
                let resp = match null_assignment_sync_response(&body, v) {
                    Some(r) => Some(r),
                    None => self.decode::<SyncGroupResponse>(&mut body, v, "SyncGroup"),
                };
                match resp {
                    Some(resp) => self.with_group(|g, out| g.on_sync(resp, now, out)),
                    None => self.with_group(|g, _| g.on_join_failed(now)),
                }
            }
            RequestCtx::Heartbeat => {
                match self.decode::<HeartbeatResponse>(&mut body, v, "Heartbeat") {
                    Some(resp) => self.with_group(|g, out| g.on_heartbeat(resp, now, out)),
                    None => self.with_group(|g, _| g.on_heartbeat_failed(now)),
                }
            }
            RequestCtx::Leave => {
                if let Some((reply, _)) = self.closing.take() {
                    let _ = reply.send(Ok(()));
                    self.closed = true;
                }
            }
            RequestCtx::Commit(c) => {
                match self.decode::<OffsetCommitResponse>(&mut body, v, "OffsetCommit") {
                    Some(resp) => self.on_commit(c, &resp, now),
                    None => self.finish_commit(c, Err(KafkaError::from_code(ErrorCode::L_BAD_MSG))),
                }
            }
            RequestCtx::OffsetFetch(ctx) => {
                let resp = self.decode::<OffsetFetchResponse>(&mut body, v, "OffsetFetch");
                self.on_offset_fetch(ctx, resp, now);
            }
            RequestCtx::Lookup(l) => {
                match self.decode::<ListOffsetsResponse>(&mut body, v, "ListOffsets") {
                    Some(resp) => {
                        if self.fetcher.on_lookup_response(l, resp, &mut self.out, now) {
                            self.metadata.request_refresh_soon(now);
                        }
                    }
                    None => self.fetcher.on_lookup_failed(l, now),
                }
            }
            RequestCtx::Fetch(ctx) => match self.decode::<FetchResponse>(&mut body, v, "Fetch") {
                Some(resp) => {
                    let mut sinks = FetchSinks {
                        out: &mut self.out,
                        pool: &self.pool,
                        shared: &self.shared,
                    };
                    if self.fetcher.on_fetch_response(ctx, resp, &mut sinks, now) {
                        self.metadata.request_refresh(now);
                    }
                }
                None => self.fetcher.on_fetch_failed(&ctx),
            },
            RequestCtx::Watermark(w) => {
                let resp = self.decode::<ListOffsetsResponse>(&mut body, v, "ListOffsets");
                if self.queries.on_watermark(w, resp) {
                    self.metadata.request_refresh_soon(now);
                }
            }
        }
        let _ = key;
    }

    /// The leader needs metadata for every member's topics.
    fn want_group_topics(&mut self, resp: &JoinGroupResponse, now: Instant) {
        if resp.members.is_empty() {
            return;
        }
        for m in &resp.members {
            if let Ok(s) =
                super::assignor::decode_subscription(m.member_id.as_str(), None, &m.metadata)
            {
                for t in s.topics {
                    if self.metadata.partition_count(&t).is_none() && self.metadata.wanted.insert(t)
                    {
                        self.metadata.request_refresh(now);
                    }
                }
            }
        }
    }

    fn on_metadata(&mut self, resp: &MetadataResponse, now: Instant) {
        let before: HashMap<String, i32> = self
            .group
            .as_ref()
            .map(|g| {
                g.subscription
                    .iter()
                    .filter_map(|t| self.metadata.partition_count(t).map(|n| (t.clone(), n)))
                    .collect()
            })
            .unwrap_or_default();
        self.metadata.apply(resp, now);
        let brokers: Vec<(i32, String)> = self
            .metadata
            .brokers
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for (id, addr) in &brokers {
            let failed = self
                .net
                .set_address(BrokerKey::Node(*id), addr.clone(), now);
            failed
                .into_iter()
                .for_each(|f| self.on_request_failed(f.ctx, now));
        }
        let gone: Vec<BrokerKey> = self
            .net
            .keys()
            .filter(|k| matches!(k, BrokerKey::Node(id) if !self.metadata.brokers.contains_key(id)))
            .collect();
        for k in gone {
            let failed = self.net.remove(k, now);
            failed
                .into_iter()
                .for_each(|f| self.on_request_failed(f.ctx, now));
        }
        if !brokers.is_empty() {
            for k in self
                .net
                .keys()
                .filter(|k| matches!(k, BrokerKey::Bootstrap(_)))
                .collect::<Vec<_>>()
            {
                if self.net.inflight_count(k) == 0 {
                    self.net.close(k, now, false);
                }
            }
        }
        self.queries.on_metadata(&self.metadata);
        if let Some(g) = &mut self.group {
            let after: HashMap<String, i32> = g
                .subscription
                .iter()
                .filter_map(|t| self.metadata.partition_count(t).map(|n| (t.clone(), n)))
                .collect();
            let missing: Vec<&String> = g
                .subscription
                .iter()
                .filter(|t| self.metadata.is_unknown(t))
                .collect();
            for t in missing {
                let msg = format!(
                    "Subscribed topic not available: {t}: Broker: Unknown topic or partition"
                );
                self.out
                    .push_back(Delivery::Event(ConsumerEvent::Error(KafkaError::new(
                        ErrorCode::UNKNOWN_TOPIC_OR_PART,
                        msg,
                    ))));
            }
            if after != before && !before.is_empty() {
                g.on_metadata_changed(&mut self.out);
            }
        }
    }

    fn on_commit(&mut self, c: CommitCtx, resp: &OffsetCommitResponse, now: Instant) {
        let (results, first) = offsets::commit_results(&c.offsets, resp);
        if matches!(
            first,
            ErrorCode::NOT_COORDINATOR
                | ErrorCode::COORDINATOR_NOT_AVAILABLE
                | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
        ) && now < c.deadline
        {
            self.with_group(|g, _| g.coordinator_lost(now));
            self.pending_commits.push_back(c);
            return;
        }
        for tp in results.iter().filter(|tp| tp.error.0 == 0) {
            self.last_committed
                .insert((Arc::from(tp.topic.as_str()), tp.partition), tp.offset);
        }
        if matches!(
            first,
            ErrorCode::ILLEGAL_GENERATION
                | ErrorCode::UNKNOWN_MEMBER_ID
                | ErrorCode::REBALANCE_IN_PROGRESS
        ) {
            self.metadata.request_refresh_soon(now);
        }
        let result = if first.0 == 0 {
            Ok(())
        } else {
            Err(KafkaError::new(first, format!("Commit failed: {first}")))
        };
        let CommitCtx {
            reply, offsets: _, ..
        } = c;
        match reply {
            Some(r) => {
                let _ = r.send(result.map(|_| results));
            }
            None => self.event(ConsumerEvent::OffsetCommit {
                result,
                offsets: results,
            }),
        }
    }

    fn finish_commit(&mut self, c: CommitCtx, result: Result<()>) {
        match c.reply {
            Some(r) => {
                let _ = r.send(result.map(|_| c.offsets));
            }
            None => self.event(ConsumerEvent::OffsetCommit {
                result,
                offsets: c.offsets,
            }),
        }
    }

    fn on_offset_fetch(
        &mut self,
        ctx: OffsetFetchCtx,
        resp: Option<OffsetFetchResponse>,
        now: Instant,
    ) {
        let parts = match &ctx {
            OffsetFetchCtx::Cursors(p) => p.clone(),
            OffsetFetchCtx::Query(q) => q.parts.clone(),
        };
        let (results, err) = match &resp {
            Some(r) => offsets::offset_fetch_results(&parts, r),
            None => (Vec::new(), ErrorCode::L_BAD_MSG),
        };
        let retriable = matches!(
            err,
            ErrorCode::NOT_COORDINATOR
                | ErrorCode::COORDINATOR_NOT_AVAILABLE
                | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
        ) || results
            .iter()
            .any(|r| r.error == ErrorCode::UNSTABLE_OFFSET_COMMIT);
        if retriable {
            self.with_group(|g, _| g.coordinator_lost(now));
        }
        match ctx {
            OffsetFetchCtx::Cursors(parts) => {
                for p in &parts {
                    self.committed_in_flight.remove(p);
                }
                if retriable || err.0 != 0 {
                    return;
                }
                for tp in results {
                    self.last_committed
                        .insert((Arc::from(tp.topic.as_str()), tp.partition), tp.offset);
                    let off = if tp.error.0 == 0 { tp.offset } else { -1 };
                    self.fetcher
                        .set_committed(&tp.topic, tp.partition, off, &mut self.out);
                }
            }
            OffsetFetchCtx::Query(q) => {
                if retriable {
                    self.queries.retry_committed(q);
                } else if err.0 != 0 {
                    let _ = q.reply.send(Err(KafkaError::new(
                        err,
                        format!("Failed to fetch committed offsets: {err}"),
                    )));
                } else {
                    let _ = q.reply.send(Ok(results));
                }
            }
        }
    }

    /// Applies an application command.
    pub fn handle_command(&mut self, cmd: Command, now: Instant) {
        match cmd {
            Command::Subscribe(topics, reply) => {
                let Some(g) = &mut self.group else {
                    let _ = reply.send(Err(KafkaError::new(
                        ErrorCode::L_UNKNOWN_GROUP,
                        "A consumer group id (group.id) is required to subscribe",
                    )));
                    return;
                };
                let set: BTreeSet<String> = topics.into_iter().collect();
                self.metadata.wanted.extend(set.iter().cloned());
                self.metadata.request_refresh(now);
                g.subscribe(set, &mut self.out);
                let _ = reply.send(Ok(()));
            }
            Command::Unsubscribe(reply) => {
                if let Some(g) = &mut self.group {
                    if let Some(leave) = g.unsubscribe(&mut self.out) {
                        self.send_group(leave, now);
                    }
                }
                let _ = reply.send(Ok(()));
            }
            Command::Assign {
                partitions,
                incremental,
                reply,
            } => {
                self.debug(|| {
                    let list: Vec<String> = partitions
                        .iter()
                        .flatten()
                        .map(|(tp, _)| format!("{}[{}]@{}", tp.topic, tp.partition, tp.offset))
                        .collect();
                    format!("assign (incremental {incremental:?}): {}", list.join(", "))
                });
                let r = self.assign(partitions, incremental, now);
                let _ = reply.send(r);
            }
            Command::Commit { offsets, reply } => self.commit(offsets, reply, now),
            Command::Committed {
                partitions,
                timeout,
                reply,
            } => {
                if self.group.is_none() {
                    let _ = reply.send(Err(KafkaError::new(
                        ErrorCode::L_UNKNOWN_GROUP,
                        "No group.id configured",
                    )));
                    return;
                }
                let parts = partitions
                    .iter()
                    .map(|tp| (tp.topic.clone(), tp.partition))
                    .collect();
                self.queries.add_committed(parts, now + timeout, reply);
            }
            Command::Seek { partition, reply } => {
                let r = match self.fetcher.get_mut(&partition.topic, partition.partition) {
                    Some(c) => {
                        c.seek(partition.offset);
                        c.shared
                            .position
                            .store(partition.offset.max(offset::INVALID), Ordering::Release);
                        Ok(())
                    }
                    None => Err(KafkaError::new(
                        ErrorCode::L_UNKNOWN_PARTITION,
                        format!(
                            "{} [{}] is not assigned",
                            partition.topic, partition.partition
                        ),
                    )),
                };
                if r.is_ok() && partition.offset < 0 && partition.offset != offset::STORED {
                    self.metadata.request_refresh(now);
                }
                let _ = reply.send(r);
            }
            Command::Pause(parts, pause, reply) => {
                for tp in parts {
                    if let Some(c) = self.fetcher.get_mut(&tp.topic, tp.partition) {
                        if c.paused != pause {
                            c.pause(pause);
                        }
                    }
                }
                let _ = reply.send(Ok(()));
            }
            Command::Watermarks {
                topic,
                partition,
                timeout,
                reply,
            } => {
                self.metadata.wanted.insert(topic.clone());
                if self.metadata.leader(&topic, partition).is_none() {
                    self.metadata.request_refresh(now);
                }
                self.queries
                    .add_watermark(topic, partition, now + timeout, reply);
            }
            Command::Metadata {
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
                self.queries.add_metadata(topic, now + timeout, reply);
            }
            Command::Wake => {}
            Command::Close(reply) => self.close(reply, now),
        }
    }

    fn assign(
        &mut self,
        partitions: Option<Vec<(TopicPartition, Arc<PartitionShared>)>>,
        incremental: Option<bool>,
        now: Instant,
    ) -> Result<()> {
        let current: Vec<(Arc<str>, i32)> = self.fetcher.cursors.keys().cloned().collect();
        let (add, remove): (Vec<Assigned>, Vec<(Arc<str>, i32)>) = match (partitions, incremental) {
            (None, _) => (Vec::new(), current),
            (Some(list), None) => {
                let keep: HashSet<(&str, i32)> = list
                    .iter()
                    .map(|(tp, _)| (tp.topic.as_str(), tp.partition))
                    .collect();
                let remove = current
                    .into_iter()
                    .filter(|(t, p)| !keep.contains(&(&**t, *p)))
                    .collect();
                (list, remove)
            }
            (Some(list), Some(true)) => {
                if let Some((tp, _)) = list.iter().find(|(tp, _)| {
                    self.fetcher
                        .cursors
                        .contains_key(&(Arc::from(tp.topic.as_str()), tp.partition))
                }) {
                    return Err(KafkaError::new(
                        ErrorCode::L_CONFLICT,
                        format!("{} [{}] is already assigned", tp.topic, tp.partition),
                    ));
                }
                (list, Vec::new())
            }
            (Some(list), Some(false)) => (
                Vec::new(),
                list.into_iter()
                    .map(|(tp, _)| (Arc::from(tp.topic.as_str()), tp.partition))
                    .collect(),
            ),
        };
        if !remove.is_empty() && self.settings.enable_auto_commit && self.group.is_some() {
            let offsets = self.stored_offsets(Some(&remove));
            if !offsets.is_empty() {
                self.pending_commits.push_back(CommitCtx {
                    offsets,
                    reply: None,
                    deadline: now + self.settings.net.socket_timeout,
                });
            }
        }
        for (t, p) in &remove {
            self.fetcher.remove(t, *p);
            self.last_committed.remove(&(t.clone(), *p));
        }
        for (tp, shared) in add {
            self.metadata.wanted.insert(tp.topic.clone());
            if self.metadata.leader(&tp.topic, tp.partition).is_none() {
                self.metadata.request_refresh(now);
            }
            let start = if self.group.is_none()
                && (tp.offset == offset::INVALID || tp.offset == offset::STORED)
            {
                match self.settings.fetch.auto_offset_reset {
                    super::settings::OffsetReset::Earliest => offset::BEGINNING,
                    _ => offset::END,
                }
            } else {
                tp.offset
            };
            self.fetcher.add(&tp.topic, tp.partition, shared, start);
        }
        let owned = self.fetcher.cursors.keys().fold(
            super::assignor::TopicPartitions::new(),
            |mut acc, (t, p)| {
                acc.entry(t.to_string()).or_default().push(*p);
                acc
            },
        );
        if let Some(g) = &mut self.group {
            if matches!(g.phase, Phase::AwaitApp(_)) {
                g.on_app_ack(&mut self.out);
            }
            if matches!(g.phase, Phase::Stable | Phase::Idle) {
                g.set_owned(owned);
            }
        }
        Ok(())
    }

    /// Offsets to commit: the stored offsets of `only` (or the whole assignment) that moved since
    /// the last commit. With `enable.auto.offset.store` the application stores each delivered offset.
    fn stored_offsets(&self, only: Option<&[(Arc<str>, i32)]>) -> Vec<TopicPartition> {
        let keys: Vec<(Arc<str>, i32)> = match only {
            Some(k) => k.to_vec(),
            None => self.fetcher.cursors.keys().cloned().collect(),
        };
        keys.into_iter()
            .filter_map(|k| {
                let c = self.fetcher.cursors.get(&k)?;
                let off = c.shared.stored.load(Ordering::Acquire);
                (off >= 0 && self.last_committed.get(&k) != Some(&off))
                    .then(|| TopicPartition::with_offset(k.0.to_string(), k.1, off))
            })
            .collect()
    }

    fn commit(
        &mut self,
        offsets: Option<Vec<TopicPartition>>,
        reply: Option<Reply<Vec<TopicPartition>>>,
        now: Instant,
    ) {
        if self.group.is_none() {
            let err = Err(KafkaError::new(
                ErrorCode::L_UNKNOWN_GROUP,
                "No group.id configured: cannot commit",
            ));
            match reply {
                Some(r) => {
                    let _ = r.send(err);
                }
                None => self.event(ConsumerEvent::OffsetCommit {
                    result: err.map(|_: Vec<TopicPartition>| ()),
                    offsets: Vec::new(),
                }),
            }
            return;
        }
        let offsets = offsets.unwrap_or_else(|| self.stored_offsets(None));
        if offsets.is_empty() {
            let err = KafkaError::new(ErrorCode::L_NO_OFFSET, "Local: No offset stored");
            match reply {
                Some(r) => {
                    let _ = r.send(Err(err));
                }
                None => self.event(ConsumerEvent::OffsetCommit {
                    result: Err(err),
                    offsets: Vec::new(),
                }),
            }
            return;
        }
        self.pending_commits.push_back(CommitCtx {
            offsets,
            reply,
            deadline: now + self.settings.net.socket_timeout,
        });
    }

    fn close(&mut self, reply: Reply<()>, now: Instant) {
        if self.settings.enable_auto_commit && self.group.is_some() {
            let offsets = self.stored_offsets(None);
            if !offsets.is_empty() {
                self.pending_commits.push_back(CommitCtx {
                    offsets,
                    reply: None,
                    deadline: now + self.settings.net.socket_timeout,
                });
            }
        }
        let leave = self.group.as_mut().and_then(|g| g.close());
        let deadline = now + Duration::from_secs(10).min(self.settings.net.socket_timeout);
        self.closing = Some((reply, deadline));
        self.flush_commits(now);
        let sent = leave.is_some_and(|req| self.send_group(req, now));
        if !sent {
            self.finish_close_when_idle(now);
        }
    }

    fn finish_close_when_idle(&mut self, now: Instant) {
        let commits_done = self.pending_commits.is_empty()
            && self
                .coordinator_key()
                .is_none_or(|k| self.net.inflight_count(k) == 0);
        if let Some((_, deadline)) = &self.closing {
            if commits_done || now >= *deadline {
                let (reply, _) = self.closing.take().expect("checked");
                let _ = reply.send(Ok(()));
                self.closed = true;
            }
        }
    }

    fn coordinator_key(&self) -> Option<BrokerKey> {
        self.group
            .as_ref()
            .and_then(|g| g.coordinator)
            .map(BrokerKey::Coordinator)
    }

    /// Sends a group request to the coordinator (FindCoordinator to any broker).
    fn send_group(&mut self, req: GroupRequest, now: Instant) -> bool {
        let extra = self
            .group
            .as_ref()
            .map_or(Duration::ZERO, |g| g.join_extra_timeout());
        let result = match req {
            GroupRequest::FindCoordinator(r) => match self.any_ready_broker(now) {
                Some(k) => match self.net.version(k, ApiKey::FindCoordinator) {
                    Some(v) => {
                        let r = if v >= 4 {
                            r
                        } else {
                            r.with_coordinator_keys(Vec::new())
                        };
                        self.net
                            .send(k, &r, v, RequestCtx::FindCoordinator, Duration::ZERO, now)
                    }
                    None => Err((SendError::Unsupported, RequestCtx::FindCoordinator)),
                },
                None => Err((SendError::NotReady, RequestCtx::FindCoordinator)),
            },
            GroupRequest::Join(r) => self.send_to_coordinator(&r, RequestCtx::Join, extra, now),
            GroupRequest::Sync(r) => self.send_to_coordinator(&r, RequestCtx::Sync, extra, now),
            GroupRequest::Heartbeat(r) => {
                self.send_to_coordinator(&r, RequestCtx::Heartbeat, Duration::ZERO, now)
            }
            GroupRequest::Leave(r) => {
                // `member_id` exists up to v2, `members` from v3: kafka-protocol refuses to
                // encode a field the version lacks, so keep only the one this version has.
                let v = self
                    .coordinator_key()
                    .and_then(|k| self.net.version(k, ApiKey::LeaveGroup));
                let r = if v.is_some_and(|v| v >= 3) {
                    r.with_member_id(Default::default())
                } else {
                    r.with_members(Vec::new())
                };
                self.send_to_coordinator(&r, RequestCtx::Leave, Duration::ZERO, now)
            }
        };
        match result {
            Ok(()) => true,
            Err((_, ctx)) => {
                self.on_request_failed(ctx, now);
                false
            }
        }
    }

    fn send_to_coordinator<R: Request>(
        &mut self,
        r: &R,
        ctx: RequestCtx,
        extra: Duration,
        now: Instant,
    ) -> Result<(), (SendError, RequestCtx)> {
        let Some(key) = self.coordinator_key() else {
            return Err((SendError::NotReady, ctx));
        };
        let Some(v) = self.net.version(key, R::KEY) else {
            return Err((SendError::Unsupported, ctx));
        };
        self.net.send(key, r, v, ctx, extra, now)
    }

    /// A broker with a ready connection, preferring known nodes; starts connecting if none is.
    fn any_ready_broker(&mut self, now: Instant) -> Option<BrokerKey> {
        let mut keys: Vec<BrokerKey> = self
            .net
            .keys()
            .filter(|k| !matches!(k, BrokerKey::Coordinator(_)))
            .collect();
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

    fn flush_commits(&mut self, now: Instant) {
        let Some(key) = self.coordinator_key() else {
            return;
        };
        if !self.net.ensure(key, now) {
            return;
        }
        let (generation, member, instance) = match &self.group {
            Some(g) if g.in_generation() => (
                g.generation,
                g.member_id.clone(),
                g.settings.group_instance_id.clone(),
            ),
            _ => (-1, String::new(), None),
        };
        let group_id = self.settings.group_id.clone().unwrap_or_default();
        let version = self.net.version(key, ApiKey::OffsetCommit).unwrap_or(2);
        while let Some(c) = self.pending_commits.pop_front() {
            let req = offsets::build_commit(
                &group_id,
                generation,
                &member,
                instance.as_deref(),
                &c.offsets,
                version,
            );
            if let Err((_, RequestCtx::Commit(c))) =
                self.send_to_coordinator(&req, RequestCtx::Commit(c), Duration::ZERO, now)
            {
                self.pending_commits.push_front(c);
                break;
            }
        }
    }

    /// Runs every state machine forward: the one place that decides what to send.
    fn tick(&mut self, now: Instant) {
        self.last_tick = now;
        if self.closed {
            return;
        }
        // Metadata.
        if self.metadata.due(now) {
            if let Some(k) = self.any_ready_broker(now) {
                if let Some(v) = self.net.version(k, ApiKey::Metadata) {
                    let req = self.metadata.build_request(v);
                    if self
                        .net
                        .send(k, &req, v, RequestCtx::Metadata, Duration::ZERO, now)
                        .is_err()
                    {
                        self.metadata.on_failure(now);
                    }
                }
            }
        }
        self.tick_group(now);
        self.tick_commits(now);
        self.tick_queries(now);
        self.tick_fetch(now);
        if self.closing.is_some() {
            self.finish_close_when_idle(now);
        }
    }

    fn tick_group(&mut self, now: Instant) {
        let Some(g) = &mut self.group else { return };
        // max.poll.interval.ms
        if g.in_generation()
            && now
                >= self.start
                    + Duration::from_millis(self.shared.last_poll_ms.load(Ordering::Relaxed))
                    + g.settings.max_poll_interval
        {
            let since = now.duration_since(
                self.start
                    + Duration::from_millis(self.shared.last_poll_ms.load(Ordering::Relaxed)),
            );
            let exceeded = since.saturating_sub(g.settings.max_poll_interval);
            self.shared.polled.store(false, Ordering::Release);
            if let Some(leave) = g.on_poll_exceeded(exceeded, &mut self.out) {
                self.send_group(leave, now);
            }
            return;
        }
        if g.phase == Phase::PollExceeded && self.shared.polled.load(Ordering::Acquire) {
            g.on_polled_again();
        }
        let want_coordinator = !self.pending_commits.is_empty()
            || !self.fetcher.awaiting_committed().is_empty()
            || self.queries.wants_coordinator();
        let coord_ready = match g.coordinator {
            Some(node) => self.net.ensure(BrokerKey::Coordinator(node), now),
            None => false,
        };
        let needed = g.topics_needed();
        for t in needed {
            if self.metadata.partition_count(&t).is_none() && self.metadata.wanted.insert(t) {
                self.metadata.request_refresh(now);
            }
        }
        let md = &self.metadata;
        let mark = self.leader_metadata_mark;
        let counts = |t: &str| {
            if md.responses > mark {
                md.partition_count(t)
            } else {
                None
            }
        };
        let mut reqs = Vec::new();
        while let Some(req) =
            g.poll_request(now, coord_ready, want_coordinator, &counts, &mut self.out)
        {
            let is_find = matches!(req, GroupRequest::FindCoordinator(_));
            reqs.push(req);
            if is_find || reqs.len() > 4 {
                break;
            }
        }
        for req in reqs {
            let what = match &req {
                GroupRequest::FindCoordinator(_) => "FindCoordinator",
                GroupRequest::Join(_) => "JoinGroup",
                GroupRequest::Sync(_) => "SyncGroup",
                GroupRequest::Heartbeat(_) => "Heartbeat",
                GroupRequest::Leave(_) => "LeaveGroup",
            };
            let sent = self.send_group(req, now);
            let phase = self
                .group
                .as_ref()
                .map(|g| format!("{:?}", g.phase))
                .unwrap_or_default();
            self.debug(|| format!("group: {what} sent={sent}, phase {phase}"));
        }
    }

    fn tick_commits(&mut self, now: Instant) {
        if let Some(at) = self.next_auto_commit {
            if now >= at {
                self.next_auto_commit = Some(now + self.settings.auto_commit_interval);
                let in_group = self
                    .group
                    .as_ref()
                    .is_some_and(|g| g.in_generation() || g.phase == Phase::Idle);
                if in_group {
                    let offsets = self.stored_offsets(None);
                    if !offsets.is_empty() {
                        self.pending_commits.push_back(CommitCtx {
                            offsets,
                            reply: None,
                            deadline: now + self.settings.net.socket_timeout,
                        });
                    }
                }
            }
        }
        // Expire commits that could not be sent in time.
        let mut i = 0;
        while i < self.pending_commits.len() {
            if self.pending_commits[i].deadline <= now {
                let c = self.pending_commits.remove(i).expect("index checked");
                self.finish_commit(
                    c,
                    Err(KafkaError::new(
                        ErrorCode::L_TIMED_OUT,
                        "Commit timed out waiting for the group coordinator",
                    )),
                );
            } else {
                i += 1;
            }
        }
        if !self.pending_commits.is_empty() {
            self.flush_commits(now);
        }
        // Committed offsets for new cursors.
        let Some(key) = self.coordinator_key() else {
            return;
        };
        let awaiting: Vec<(String, i32)> = self
            .fetcher
            .awaiting_committed()
            .into_iter()
            .map(|(t, p)| (t.to_string(), p))
            .filter(|k| !self.committed_in_flight.contains(k))
            .collect();
        if awaiting.is_empty() || !self.net.ensure(key, now) {
            return;
        }
        let group_id = self.settings.group_id.clone().unwrap_or_default();
        let stable = self.settings.fetch.read_committed
            && self
                .net
                .version(key, ApiKey::OffsetFetch)
                .is_some_and(|v| v >= 7);
        let req = offsets::build_offset_fetch(&group_id, &awaiting, stable);
        let n = awaiting.len();
        match self.send_to_coordinator(
            &req,
            RequestCtx::OffsetFetch(OffsetFetchCtx::Cursors(awaiting.clone())),
            Duration::ZERO,
            now,
        ) {
            Ok(()) => self.committed_in_flight.extend(awaiting),
            Err((e, _)) => self.debug(|| format!("OffsetFetch for {n} partitions not sent: {e:?}")),
        }
    }

    fn tick_queries(&mut self, now: Instant) {
        self.queries.expire(now, &self.metadata);
        if let Some(key) = self.coordinator_key() {
            if self.net.ensure(key, now) {
                let group_id = self.settings.group_id.clone().unwrap_or_default();
                while let Some(q) = self.queries.take_committed() {
                    let req = offsets::build_offset_fetch(&group_id, &q.parts, false);
                    if let Err((_, ctx)) = self.send_to_coordinator(
                        &req,
                        RequestCtx::OffsetFetch(OffsetFetchCtx::Query(q)),
                        Duration::ZERO,
                        now,
                    ) {
                        self.on_request_failed(ctx, now);
                        break;
                    }
                }
            }
        }
        for (node, ctx, ts) in self.queries.take_watermarks(&self.metadata) {
            let key = BrokerKey::Node(node);
            if !self.net.ensure(key, now) {
                self.queries.retry_watermark(ctx);
                continue;
            }
            let Some(v) = self.net.version(key, ApiKey::ListOffsets) else {
                self.queries.retry_watermark(ctx);
                continue;
            };
            let req: ListOffsetsRequest = queries::watermark_request(&ctx, ts);
            if let Err((_, ctx)) = self.net.send(
                key,
                &req,
                v,
                RequestCtx::Watermark(ctx),
                Duration::ZERO,
                now,
            ) {
                self.on_request_failed(ctx, now);
            }
        }
    }

    fn tick_fetch(&mut self, now: Instant) {
        let md = &self.metadata;
        let leaders = |t: &str, p: i32| md.leader(t, p);
        let lookups = self.fetcher.lookup_plan(leaders, now);
        for (node, parts) in lookups {
            let key = BrokerKey::Node(node);
            if !self.net.ensure(key, now) {
                continue;
            }
            let Some(v) = self.net.version(key, ApiKey::ListOffsets) else {
                continue;
            };
            let (req, ctx) = self.fetcher.build_lookup(node, &parts, v);
            if let Err((_, ctx)) =
                self.net
                    .send(key, &req, v, RequestCtx::Lookup(ctx), Duration::ZERO, now)
            {
                self.on_request_failed(ctx, now);
            }
        }
        let md = &self.metadata;
        let leaders = |t: &str, p: i32| md.leader(t, p);
        let plan = self.fetcher.fetch_plan(leaders, &self.shared, now);
        for (node, parts) in plan {
            let key = BrokerKey::Node(node);
            if !self.net.ensure(key, now) {
                continue;
            }
            let Some(v) = self.net.version(key, ApiKey::Fetch) else {
                continue;
            };
            let (req, ctx) = self.fetcher.build_fetch(node, &parts, v);
            let wait = Duration::from_millis(self.settings.fetch.fetch_wait_max_ms.max(0) as u64);
            if let Err((_, ctx)) = self
                .net
                .send(key, &req, v, RequestCtx::Fetch(ctx), wait, now)
            {
                self.on_request_failed(ctx, now);
            }
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

/// A JoinGroup error response (v0-v5) that does not decode: librdkafka's mock cluster writes
/// null strings (protocol name, leader, member id) with every error, which the schema's
/// non-nullable strings reject. Only the error code matters then (librdkafka reads it the same
/// way); `None` when the body decodes or carries no error.
fn join_error_response(body: &[u8], version: i16) -> Option<JoinGroupResponse> {
    if !(0..=5).contains(&version) {
        return None;
    }
    let at = if version >= 2 { 4 } else { 0 };
    let code = i16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]);
    if code == 0
        || frame::decode_body::<JoinGroupResponse>(&mut Bytes::copy_from_slice(body), version)
            .is_ok()
    {
        return None;
    }
    let mut resp = JoinGroupResponse::default();
    resp.error_code = code;
    Some(resp)
}

/// A SyncGroup response (v0-v3) whose `assignment` is null (length -1), which the schema's
/// non-nullable bytes reject: librdkafka's mock cluster writes one with every SyncGroup error
/// (e.g. REBALANCE_IN_PROGRESS) and librdkafka's client reads it as an empty assignment. Returns
/// that response with an empty assignment; `None` for anything else (decoded normally).
fn null_assignment_sync_response(body: &[u8], version: i16) -> Option<SyncGroupResponse> {
    if !(0..=3).contains(&version) {
        return None;
    }
    let at = if version >= 1 { 4 } else { 0 };
    let be16 = |b: &[u8]| i16::from_be_bytes([b[0], b[1]]);
    let be32 = |b: &[u8]| i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if body.len() != at + 6 || be32(&body[at + 2..]) != -1 {
        return None;
    }
    let mut resp = SyncGroupResponse::default();
    if version >= 1 {
        resp.throttle_time_ms = be32(body);
    }
    resp.error_code = be16(&body[at..]);
    Some(resp)
}

#[cfg(test)]
mod null_assignment_tests {
    use super::null_assignment_sync_response;

    #[test]
    fn null_assignment_keeps_the_error_code() {
        // v3: throttle 0, REBALANCE_IN_PROGRESS (27), assignment length -1.
        let body = [0, 0, 0, 0, 0, 27, 0xff, 0xff, 0xff, 0xff];
        let r = null_assignment_sync_response(&body, 3).unwrap();
        assert_eq!(r.error_code, 27);
        assert!(r.assignment.is_empty());
        // v0 has no throttle time.
        let r = null_assignment_sync_response(&body[4..], 0).unwrap();
        assert_eq!(r.error_code, 27);
        // A real (empty) assignment is left to the normal decoder.
        assert!(null_assignment_sync_response(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 3).is_none());
    }

    #[test]
    fn join_error_with_null_strings_keeps_the_error_code() {
        // v5: throttle 0, NOT_COORDINATOR (16), generation -1, then null strings (length -1).
        let mut body = vec![0, 0, 0, 0, 0, 16, 0xff, 0xff, 0xff, 0xff];
        body.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        let r = super::join_error_response(&body, 5).unwrap();
        assert_eq!(r.error_code, 16);
    }
}
