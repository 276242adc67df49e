//! Fetching: a cursor per assigned partition, one outstanding Fetch per leader covering all of that
//! leader's partitions, incremental fetch sessions (KIP-227), bounded prefetch, offset resets.
//!
//! Response records are cut into batches by header only: the application thread iterates the
//! records, and compressed batches go to the decompression pool, so the engine thread never touches
//! a record.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic, ForgottenTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{
    BrokerId, FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::channel::{push_error, ClientShared, Delivery, PartitionShared};
use super::settings::{FetchSettings, OffsetReset};
use crate::error::ErrorCode;
use crate::runtime::decompress::DecompressPool;
use crate::topic_partition::offset;

mod partition_response;
use partition_response::handle_partition;

/// Where a partition's fetch position comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CursorState {
    /// Waiting for the group's committed offset.
    AwaitCommitted,
    /// Needs a ListOffsets lookup for a logical offset (BEGINNING, END or TAIL).
    NeedLookup(i64),
    /// ListOffsets in flight.
    LookupInFlight,
    /// Fetching from `fetch_offset`.
    Active,
    /// Stopped by an error the application must handle (`auto.offset.reset=error`).
    Stopped,
}

/// The fetch state of one assigned partition.
pub(crate) struct PartitionCursor {
    pub topic: Arc<str>,
    pub partition: i32,
    pub shared: Arc<PartitionShared>,
    pub state: CursorState,
    pub fetch_offset: i64,
    pub leader_epoch: i32,
    pub paused: bool,
    pub high_watermark: i64,
    pub last_stable_offset: i64,
    pub log_start_offset: i64,
    /// Where delivery of the current version starts: pausing restarts here when the
    /// application has consumed nothing since (its position is invalid).
    resume_offset: i64,
    pub eof_reported_at: i64,
    backoff_until: Option<Instant>,
    /// Messages and bytes of the batches handed to the application (statistics).
    pub rx_msgs: u64,
    pub rx_bytes: u64,
    /// Partition responses dropped because a seek or revoke made them stale.
    pub rx_ver_drops: u64,
}

impl PartitionCursor {
    pub fn new(topic: &str, partition: i32, shared: Arc<PartitionShared>, start: i64) -> Self {
        let state = if start >= 0 {
            CursorState::Active
        } else if start == offset::STORED || start == offset::INVALID {
            CursorState::AwaitCommitted
        } else {
            CursorState::NeedLookup(start)
        };
        PartitionCursor {
            topic: Arc::from(topic),
            partition,
            shared,
            state,
            fetch_offset: start.max(-1),
            leader_epoch: -1,
            paused: false,
            high_watermark: -1,
            last_stable_offset: -1,
            log_start_offset: -1,
            resume_offset: start.max(-1),
            eof_reported_at: -1,
            backoff_until: None,
            rx_msgs: 0,
            rx_bytes: 0,
            rx_ver_drops: 0,
        }
    }

    /// Pauses or resumes fetching. Pausing drops what is prefetched but not yet delivered, as
    /// librdkafka does, so fetching resumes at the application's position.
    ///
    /// Only an active cursor can have prefetched data: bumping the version of a cursor whose
    /// offset lookup (ListOffsets / committed offset) is in flight would make the engine discard
    /// that answer and leave the partition waiting for it forever.
    pub fn pause(&mut self, pause: bool) {
        self.paused = pause;
        if pause && self.state == CursorState::Active {
            let pos = self.shared.position.load(Ordering::Acquire);
            self.fetch_offset = if pos >= 0 { pos } else { self.resume_offset };
            self.resume_offset = self.fetch_offset;
            self.shared.bump_version();
        }
    }

    /// Moves the cursor to `target` (an offset or a logical one) and invalidates queued data.
    /// As librdkafka, the application's position becomes invalid until it consumes again, so
    /// that a later pause does not rewind to a position from before the seek.
    pub fn seek(&mut self, target: i64) {
        self.shared.bump_version();
        self.shared
            .position
            .store(offset::INVALID, Ordering::Release);
        *self = PartitionCursor {
            paused: self.paused,
            rx_msgs: self.rx_msgs,
            rx_bytes: self.rx_bytes,
            rx_ver_drops: self.rx_ver_drops,
            ..PartitionCursor::new(&self.topic, self.partition, self.shared.clone(), target)
        };
    }
}

/// Per-broker incremental fetch session state.
#[derive(Default)]
struct FetchSession {
    id: i32,
    epoch: i32,
    /// What the broker's session holds: partition → fetch offset sent.
    sent: HashMap<(Arc<str>, i32), i64>,
}

impl FetchSession {
    fn reset(&mut self) {
        *self = FetchSession::default();
    }
}

/// Context of an outstanding Fetch: what was asked, and at which version of each partition.
#[derive(Debug)]
pub(crate) struct FetchCtx {
    pub node: i32,
    pub parts: Vec<(Arc<str>, i32, u32)>,
    session_epoch: i32,
}

/// Context of an outstanding ListOffsets for cursor resets.
#[derive(Debug)]
pub(crate) struct LookupCtx {
    pub node: i32,
    pub parts: Vec<(Arc<str>, i32, i64, u32)>,
}

/// All cursors of the consumer and the fetch sessions with their leaders.
pub(crate) struct Fetcher {
    pub cursors: BTreeMap<(Arc<str>, i32), PartitionCursor>,
    sessions: HashMap<i32, FetchSession>,
    fetching: HashSet<i32>,
    looking_up: HashSet<i32>,
    pub settings: FetchSettings,
    /// Messages and bytes received for partitions no longer assigned (statistics totals).
    pub removed_rx: (u64, u64),
}

/// Everything the fetcher writes to besides itself.
pub(crate) struct FetchSinks<'a> {
    pub out: &'a mut VecDeque<Delivery>,
    pub pool: &'a DecompressPool,
    pub shared: &'a ClientShared,
}

impl Fetcher {
    pub fn new(settings: FetchSettings) -> Self {
        Fetcher {
            cursors: BTreeMap::new(),
            sessions: HashMap::new(),
            fetching: HashSet::new(),
            looking_up: HashSet::new(),
            settings,
            removed_rx: (0, 0),
        }
    }

    pub fn get_mut(&mut self, topic: &str, partition: i32) -> Option<&mut PartitionCursor> {
        self.cursors.get_mut(&(Arc::from(topic), partition))
    }

    /// Adds a partition to fetch from `start`; an existing cursor is kept.
    pub fn add(&mut self, topic: &str, partition: i32, shared: Arc<PartitionShared>, start: i64) {
        let key = (Arc::from(topic), partition);
        self.cursors
            .entry(key)
            .or_insert_with(|| PartitionCursor::new(topic, partition, shared, start));
    }

    /// Stops fetching a partition and invalidates what is queued for it.
    pub fn remove(&mut self, topic: &str, partition: i32) -> Option<PartitionCursor> {
        let c = self.cursors.remove(&(Arc::from(topic), partition))?;
        c.shared.bump_version();
        self.removed_rx.0 += c.rx_msgs;
        self.removed_rx.1 += c.rx_bytes;
        Some(c)
    }

    /// Partitions waiting for their committed offset.
    pub fn awaiting_committed(&self) -> Vec<(Arc<str>, i32)> {
        self.cursors
            .values()
            .filter(|c| c.state == CursorState::AwaitCommitted)
            .map(|c| (c.topic.clone(), c.partition))
            .collect()
    }

    /// Applies a committed offset (or -1 for none) to a cursor waiting for it.
    pub fn set_committed(
        &mut self,
        topic: &str,
        partition: i32,
        committed: i64,
        out: &mut VecDeque<Delivery>,
    ) {
        let reset = self.settings.auto_offset_reset;
        let Some(c) = self.get_mut(topic, partition) else {
            return;
        };
        if c.state != CursorState::AwaitCommitted {
            return;
        }
        if committed >= 0 {
            c.state = CursorState::Active;
            c.fetch_offset = committed;
            c.resume_offset = committed;
        } else {
            apply_reset(c, reset, "no committed offset", out);
        }
    }

    /// The earliest backoff expiry among cursors.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.cursors.values().filter_map(|c| c.backoff_until).min()
    }

    fn fetchable(&self, c: &PartitionCursor, shared: &ClientShared, now: Instant) -> bool {
        c.state == CursorState::Active
            && !c.paused
            && c.backoff_until.is_none_or(|t| t <= now)
            && c.shared.queued_msgs.load(Ordering::Relaxed) < self.settings.queued_min_messages
            && shared.queued_bytes.load(Ordering::Relaxed) < self.settings.queued_max_bytes
    }

    /// Leaders to which a Fetch should go now, with the partitions each covers.
    pub fn fetch_plan(
        &mut self,
        leaders: impl Fn(&str, i32) -> Option<(i32, i32)>,
        shared: &ClientShared,
        now: Instant,
    ) -> BTreeMap<i32, Vec<(Arc<str>, i32)>> {
        let mut plan: BTreeMap<i32, Vec<(Arc<str>, i32)>> = BTreeMap::new();
        let mut blocked = false;
        let keys: Vec<(Arc<str>, i32)> = self.cursors.keys().cloned().collect();
        for key in keys {
            let Some((leader, epoch)) = leaders(&key.0, key.1) else {
                continue;
            };
            let fetchable = self.fetchable(&self.cursors[&key], shared, now);
            let c = self.cursors.get_mut(&key).expect("key from map");
            c.leader_epoch = epoch;
            if c.backoff_until.is_some_and(|t| t <= now) {
                c.backoff_until = None;
            }
            if fetchable {
                if !self.fetching.contains(&leader) {
                    plan.entry(leader).or_default().push(key);
                }
            } else if c.state == CursorState::Active && !c.paused {
                blocked = true;
            }
        }
        if blocked {
            shared.fetch_blocked.store(true, Ordering::Release);
        }
        plan
    }

    /// Builds the Fetch for `node`, updating its session; the caller sends it.
    pub fn build_fetch(
        &mut self,
        node: i32,
        parts: &[(Arc<str>, i32)],
        version: i16,
    ) -> (FetchRequest, FetchCtx) {
        let s = &self.settings;
        let session = self.sessions.entry(node).or_default();
        let use_sessions = version >= 7;
        let incremental = use_sessions && session.id != 0 && session.epoch > 0;
        let mut topics: Vec<FetchTopic> = Vec::new();
        let mut ctx_parts = Vec::with_capacity(parts.len());
        let mut now_in: HashMap<(Arc<str>, i32), i64> = HashMap::with_capacity(parts.len());
        for key in parts {
            let c = &self.cursors[key];
            ctx_parts.push((c.topic.clone(), c.partition, c.shared.version()));
            now_in.insert(key.clone(), c.fetch_offset);
            if incremental && session.sent.get(key) == Some(&c.fetch_offset) {
                continue;
            }
            let p = FetchPartition::default()
                .with_partition(c.partition)
                .with_current_leader_epoch(if version >= 9 { c.leader_epoch } else { -1 })
                .with_fetch_offset(c.fetch_offset)
                .with_log_start_offset(-1)
                .with_partition_max_bytes(s.max_partition_fetch_bytes);
            match topics.last_mut() {
                Some(t) if t.topic.0.as_str() == &*c.topic => t.partitions.push(p),
                _ => topics.push(
                    FetchTopic::default()
                        .with_topic(TopicName(StrBytes::from_string(c.topic.to_string())))
                        .with_partitions(vec![p]),
                ),
            }
        }
        let mut forgotten: Vec<ForgottenTopic> = Vec::new();
        if incremental {
            let mut gone: Vec<&(Arc<str>, i32)> = session
                .sent
                .keys()
                .filter(|k| !now_in.contains_key(*k))
                .collect();
            gone.sort();
            for (t, p) in gone {
                match forgotten.last_mut() {
                    Some(f) if f.topic.0.as_str() == &**t => f.partitions.push(*p),
                    _ => forgotten.push(
                        ForgottenTopic::default()
                            .with_topic(TopicName(StrBytes::from_string(t.to_string())))
                            .with_partitions(vec![*p]),
                    ),
                }
            }
        }
        let (session_id, session_epoch) = if !use_sessions {
            (0, -1)
        } else if incremental {
            (session.id, session.epoch)
        } else {
            (0, 0)
        };
        session.sent = now_in;
        let req = FetchRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_max_wait_ms(s.fetch_wait_max_ms)
            .with_min_bytes(s.fetch_min_bytes)
            .with_max_bytes(s.fetch_max_bytes)
            .with_isolation_level(s.read_committed as i8)
            .with_session_id(session_id)
            .with_session_epoch(session_epoch)
            .with_topics(topics)
            .with_forgotten_topics_data(forgotten)
            .with_rack_id(StrBytes::from_string(if version >= 11 {
                s.client_rack.clone()
            } else {
                String::new()
            }));
        self.fetching.insert(node);
        (
            req,
            FetchCtx {
                node,
                parts: ctx_parts,
                session_epoch,
            },
        )
    }

    /// The Fetch to `ctx.node` got no response (connection lost, timeout).
    pub fn on_fetch_failed(&mut self, ctx: &FetchCtx) {
        self.fetching.remove(&ctx.node);
        if let Some(s) = self.sessions.get_mut(&ctx.node) {
            s.reset();
        }
    }

    /// Handles a Fetch response. Returns true when metadata should be refreshed.
    pub fn on_fetch_response(
        &mut self,
        ctx: FetchCtx,
        resp: FetchResponse,
        sinks: &mut FetchSinks<'_>,
        now: Instant,
    ) -> bool {
        self.fetching.remove(&ctx.node);
        let session = self.sessions.entry(ctx.node).or_default();
        let top = ErrorCode::from(resp.error_code);
        if top == ErrorCode::FETCH_SESSION_ID_NOT_FOUND
            || top == ErrorCode::INVALID_FETCH_SESSION_EPOCH
        {
            session.reset();
            return false;
        }
        if top.0 != 0 {
            session.reset();
            push_error(
                sinks.out,
                top,
                format!("Fetch from broker {} failed: {top}", ctx.node),
            );
            return false;
        }
        if ctx.session_epoch >= 0 {
            if resp.session_id != 0 {
                session.id = resp.session_id;
                session.epoch = if ctx.session_epoch == i32::MAX {
                    1
                } else {
                    ctx.session_epoch + 1
                };
            } else {
                session.id = 0;
                session.epoch = 0;
            }
        }
        let versions: HashMap<(&str, i32), u32> =
            ctx.parts.iter().map(|(t, p, v)| ((&**t, *p), *v)).collect();
        let mut refresh = false;
        for topic in resp.responses {
            for pd in topic.partitions {
                let key = (Arc::<str>::from(topic.topic.0.as_str()), pd.partition_index);
                let Some(&version) = versions.get(&(&*key.0, key.1)) else {
                    continue;
                };
                let Some(c) = self.cursors.get_mut(&key) else {
                    continue;
                };
                if c.shared.version() != version || c.state != CursorState::Active {
                    // Seeked or reset since the request: the broker session no longer matches either.
                    c.rx_ver_drops += 1;
                    session.sent.remove(&key);
                    continue;
                }
                refresh |= handle_partition(c, pd, &self.settings, sinks, now);
                if c.state != CursorState::Active {
                    session.sent.remove(&key);
                }
            }
        }
        refresh
    }

    /// Cursors needing a ListOffsets, grouped by leader, not already being looked up.
    pub fn lookup_plan(
        &mut self,
        leaders: impl Fn(&str, i32) -> Option<(i32, i32)>,
        now: Instant,
    ) -> BTreeMap<i32, Vec<(Arc<str>, i32)>> {
        let mut plan: BTreeMap<i32, Vec<(Arc<str>, i32)>> = BTreeMap::new();
        for (key, c) in self.cursors.iter_mut() {
            if c.backoff_until.is_some_and(|t| t > now) {
                continue;
            }
            c.backoff_until = None;
            if let CursorState::NeedLookup(_) = c.state {
                if let Some((leader, _)) = leaders(&key.0, key.1) {
                    if !self.looking_up.contains(&leader) {
                        plan.entry(leader).or_default().push(key.clone());
                    }
                }
            }
        }
        plan
    }

    /// Builds the ListOffsets resolving logical offsets on `node`.
    pub fn build_lookup(
        &mut self,
        node: i32,
        parts: &[(Arc<str>, i32)],
        version: i16,
    ) -> (ListOffsetsRequest, LookupCtx) {
        let mut topics: Vec<ListOffsetsTopic> = Vec::new();
        let mut ctx = Vec::new();
        for key in parts {
            let c = self.cursors.get_mut(key).expect("planned cursor");
            let CursorState::NeedLookup(logical) = c.state else {
                continue;
            };
            c.state = CursorState::LookupInFlight;
            ctx.push((c.topic.clone(), c.partition, logical, c.shared.version()));
            let ts = if logical == offset::BEGINNING { -2 } else { -1 };
            let p = ListOffsetsPartition::default()
                .with_partition_index(c.partition)
                .with_timestamp(ts)
                .with_current_leader_epoch(if version >= 4 { c.leader_epoch } else { -1 });
            match topics.last_mut() {
                Some(t) if t.name.0.as_str() == &*c.topic => t.partitions.push(p),
                _ => topics.push(
                    ListOffsetsTopic::default()
                        .with_name(TopicName(StrBytes::from_string(c.topic.to_string())))
                        .with_partitions(vec![p]),
                ),
            }
        }
        self.looking_up.insert(node);
        let req = ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_isolation_level(if version >= 2 {
                self.settings.read_committed as i8
            } else {
                0
            })
            .with_topics(topics);
        (req, LookupCtx { node, parts: ctx })
    }

    /// The lookup got no response: retry those cursors.
    pub fn on_lookup_failed(&mut self, ctx: LookupCtx, now: Instant) {
        self.looking_up.remove(&ctx.node);
        for (t, p, logical, version) in ctx.parts {
            if let Some(c) = self.cursors.get_mut(&(t, p)) {
                if c.shared.version() == version && c.state == CursorState::LookupInFlight {
                    c.state = CursorState::NeedLookup(logical);
                    c.backoff_until = Some(now + self.settings.retry_backoff);
                }
            }
        }
    }

    /// Applies looked-up offsets. Returns true when metadata should be refreshed.
    pub fn on_lookup_response(
        &mut self,
        ctx: LookupCtx,
        resp: ListOffsetsResponse,
        out: &mut VecDeque<Delivery>,
        now: Instant,
    ) -> bool {
        self.looking_up.remove(&ctx.node);
        let mut refresh = false;
        for (t, p, logical, version) in ctx.parts {
            let found = resp
                .topics
                .iter()
                .filter(|rt| rt.name.0.as_str() == &*t)
                .flat_map(|rt| rt.partitions.iter())
                .find(|rp| rp.partition_index == p);
            let Some(c) = self.cursors.get_mut(&(t.clone(), p)) else {
                continue;
            };
            if c.shared.version() != version || c.state != CursorState::LookupInFlight {
                continue;
            }
            let (err, off) = match found {
                Some(rp) => (ErrorCode::from(rp.error_code), rp.offset),
                None => (ErrorCode::UNKNOWN_TOPIC_OR_PART, -1),
            };
            if err.0 == 0 && off >= 0 {
                let target = if logical <= offset::TAIL_BASE {
                    (off - (offset::TAIL_BASE - logical)).max(0)
                } else {
                    off
                };
                c.fetch_offset = target;
                c.resume_offset = target;
                c.state = CursorState::Active;
                c.backoff_until = None;
            } else {
                c.state = CursorState::NeedLookup(logical);
                c.backoff_until = Some(now + self.settings.retry_backoff);
                if err.is_retriable() || err.0 == 0 {
                    refresh = true;
                } else {
                    let msg = format!("Failed to query logical offset of {t} [{p}]: {err}");
                    push_error(out, err, msg);
                }
            }
        }
        refresh
    }

    /// Broker `node` is gone: forget its session and any request state tied to it.
    pub fn on_broker_lost(&mut self, node: i32) {
        self.sessions.remove(&node);
        self.fetching.remove(&node);
        self.looking_up.remove(&node);
    }
}

/// Applies `auto.offset.reset` to a cursor that has no valid position.
fn apply_reset(
    c: &mut PartitionCursor,
    reset: OffsetReset,
    why: &str,
    out: &mut VecDeque<Delivery>,
) {
    match reset {
        OffsetReset::Earliest => c.state = CursorState::NeedLookup(offset::BEGINNING),
        OffsetReset::Latest => c.state = CursorState::NeedLookup(offset::END),
        OffsetReset::Error => {
            c.state = CursorState::Stopped;
            let msg = format!(
                "{} [{}]: fetch failed due to requested offset not available on the broker: {why} (auto.offset.reset=error)",
                c.topic, c.partition
            );
            push_error(out, ErrorCode::L_AUTO_OFFSET_RESET, msg);
        }
    }
}
