//! Helpers for the producer's integration tests (`tests/producer_*.rs`): sending the
//! [`expected_message`] sequence with our producer, recording every delivery report by message
//! index, and checking what librdkafka read back against both.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kafka::{ClientConfig, ErrorCode, Producer, Record};

use super::launcher::{expected_message, ConsumedMessage};

/// Message size used by the producer tests (as `mock-launcher produce --size 100`).
pub const SIZE: usize = 100;

/// A producer config: `bootstrap.servers` plus `props`. Panics on a bad property.
pub fn config(bootstrap: &str, props: &[(&str, &str)]) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap).unwrap();
    for (k, v) in props {
        c.set(k, v)
            .unwrap_or_else(|e| panic!("setting {k}={v}: {e}"));
    }
    c
}

/// What one delivery report said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    pub partition: i32,
    pub offset: i64,
    /// `None` when delivered.
    pub error: Option<ErrorCode>,
}

/// Every delivery report, by the message index carried in `opaque`.
#[derive(Default)]
pub struct ReportLog {
    /// `by_index[i]`: all reports of message `i`, in arrival order (exactly one expected).
    pub by_index: Vec<Vec<Outcome>>,
    /// Reports whose opaque was out of range.
    pub stray: usize,
    pub total: usize,
}

impl ReportLog {
    /// Indices with a number of reports other than one: `(index, reports)`.
    pub fn not_exactly_once(&self) -> Vec<(usize, usize)> {
        self.by_index
            .iter()
            .enumerate()
            .filter(|(_, r)| r.len() != 1)
            .map(|(i, r)| (i, r.len()))
            .collect()
    }

    /// Indices whose (single) report says delivered.
    pub fn delivered(&self) -> Vec<usize> {
        self.indices(|o| o.error.is_none())
    }

    /// Indices whose report carries `code`.
    pub fn failed_with(&self, code: ErrorCode) -> Vec<usize> {
        self.indices(|o| o.error == Some(code))
    }

    fn indices(&self, f: impl Fn(&Outcome) -> bool) -> Vec<usize> {
        self.by_index
            .iter()
            .enumerate()
            .filter(|(_, r)| r.iter().any(&f))
            .map(|(i, _)| i)
            .collect()
    }

    /// Counts of error codes (`None` = delivered) over all reports.
    pub fn histogram(&self) -> BTreeMap<Option<i32>, usize> {
        let mut h = BTreeMap::new();
        for o in self.by_index.iter().flatten() {
            *h.entry(o.error.map(|e| e.0)).or_default() += 1;
        }
        h
    }
}

/// Installs a delivery callback on `producer` that records reports of messages `0..count`.
pub fn record_reports(producer: &Producer, count: usize) -> Arc<Mutex<ReportLog>> {
    let log = Arc::new(Mutex::new(ReportLog {
        by_index: vec![Vec::new(); count],
        ..ReportLog::default()
    }));
    let l = log.clone();
    producer.set_delivery_callback(Box::new(move |r| {
        let mut l = l.lock().unwrap();
        l.total += 1;
        let o = Outcome {
            partition: r.partition,
            offset: r.offset,
            error: r.error.as_ref().map(|e| e.code),
        };
        match l.by_index.get_mut(r.opaque) {
            Some(v) => v.push(o),
            None => l.stray += 1,
        }
    }));
    log
}

/// Sends message `i` of the [`expected_message`] sequence (opaque = `i`) to `topic`, waiting up
/// to a minute for room in the queue.
pub fn send_expected(producer: &Producer, topic: &str, i: u64, size: usize) -> kafka::Result<()> {
    let (key, value, headers) = expected_message(i, size);
    let mut rec = Record::to(topic).key(&key).value(&value).opaque(i as usize);
    for (k, v) in &headers {
        rec = rec.header(k, Some(v));
    }
    producer.send_blocking(&rec, Duration::from_secs(60))
}

/// Sends messages `0..count` and serves reports now and then; panics on a failed send.
pub fn send_all(producer: &Producer, topic: &str, count: u64, size: usize) {
    for i in 0..count {
        send_expected(producer, topic, i, size).unwrap_or_else(|e| panic!("send {i}: {e}"));
        if i % 4096 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
}

/// Flushes and then polls until every sent message has been reported; panics after `timeout`.
pub fn drain(producer: &Producer, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    let _ = producer.flush(timeout);
    while producer.in_flight_count() > 0 {
        assert!(
            Instant::now() < deadline,
            "{} messages still unreported after {timeout:?}",
            producer.in_flight_count()
        );
        producer.poll(Duration::from_millis(100));
    }
}

/// The message index of a consumed message (its key `key-{i}`).
pub fn index_of(m: &ConsumedMessage) -> u64 {
    m.key
        .strip_prefix("key-")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("unexpected key {:?}", m.key))
}

/// Checks that `m` is byte-identical to [`expected_message`]`(index, size)`.
pub fn check_content(m: &ConsumedMessage, size: usize) {
    let i = index_of(m);
    let (ek, ev, eh) = expected_message(i, size);
    assert_eq!(m.key.as_bytes(), &ek[..]);
    assert_eq!(m.value.as_bytes(), &ev[..], "value of {}", m.key);
    let eh: Vec<(String, String)> = eh
        .into_iter()
        .map(|(k, v)| (k, String::from_utf8(v).unwrap()))
        .collect();
    assert_eq!(m.headers, eh, "headers of {}", m.key);
}

/// Checks that, within each partition, message indices increase with the offset (the order
/// they were sent in), and that offsets are distinct.
pub fn check_partition_order(msgs: &[ConsumedMessage]) {
    let mut by_part: BTreeMap<i32, Vec<(i64, u64)>> = BTreeMap::new();
    for m in msgs {
        by_part
            .entry(m.partition)
            .or_default()
            .push((m.offset, index_of(m)));
    }
    for (p, mut v) in by_part {
        v.sort_unstable();
        for w in v.windows(2) {
            assert!(
                w[0].0 < w[1].0 && w[0].1 < w[1].1,
                "partition {p}: (offset, index) {:?} then {:?}: order broken",
                w[0],
                w[1]
            );
        }
    }
}

/// The full check after producing `0..count`: every message read back exactly once,
/// byte-identical, per-partition order kept, and exactly one delivery report per message, without
/// error, whose (partition, offset) is where librdkafka found the message.
pub fn check_exactly_once(msgs: &[ConsumedMessage], reports: &ReportLog, count: u64, size: usize) {
    let mut seen = vec![0u32; count as usize];
    for m in msgs {
        let i = index_of(m);
        assert!(i < count, "unexpected key {:?}", m.key);
        check_content(m, size);
        seen[i as usize] += 1;
    }
    let bad: Vec<_> = seen
        .iter()
        .enumerate()
        .filter(|(_, n)| **n != 1)
        .take(10)
        .collect();
    assert!(
        bad.is_empty(),
        "{} messages not read back exactly once; first (index, times): {bad:?}",
        seen.iter().filter(|n| **n != 1).count()
    );
    check_partition_order(msgs);

    assert_eq!(reports.stray, 0, "reports with an unknown opaque");
    let bad = reports.not_exactly_once();
    assert!(
        bad.is_empty(),
        "{} messages without exactly one delivery report; first (index, reports): {:?}",
        bad.len(),
        &bad[..bad.len().min(10)]
    );
    assert_eq!(reports.total as u64, count);
    for m in msgs {
        let i = index_of(m) as usize;
        let o = &reports.by_index[i][0];
        assert_eq!(
            o.error, None,
            "message {i} reported failed but is on the broker"
        );
        assert_eq!(
            (o.partition, o.offset),
            (m.partition, m.offset),
            "message {i}: delivery report (partition, offset) differs from where librdkafka read it"
        );
    }
}
