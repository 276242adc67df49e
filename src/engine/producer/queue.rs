//! Messages on their way into batches: partitioning, parking until metadata arrives,
//! `message.timeout.ms` expiry and purges.

use super::*;

impl ProducerEngine {
    /// Places a record on a partition and appends it, or parks it until metadata arrives.
    /// The record's parts are moved, never cloned: its buffers were written by the
    /// application thread, and touching their reference counts here would bounce cache lines.
    pub(super) fn enqueue(&mut self, rec: ProduceRecord, now: Instant) {
        if let Some(q) = (!self.waiting.is_empty())
            .then(|| self.waiting.get_mut(&rec.topic))
            .flatten()
        {
            q.push_back(rec);
            return;
        }
        let generation = self.metadata.generation;
        let cached = match &self.last_topic {
            Some((t, n, g)) if Arc::ptr_eq(t, &rec.topic) && *g == generation => Some(*n),
            _ => None,
        };
        let Some(count) = cached.or_else(|| {
            let n = self.metadata.partition_count(&rec.topic)?;
            self.last_topic = Some((rec.topic.clone(), n, generation));
            Some(n)
        }) else {
            if self.metadata.wanted.insert(rec.topic.to_string()) {
                self.metadata.request_refresh(now);
            }
            self.waiting
                .entry(rec.topic.clone())
                .or_default()
                .push_back(rec);
            return;
        };
        let ProduceRecord {
            topic,
            partition,
            key,
            value,
            headers,
            timestamp,
            opaque,
            reply,
            enqueued,
        } = rec;
        let msg = PendingMsg {
            key,
            value,
            headers,
            timestamp,
            opaque,
            reply: reply.map(Box::new),
        };
        let partition = if partition >= 0 {
            if partition >= count {
                let err = KafkaError::new(
                    ErrorCode::L_UNKNOWN_PARTITION,
                    format!("{topic} [{partition}]: Local: Unknown partition"),
                );
                let mut reports = self.reports();
                reports.add(&topic, partition, msg, -1, timestamp, Some(err));
                self.flush_reports(reports);
                return;
            }
            partition
        } else {
            self.choose_partition(&topic, msg.key.as_deref(), count, now)
        };
        self.acc.append(topic, partition, msg, enqueued, now);
    }

    pub(super) fn choose_partition(
        &mut self,
        topic: &Arc<str>,
        key: Option<&[u8]>,
        count: i32,
        now: Instant,
    ) -> i32 {
        let linger = self.s.sticky_partitioning_linger;
        let mut rng = self.rng;
        let mut next = || {
            rng ^= rng >> 12;
            rng ^= rng << 25;
            rng ^= rng >> 27;
            (rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
        };
        if !self.sticky.contains_key(topic) {
            self.sticky.insert(topic.clone(), StickyPartition::new(now));
        }
        let sticky = self.sticky.get_mut(topic).expect("inserted above");
        let p = self
            .partitioner
            .place(key, count, sticky, now, linger, &mut next);
        self.rng = rng;
        p
    }

    /// Handles metadata for topics with parked messages.
    pub(super) fn drain_waiting(&mut self, now: Instant) {
        let topics: Vec<Arc<str>> = self.waiting.keys().cloned().collect();
        for topic in topics {
            if self.metadata.partition_count(&topic).is_some() {
                self.unknown_since.remove(&topic);
                let q = self.waiting.remove(&topic).unwrap_or_default();
                for rec in q {
                    self.enqueue(rec, now);
                }
            } else if self.metadata.is_unknown(&topic) {
                // Like librdkafka's fast refresh: ask again soon while messages wait for the topic.
                self.metadata.request_refresh_soon(now);
                let since = *self.unknown_since.entry(topic.clone()).or_insert(now);
                if now.duration_since(since) >= PROPAGATION_MAX {
                    let q = self.waiting.remove(&topic).unwrap_or_default();
                    let err = KafkaError::new(
                        ErrorCode::L_UNKNOWN_TOPIC,
                        format!("{topic}: Local: Unknown topic"),
                    );
                    let mut reports = self.reports();
                    for rec in q {
                        let msg = PendingMsg {
                            key: rec.key,
                            value: rec.value,
                            timestamp: rec.timestamp,
                            opaque: rec.opaque,
                            headers: Vec::new(),
                            reply: rec.reply.map(Box::new),
                        };
                        reports.add(&topic, -1, msg, -1, rec.timestamp, Some(err.clone()));
                    }
                    self.flush_reports(reports);
                }
            }
        }
    }

    /// Fails messages older than `message.timeout.ms` that are not in flight.
    pub(super) fn expire(&mut self, now: Instant) {
        let Some(timeout) = self.s.message_timeout else {
            return;
        };
        let err = KafkaError::new(ErrorCode::L_MSG_TIMED_OUT, "Local: Message timed out");
        let mut reports = self.reports();
        let keys: Vec<(Arc<str>, i32)> = self.acc.queues.keys().cloned().collect();
        for key in keys {
            loop {
                let q = self.acc.queues.get_mut(&key).expect("key from map");
                let expired = q
                    .batches
                    .front()
                    .is_some_and(|b| b.expires(Some(timeout)).is_some_and(|t| t <= now));
                if q.in_flight || !expired {
                    break;
                }
                let b = q.batches.pop_front().expect("checked");
                // The sequence numbers of a batch that never reached the broker are reused.
                if b.stamp.is_some() && b.attempts > 0 && self.idem != IdemState::Disabled {
                    self.idem = IdemState::NeedBump;
                    self.txn_epoch_bump(
                        ErrorCode::L_MSG_TIMED_OUT,
                        format!("{} [{}]: message timed out in flight", key.0, key.1),
                    );
                }
                self.fail_batch(&key.0, key.1, b, &err, &mut reports);
            }
        }
        let topics: Vec<Arc<str>> = self.waiting.keys().cloned().collect();
        for t in topics {
            let q = self.waiting.get_mut(&t).expect("key from map");
            let mut dead = Vec::new();
            while q.front().is_some_and(|r| r.enqueued + timeout <= now) {
                dead.push(q.pop_front().expect("checked"));
            }
            if q.is_empty() {
                self.waiting.remove(&t);
            }
            for rec in dead {
                let msg = PendingMsg {
                    key: rec.key,
                    value: rec.value,
                    timestamp: rec.timestamp,
                    opaque: rec.opaque,
                    headers: Vec::new(),
                    reply: rec.reply.map(Box::new),
                };
                reports.add(&t, -1, msg, -1, rec.timestamp, Some(err.clone()));
            }
        }
        self.flush_reports(reports);
    }

    pub(super) fn purge(&mut self, queued: bool, in_flight: bool) {
        let mut reports = self.reports();
        if queued {
            let err = KafkaError::new(ErrorCode::L_PURGE_QUEUE, "Local: Purged in queue");
            let keys: Vec<(Arc<str>, i32)> = self.acc.queues.keys().cloned().collect();
            for key in keys {
                let q = self.acc.queues.get_mut(&key).expect("key from map");
                let keep = usize::from(q.in_flight);
                let purged: Vec<ProducerBatch> = q.batches.drain(keep..).collect();
                for b in purged {
                    self.fail_batch(&key.0, key.1, b, &err, &mut reports);
                }
            }
            let waiting = std::mem::take(&mut self.waiting);
            for (t, recs) in waiting {
                for rec in recs {
                    let msg = PendingMsg {
                        key: rec.key,
                        value: rec.value,
                        timestamp: rec.timestamp,
                        opaque: rec.opaque,
                        headers: Vec::new(),
                        reply: rec.reply.map(Box::new),
                    };
                    reports.add(&t, -1, msg, -1, rec.timestamp, Some(err.clone()));
                }
            }
        }
        if in_flight {
            // The requests stay on the wire; their batches are reported now and their responses ignored.
            let err = KafkaError::new(ErrorCode::L_PURGE_INFLIGHT, "Local: Purged in flight");
            let keys: Vec<(Arc<str>, i32)> = self.acc.queues.keys().cloned().collect();
            for key in keys {
                let q = self.acc.queues.get_mut(&key).expect("key from map");
                if q.in_flight {
                    if let Some(b) = q.batches.front_mut() {
                        let msgs = std::mem::take(&mut b.msgs);
                        for m in msgs {
                            let ts = m.timestamp;
                            reports.add(&key.0, key.1, m, -1, ts, Some(err.clone()));
                        }
                    }
                }
            }
        }
        self.flush_reports(reports);
    }
}
