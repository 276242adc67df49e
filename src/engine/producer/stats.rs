//! The producer's statistics: per-topic batch windows, the idempotence state, and the document
//! written every `statistics.interval.ms`; throttle times for the throttle callback.

use std::collections::{BTreeSet, HashMap};

use super::*;
use crate::engine::stats::json::JsonWriter;
use crate::engine::stats::window::Window;
use crate::engine::stats::{
    micros, open_topic, Header, PartitionStats, StateClock, StatsTimer, Totals,
};

/// Batch windows of one topic.
struct TopicStats {
    since: Instant,
    batch_size: Window,
    batch_cnt: Window,
}

/// What the producer keeps for statistics besides the partition queues' counters.
pub(super) struct ProducerStats {
    name: String,
    timer: StatsTimer,
    start: Instant,
    topics: HashMap<Arc<str>, TopicStats>,
    idem: StateClock,
    /// Producer id and epoch last seen, to count epoch changes.
    last_pid: (i64, i16),
    epoch_cnt: u64,
}

impl ProducerStats {
    pub fn new(name: String, interval: Duration, now: Instant) -> Self {
        ProducerStats {
            name,
            timer: StatsTimer::new(interval, now),
            start: now,
            topics: HashMap::new(),
            idem: StateClock::new("Init", now),
            last_pid: (-1, -1),
            epoch_cnt: 0,
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.timer.next_deadline()
    }
}

/// librdkafka's name for an idempotence state.
fn idem_name(s: IdemState) -> &'static str {
    match s {
        IdemState::Disabled => "Init",
        IdemState::NeedInit => "RequestPID",
        IdemState::Initializing => "WaitPID",
        IdemState::NeedBump => "DrainBump",
        IdemState::Ready => "Assigned",
    }
}

impl ProducerEngine {
    /// Records a batch's first send: its topic's size and count windows and the broker's
    /// internal latency (how long its oldest message waited).
    pub(super) fn on_batch_sent(
        &mut self,
        topic: &Arc<str>,
        node: i32,
        size: usize,
        count: usize,
        oldest: Instant,
        now: Instant,
    ) {
        if self.stats.timer.next_deadline().is_none() {
            return;
        }
        let t = self
            .stats
            .topics
            .entry(topic.clone())
            .or_insert_with(|| TopicStats {
                since: now,
                batch_size: Window::default(),
                batch_cnt: Window::default(),
            });
        t.batch_size.add(size as i64);
        t.batch_cnt.add(count as i64);
        self.net
            .stats_mut(BrokerKey::Node(node), now)
            .int_latency
            .add(micros(now.saturating_duration_since(oldest)));
    }

    /// A Produce response's throttle time: counted, and handed to the application when the
    /// throttle callback must hear of it.
    pub(super) fn on_throttle(&mut self, node: i32, ms: i32, now: Instant) {
        let key = BrokerKey::Node(node);
        if self.net.stats_mut(key, now).on_throttle(ms) {
            let addr = self.net.addr(key).unwrap_or_default();
            self.out.push_back(ProducerOutput::Throttle(Throttle {
                broker_name: format!("{addr}/{node}"),
                broker_id: node,
                throttle_time_ms: ms.max(0),
            }));
        }
    }

    /// Follows the idempotence state and writes a document when one is due.
    pub(super) fn stats_tick(&mut self, now: Instant) {
        if self.stats.timer.next_deadline().is_none() {
            return;
        }
        self.stats.idem.observe(idem_name(self.idem), now);
        if (self.producer_id, self.epoch) != self.stats.last_pid && self.producer_id >= 0 {
            self.stats.last_pid = (self.producer_id, self.epoch);
            self.stats.epoch_cnt += 1;
        }
        if self.stats.timer.due(now) {
            let doc = self.stats_document(now);
            self.out.push_back(ProducerOutput::Stats(doc));
        }
    }

    fn stats_document(&mut self, now: Instant) -> String {
        let mut w = JsonWriter::with_capacity(8192);
        let waiting: usize = self.waiting.values().map(VecDeque::len).sum();
        let waiting_bytes: usize = self
            .waiting
            .values()
            .flat_map(|q| q.iter())
            .map(|r| r.key.as_ref().map_or(0, Bytes::len) + r.value.as_ref().map_or(0, Bytes::len))
            .sum();
        let (mut msg_cnt, mut msg_size) = (waiting as u64, waiting_bytes as u64);
        for q in self.acc.queues.values() {
            for b in &q.batches {
                msg_cnt += b.msgs.len() as u64;
                msg_size += b.payload_bytes as u64;
            }
        }
        Header {
            name: &self.stats.name,
            client_id: &self.s.client_id,
            kind: "producer",
            start: self.stats.start,
            replyq: self.out.len() as u64,
            msg_cnt,
            msg_size,
            msg_max: self.s.queue_buffering_max_messages.max(0) as u64,
            msg_size_max: self.s.queue_buffering_max_kbytes.max(0) as u64 * 1024,
            metadata_cache_cnt: self.metadata.topics.len() as u64,
        }
        .write(&mut w, now);
        self.write_brokers(&mut w, now);
        self.write_topics(&mut w, now);
        if self.idem != IdemState::Disabled {
            w.open(Some("eos"));
            w.str("idemp_state", self.stats.idem.state);
            w.int("idemp_stateage", self.stats.idem.age(now) / 1000);
            w.str("txn_state", "Init");
            w.int("txn_stateage", micros(now - self.stats.start) / 1000);
            w.bool("txn_may_enq", false);
            w.int("producer_id", self.producer_id);
            w.int("producer_epoch", i64::from(self.epoch));
            w.uint("epoch_cnt", self.stats.epoch_cnt);
            w.close();
        }
        let (tx, tx_bytes, rx, rx_bytes) = self.net.totals();
        let (txmsgs, txmsg_bytes) = self
            .acc
            .queues
            .values()
            .fold((0, 0), |t, q| (t.0 + q.tx_msgs, t.1 + q.tx_bytes));
        Totals {
            tx,
            tx_bytes,
            rx,
            rx_bytes,
            txmsgs,
            txmsg_bytes,
            ..Totals::default()
        }
        .write_and_close(&mut w);
        w.finish()
    }

    fn write_brokers(&mut self, w: &mut JsonWriter, now: Instant) {
        let mut toppars: HashMap<i32, Vec<(Arc<str>, i32)>> = HashMap::new();
        for (name, t) in &self.metadata.topics {
            let name: Arc<str> = Arc::from(name.as_str());
            for (p, l) in t.partitions.iter().enumerate() {
                if l.leader >= 0 {
                    toppars
                        .entry(l.leader)
                        .or_default()
                        .push((name.clone(), p as i32));
                }
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
        let names: BTreeSet<Arc<str>> = self
            .metadata
            .topics
            .keys()
            .map(|t| Arc::from(t.as_str()))
            .chain(self.acc.queues.keys().map(|k| k.0.clone()))
            .collect();
        let metadata_age = self
            .metadata
            .updated_at
            .map_or(0, |t| micros(now.saturating_duration_since(t)));
        w.open(Some("topics"));
        for t in names {
            let ts = self
                .stats
                .topics
                .entry(t.clone())
                .or_insert_with(|| TopicStats {
                    since: now,
                    batch_size: Window::default(),
                    batch_cnt: Window::default(),
                });
            open_topic(w, &t, micros(now - ts.since), metadata_age);
            ts.batch_size.write_and_roll(w, "batchsize");
            ts.batch_cnt.write_and_roll(w, "batchcnt");
            w.open(Some("partitions"));
            let meta = self.metadata.topics.get(&*t);
            let count = meta.map_or(0, |m| m.partitions.len());
            let mut parts: Vec<PartitionStats> = (0..count)
                .map(|p| {
                    let leader = meta.map_or(-1, |m| m.partitions[p].leader);
                    PartitionStats::new(p as i32, leader)
                })
                .collect();
            for ((_, p), q) in self
                .acc
                .queues
                .range((t.clone(), i32::MIN)..=(t.clone(), i32::MAX))
            {
                let Some(ps) = usize::try_from(*p).ok().and_then(|i| parts.get_mut(i)) else {
                    continue;
                };
                for (i, b) in q.batches.iter().enumerate() {
                    if i == 0 && q.in_flight {
                        ps.msgs_inflight += b.msgs.len() as u64;
                        ps.xmit_msgq_cnt += b.msgs.len() as u64;
                        ps.xmit_msgq_bytes += b.payload_bytes as u64;
                    } else {
                        ps.msgq_cnt += b.msgs.len() as u64;
                        ps.msgq_bytes += b.payload_bytes as u64;
                    }
                }
                ps.txmsgs = q.tx_msgs;
                ps.txbytes = q.tx_bytes;
                ps.msgs = q.msgs;
                ps.next_ack_seq = i64::from(q.next_sequence);
            }
            let mut ua = PartitionStats::new(-1, -1);
            if let Some(q) = self.waiting.get(&t) {
                ua.msgq_cnt = q.len() as u64;
            }
            for p in parts.iter().chain(std::iter::once(&ua)) {
                p.write(w);
            }
            w.close();
            w.close();
        }
        w.close();
    }
}
