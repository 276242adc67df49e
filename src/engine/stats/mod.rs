//! Statistics in librdkafka's `STATISTICS.md` JSON format: the engines keep plain integer counters
//! on their own thread and, every `statistics.interval.ms`, write one document with
//! [`json::JsonWriter`]. Fields without meaning here are listed in docs/STATISTICS.md.

pub(crate) mod broker;
pub(crate) mod json;
pub(crate) mod window;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use json::JsonWriter;

/// A broker's throttle time, as librdkafka's `throttle_cb` receives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Throttle {
    /// The broker's name (`host:port/id`).
    pub broker_name: String,
    /// The broker's node id.
    pub broker_id: i32,
    /// How long the broker throttled the client, in milliseconds (0: throttling ended).
    pub throttle_time_ms: i32,
}

/// A duration in whole microseconds, the unit of librdkafka's ages and latencies.
pub(crate) fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// Numbers clients in their names, as librdkafka does (`rdkafka#producer-1`).
static CLIENT_SEQ: AtomicUsize = AtomicUsize::new(0);

/// librdkafka's client instance name: `<client.id>#<producer|consumer>-<n>`.
pub(crate) fn client_name(client_id: &str, kind: &str) -> String {
    let n = CLIENT_SEQ.fetch_add(1, Ordering::Relaxed) + 1;
    format!("{client_id}#{kind}-{n}")
}

/// When the next document is due; `None` interval: statistics are off.
pub(crate) struct StatsTimer {
    interval: Option<Duration>,
    next: Option<Instant>,
}

impl StatsTimer {
    /// A timer firing every `interval` from `now` on (zero: never).
    pub fn new(interval: Duration, now: Instant) -> Self {
        let interval = (!interval.is_zero()).then_some(interval);
        StatsTimer {
            interval,
            next: interval.map(|i| now + i),
        }
    }

    /// True (once per interval) when a document is due; schedules the next one.
    pub fn due(&mut self, now: Instant) -> bool {
        match (self.next, self.interval) {
            (Some(t), Some(i)) if t <= now => {
                let mut next = t + i;
                if next <= now {
                    next = now + i;
                }
                self.next = Some(next);
                true
            }
            _ => false,
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.next
    }
}

/// A named state and when it was entered, observed from the outside (group and idempotence
/// states): the state machines need no bookkeeping of their own.
pub(crate) struct StateClock {
    pub state: &'static str,
    pub since: Instant,
}

impl StateClock {
    pub fn new(state: &'static str, now: Instant) -> Self {
        StateClock { state, since: now }
    }

    /// Notes the current state; a change restarts the age.
    pub fn observe(&mut self, state: &'static str, now: Instant) {
        if self.state != state {
            self.state = state;
            self.since = now;
        }
    }

    /// Microseconds in the current state.
    pub fn age(&self, now: Instant) -> i64 {
        micros(now.saturating_duration_since(self.since))
    }
}

/// The process-wide monotonic origin of the `ts` field.
fn mono_origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// The client-level fields every document starts with.
pub(crate) struct Header<'a> {
    pub name: &'a str,
    pub client_id: &'a str,
    pub kind: &'a str,
    pub start: Instant,
    pub replyq: u64,
    pub msg_cnt: u64,
    pub msg_size: u64,
    pub msg_max: u64,
    pub msg_size_max: u64,
    pub metadata_cache_cnt: u64,
}

impl Header<'_> {
    /// Opens the document and writes the client-level fields.
    pub fn write(&self, w: &mut JsonWriter, now: Instant) {
        let origin = mono_origin();
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        w.open(None);
        w.str("name", self.name);
        w.str("client_id", self.client_id);
        w.str("type", self.kind);
        w.int("ts", micros(now.saturating_duration_since(origin)));
        w.uint("time", time);
        w.int("age", micros(now.saturating_duration_since(self.start)));
        w.uint("replyq", self.replyq);
        w.uint("msg_cnt", self.msg_cnt);
        w.uint("msg_size", self.msg_size);
        w.uint("msg_max", self.msg_max);
        w.uint("msg_size_max", self.msg_size_max);
        w.int("simple_cnt", 0);
        w.uint("metadata_cache_cnt", self.metadata_cache_cnt);
    }
}

/// Message and request totals written at the end of the document.
#[derive(Default)]
pub(crate) struct Totals {
    pub tx: u64,
    pub tx_bytes: u64,
    pub rx: u64,
    pub rx_bytes: u64,
    pub txmsgs: u64,
    pub txmsg_bytes: u64,
    pub rxmsgs: u64,
    pub rxmsg_bytes: u64,
}

impl Totals {
    /// Writes the totals and closes the document.
    pub fn write_and_close(&self, w: &mut JsonWriter) {
        w.uint("tx", self.tx);
        w.uint("tx_bytes", self.tx_bytes);
        w.uint("rx", self.rx);
        w.uint("rx_bytes", self.rx_bytes);
        w.uint("txmsgs", self.txmsgs);
        w.uint("txmsg_bytes", self.txmsg_bytes);
        w.uint("rxmsgs", self.rxmsgs);
        w.uint("rxmsg_bytes", self.rxmsg_bytes);
        w.close();
    }
}

/// librdkafka's "no offset" value in statistics.
pub(crate) const NO_OFFSET: i64 = -1001;

/// One partition's entry in `topics.<t>.partitions`; the engines fill what applies to them and
/// leave librdkafka's neutral values elsewhere.
pub(crate) struct PartitionStats {
    pub partition: i32,
    pub leader: i32,
    pub desired: bool,
    pub unknown: bool,
    pub msgq_cnt: u64,
    pub msgq_bytes: u64,
    pub xmit_msgq_cnt: u64,
    pub xmit_msgq_bytes: u64,
    pub fetchq_cnt: i64,
    pub fetchq_size: i64,
    pub fetch_state: &'static str,
    pub query_offset: i64,
    pub next_offset: i64,
    pub app_offset: i64,
    pub stored_offset: i64,
    pub committed_offset: i64,
    pub eof_offset: i64,
    pub lo_offset: i64,
    pub hi_offset: i64,
    pub ls_offset: i64,
    pub consumer_lag: i64,
    pub consumer_lag_stored: i64,
    pub txmsgs: u64,
    pub txbytes: u64,
    pub rxmsgs: u64,
    pub rxbytes: u64,
    pub msgs: u64,
    pub rx_ver_drops: u64,
    pub msgs_inflight: u64,
    pub next_ack_seq: i64,
    pub next_err_seq: i64,
    pub acked_msgid: i64,
}

impl PartitionStats {
    /// A partition with nothing known about it.
    pub fn new(partition: i32, leader: i32) -> Self {
        PartitionStats {
            partition,
            leader,
            desired: false,
            unknown: false,
            msgq_cnt: 0,
            msgq_bytes: 0,
            xmit_msgq_cnt: 0,
            xmit_msgq_bytes: 0,
            fetchq_cnt: 0,
            fetchq_size: 0,
            fetch_state: "none",
            query_offset: NO_OFFSET,
            next_offset: 0,
            app_offset: NO_OFFSET,
            stored_offset: NO_OFFSET,
            committed_offset: NO_OFFSET,
            eof_offset: NO_OFFSET,
            lo_offset: NO_OFFSET,
            hi_offset: NO_OFFSET,
            ls_offset: NO_OFFSET,
            consumer_lag: -1,
            consumer_lag_stored: -1,
            txmsgs: 0,
            txbytes: 0,
            rxmsgs: 0,
            rxbytes: 0,
            msgs: 0,
            rx_ver_drops: 0,
            msgs_inflight: 0,
            next_ack_seq: 0,
            next_err_seq: 0,
            acked_msgid: 0,
        }
    }

    /// Writes the partition as a member of `partitions`.
    pub fn write(&self, w: &mut JsonWriter) {
        w.open(Some(&self.partition.to_string()));
        w.int("partition", i64::from(self.partition));
        w.int("broker", i64::from(self.leader));
        w.int("leader", i64::from(self.leader));
        w.bool("desired", self.desired);
        w.bool("unknown", self.unknown);
        w.uint("msgq_cnt", self.msgq_cnt);
        w.uint("msgq_bytes", self.msgq_bytes);
        w.uint("xmit_msgq_cnt", self.xmit_msgq_cnt);
        w.uint("xmit_msgq_bytes", self.xmit_msgq_bytes);
        w.int("fetchq_cnt", self.fetchq_cnt);
        w.int("fetchq_size", self.fetchq_size);
        w.str("fetch_state", self.fetch_state);
        w.int("query_offset", self.query_offset);
        w.int("next_offset", self.next_offset);
        w.int("app_offset", self.app_offset);
        w.int("stored_offset", self.stored_offset);
        w.int("stored_leader_epoch", -1);
        w.int("commited_offset", self.committed_offset);
        w.int("committed_offset", self.committed_offset);
        w.int("committed_leader_epoch", -1);
        w.int("eof_offset", self.eof_offset);
        w.int("lo_offset", self.lo_offset);
        w.int("hi_offset", self.hi_offset);
        w.int("ls_offset", self.ls_offset);
        w.int("consumer_lag", self.consumer_lag);
        w.int("consumer_lag_stored", self.consumer_lag_stored);
        w.int("leader_epoch", -1);
        w.uint("txmsgs", self.txmsgs);
        w.uint("txbytes", self.txbytes);
        w.uint("rxmsgs", self.rxmsgs);
        w.uint("rxbytes", self.rxbytes);
        w.uint("msgs", self.msgs);
        w.uint("rx_ver_drops", self.rx_ver_drops);
        w.uint("msgs_inflight", self.msgs_inflight);
        w.int("next_ack_seq", self.next_ack_seq);
        w.int("next_err_seq", self.next_err_seq);
        w.int("acked_msgid", self.acked_msgid);
        w.close();
    }
}

/// Consumer lag as librdkafka computes it: `end - offset`, -1 when either is unknown.
pub(crate) fn lag(end: i64, offset: i64) -> i64 {
    if end < 0 || offset < 0 {
        -1
    } else {
        (end - offset).max(0)
    }
}

/// Writes a topic's `age` and `metadata_age` fields after opening it.
pub(crate) fn open_topic(w: &mut JsonWriter, topic: &str, age: i64, metadata_age: i64) {
    w.open(Some(topic));
    w.str("topic", topic);
    w.int("age", age / 1000);
    w.int("metadata_age", metadata_age / 1000);
}
