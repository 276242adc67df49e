//! What the producer sends and when: metadata, InitProducerId (and epoch bumps), and Produce
//! requests built from ready batches.

use super::*;
use kafka_protocol::messages::TransactionalId;

impl ProducerEngine {
    pub(super) fn any_ready_broker(&mut self, now: Instant) -> Option<BrokerKey> {
        let mut keys: Vec<BrokerKey> = self.net.keys().collect();
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

    /// Sends the ListOffsets of offsets-for-times queries whose leaders are known.
    fn send_times(&mut self, now: Instant) {
        for (node, req, ctx) in self.times.take_requests(&self.metadata, false) {
            let key = BrokerKey::Node(node);
            let v = self.net.version(key, ApiKey::ListOffsets);
            match v.filter(|_| self.net.ensure(key, now)) {
                Some(v) => {
                    if let Err((_, ctx)) =
                        self.net
                            .send(key, &req, v, Ctx::Times(ctx), Duration::ZERO, now)
                    {
                        self.on_request_failed(ctx, now);
                    }
                }
                None => {
                    self.net.ensure(key, now);
                    self.times.on_failed(ctx);
                }
            }
        }
    }

    pub(super) fn tick(&mut self, now: Instant) {
        self.last_tick = now;
        if self.closed {
            return;
        }
        if self.metadata.due(now) {
            if let Some(k) = self.any_ready_broker(now) {
                if let Some(v) = self.net.version(k, ApiKey::Metadata) {
                    let req = self.metadata.build_request(v);
                    self.debug(|| {
                        format!(
                            "Metadata v{v} for {:?} (auto-create {})",
                            req.topics.as_ref().map(|t| t.len()),
                            req.allow_auto_topic_creation
                        )
                    });
                    if self
                        .net
                        .send(k, &req, v, Ctx::Metadata, Duration::ZERO, now)
                        .is_err()
                    {
                        self.metadata.on_failure(now);
                    }
                }
            }
        }
        self.send_times(now);
        self.group_lists
            .drive(&self.metadata, &mut self.net, Ctx::Groups, now);
        self.drain_waiting(now);
        self.expire(now);
        self.tick_idempotence(now);
        self.tick_txn(now);
        self.send_batches(now);
        if self.flushing && self.acc.message_count() == 0 && self.waiting.is_empty() {
            self.flushing = false;
        }
        if self.closing.is_some() && self.acc.queues.values().all(|q| !q.in_flight) {
            let reply = self.closing.take().expect("checked");
            let _ = reply.send(Ok(()));
            self.closed = true;
        }
    }

    pub(super) fn tick_idempotence(&mut self, now: Instant) {
        let any_in_flight = self.acc.queues.values().any(|q| q.in_flight);
        let want = match self.idem {
            IdemState::NeedInit => true,
            IdemState::NeedBump => !any_in_flight,
            _ => false,
        };
        if !want || self.idem_retry_at.is_some_and(|t| t > now) {
            return;
        }
        // A transactional producer asks its coordinator, once init_transactions was called.
        let k = match &self.txn {
            Some(t) if matches!(t.state, TxnState::Init | TxnState::FatalError) => return,
            Some(t) => match t.coord_key() {
                Some(k) if self.net.ensure(k, now) && self.net.is_ready(k) => Some(k),
                _ => None,
            },
            None => self.any_ready_broker(now),
        };
        let Some(k) = k else {
            return;
        };
        let Some(v) = self.net.version(k, ApiKey::InitProducerId) else {
            if self.net.is_ready(k) {
                self.out.push_back(ProducerOutput::Error(KafkaError::new(
                    ErrorCode::L_UNSUPPORTED_FEATURE,
                    "The broker does not support InitProducerId: idempotence is not available",
                )));
                self.idem = IdemState::Disabled;
            }
            return;
        };
        let bump = self.idem == IdemState::NeedBump && v >= 3;
        let (txn_id, txn_timeout) = match &self.txn {
            Some(t) => (
                Some(TransactionalId(StrBytes::from_string(t.id.clone()))),
                t.timeout.as_millis() as i32,
            ),
            None => (None, 60_000),
        };
        let req = InitProducerIdRequest::default()
            .with_transactional_id(txn_id)
            .with_transaction_timeout_ms(txn_timeout)
            .with_producer_id(ProducerId(if bump { self.producer_id } else { -1 }))
            .with_producer_epoch(if bump { self.epoch } else { -1 });
        self.debug(|| format!("InitProducerId v{v} (bump {bump})"));
        if self
            .net
            .send(k, &req, v, Ctx::InitProducerId, Duration::ZERO, now)
            .is_ok()
        {
            self.idem = IdemState::Initializing;
        }
    }

    pub(super) fn on_init_producer_id(&mut self, resp: InitProducerIdResponse, now: Instant) {
        let err = ErrorCode::from(resp.error_code);
        if err.0 != 0 {
            self.debug(|| format!("InitProducerId failed: {err}"));
            self.idem = if self.producer_id >= 0 {
                IdemState::NeedBump
            } else {
                IdemState::NeedInit
            };
            self.idem_retry_at = Some(now + self.s.retry_backoff);
            self.metadata.request_refresh_soon(now);
            if self.txn.is_some() {
                return self.on_txn_init_error(err, now);
            }
            if !err.is_retriable() && err != ErrorCode::COORDINATOR_LOAD_IN_PROGRESS {
                self.out.push_back(ProducerOutput::Error(KafkaError::new(
                    err,
                    format!("Failed to acquire idempotence PID: {err}"),
                )));
            }
            return;
        }
        self.producer_id = resp.producer_id.0;
        self.epoch = resp.producer_epoch;
        self.idem = IdemState::Ready;
        // A new epoch restarts every partition's sequence at 0; unacknowledged batches are
        // re-stamped in order when next sent.
        for q in self.acc.queues.values_mut() {
            q.next_sequence = 0;
            for b in q.batches.iter_mut() {
                // A stamp no producer can have: the batch gets a new sequence and is re-stamped.
                b.stamp = b.stamp.map(|_| (-2, -2, -2));
            }
        }
        self.debug(|| format!("producer id {} epoch {}", self.producer_id, self.epoch));
        self.on_txn_pid();
    }

    pub(super) fn send_batches(&mut self, now: Instant) {
        if matches!(
            self.idem,
            IdemState::NeedInit | IdemState::Initializing | IdemState::NeedBump
        ) {
            return;
        }
        let mut plan: HashMap<i32, Vec<(Arc<str>, i32)>> = HashMap::new();
        let mut need_metadata = false;
        for (key, q) in &self.acc.queues {
            if !self
                .acc
                .is_ready(q, now, self.flushing || self.closing.is_some())
                || !self.txn_may_send(key)
            {
                continue;
            }
            match self.metadata.leader(&key.0, key.1) {
                Some((leader, _)) => plan.entry(leader).or_default().push(key.clone()),
                None => need_metadata = true,
            }
        }
        if need_metadata {
            self.metadata.request_refresh_soon(now);
        }
        let max_in_flight = self.s.max_in_flight.max(1) as usize;
        for (node, parts) in plan {
            let key = BrokerKey::Node(node);
            if !self.net.ensure(key, now) || self.net.inflight_count(key) >= max_in_flight {
                continue;
            }
            let Some(v) = self.net.version(key, ApiKey::Produce) else {
                continue;
            };
            let mut topics: Vec<TopicProduceData> = Vec::new();
            let mut sent = Vec::new();
            let mut bytes = 0;
            for tp in parts {
                let idem = self.idem == IdemState::Ready;
                let transactional = self.txn.is_some();
                let (pid, epoch) = (self.producer_id, self.epoch);
                let q = self.acc.queues.get_mut(&tp).expect("planned partition");
                let b = q.batches.front_mut().expect("ready batch");
                let (pid, epoch, seq) = if idem {
                    let seq = match b.stamp {
                        Some((p, e, s)) if p == pid && e == epoch => s,
                        _ => {
                            let s = q.next_sequence;
                            q.next_sequence = s.wrapping_add(b.record_count()) & i32::MAX;
                            s
                        }
                    };
                    (pid, epoch, seq)
                } else {
                    (-1, -1, -1)
                };
                let first_seal = !b.closed;
                let records = match b.seal(pid, epoch, seq, transactional) {
                    Ok(r) => {
                        if first_seal {
                            q.size_hint = b.approx_bytes();
                        }
                        r
                    }
                    Err(e) => {
                        let b = q.batches.pop_front().expect("checked");
                        let err = KafkaError::new(
                            ErrorCode::L_BAD_MSG,
                            format!("Failed to encode batch: {e}"),
                        );
                        let mut reports = self.reports();
                        self.fail_batch(&tp.0, tp.1, b, &err, &mut reports);
                        self.flush_reports(reports);
                        continue;
                    }
                };
                if bytes > 0 && bytes + records.len() > MAX_REQUEST_BYTES {
                    break;
                }
                bytes += records.len();
                let first_send = (b.attempts == 0).then(|| {
                    let oldest = b.created;
                    (records.len(), b.msgs.len(), oldest)
                });
                b.attempts += 1;
                q.in_flight = true;
                let p = PartitionProduceData::default()
                    .with_index(tp.1)
                    .with_records(Some(records));
                match topics.last_mut() {
                    Some(t) if t.name.0.as_str() == &*tp.0 => t.partition_data.push(p),
                    _ => topics.push(
                        TopicProduceData::default()
                            .with_name(TopicName(StrBytes::from_string(tp.0.to_string())))
                            .with_partition_data(vec![p]),
                    ),
                }
                if let Some((size, count, oldest)) = first_send {
                    self.on_batch_sent(&tp.0, node, size, count, oldest, now);
                }
                sent.push(tp);
            }
            if sent.is_empty() {
                continue;
            }
            let req = ProduceRequest::default()
                .with_acks(self.s.acks)
                .with_timeout_ms(self.s.request_timeout.as_millis() as i32)
                .with_topic_data(topics);
            if self.s.acks == 0 {
                // No response will come: report delivery as soon as the request is handed over.
                if self.net.send_no_response(key, &req, v, now).is_ok() {
                    self.complete_without_response(&sent);
                } else {
                    self.requeue(&sent, now, false);
                }
                continue;
            }
            // The request is about to be written out (a copy): the sealed batches need not stay
            // in memory too; a retry seals them again from their messages.
            for tp in &sent {
                if let Some(b) = self
                    .acc
                    .queues
                    .get_mut(tp)
                    .and_then(|q| q.batches.front_mut())
                {
                    b.sealed = None;
                }
            }
            let extra = self.s.request_timeout;
            self.debug(|| {
                format!(
                    "Produce v{v} to broker {node}: {} partitions, {bytes} bytes",
                    sent.len()
                )
            });
            if let Err((_, Ctx::Produce { parts, .. })) =
                self.net
                    .send(key, &req, v, Ctx::Produce { node, parts: sent }, extra, now)
            {
                self.requeue(&parts, now, false);
            }
        }
    }

    pub(super) fn complete_without_response(&mut self, parts: &[(Arc<str>, i32)]) {
        let mut reports = self.reports();
        for tp in parts {
            let Some(q) = self.acc.queues.get_mut(tp) else {
                continue;
            };
            q.in_flight = false;
            let Some(b) = q.batches.pop_front() else {
                continue;
            };
            q.tx_msgs += b.msgs.len() as u64;
            q.tx_bytes += b.payload_bytes as u64;
            for m in b.msgs {
                let ts = m.timestamp;
                reports.add(&tp.0, tp.1, m, -1, ts, None);
            }
        }
        self.flush_reports(reports);
    }

    /// Puts in-flight batches back at the front of their queues for a retry after the backoff.
    pub(super) fn requeue(&mut self, parts: &[(Arc<str>, i32)], now: Instant, count_attempt: bool) {
        for tp in parts {
            if let Some(q) = self.acc.queues.get_mut(tp) {
                q.in_flight = false;
                if let Some(b) = q.batches.front_mut() {
                    if !count_attempt {
                        b.attempts = b.attempts.saturating_sub(1);
                    }
                    let shift = b.attempts.min(10);
                    let backoff = (self.s.retry_backoff * (1 << shift))
                        .min(self.s.retry_backoff_max.max(self.s.retry_backoff));
                    b.retry_at = Some(now + backoff);
                }
            }
        }
    }
}
