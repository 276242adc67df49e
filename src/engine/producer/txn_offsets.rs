//! `send_offsets_to_transaction` in the engine (librdkafka's semantics): AddOffsetsToTxn to the
//! transaction coordinator, then FindCoordinator for the group and TxnOffsetCommit to the group
//! coordinator, with librdkafka's retriable / abortable / fatal error classes.

use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, FindCoordinatorRequest,
    FindCoordinatorResponse, GroupId, TransactionalId, TxnOffsetCommitRequest,
    TxnOffsetCommitResponse,
};

use super::txn::{is_fatal, normalize, TxnError, TxnState};
use super::*;
use crate::group_metadata::ConsumerGroupMetadata;
use crate::topic_partition::TopicPartition;

/// Where a `send_offsets_to_transaction` call is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Stage {
    /// AddOffsetsToTxn to the transaction coordinator.
    AddOffsets,
    /// FindCoordinator for the group.
    FindGroup,
    /// TxnOffsetCommit to the group coordinator (node id).
    Commit(i32),
}

/// A `send_offsets_to_transaction` call the engine is carrying out.
pub(crate) struct OffsetsOp {
    /// Valid offsets only (>= 0), sorted by topic.
    pub offsets: Vec<TopicPartition>,
    pub group: ConsumerGroupMetadata,
    /// The call's timeout, capped at `transaction.timeout.ms`.
    pub deadline: Instant,
    pub reply: TxnReply,
    pub stage: Stage,
    pub in_flight: bool,
    pub retry_at: Option<Instant>,
    /// When the current stage's last request was sent.
    pub sent: Instant,
}

/// The broker name librdkafka puts in messages: `host:port/id`.
fn broker_name(net: &Net<Ctx>, key: BrokerKey, id: i32) -> String {
    format!("{}/{id}", net.address(key).unwrap_or("(none)"))
}

impl ProducerEngine {
    fn offsets_op(&mut self) -> &mut OffsetsOp {
        self.txn
            .as_mut()
            .and_then(|t| t.offsets.as_mut())
            .expect("send_offsets_to_transaction under way")
    }

    /// Starts `send_offsets_to_transaction`: only in a transaction; no valid offset is a no-op.
    pub(crate) fn send_offsets_command(
        &mut self,
        offsets: Vec<TopicPartition>,
        group: ConsumerGroupMetadata,
        timeout: Option<Duration>,
        reply: TxnReply,
        now: Instant,
    ) {
        let Some(t) = self.txn.as_mut() else {
            let _ = reply.send(Err(TxnError::new(
                ErrorCode::L_NOT_CONFIGURED,
                "The Transactional API requires transactional.id to be configured",
            )));
            return;
        };
        let mut valid: Vec<TopicPartition> =
            offsets.into_iter().filter(|o| o.offset >= 0).collect();
        if valid.is_empty() {
            let _ = reply.send(Ok(()));
            return;
        }
        if let Err(e) = t.require(&[TxnState::InTransaction]) {
            let _ = reply.send(Err(e));
            return;
        }
        if t.offsets.is_some() || t.call.is_some() {
            let _ = reply.send(Err(TxnError::retriable(
                ErrorCode::L_CONFLICT,
                "Conflicting send_offsets_to_transaction API call is already in progress",
            )));
            return;
        }
        valid.sort_by(|a, b| a.topic.cmp(&b.topic));
        let timeout = timeout.map_or(t.timeout, |d| d.min(t.timeout));
        t.offsets = Some(OffsetsOp {
            offsets: valid,
            group,
            deadline: now + timeout,
            reply,
            stage: Stage::AddOffsets,
            in_flight: false,
            retry_at: None,
            sent: now,
        });
        self.tick_txn(now);
    }

    /// The next request of the call under way, or its end when its time is up.
    pub(super) fn tick_offsets(&mut self, now: Instant) {
        let Some(op) = self.txn.as_ref().and_then(|t| t.offsets.as_ref()) else {
            return;
        };
        if op.in_flight || op.retry_at.is_some_and(|at| at > now) {
            return;
        }
        if now >= op.deadline {
            return self.offsets_timed_out(now);
        }
        match op.stage {
            Stage::AddOffsets => {
                let t = self.txn.as_ref().expect("transactional");
                let Some(key) = t.coord_key() else {
                    return;
                };
                if self.idem == IdemState::Ready && self.net.ensure(key, now) {
                    self.send_add_offsets(key, now);
                }
            }
            Stage::FindGroup => {
                if let Some(k) = self.any_ready_broker(now) {
                    self.send_find_group(k, now);
                }
            }
            Stage::Commit(node) => {
                if self.net.ensure(BrokerKey::Node(node), now) {
                    self.send_txn_offset_commit(node, now);
                }
            }
        }
    }

    /// The call's time ran out between requests: retriable before the offsets were added to
    /// the transaction, abortable after (as librdkafka).
    fn offsets_timed_out(&mut self, now: Instant) {
        let op = self.offsets_op();
        let (stage, ms) = (op.stage, now.duration_since(op.sent).as_millis());
        let e = ErrorCode::L_TIMED_OUT;
        match stage {
            Stage::AddOffsets => {
                let coord = self.txn_mut().coord.unwrap_or(-1);
                let name = broker_name(&self.net, BrokerKey::Coordinator(coord), coord);
                self.offsets_done(Err(TxnError::retriable(
                    e,
                    format!(
                        "Failed to add offsets to transaction on broker {name}: {} (after {ms}ms)",
                        e.description()
                    ),
                )));
            }
            Stage::FindGroup | Stage::Commit(_) => {
                let name = match stage {
                    Stage::Commit(n) => broker_name(&self.net, BrokerKey::Node(n), n),
                    _ => "(none)".to_string(),
                };
                let msg = format!(
                    "Failed to commit offsets to transaction on broker {name}: {} (after {ms} ms)",
                    e.description()
                );
                self.offsets_abortable(e, msg);
            }
        }
    }

    /// Answers the call under way and forgets it.
    fn offsets_done(&mut self, result: Result<(), TxnError>) {
        if let Some(op) = self.txn.as_mut().and_then(|t| t.offsets.take()) {
            let _ = op.reply.send(result);
        }
    }

    fn offsets_abortable(&mut self, code: ErrorCode, msg: String) {
        self.txn_abortable(code, msg.clone());
        self.offsets_done(Err(TxnError::abortable(code, msg)));
    }

    fn offsets_fatal(&mut self, code: ErrorCode, msg: String) {
        self.txn_fatal(code, msg.clone());
        self.offsets_done(Err(TxnError::fatal(normalize(code), msg)));
    }

    fn send_add_offsets(&mut self, key: BrokerKey, now: Instant) {
        let Some(v) = self.net.version(key, ApiKey::AddOffsetsToTxn) else {
            return;
        };
        let id = self.txn_mut().id.clone();
        let group = self.offsets_op().group.group_id.clone();
        let req = AddOffsetsToTxnRequest::default()
            .with_transactional_id(TransactionalId(StrBytes::from_string(id)))
            .with_producer_id(ProducerId(self.producer_id))
            .with_producer_epoch(self.epoch)
            .with_group_id(GroupId(StrBytes::from_string(group)));
        self.debug(|| format!("AddOffsetsToTxn v{v}"));
        if self
            .net
            .send(key, &req, v, Ctx::AddOffsetsToTxn, Duration::ZERO, now)
            .is_ok()
        {
            let op = self.offsets_op();
            op.in_flight = true;
            op.sent = now;
        }
    }

    pub(super) fn on_add_offsets(&mut self, resp: Option<AddOffsetsToTxnResponse>, now: Instant) {
        let backoff = self.s.retry_backoff;
        let op = self.offsets_op();
        op.in_flight = false;
        let ms = now.duration_since(op.sent).as_millis();
        let err = resp.map_or(ErrorCode::L_TRANSPORT, |r| ErrorCode::from(r.error_code));
        let coord = self.txn_mut().coord.unwrap_or(-1);
        let name = broker_name(&self.net, BrokerKey::Coordinator(coord), coord);
        match err {
            ErrorCode::NONE => {
                self.txn_mut().offsets_added = true;
                let op = self.offsets_op();
                op.stage = Stage::FindGroup;
                op.retry_at = None;
                return self.tick_txn(now);
            }
            ErrorCode::L_TRANSPORT
            | ErrorCode::NOT_COORDINATOR
            | ErrorCode::COORDINATOR_NOT_AVAILABLE
            | ErrorCode::REQUEST_TIMED_OUT => {
                if err == ErrorCode::L_TRANSPORT {
                    // The coordinator may have added the group: the abort must send EndTxn.
                    self.txn_mut().offsets_added = true;
                }
                self.txn_lost_coordinator(now);
                self.offsets_op().retry_at = Some(now + backoff);
            }
            ErrorCode::UNKNOWN_TOPIC_OR_PART
            | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
            | ErrorCode::CONCURRENT_TRANSACTIONS => {
                self.offsets_op().retry_at = Some(now + backoff)
            }
            e if is_fatal(e) || e == ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT => {
                let n = normalize(e);
                return self.offsets_fatal(
                    n,
                    format!("Failed to add offsets to transaction: {}", n.description()),
                );
            }
            e => {
                let msg = format!(
                    "Failed to add offsets to transaction on broker {name}: {} (after {ms}ms)",
                    e.description()
                );
                return self.offsets_abortable(e, msg);
            }
        }
        self.debug(|| format!("AddOffsetsToTxn failed, retrying: {err}"));
        if now >= self.offsets_op().deadline {
            self.offsets_done(Err(TxnError::retriable(
                err,
                format!(
                    "Failed to add offsets to transaction on broker {name}: {} (after {ms}ms)",
                    err.description()
                ),
            )));
        }
    }

    fn send_find_group(&mut self, k: BrokerKey, now: Instant) {
        let Some(v) = self.net.version(k, ApiKey::FindCoordinator) else {
            return;
        };
        let group = self.offsets_op().group.group_id.clone();
        let req = FindCoordinatorRequest::default()
            .with_key(StrBytes::from_string(group))
            .with_key_type(0);
        self.debug(|| format!("FindCoordinator v{v} (group)"));
        if self
            .net
            .send(k, &req, v, Ctx::FindGroupCoordinator, Duration::ZERO, now)
            .is_ok()
        {
            self.offsets_op().in_flight = true;
        }
    }

    pub(super) fn on_find_group_coordinator(
        &mut self,
        resp: Option<FindCoordinatorResponse>,
        now: Instant,
    ) {
        let backoff = self.s.retry_backoff;
        self.offsets_op().in_flight = false;
        let found = resp.and_then(|r| {
            let (err, node, host, port) = match r.coordinators.first() {
                Some(c) => (c.error_code, c.node_id.0, c.host.to_string(), c.port),
                None => (r.error_code, r.node_id.0, r.host.to_string(), r.port),
            };
            (err == 0 && node >= 0).then(|| (node, format!("{host}:{port}")))
        });
        let Some((node, addr)) = found else {
            self.offsets_op().retry_at = Some(now + backoff);
            return;
        };
        let key = BrokerKey::Node(node);
        if self.net.address(key).is_none() {
            self.net.set_address(key, addr, now);
        }
        self.debug(|| format!("group coordinator is broker {node}"));
        let op = self.offsets_op();
        op.stage = Stage::Commit(node);
        op.retry_at = None;
        self.tick_txn(now);
    }

    fn send_txn_offset_commit(&mut self, node: i32, now: Instant) {
        let key = BrokerKey::Node(node);
        let Some(v) = self.net.version(key, ApiKey::TxnOffsetCommit) else {
            return;
        };
        let id = self.txn_mut().id.clone();
        let (pid, epoch) = (self.producer_id, self.epoch);
        let op = self.offsets_op();
        let mut topics: Vec<TxnOffsetCommitRequestTopic> = Vec::new();
        for o in &op.offsets {
            let p = TxnOffsetCommitRequestPartition::default()
                .with_partition_index(o.partition)
                .with_committed_offset(o.offset)
                .with_committed_leader_epoch(if v >= 2 { o.leader_epoch } else { -1 })
                .with_committed_metadata(Some(StrBytes::from_string(
                    o.metadata.clone().unwrap_or_default(),
                )));
            match topics.last_mut() {
                Some(t) if t.name.0.as_str() == o.topic => t.partitions.push(p),
                _ => topics.push(
                    TxnOffsetCommitRequestTopic::default()
                        .with_name(TopicName(StrBytes::from_string(o.topic.clone())))
                        .with_partitions(vec![p]),
                ),
            }
        }
        let g = &op.group;
        let mut req = TxnOffsetCommitRequest::default()
            .with_transactional_id(TransactionalId(StrBytes::from_string(id)))
            .with_group_id(GroupId(StrBytes::from_string(g.group_id.clone())))
            .with_producer_id(ProducerId(pid))
            .with_producer_epoch(epoch)
            .with_topics(topics);
        if v >= 3 {
            req = req
                .with_generation_id(g.generation_id)
                .with_member_id(StrBytes::from_string(g.member_id.clone()))
                .with_group_instance_id(g.group_instance_id.clone().map(StrBytes::from_string));
        }
        self.debug(|| format!("TxnOffsetCommit v{v} to broker {node}"));
        if self
            .net
            .send(
                key,
                &req,
                v,
                Ctx::TxnOffsetCommit { node },
                Duration::ZERO,
                now,
            )
            .is_ok()
        {
            let op = self.offsets_op();
            op.in_flight = true;
            op.sent = now;
        }
    }

    pub(super) fn on_txn_offset_commit(
        &mut self,
        node: i32,
        resp: Option<TxnOffsetCommitResponse>,
        now: Instant,
    ) {
        let op = self.offsets_op();
        op.in_flight = false;
        let ms = now.duration_since(op.sent).as_millis();
        let name = broker_name(&self.net, BrokerKey::Node(node), node);
        let (err, msg) = match &resp {
            None => {
                let e = ErrorCode::L_TRANSPORT;
                (
                    e,
                    format!(
                    "Failed to commit offsets to transaction on broker {name}: {} (after {ms} ms)",
                    e.description()
                ),
                )
            }
            Some(r) => {
                let failed: Vec<(String, i32, ErrorCode)> = r
                    .topics
                    .iter()
                    .flat_map(|t| {
                        t.partitions.iter().filter(|p| p.error_code != 0).map(|p| {
                            (
                                t.name.0.to_string(),
                                p.partition_index,
                                ErrorCode::from(p.error_code),
                            )
                        })
                    })
                    .collect();
                let Some(first) = failed.first().map(|f| f.2) else {
                    self.debug(|| "offsets committed to the transaction".into());
                    return self.offsets_done(Ok(()));
                };
                let parts: Vec<String> = failed
                    .iter()
                    .map(|(t, p, e)| format!("{t}((null))[{p}]({})", e.description()))
                    .collect();
                (
                    first,
                    format!(
                    "Failed to commit offsets to transaction on broker {name}: {} (after {ms}ms)",
                    parts.join(", ")
                ),
                )
            }
        };
        self.debug(|| format!("TxnOffsetCommit failed: {msg}"));
        match err {
            ErrorCode::NOT_COORDINATOR
            | ErrorCode::COORDINATOR_NOT_AVAILABLE
            | ErrorCode::REQUEST_TIMED_OUT
            | ErrorCode::L_TRANSPORT
            | ErrorCode::CONCURRENT_TRANSACTIONS
            | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
            | ErrorCode::UNKNOWN_TOPIC_OR_PART => {
                let op = self.offsets_op();
                if now < op.deadline {
                    if matches!(
                        err,
                        ErrorCode::CONCURRENT_TRANSACTIONS
                            | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
                            | ErrorCode::UNKNOWN_TOPIC_OR_PART
                    ) {
                        op.stage = Stage::Commit(node);
                    } else {
                        op.stage = Stage::FindGroup;
                    }
                    op.retry_at = Some(now + Duration::from_millis(500));
                    return;
                }
                self.offsets_abortable(err, msg)
            }
            e if is_fatal(e)
                || matches!(
                    e,
                    ErrorCode::INVALID_PRODUCER_ID_MAPPING
                        | ErrorCode::UNSUPPORTED_FOR_MESSAGE_FORMAT
                ) =>
            {
                self.offsets_fatal(normalize(e), msg)
            }
            e => self.offsets_abortable(e, msg),
        }
    }

    /// The earliest time the call under way needs the engine.
    pub(super) fn offsets_deadline(&self) -> Option<Instant> {
        let op = self.txn.as_ref()?.offsets.as_ref()?;
        match op.retry_at {
            Some(r) if !op.in_flight => Some(r.min(op.deadline)),
            _ if !op.in_flight => Some(op.deadline),
            _ => None,
        }
    }
}
