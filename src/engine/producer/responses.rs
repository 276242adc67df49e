//! How the producer handles responses: delivery reports, retries, epoch bumps, metadata.

use super::*;
use kafka_protocol::messages::{
    AddOffsetsToTxnResponse, AddPartitionsToTxnResponse, EndTxnResponse, FindCoordinatorResponse,
    TxnOffsetCommitResponse,
};

impl ProducerEngine {
    pub(super) fn on_produce(
        &mut self,
        node: i32,
        parts: Vec<(Arc<str>, i32)>,
        resp: Option<ProduceResponse>,
        now: Instant,
    ) {
        let Some(resp) = resp else {
            return self.on_produce_failed(parts, now);
        };
        let mut reports = self.reports();
        let debug = self.debug.then_some(self.start);
        let log = |msg: String| {
            if let Some(start) = debug {
                eprintln!(
                    "%7|{:.3}|RSKAFKA|producer: {msg}",
                    start.elapsed().as_secs_f64()
                );
            }
        };
        // An epoch bump in a transaction: the transaction can only be aborted.
        let mut bump: Option<(ErrorCode, String)> = None;
        for tp in parts {
            let found = resp
                .responses
                .iter()
                .filter(|t| t.name.0.as_str() == &*tp.0)
                .flat_map(|t| t.partition_responses.iter())
                .find(|p| p.index == tp.1)
                .cloned();
            let (err, base, append_ts, msg) = match &found {
                Some(p) => (
                    ErrorCode::from(p.error_code),
                    p.base_offset,
                    p.log_append_time_ms,
                    p.error_message.as_ref().map(|m| m.to_string()),
                ),
                None => (ErrorCode::UNKNOWN_TOPIC_OR_PART, -1, -1, None),
            };
            let q = self.acc.queues.get_mut(&tp).expect("in-flight partition");
            q.in_flight = false;
            let retriable = err.is_retriable()
                || matches!(
                    err,
                    ErrorCode::NOT_ENOUGH_REPLICAS
                        | ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND
                        | ErrorCode::LEADER_NOT_AVAILABLE
                );
            match err {
                ErrorCode::NONE | ErrorCode::DUPLICATE_SEQUENCE_NUMBER => {
                    let b = q.batches.pop_front().expect("in-flight batch");
                    q.tx_msgs += b.msgs.len() as u64;
                    q.tx_bytes += b.payload_bytes as u64;
                    let known = err == ErrorCode::NONE;
                    for (i, m) in b.msgs.into_iter().enumerate() {
                        let offset = if known && base >= 0 {
                            base + i as i64
                        } else {
                            -1
                        };
                        let ts = if append_ts >= 0 {
                            append_ts
                        } else {
                            m.timestamp
                        };
                        reports.add(&tp.0, tp.1, m, offset, ts, None);
                    }
                }
                e if self.txn.is_some() && txn::is_fatal(e) => {
                    let b = q.batches.pop_front().expect("in-flight batch");
                    let n = txn::normalize(e);
                    let err = KafkaError::new(n, n.description());
                    self.fail_batch(&tp.0, tp.1, b, &err, &mut reports);
                    self.txn_fatal(
                        n,
                        format!("Producer fenced or unauthorized: {}", n.description()),
                    );
                }
                ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER
                | ErrorCode::UNKNOWN_PRODUCER_ID
                | ErrorCode::INVALID_PRODUCER_EPOCH
                    if self.idem != IdemState::Disabled =>
                {
                    log(format!(
                        "{} [{}]: {err}: bumping the producer epoch",
                        tp.0, tp.1
                    ));
                    self.idem = IdemState::NeedBump;
                    bump = Some((err, format!("{} [{}]: {}", tp.0, tp.1, err.description())));
                    if let Some(b) = q.batches.front_mut() {
                        b.retry_at = Some(now + self.s.retry_backoff);
                    }
                }
                _ if retriable
                    && q.batches
                        .front()
                        .is_some_and(|b| (b.attempts as i64) <= self.s.retries as i64) =>
                {
                    log(format!(
                        "{} [{}]: {err} from broker {node}: retrying",
                        tp.0, tp.1
                    ));
                    if let Some(b) = q.batches.front_mut() {
                        b.retry_at = Some(now + self.s.retry_backoff);
                    }
                    self.metadata.request_refresh(now);
                }
                _ => {
                    let b = q.batches.pop_front().expect("in-flight batch");
                    let text = msg.unwrap_or_else(|| err.to_string());
                    let e = KafkaError::new(err, text);
                    if self.idem == IdemState::Ready {
                        // The sequence numbers given to this batch are gone: start a new epoch.
                        self.idem = IdemState::NeedBump;
                        bump = Some((err, format!("{} [{}]: {}", tp.0, tp.1, e.message)));
                    }
                    self.fail_batch(&tp.0, tp.1, b, &e, &mut reports);
                }
            }
        }
        self.flush_reports(reports);
        if let Some((err, why)) = bump {
            self.txn_epoch_bump(err, why);
        }
    }

    /// A Produce got no response (connection lost, timeout): retry; with idempotence the broker
    /// tells duplicates apart by sequence number.
    pub(super) fn on_produce_failed(&mut self, parts: Vec<(Arc<str>, i32)>, now: Instant) {
        let mut reports = self.reports();
        let mut retry = Vec::new();
        for tp in parts {
            let Some(q) = self.acc.queues.get_mut(&tp) else {
                continue;
            };
            let exhausted = q
                .batches
                .front()
                .is_some_and(|b| b.attempts as i64 > self.s.retries as i64);
            if exhausted {
                q.in_flight = false;
                let b = q.batches.pop_front().expect("checked");
                let e = KafkaError::new(ErrorCode::L_TRANSPORT, "Local: Broker transport failure");
                self.fail_batch(&tp.0, tp.1, b, &e, &mut reports);
            } else {
                retry.push(tp);
            }
        }
        self.requeue(&retry, now, true);
        self.flush_reports(reports);
        self.metadata.request_refresh_soon(now);
    }

    pub(super) fn on_metadata(&mut self, resp: &MetadataResponse, now: Instant) {
        self.metadata.apply(resp, now);
        for (name, t) in &self.metadata.topics {
            let n = t.partitions.len() as i32;
            if t.error.0 == 0 && n > 0 && self.told_counts.get(name) != Some(&n) {
                self.told_counts.insert(name.clone(), n);
                self.out
                    .push_back(ProducerOutput::PartitionCount(name.clone(), n));
            }
        }
        self.debug(|| {
            let t: Vec<String> = self
                .metadata
                .topics
                .iter()
                .map(|(n, m)| format!("{n}:{}/{}", m.partitions.len(), m.error.name()))
                .collect();
            format!(
                "metadata: {} brokers, topics {}",
                self.metadata.brokers.len(),
                t.join(" ")
            )
        });
        let brokers: Vec<(i32, String)> = self
            .metadata
            .brokers
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for (id, addr) in &brokers {
            for f in self
                .net
                .set_address(BrokerKey::Node(*id), addr.clone(), now)
            {
                self.on_request_failed(f.ctx, now);
            }
        }
    }

    pub(super) fn on_request_failed(&mut self, ctx: Ctx, now: Instant) {
        match ctx {
            Ctx::Metadata => self.metadata.on_failure(now),
            Ctx::Times(t) => self.times.on_failed(t),
            Ctx::Groups(g) => self.group_lists.on_failed(g, ErrorCode::L_TRANSPORT),
            Ctx::InitProducerId => {
                self.idem = if self.producer_id >= 0 {
                    IdemState::NeedBump
                } else {
                    IdemState::NeedInit
                };
                if self.txn.is_some() {
                    self.txn_lost_coordinator(now);
                }
            }
            Ctx::Produce { parts, .. } => self.on_produce_failed(parts, now),
            Ctx::FindTxnCoordinator => self.on_find_txn_coordinator(None, now),
            Ctx::AddPartitionsToTxn { parts, sent } => {
                self.on_add_partitions(parts, sent, None, now)
            }
            Ctx::EndTxn { commit } => self.on_end_txn(commit, None, now),
            Ctx::AddOffsetsToTxn => self.on_add_offsets(None, now),
            Ctx::FindGroupCoordinator => self.on_find_group_coordinator(None, now),
            Ctx::TxnOffsetCommit { node } => self.on_txn_offset_commit(node, None, now),
        }
    }

    pub(super) fn on_response(
        &mut self,
        key: BrokerKey,
        f: InFlight<Ctx>,
        mut body: Bytes,
        now: Instant,
    ) {
        let v = f.version;
        match f.ctx {
            Ctx::Metadata => match frame::decode_body::<MetadataResponse>(&mut body, v) {
                Ok(resp) => {
                    let addr = self.net.address(key).map(str::to_string);
                    self.on_metadata(&resp, now);
                    self.metadata_queries
                        .on_response(&resp, &self.metadata, key, addr.as_deref());
                }
                Err(_) => self.metadata.on_failure(now),
            },
            Ctx::Groups(GroupsCtx::List { query, broker }) => {
                let resp = frame::decode_body::<ListGroupsResponse>(&mut body, v).ok();
                if let Some(next) = self.group_lists.on_list(query, broker, resp) {
                    self.group_lists.requeue(next);
                }
            }
            Ctx::Groups(GroupsCtx::Describe { query, broker }) => {
                let resp = frame::decode_body::<DescribeGroupsResponse>(&mut body, v).ok();
                self.group_lists
                    .on_describe(query, broker, resp, &self.metadata);
            }
            Ctx::Times(t) => {
                let resp = frame::decode_body::<ListOffsetsResponse>(&mut body, v).ok();
                if self.times.on_response(t, resp) {
                    self.metadata.request_refresh_soon(now);
                }
            }
            Ctx::InitProducerId => match frame::decode_body::<InitProducerIdResponse>(&mut body, v)
            {
                Ok(resp) => self.on_init_producer_id(resp, now),
                Err(_) => self.idem = IdemState::NeedInit,
            },
            Ctx::Produce { node, parts } => {
                let resp = frame::decode_body::<ProduceResponse>(&mut body, v).ok();
                if let Some(r) = &resp {
                    self.on_throttle(node, r.throttle_time_ms, now);
                }
                self.on_produce(node, parts, resp, now);
            }
            Ctx::FindTxnCoordinator => {
                let resp = frame::decode_body::<FindCoordinatorResponse>(&mut body, v).ok();
                self.on_find_txn_coordinator(resp, now);
            }
            Ctx::AddPartitionsToTxn { parts, sent } => {
                let resp = frame::decode_body::<AddPartitionsToTxnResponse>(&mut body, v).ok();
                self.on_add_partitions(parts, sent, resp, now);
            }
            Ctx::EndTxn { commit } => {
                let resp = frame::decode_body::<EndTxnResponse>(&mut body, v).ok();
                self.on_end_txn(commit, resp, now);
            }
            Ctx::AddOffsetsToTxn => {
                let resp = frame::decode_body::<AddOffsetsToTxnResponse>(&mut body, v).ok();
                self.on_add_offsets(resp, now);
            }
            Ctx::FindGroupCoordinator => {
                let resp = frame::decode_body::<FindCoordinatorResponse>(&mut body, v).ok();
                self.on_find_group_coordinator(resp, now);
            }
            Ctx::TxnOffsetCommit { node } => {
                let resp = frame::decode_body::<TxnOffsetCommitResponse>(&mut body, v).ok();
                self.on_txn_offset_commit(node, resp, now);
            }
        }
    }
}
