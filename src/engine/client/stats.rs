//! The consumer's statistics: group state clocks, rebalance counts, the document written every
//! `statistics.interval.ms`, and Fetch throttle times for the throttle callback.

use std::collections::HashMap;

use super::*;
use crate::engine::fetcher::CursorState;
use crate::engine::group::AppStep;
use crate::engine::stats::json::JsonWriter;
use crate::engine::stats::window::Window;
use crate::engine::stats::{
    lag, micros, open_topic, Header, PartitionStats, StateClock, StatsTimer, Throttle, Totals,
    NO_OFFSET,
};

/// What the consumer keeps for statistics besides the cursors' and connections' counters.
pub(crate) struct ConsumerStats {
    timer: StatsTimer,
    start: Instant,
    cgrp_state: StateClock,
    join_state: StateClock,
    rebalance_cnt: u64,
    rebalance_at: Option<Instant>,
    topics_seen: HashMap<String, Instant>,
}

impl ConsumerStats {
    pub fn new(interval: Duration, start: Instant, now: Instant) -> Self {
        ConsumerStats {
            timer: StatsTimer::new(interval, now),
            start,
            cgrp_state: StateClock::new("init", now),
            join_state: StateClock::new("init", now),
            rebalance_cnt: 0,
            rebalance_at: None,
            topics_seen: HashMap::new(),
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.timer.next_deadline()
    }

    /// A rebalance was handed to the application.
    pub fn on_rebalance(&mut self, now: Instant) {
        self.rebalance_cnt += 1;
        self.rebalance_at = Some(now);
    }
}

/// librdkafka's name for a group's join state.
fn join_state_name(p: &Phase) -> &'static str {
    match p {
        Phase::Idle | Phase::Join | Phase::PollExceeded | Phase::Left => "init",
        Phase::JoinInFlight => "wait-join",
        Phase::AwaitMetadata(_) => "wait-metadata",
        Phase::SyncInFlight => "wait-sync",
        Phase::AwaitApp(AppStep::Assign) => "wait-assign-call",
        Phase::AwaitApp(_) => "wait-unassign-call",
        Phase::Stable => "steady",
    }
}

/// librdkafka's name for a cursor's fetch state.
fn fetch_state_name(c: &crate::engine::fetcher::PartitionCursor) -> &'static str {
    match c.state {
        CursorState::AwaitCommitted | CursorState::LookupInFlight => "offset-wait",
        CursorState::NeedLookup(_) => "offset-query",
        CursorState::Active if c.paused => "stopped",
        CursorState::Active => "active",
        CursorState::Stopped => "stopped",
    }
}

impl Engine {
    /// A Fetch response's throttle time: counted, and handed to the application when the
    /// throttle callback must hear of it.
    pub(super) fn on_fetch_throttle(&mut self, node: i32, ms: i32, now: Instant) {
        let key = BrokerKey::Node(node);
        if self.net.stats_mut(key, now).on_throttle(ms) {
            let addr = self.net.addr(key).unwrap_or_default();
            self.event(ConsumerEvent::Throttle(Throttle {
                broker_name: format!("{addr}/{node}"),
                broker_id: node,
                throttle_time_ms: ms.max(0),
            }));
        }
    }

    /// Follows the group's states and writes a document when one is due.
    pub(super) fn stats_tick(&mut self, now: Instant) {
        if self.stats.timer.next_deadline().is_none() {
            return;
        }
        if let Some(g) = &self.group {
            let state = match (g.phase == Phase::Left, g.coordinator) {
                (true, _) => "term",
                (false, None) if g.phase == Phase::Idle => "init",
                (false, None) => "query-coord",
                (false, Some(id)) if self.net.is_ready(BrokerKey::Coordinator(id)) => "up",
                (false, Some(_)) => "wait-broker-transport",
            };
            self.stats.cgrp_state.observe(state, now);
            self.stats
                .join_state
                .observe(join_state_name(&g.phase), now);
        }
        if self.stats.timer.due(now) {
            let doc = self.stats_document(now);
            self.event(ConsumerEvent::Stats(doc));
        }
    }

    fn stats_document(&mut self, now: Instant) -> String {
        let mut w = JsonWriter::with_capacity(8192);
        let msg_cnt: i64 = self
            .fetcher
            .cursors
            .values()
            .map(|c| c.shared.queued_msgs.load(Ordering::Relaxed))
            .sum();
        Header {
            name: &self.settings.name,
            client_id: &self.settings.net.client_id,
            kind: "consumer",
            start: self.stats.start,
            replyq: self.out.len() as u64,
            msg_cnt: msg_cnt.max(0) as u64,
            msg_size: self.shared.queued_bytes.load(Ordering::Relaxed).max(0) as u64,
            msg_max: 0,
            msg_size_max: 0,
            metadata_cache_cnt: self.metadata.topics.len() as u64,
        }
        .write(&mut w, now);
        self.write_brokers(&mut w, now);
        self.write_topics(&mut w, now);
        if let Some(g) = &self.group {
            w.open(Some("cgrp"));
            w.str("state", self.stats.cgrp_state.state);
            w.int("stateage", self.stats.cgrp_state.age(now) / 1000);
            w.str("join_state", self.stats.join_state.state);
            w.int(
                "rebalance_age",
                self.stats
                    .rebalance_at
                    .map_or(0, |t| micros(now.saturating_duration_since(t)) / 1000),
            );
            w.uint("rebalance_cnt", self.stats.rebalance_cnt);
            w.str("rebalance_reason", &g.rejoin_reason);
            w.uint("assignment_size", self.fetcher.cursors.len() as u64);
            w.close();
        }
        let (tx, tx_bytes, rx, rx_bytes) = self.net.totals();
        let (rxmsgs, rxmsg_bytes) = self
            .fetcher
            .cursors
            .values()
            .fold(self.fetcher.removed_rx, |t, c| {
                (t.0 + c.rx_msgs, t.1 + c.rx_bytes)
            });
        Totals {
            tx,
            tx_bytes,
            rx,
            rx_bytes,
            rxmsgs,
            rxmsg_bytes,
            ..Totals::default()
        }
        .write_and_close(&mut w);
        w.finish()
    }

    fn write_brokers(&mut self, w: &mut JsonWriter, now: Instant) {
        let mut toppars: HashMap<i32, Vec<(Arc<str>, i32)>> = HashMap::new();
        for (t, p) in self.fetcher.cursors.keys() {
            if let Some((leader, _)) = self.metadata.leader(t, *p) {
                toppars.entry(leader).or_default().push((t.clone(), *p));
            }
        }
        w.open(Some("brokers"));
        self.net.for_each_broker_stats(|key, addr, waitresp, st| {
            let (name, id, source) = match key {
                BrokerKey::Bootstrap(_) => (format!("{addr}/bootstrap"), -1, "configured"),
                BrokerKey::Node(id) => (format!("{addr}/{id}"), id, "learned"),
                BrokerKey::Coordinator(id) => ("GroupCoordinator".to_string(), id, "logical"),
            };
            let tp = toppars
                .get(&id)
                .filter(|_| matches!(key, BrokerKey::Node(_)));
            st.write(
                w,
                &name,
                id,
                addr,
                source,
                waitresp,
                tp.map_or(&[], |v| v),
                now,
            );
        });
        w.close();
    }

    fn write_topics(&mut self, w: &mut JsonWriter, now: Instant) {
        let metadata_age = self
            .metadata
            .updated_at
            .map_or(0, |t| micros(now.saturating_duration_since(t)));
        let mut names: Vec<&String> = self.metadata.topics.keys().collect();
        names.sort();
        w.open(Some("topics"));
        for t in names {
            let since = *self.stats.topics_seen.entry(t.clone()).or_insert(now);
            open_topic(w, t, micros(now - since), metadata_age);
            // Producer batch windows: always empty for a consumer, as in librdkafka.
            Window::default().write_and_roll(w, "batchsize");
            Window::default().write_and_roll(w, "batchcnt");
            w.open(Some("partitions"));
            let meta = &self.metadata.topics[t];
            let key: Arc<str> = Arc::from(t.as_str());
            for (p, l) in meta.partitions.iter().enumerate() {
                let p = p as i32;
                let mut ps = PartitionStats::new(p, l.leader);
                let committed = self.last_committed.get(&(key.clone(), p)).copied();
                ps.committed_offset = committed.filter(|o| *o >= 0).unwrap_or(NO_OFFSET);
                if let Some(c) = self.fetcher.cursors.get(&(key.clone(), p)) {
                    let valid = |o: i64| if o >= 0 { o } else { NO_OFFSET };
                    ps.desired = true;
                    ps.fetchq_cnt = c.shared.queued_msgs.load(Ordering::Relaxed);
                    ps.fetchq_size = c.shared.queued_bytes.load(Ordering::Relaxed);
                    ps.fetch_state = fetch_state_name(c);
                    if let CursorState::NeedLookup(q) = c.state {
                        ps.query_offset = q;
                    }
                    ps.next_offset = c.fetch_offset.max(0);
                    ps.app_offset = valid(c.shared.position.load(Ordering::Acquire));
                    ps.stored_offset = valid(c.shared.stored.load(Ordering::Acquire));
                    ps.eof_offset = valid(c.eof_reported_at);
                    ps.lo_offset = valid(c.log_start_offset);
                    ps.hi_offset = valid(c.high_watermark);
                    ps.ls_offset = valid(c.last_stable_offset);
                    let end = if self.settings.fetch.read_committed {
                        c.last_stable_offset
                    } else {
                        c.high_watermark
                    };
                    ps.consumer_lag = lag(end, ps.committed_offset);
                    ps.consumer_lag_stored = lag(end, ps.stored_offset);
                    ps.rxmsgs = c.rx_msgs;
                    ps.rxbytes = c.rx_bytes;
                    ps.msgs = c.rx_msgs;
                    ps.rx_ver_drops = c.rx_ver_drops;
                }
                ps.write(w);
            }
            PartitionStats::new(-1, -1).write(w);
            w.close();
            w.close();
        }
        w.close();
    }
}
