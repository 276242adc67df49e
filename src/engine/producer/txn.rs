//! The transactional producer's state machine (librdkafka's txnmgr semantics): coordinator
//! discovery, InitProducerId with the transactional id, AddPartitionsToTxn before a partition's
//! first batch, EndTxn, and the fatal / abortable error classes.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU8, Ordering};

use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, EndTxnRequest, EndTxnResponse,
    FindCoordinatorRequest, FindCoordinatorResponse, TransactionalId,
};

pub use super::txn_error::TxnError;
use super::*;

/// librdkafka's transaction states, named as in its error strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum TxnState {
    /// Configured, `init_transactions` not called yet.
    Init,
    /// Waiting for the coordinator's producer id.
    WaitPid,
    /// The id arrived after `init_transactions` stopped waiting.
    ReadyNotAcked,
    /// Ready for `begin_transaction`.
    Ready,
    /// In a transaction: messages may be produced.
    InTransaction,
    /// Commit started: delivering the transaction's messages.
    BeginCommit,
    /// EndTxn(commit) sent.
    CommittingTransaction,
    /// Committed after `commit_transaction` stopped waiting.
    CommitNotAcked,
    /// Abort started: waiting for in-flight messages.
    BeginAbort,
    /// EndTxn(abort) sent.
    AbortingTransaction,
    /// Aborted after `abort_transaction` stopped waiting.
    AbortedNotAcked,
    /// An error requires `abort_transaction`.
    AbortableError,
    /// The producer is unusable.
    FatalError,
}

const STATES: [TxnState; 13] = [
    TxnState::Init,
    TxnState::WaitPid,
    TxnState::ReadyNotAcked,
    TxnState::Ready,
    TxnState::InTransaction,
    TxnState::BeginCommit,
    TxnState::CommittingTransaction,
    TxnState::CommitNotAcked,
    TxnState::BeginAbort,
    TxnState::AbortingTransaction,
    TxnState::AbortedNotAcked,
    TxnState::AbortableError,
    TxnState::FatalError,
];

impl TxnState {
    /// The name librdkafka uses in messages ("Operation not valid in state Ready").
    pub fn name(self) -> &'static str {
        match self {
            TxnState::Init => "Init",
            TxnState::WaitPid => "WaitPID",
            TxnState::ReadyNotAcked => "ReadyNotAcked",
            TxnState::Ready => "Ready",
            TxnState::InTransaction => "InTransaction",
            TxnState::BeginCommit => "BeginCommit",
            TxnState::CommittingTransaction => "CommittingTransaction",
            TxnState::CommitNotAcked => "CommitNotAcked",
            TxnState::BeginAbort => "BeginAbort",
            TxnState::AbortingTransaction => "AbortingTransaction",
            TxnState::AbortedNotAcked => "AbortedNotAcked",
            TxnState::AbortableError => "AbortableError",
            TxnState::FatalError => "FatalError",
        }
    }

    /// The state stored in the shared atomic.
    pub fn load(shared: &AtomicU8) -> TxnState {
        STATES[shared.load(Ordering::Acquire) as usize % STATES.len()]
    }
}

/// The steps of the transactional API calls the application makes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxnOp {
    Init,
    Begin,
    /// Stop producing and let the application flush.
    BeginCommit,
    /// Send EndTxn(commit) once everything is delivered.
    Commit,
    /// Stop producing, purge queued messages; the application then waits for in-flight ones.
    BeginAbort,
    /// Send EndTxn(abort).
    Abort,
}

/// Where the engine answers a transactional call.
pub(crate) type TxnReply = Sender<Result<(), TxnError>>;

/// The transaction manager's state, owned by the engine thread.
pub(crate) struct Txn {
    pub id: String,
    pub timeout: Duration,
    pub state: TxnState,
    /// The state, for the application's produce check (librdkafka's `txn_may_enq`).
    pub shared: Arc<AtomicU8>,
    pub coord: Option<i32>,
    pub finding: bool,
    pub find_retry_at: Option<Instant>,
    /// Partitions added to the current transaction.
    pub registered: BTreeSet<(Arc<str>, i32)>,
    /// An AddPartitionsToTxn is in flight.
    pub adding: bool,
    pub add_retry_at: Option<Instant>,
    /// EndTxn to send (`true` = commit) and whether it is in flight.
    pub end: Option<bool>,
    pub ending: bool,
    pub end_retry_at: Option<Instant>,
    /// Messages that failed delivery in this transaction.
    pub dr_fails: u64,
    /// The abortable or fatal error behind the current error state.
    pub err: Option<KafkaError>,
    /// The application's call waiting for the engine.
    pub call: Option<(TxnOp, TxnReply)>,
    /// The `send_offsets_to_transaction` call under way.
    pub offsets: Option<super::txn_offsets::OffsetsOp>,
    /// AddOffsetsToTxn reached (or may have reached) the coordinator: the end needs EndTxn.
    pub offsets_added: bool,
}

impl Txn {
    pub fn new(id: String, timeout: Duration) -> Self {
        Txn {
            id,
            timeout,
            state: TxnState::Init,
            shared: Arc::new(AtomicU8::new(TxnState::Init as u8)),
            coord: None,
            finding: false,
            find_retry_at: None,
            registered: BTreeSet::new(),
            adding: false,
            add_retry_at: None,
            end: None,
            ending: false,
            end_retry_at: None,
            dr_fails: 0,
            err: None,
            call: None,
            offsets: None,
            offsets_added: false,
        }
    }

    pub fn set_state(&mut self, s: TxnState) {
        self.state = s;
        self.shared.store(s as u8, Ordering::Release);
    }

    /// Ok in one of `states`; else the stored error of an error state, or `_STATE`.
    pub fn require(&self, states: &[TxnState]) -> Result<(), TxnError> {
        if states.contains(&self.state) {
            return Ok(());
        }
        let stored = || {
            self.err
                .clone()
                .unwrap_or_else(|| KafkaError::from_code(ErrorCode::L_STATE))
        };
        Err(match self.state {
            TxnState::FatalError => {
                let e = stored();
                TxnError::fatal(e.code, e.message)
            }
            TxnState::AbortableError => {
                let e = stored();
                TxnError::abortable(e.code, e.message)
            }
            s => TxnError::new(
                ErrorCode::L_STATE,
                format!("Operation not valid in state {}", s.name()),
            ),
        })
    }

    /// The coordinator's connection, once known.
    pub fn coord_key(&self) -> Option<BrokerKey> {
        self.coord.map(BrokerKey::Coordinator)
    }
}

/// Fencing errors are one error to the application (librdkafka's `_FENCED`).
pub(crate) fn normalize(err: ErrorCode) -> ErrorCode {
    match err {
        ErrorCode::INVALID_PRODUCER_EPOCH | ErrorCode::PRODUCER_FENCED => ErrorCode::L_FENCED,
        e => e,
    }
}

/// Errors that make a transactional producer unusable.
pub(crate) fn is_fatal(err: ErrorCode) -> bool {
    matches!(
        err,
        ErrorCode::INVALID_PRODUCER_EPOCH
            | ErrorCode::PRODUCER_FENCED
            | ErrorCode::TRANSACTIONAL_ID_AUTHORIZATION_FAILED
            | ErrorCode::CLUSTER_AUTHORIZATION_FAILED
            | ErrorCode::INVALID_TXN_STATE
    )
}

impl ProducerEngine {
    pub(super) fn txn_mut(&mut self) -> &mut Txn {
        self.txn.as_mut().expect("transactional producer")
    }

    /// Answers the waiting call of `op`, if any; `Ok` moves the state to `done` (or its
    /// "not acknowledged" twin when the application stopped waiting).
    fn finish_call(&mut self, result: Result<(), TxnError>, done: Option<(TxnState, TxnState)>) {
        let t = self.txn_mut();
        let call = t.call.take();
        let Some((acked, not_acked)) = done.filter(|_| result.is_ok()) else {
            if let Some((_, reply)) = call {
                let _ = reply.send(result);
            }
            return;
        };
        // The new state is in place before the caller wakes up and reads it.
        t.set_state(acked);
        if acked == TxnState::Ready {
            t.registered.clear();
            t.offsets_added = false;
        }
        let answered = call.is_some_and(|(_, reply)| reply.send(result).is_ok());
        if !answered {
            t.set_state(not_acked);
        }
    }

    /// Moves to the fatal state: every later call fails with this error.
    pub(super) fn txn_fatal(&mut self, code: ErrorCode, message: String) {
        let code = normalize(code);
        let t = self.txn_mut();
        if t.state == TxnState::FatalError {
            return;
        }
        t.set_state(TxnState::FatalError);
        let mut e = KafkaError::new(code, message);
        e.fatal = true;
        t.err = Some(e.clone());
        self.debug(|| format!("transaction fatal error: {}", e.message));
        self.out.push_back(ProducerOutput::Error(e.clone()));
        self.purge(true, false);
        if let Some(op) = self.txn_mut().offsets.take() {
            let _ = op.reply.send(Err(TxnError::fatal(code, e.message.clone())));
        }
        self.finish_call(Err(TxnError::fatal(code, e.message)), None);
    }

    /// Moves to the abortable state: only `abort_transaction` is allowed next.
    pub(super) fn txn_abortable(&mut self, code: ErrorCode, message: String) {
        let t = self.txn_mut();
        if matches!(t.state, TxnState::FatalError | TxnState::AbortableError) {
            return;
        }
        t.set_state(TxnState::AbortableError);
        t.err = Some(KafkaError::new(code, message.clone()));
        self.debug(|| format!("transaction abortable error: {message}"));
        // Queued messages can no longer be sent in this transaction (librdkafka purges too).
        self.purge(true, false);
        if let Some(op) = self.txn_mut().offsets.take() {
            let _ = op
                .reply
                .send(Err(TxnError::abortable(code, message.clone())));
        }
        self.finish_call(Err(TxnError::abortable(code, message)), None);
    }

    /// One step of an application's transactional call.
    pub(super) fn txn_command(&mut self, op: TxnOp, reply: TxnReply, now: Instant) {
        use TxnState::*;
        let Some(t) = self.txn.as_mut() else {
            let _ = reply.send(Err(TxnError::new(
                ErrorCode::L_NOT_CONFIGURED,
                "The Transactional API requires transactional.id to be configured",
            )));
            return;
        };
        let allowed: &[TxnState] = match op {
            TxnOp::Init => &[Init, WaitPid, ReadyNotAcked],
            TxnOp::Begin => &[Ready],
            TxnOp::BeginCommit => &[
                InTransaction,
                BeginCommit,
                CommittingTransaction,
                CommitNotAcked,
            ],
            TxnOp::Commit => &[BeginCommit, CommittingTransaction, CommitNotAcked],
            TxnOp::BeginAbort => &[
                InTransaction,
                BeginAbort,
                AbortingTransaction,
                AbortableError,
                AbortedNotAcked,
            ],
            TxnOp::Abort => &[BeginAbort, AbortingTransaction, AbortedNotAcked],
        };
        if let Err(e) = t.require(allowed) {
            let _ = reply.send(Err(e));
            return;
        }
        match (op, t.state) {
            (TxnOp::Init, ReadyNotAcked) => {
                t.set_state(Ready);
                let _ = reply.send(Ok(()));
            }
            (TxnOp::Init, _) => {
                t.set_state(WaitPid);
                t.call = Some((op, reply));
                if self.idem == IdemState::Ready {
                    self.finish_call(Ok(()), Some((Ready, ReadyNotAcked)));
                }
            }
            (TxnOp::Begin, _) => {
                t.set_state(InTransaction);
                t.registered.clear();
                t.offsets_added = false;
                t.dr_fails = 0;
                t.err = None;
                let _ = reply.send(Ok(()));
            }
            (TxnOp::BeginCommit, InTransaction) => {
                t.set_state(BeginCommit);
                self.flushing = true;
                let _ = reply.send(Ok(()));
            }
            (TxnOp::BeginCommit, _) | (TxnOp::BeginAbort, BeginAbort | AbortingTransaction) => {
                let _ = reply.send(Ok(()));
            }
            (TxnOp::Commit, CommitNotAcked) | (TxnOp::Abort, AbortedNotAcked) => {
                t.set_state(Ready);
                t.registered.clear();
                t.offsets_added = false;
                let _ = reply.send(Ok(()));
            }
            (TxnOp::BeginAbort, AbortedNotAcked) => {
                let _ = reply.send(Ok(()));
            }
            (TxnOp::Commit | TxnOp::Abort, CommittingTransaction | AbortingTransaction) => {
                t.call = Some((op, reply));
            }
            (TxnOp::Commit, _) => {
                if t.dr_fails > 0 {
                    let n = t.dr_fails;
                    let msg =
                        format!("{n} message(s) failed delivery (see individual delivery reports)");
                    let _ = reply.send(Err(TxnError::abortable(
                        ErrorCode::L_INCONSISTENT,
                        msg.clone(),
                    )));
                    t.set_state(AbortableError);
                    t.err = Some(KafkaError::new(ErrorCode::L_INCONSISTENT, msg));
                    return;
                }
                t.call = Some((op, reply));
                if t.registered.is_empty() && !t.offsets_added {
                    self.debug(|| "no partitions registered: not sending EndTxn".into());
                    return self.finish_call(Ok(()), Some((Ready, CommitNotAcked)));
                }
                t.set_state(CommittingTransaction);
                t.end = Some(true);
                self.tick_txn(now);
            }
            (TxnOp::BeginAbort, _) => {
                t.set_state(BeginAbort);
                let _ = reply.send(Ok(()));
                self.purge(true, false);
            }
            (TxnOp::Abort, _) => {
                t.call = Some((op, reply));
                if t.registered.is_empty() && !t.offsets_added {
                    self.debug(|| "no partitions registered: not sending EndTxn".into());
                    return self.finish_call(Ok(()), Some((Ready, AbortedNotAcked)));
                }
                t.set_state(AbortingTransaction);
                t.end = Some(false);
                self.tick_txn(now);
            }
        }
    }

    /// True when `tp`'s batches may be sent: always without transactions, else once the
    /// partition is in the transaction.
    pub(super) fn txn_may_send(&self, tp: &(Arc<str>, i32)) -> bool {
        match &self.txn {
            None => true,
            Some(t) => t.registered.contains(tp),
        }
    }

    /// The transaction manager's requests: FindCoordinator, AddPartitionsToTxn, EndTxn.
    pub(super) fn tick_txn(&mut self, now: Instant) {
        let Some(t) = self.txn.as_ref() else {
            return;
        };
        if matches!(t.state, TxnState::Init | TxnState::FatalError) {
            return;
        }
        if t.offsets.is_some() {
            self.tick_offsets(now);
        }
        let t = self.txn.as_ref().expect("transactional");
        if t.coord.is_none() {
            if !t.finding && t.find_retry_at.is_none_or(|at| at <= now) {
                self.find_txn_coordinator(now);
            }
            return;
        }
        let key = t.coord_key().expect("checked");
        if !self.net.ensure(key, now) || self.idem != IdemState::Ready {
            return;
        }
        let in_txn = matches!(
            t.state,
            TxnState::InTransaction | TxnState::BeginCommit | TxnState::CommittingTransaction
        );
        if in_txn && !t.adding && t.add_retry_at.is_none_or(|at| at <= now) {
            let wanted: Vec<(Arc<str>, i32)> = self
                .acc
                .queues
                .iter()
                .filter(|(k, q)| !q.batches.is_empty() && !t.registered.contains(*k))
                .map(|(k, _)| k.clone())
                .collect();
            if !wanted.is_empty() {
                return self.send_add_partitions(key, wanted, now);
            }
        }
        let t = self.txn.as_ref().expect("transactional");
        let any_in_flight = self.acc.queues.values().any(|q| q.in_flight);
        if let Some(commit) = t.end {
            if !t.ending
                && !t.adding
                && t.offsets.is_none()
                && !any_in_flight
                && t.end_retry_at.is_none_or(|at| at <= now)
            {
                self.send_end_txn(key, commit, now);
            }
        }
    }

    fn find_txn_coordinator(&mut self, now: Instant) {
        let Some(k) = self.any_ready_broker(now) else {
            return;
        };
        let Some(v) = self.net.version(k, ApiKey::FindCoordinator) else {
            return;
        };
        let id = self.txn_mut().id.clone();
        let req = FindCoordinatorRequest::default()
            .with_key(StrBytes::from_string(id))
            .with_key_type(1);
        self.debug(|| format!("FindCoordinator v{v} (transaction)"));
        match self
            .net
            .send(k, &req, v, Ctx::FindTxnCoordinator, Duration::ZERO, now)
        {
            Ok(()) => self.txn_mut().finding = true,
            Err(_) => self.txn_mut().find_retry_at = Some(now + self.s.retry_backoff),
        }
    }

    pub(super) fn on_find_txn_coordinator(
        &mut self,
        resp: Option<FindCoordinatorResponse>,
        now: Instant,
    ) {
        let backoff = self.s.retry_backoff;
        let t = self.txn_mut();
        t.finding = false;
        let err_text = match &resp {
            None => "no response".to_string(),
            Some(r) => format!("{:?}", r),
        };
        let found = resp.and_then(|r| {
            let (err, node, host, port) = match r.coordinators.first() {
                Some(c) => (c.error_code, c.node_id.0, c.host.to_string(), c.port),
                None => (r.error_code, r.node_id.0, r.host.to_string(), r.port),
            };
            (err == 0 && node >= 0).then(|| (node, format!("{host}:{port}")))
        });
        let Some((node, addr)) = found else {
            t.find_retry_at = Some(now + backoff);
            self.debug(|| format!("FindCoordinator (transaction) failed: {err_text}"));
            return;
        };
        t.coord = Some(node);
        t.find_retry_at = None;
        self.debug(|| format!("transaction coordinator is broker {node} at {addr}"));
        let old: Vec<BrokerKey> = self
            .net
            .keys()
            .filter(|k| matches!(k, BrokerKey::Coordinator(n) if *n != node))
            .collect();
        for k in old {
            for f in self.net.remove(k, now) {
                self.on_request_failed(f.ctx, now);
            }
        }
        for f in self
            .net
            .set_address(BrokerKey::Coordinator(node), addr, now)
        {
            self.on_request_failed(f.ctx, now);
        }
        self.tick(now);
    }

    /// Forgets the coordinator after NOT_COORDINATOR and the like; it is looked up again.
    pub(super) fn txn_lost_coordinator(&mut self, now: Instant) {
        let t = self.txn_mut();
        t.coord = None;
        t.find_retry_at = Some(now + Duration::from_millis(10));
    }

    fn send_add_partitions(&mut self, key: BrokerKey, parts: Vec<(Arc<str>, i32)>, now: Instant) {
        let Some(v) = self.net.version(key, ApiKey::AddPartitionsToTxn) else {
            return;
        };
        let mut topics: Vec<AddPartitionsToTxnTopic> = Vec::new();
        for (topic, p) in &parts {
            match topics.last_mut() {
                Some(t) if t.name.0.as_str() == &**topic => t.partitions.push(*p),
                _ => topics.push(
                    AddPartitionsToTxnTopic::default()
                        .with_name(TopicName(StrBytes::from_string(topic.to_string())))
                        .with_partitions(vec![*p]),
                ),
            }
        }
        let id = self.txn_mut().id.clone();
        let req = AddPartitionsToTxnRequest::default()
            .with_v3_and_below_transactional_id(TransactionalId(StrBytes::from_string(id)))
            .with_v3_and_below_producer_id(ProducerId(self.producer_id))
            .with_v3_and_below_producer_epoch(self.epoch)
            .with_v3_and_below_topics(topics);
        self.debug(|| format!("AddPartitionsToTxn v{v}: {parts:?}"));
        let ctx = Ctx::AddPartitionsToTxn { parts, sent: now };
        if self
            .net
            .send(key, &req, v, ctx, Duration::ZERO, now)
            .is_ok()
        {
            self.txn_mut().adding = true;
        }
    }

    pub(super) fn on_add_partitions(
        &mut self,
        parts: Vec<(Arc<str>, i32)>,
        sent: Instant,
        resp: Option<AddPartitionsToTxnResponse>,
        now: Instant,
    ) {
        let backoff = self.s.retry_backoff;
        self.txn_mut().adding = false;
        let Some(resp) = resp else {
            // No answer (connection lost, timeout): ask for the coordinator again, then retry.
            self.txn_mut().add_retry_at = Some(now + backoff);
            return self.txn_lost_coordinator(now);
        };
        let mut err = ErrorCode::from(resp.error_code);
        let mut ok = Vec::new();
        for t in &resp.results_by_topic_v3_and_below {
            for p in &t.results_by_partition {
                let tp: (Arc<str>, i32) = (Arc::from(t.name.0.as_str()), p.partition_index);
                let e = ErrorCode::from(p.partition_error_code);
                if e.0 == 0 {
                    ok.push(tp);
                } else if err.0 == 0 || err == ErrorCode::OPERATION_NOT_ATTEMPTED {
                    err = e;
                }
            }
        }
        let t = self.txn_mut();
        for tp in ok {
            if parts.contains(&tp) {
                t.registered.insert(tp);
            }
        }
        if err.0 == 0 {
            self.send_batches(now);
            return;
        }
        self.debug(|| format!("AddPartitionsToTxn failed: {err}"));
        match err {
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => {
                self.txn_lost_coordinator(now)
            }
            ErrorCode::CONCURRENT_TRANSACTIONS => {
                self.txn_mut().add_retry_at = Some(now + Duration::from_millis(20))
            }
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS | ErrorCode::UNKNOWN_TOPIC_OR_PART => {
                self.txn_mut().add_retry_at = Some(now + backoff)
            }
            e if is_fatal(e) => {
                let n = normalize(e);
                self.txn_fatal(
                    n,
                    format!(
                        "Failed to add partitions to transaction: {}",
                        n.description()
                    ),
                )
            }
            e => {
                let coord = self.txn_mut().coord.unwrap_or(-1);
                let addr = self
                    .net
                    .address(BrokerKey::Coordinator(coord))
                    .unwrap_or("?")
                    .to_string();
                let ms = now.duration_since(sent).as_millis();
                self.txn_abortable(
                    e,
                    format!(
                        "Failed to add partition(s) to transaction on broker {addr}/{coord}: {} (after {ms} ms)",
                        e.description()
                    ),
                )
            }
        }
    }

    fn send_end_txn(&mut self, key: BrokerKey, commit: bool, now: Instant) {
        let Some(v) = self.net.version(key, ApiKey::EndTxn) else {
            return;
        };
        let id = self.txn_mut().id.clone();
        let req = EndTxnRequest::default()
            .with_transactional_id(TransactionalId(StrBytes::from_string(id)))
            .with_producer_id(ProducerId(self.producer_id))
            .with_producer_epoch(self.epoch)
            .with_committed(commit);
        self.debug(|| format!("EndTxn v{v} (commit {commit})"));
        if self
            .net
            .send(key, &req, v, Ctx::EndTxn { commit }, Duration::ZERO, now)
            .is_ok()
        {
            self.txn_mut().ending = true;
        }
    }

    pub(super) fn on_end_txn(&mut self, commit: bool, resp: Option<EndTxnResponse>, now: Instant) {
        let backoff = self.s.retry_backoff;
        let t = self.txn_mut();
        t.ending = false;
        let Some(resp) = resp else {
            t.end_retry_at = Some(now + backoff);
            return self.txn_lost_coordinator(now);
        };
        let err = ErrorCode::from(resp.error_code);
        let what = if commit { "commit" } else { "abort" };
        match err {
            ErrorCode::NONE => {
                t.end = None;
                t.end_retry_at = None;
                let not_acked = if commit {
                    TxnState::CommitNotAcked
                } else {
                    TxnState::AbortedNotAcked
                };
                self.debug(|| format!("transaction {what} done"));
                self.finish_call(Ok(()), Some((TxnState::Ready, not_acked)));
            }
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => {
                self.txn_lost_coordinator(now)
            }
            ErrorCode::COORDINATOR_LOAD_IN_PROGRESS | ErrorCode::CONCURRENT_TRANSACTIONS => {
                t.end_retry_at = Some(now + backoff)
            }
            e if is_fatal(e) => {
                let n = normalize(e);
                self.txn_fatal(n, format!("Failed to end transaction: {}", n.description()))
            }
            e => {
                t.end = None;
                let msg = format!("EndTxn {what} failed: {}", e.description());
                if commit {
                    self.txn_abortable(e, msg);
                } else {
                    // The abort starts again from the beginning when called again.
                    t.set_state(TxnState::BeginAbort);
                    self.finish_call(Err(TxnError::new(e, msg)), None);
                }
            }
        }
    }

    /// InitProducerId failed for a transactional producer: retry, find the coordinator again,
    /// or give up for good.
    pub(super) fn on_txn_init_error(&mut self, err: ErrorCode, now: Instant) {
        match err {
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => {
                self.txn_lost_coordinator(now)
            }
            e if e.is_retriable() || e == ErrorCode::CONCURRENT_TRANSACTIONS => {}
            e => {
                let coord = self.txn_mut().coord.unwrap_or(-1);
                let addr = self
                    .net
                    .address(BrokerKey::Coordinator(coord))
                    .unwrap_or("?")
                    .to_string();
                let n = normalize(e);
                self.txn_fatal(
                    n,
                    format!(
                        "Failed to acquire transactional PID from broker {addr}/{coord}: {}",
                        e.description()
                    ),
                );
            }
        }
    }

    /// The idempotent producer must bump its epoch: inside a transaction that is an abortable
    /// error (the bump ends the transaction on the coordinator), as librdkafka.
    pub(super) fn txn_epoch_bump(&mut self, err: ErrorCode, why: String) {
        let in_txn = self.txn.as_ref().is_some_and(|t| {
            matches!(
                t.state,
                TxnState::InTransaction | TxnState::BeginCommit | TxnState::CommittingTransaction
            )
        });
        if in_txn {
            self.txn_abortable(err, format!("Producer epoch bump required: {why}"));
        }
    }

    /// A producer id (or a new epoch) arrived: init_transactions completes; after a bump the
    /// coordinator has aborted the open transaction, so a waiting abort is done.
    pub(super) fn on_txn_pid(&mut self) {
        let Some(t) = self.txn.as_mut() else {
            return;
        };
        match t.state {
            TxnState::WaitPid => {
                self.finish_call(Ok(()), Some((TxnState::Ready, TxnState::ReadyNotAcked)))
            }
            TxnState::Init => {}
            _ => {
                t.registered.clear();
                t.offsets_added = false;
                if t.state == TxnState::AbortingTransaction && !t.ending {
                    t.end = None;
                    self.finish_call(Ok(()), Some((TxnState::Ready, TxnState::AbortedNotAcked)));
                }
            }
        }
    }
}
