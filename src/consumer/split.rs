//! Partitions the application reads from their own queue (librdkafka's partition queues,
//! `rd_kafka_queue_get_partition` + `rd_kafka_queue_forward(.., NULL)`): `poll` diverts their
//! messages and end-of-partition errors here, and `poll_partition` hands them out, advancing the
//! partition's position only then. A seek or revoke makes diverted items stale (the partition
//! version), as for the batches `poll` holds.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::engine::channel::PartitionShared;
use crate::error::Result;
use crate::message::Message;

/// Called (on the polling thread) when something was diverted to a split partition.
pub type SplitHook = Box<dyn Fn(&str, i32) + Send + Sync>;

/// A diverted message or error, with the partition version it belongs to.
struct Item {
    shared: Arc<PartitionShared>,
    version: u32,
    item: Result<Message>,
}

/// The split partitions of a consumer and what waits for them.
#[derive(Default)]
pub(crate) struct Split {
    queues: Mutex<HashMap<(String, i32), VecDeque<Item>>>,
    /// Items of partitions split no more, for `poll` to return first.
    backlog: Mutex<VecDeque<Item>>,
    ready: Condvar,
    /// Whether any partition is split (spares `poll` the lookups otherwise).
    any: AtomicBool,
    backlog_pending: AtomicBool,
    hook: Mutex<Option<SplitHook>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The first item of `q` still current, with the partition's position (and stored offset)
/// advanced past a message.
fn take_live(q: &mut VecDeque<Item>, auto_store: bool) -> Option<Result<Message>> {
    while let Some(it) = q.pop_front() {
        if it.shared.version() != it.version {
            continue;
        }
        if let Ok(m) = &it.item {
            it.shared.position.store(m.offset + 1, Ordering::Release);
            if auto_store {
                it.shared.stored.store(m.offset + 1, Ordering::Release);
            }
        }
        return Some(it.item);
    }
    None
}

impl Split {
    /// Whether `poll` diverts this partition.
    pub fn is_split(&self, topic: &str, partition: i32) -> bool {
        self.any.load(Ordering::Acquire)
            && lock(&self.queues).contains_key(&(topic.to_string(), partition))
    }

    /// Starts diverting the partition.
    pub fn add(&self, topic: &str, partition: i32) {
        lock(&self.queues)
            .entry((topic.to_string(), partition))
            .or_default();
        self.any.store(true, Ordering::Release);
    }

    /// Stops diverting the partition; what waits goes back to `poll`.
    pub fn remove(&self, topic: &str, partition: i32) {
        let left = lock(&self.queues).remove(&(topic.to_string(), partition));
        if let Some(left) = left.filter(|l| !l.is_empty()) {
            lock(&self.backlog).extend(left);
            self.backlog_pending.store(true, Ordering::Release);
        }
    }

    /// Keeps `item` for the split partition; false (nothing kept) when it is not split.
    pub fn divert(
        &self,
        topic: &str,
        partition: i32,
        shared: &Arc<PartitionShared>,
        version: u32,
        item: Result<Message>,
    ) -> bool {
        {
            let mut queues = lock(&self.queues);
            let Some(q) = queues.get_mut(&(topic.to_string(), partition)) else {
                return false;
            };
            q.push_back(Item {
                shared: Arc::clone(shared),
                version,
                item,
            });
        }
        self.ready.notify_all();
        if let Some(f) = &*lock(&self.hook) {
            f(topic, partition);
        }
        true
    }

    /// Waits up to `timeout` for the next item of a split partition (None: timeout, or the
    /// partition is not split).
    pub fn take(
        &self,
        topic: &str,
        partition: i32,
        timeout: Duration,
        auto_store: bool,
    ) -> Option<Result<Message>> {
        let deadline = Instant::now() + timeout;
        let key = (topic.to_string(), partition);
        let mut queues = lock(&self.queues);
        loop {
            if let Some(r) = take_live(queues.get_mut(&key)?, auto_store) {
                return Some(r);
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            queues = match self.ready.wait_timeout(queues, deadline - now) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// The next item of a partition split no more, if any.
    pub fn take_backlog(&self, auto_store: bool) -> Option<Result<Message>> {
        if !self.backlog_pending.load(Ordering::Acquire) {
            return None;
        }
        let mut b = lock(&self.backlog);
        let r = take_live(&mut b, auto_store);
        if b.is_empty() {
            self.backlog_pending.store(false, Ordering::Release);
        }
        r
    }

    /// Items waiting for a split partition.
    pub fn len(&self, topic: &str, partition: i32) -> usize {
        lock(&self.queues)
            .get(&(topic.to_string(), partition))
            .map_or(0, VecDeque::len)
    }

    /// Sets (or clears) the function called after each diversion.
    pub fn set_hook(&self, hook: Option<SplitHook>) {
        *lock(&self.hook) = hook;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::TimestampType;
    use crate::topic_partition::offset;

    fn msg(offset: i64) -> Message {
        Message {
            topic: "t".into(),
            partition: 0,
            offset,
            timestamp: -1,
            timestamp_type: TimestampType::NotAvailable,
            key: None,
            value: None,
            headers: Vec::new(),
            leader_epoch: -1,
        }
    }

    fn offset_of(r: Option<Result<Message>>) -> i64 {
        r.expect("an item").expect("a message").offset
    }

    #[test]
    fn diverted_messages_wait_for_their_partition_and_go_stale_on_seek() {
        let s = Split::default();
        let shared = PartitionShared::new();
        assert!(!s.divert("t", 0, &shared, shared.version(), Ok(msg(1))));
        s.add("t", 0);
        assert!(s.is_split("t", 0) && !s.is_split("t", 1));
        assert!(s.divert("t", 0, &shared, shared.version(), Ok(msg(5))));
        assert_eq!(s.len("t", 0), 1);
        assert_eq!(offset_of(s.take("t", 0, Duration::ZERO, true)), 5);
        assert_eq!(shared.position.load(Ordering::Acquire), 6);
        assert_eq!(shared.stored.load(Ordering::Acquire), 6);
        // A seek bumps the version: what was diverted before is dropped.
        s.divert("t", 0, &shared, shared.version(), Ok(msg(6)));
        shared.bump_version();
        assert!(s.take("t", 0, Duration::from_millis(10), true).is_none());
        assert!(s.take("t", 1, Duration::ZERO, true).is_none());
    }

    #[test]
    fn unsplitting_hands_waiting_items_back_to_poll() {
        let s = Split::default();
        let shared = PartitionShared::new();
        s.add("t", 0);
        s.divert("t", 0, &shared, shared.version(), Ok(msg(1)));
        s.divert("t", 0, &shared, shared.version(), Ok(msg(2)));
        assert!(s.take_backlog(false).is_none());
        s.remove("t", 0);
        assert!(!s.is_split("t", 0));
        assert_eq!(offset_of(s.take_backlog(false)), 1);
        assert_eq!(offset_of(s.take_backlog(false)), 2);
        assert!(s.take_backlog(false).is_none());
        assert_eq!(shared.position.load(Ordering::Acquire), 3);
        assert_eq!(shared.stored.load(Ordering::Acquire), offset::INVALID);
    }
}
