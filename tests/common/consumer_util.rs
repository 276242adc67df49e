//! Helpers for the consumer integration tests (`tests/consumer_*.rs`): configurations, message
//! content checks against [`expected_message`], and an exactly-once / per-partition-order tracker.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kafka::{ClientConfig, Consumer, ErrorCode, KafkaError, Message};

use super::expected_message;

/// The value size every consumer test produces with.
pub const SIZE: usize = 100;

/// A group id no other test (or earlier run against the same broker) uses.
pub fn unique_group(name: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!(
        "{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A consumer configuration for `bootstrap`: group `group` (if any), earliest reset, the short
/// session timeout the tests use, and `extra` properties on top.
pub fn consumer_config(
    bootstrap: &str,
    group: Option<&str>,
    extra: &[(&str, &str)],
) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap).unwrap();
    c.set("session.timeout.ms", "6000").unwrap();
    c.set("heartbeat.interval.ms", "500").unwrap();
    c.set("auto.offset.reset", "earliest").unwrap();
    if let Some(g) = group {
        c.set("group.id", g).unwrap();
    }
    if std::env::var_os("RSKAFKA_TEST_DEBUG").is_some() {
        c.set("debug", "all").unwrap();
    }
    for (k, v) in extra {
        c.set(k, v)
            .unwrap_or_else(|e| panic!("setting {k}={v}: {e}"));
    }
    c
}

/// A consumer for `bootstrap` (see [`consumer_config`]).
pub fn new_consumer(bootstrap: &str, group: Option<&str>, extra: &[(&str, &str)]) -> Consumer {
    Consumer::new(&consumer_config(bootstrap, group, extra)).expect("creating the consumer")
}

/// The message index from the `idx` header (the first header), cross-checked with the key.
pub fn index_of(m: &Message) -> u64 {
    let h = m
        .headers
        .first()
        .unwrap_or_else(|| panic!("{} [{}] @{}: no headers", m.topic(), m.partition, m.offset));
    assert_eq!(
        &h.key[..],
        b"idx",
        "first header of {} [{}] @{}",
        m.topic(),
        m.partition,
        m.offset
    );
    let v = h.value.as_deref().expect("idx header has a value");
    let i: u64 = std::str::from_utf8(v)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("bad idx header {v:?}"));
    let key = m.key().expect("message has a key");
    assert_eq!(key, format!("key-{i}").as_bytes(), "key of message idx {i}");
    i
}

/// Asserts that key, value and headers (names, values, order, duplicates) are byte-identical to
/// `expected_message(i, size)`; returns `i`.
pub fn check_content(m: &Message, size: usize) -> u64 {
    let i = index_of(m);
    let (key, value, headers) = expected_message(i, size);
    assert_eq!(m.key(), Some(&key[..]), "key of message {i}");
    assert!(
        m.payload() == Some(&value[..]),
        "value of message {i} at {} [{}] @{}: {:?}",
        m.topic(),
        m.partition,
        m.offset,
        m.payload().map(String::from_utf8_lossy)
    );
    let got: Vec<(&[u8], Option<&[u8]>)> = m
        .headers
        .iter()
        .map(|h| (&h.key[..], h.value.as_deref()))
        .collect();
    let want: Vec<(&[u8], Option<&[u8]>)> = headers
        .iter()
        .map(|(k, v)| (k.as_bytes(), Some(&v[..])))
        .collect();
    assert_eq!(got, want, "headers of message {i}");
    i
}

/// Tracks messages `0..count`: each seen exactly once, per-partition offsets and indices rising.
pub struct Tracker {
    pub seen: Vec<u32>,
    pub total: u64,
    /// Per `(topic, partition)`: the last `(offset, index)` seen.
    pub last: HashMap<(String, i32), (i64, u64)>,
    /// Per `(topic, partition)`: the first offset seen.
    pub first: HashMap<(String, i32), i64>,
    size: usize,
}

impl Tracker {
    pub fn new(count: u64, size: usize) -> Tracker {
        Tracker {
            seen: vec![0; count as usize],
            total: 0,
            last: HashMap::new(),
            first: HashMap::new(),
            size,
        }
    }

    /// Checks content and order of `m` and counts it; returns its index.
    pub fn record(&mut self, m: &Message) -> u64 {
        let i = check_content(m, self.size);
        assert!(
            (i as usize) < self.seen.len(),
            "index {i} out of range 0..{}",
            self.seen.len()
        );
        let k = (m.topic().to_string(), m.partition);
        if let Some((o, pi)) = self.last.insert(k.clone(), (m.offset, i)) {
            assert!(
                m.offset > o && i > pi,
                "{} [{}]: order broken: offset {} idx {i} after offset {o} idx {pi}",
                m.topic(),
                m.partition,
                m.offset
            );
        }
        self.first.entry(k).or_insert(m.offset);
        self.seen[i as usize] += 1;
        self.total += 1;
        i
    }

    /// Whether every index was seen at least once.
    pub fn complete(&self) -> bool {
        self.total >= self.seen.len() as u64 && self.seen.iter().all(|n| *n > 0)
    }

    /// Asserts every index was seen exactly once.
    pub fn assert_exactly_once(&self) {
        let bad: Vec<(usize, u32)> = self
            .seen
            .iter()
            .enumerate()
            .filter(|(_, n)| **n != 1)
            .map(|(i, n)| (i, *n))
            .take(20)
            .collect();
        let missing = self.seen.iter().filter(|n| **n == 0).count();
        let dups = self.seen.iter().filter(|n| **n > 1).count();
        assert!(
            bad.is_empty(),
            "{missing} missing, {dups} duplicated of {}; first (index, times): {bad:?}",
            self.seen.len()
        );
    }
}

/// Polls `consumer` and feeds `tracker` until it is complete; panics on any error other than
/// `_PARTITION_EOF`, or after `timeout`.
pub fn consume_all(consumer: &Consumer, tracker: &mut Tracker, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !tracker.complete() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} with {} of {} messages",
            tracker.total,
            tracker.seen.len()
        );
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                tracker.record(&m);
            }
            Some(Err(e)) if e.code == ErrorCode::L_PARTITION_EOF => {}
            Some(Err(e)) => panic!("consumer error: {e} ({:?})", e.code),
            None => {}
        }
    }
}

/// Polls until `n` messages arrived (returned in order); errors other than EOF panic.
pub fn poll_n(consumer: &Consumer, n: usize, timeout: Duration) -> Vec<Message> {
    let deadline = Instant::now() + timeout;
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} with {} of {n} messages",
            out.len()
        );
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => out.push(m),
            Some(Err(e)) if e.code == ErrorCode::L_PARTITION_EOF => {}
            Some(Err(e)) => panic!("consumer error: {e} ({:?})", e.code),
            None => {}
        }
    }
    out
}

/// Polls for `dur` and returns what arrived: messages and errors.
pub fn poll_for(consumer: &Consumer, dur: Duration) -> (Vec<Message>, Vec<KafkaError>) {
    let deadline = Instant::now() + dur;
    let (mut msgs, mut errs) = (Vec::new(), Vec::new());
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match consumer.poll(left.min(Duration::from_millis(100))) {
            Some(Ok(m)) => msgs.push(m),
            Some(Err(e)) => errs.push(e),
            None => {}
        }
    }
    (msgs, errs)
}

/// Polls (handling rebalances) until `cond` holds; panics after `timeout`.
pub fn poll_until(
    consumer: &Consumer,
    timeout: Duration,
    what: &str,
    mut cond: impl FnMut(&Consumer) -> bool,
) {
    let deadline = Instant::now() + timeout;
    while !cond(consumer) {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        if let Some(r) = consumer.poll(Duration::from_millis(100)) {
            panic!("unexpected while waiting for {what}: {r:?}");
        }
    }
}

/// The `(partition, offset)` of a `_PARTITION_EOF` error's message
/// ("... end of partition TOPIC [P] at offset O").
pub fn parse_eof(e: &KafkaError) -> (i32, i64) {
    let m = &e.message;
    let p = m
        .rsplit_once('[')
        .and_then(|(_, r)| r.split_once(']'))
        .and_then(|(p, _)| p.parse().ok());
    let o = m
        .rsplit_once("at offset ")
        .and_then(|(_, o)| o.trim().parse().ok());
    match (p, o) {
        (Some(p), Some(o)) => (p, o),
        _ => panic!("cannot parse partition/offset from EOF message {m:?}"),
    }
}
