//! The transactional producer API on `Producer` (librdkafka's `rd_kafka_init_transactions`,
//! `begin_transaction`, `send_offsets_to_transaction`, `commit_transaction`,
//! `abort_transaction`): each call drives the
//! engine's transaction manager and returns an error that says retriable, abortable or fatal.

use std::time::{Duration, Instant};

use crate::engine::producer::{ProducerCommand, TxnOp};
pub use crate::engine::producer::{TxnError, TxnState};
use crate::error::{ErrorCode, KafkaError, Result};
use crate::group_metadata::ConsumerGroupMetadata;
use crate::producer::Producer;
use crate::topic_partition::TopicPartition;

/// A transactional call's result.
pub type TxnResult = std::result::Result<(), TxnError>;

/// The wait of a call without a timeout.
const FOREVER: Duration = Duration::from_secs(365 * 24 * 3600);

fn timed_out() -> TxnError {
    TxnError::retriable(
        ErrorCode::L_TIMED_OUT,
        "Timed out waiting for operation to finish, retry call to resume",
    )
}

fn destroyed() -> TxnError {
    TxnError::new(
        ErrorCode::L_DESTROY,
        "The producer's engine thread has stopped",
    )
}

impl Producer {
    /// The current transaction state, `None` without `transactional.id`.
    pub fn transaction_state(&self) -> Option<TxnState> {
        self.txn_state.as_deref().map(TxnState::load)
    }

    /// librdkafka refuses to queue messages outside a transaction (`_STATE`).
    pub(crate) fn check_txn_produce(&self) -> Result<()> {
        match self.transaction_state() {
            None | Some(TxnState::InTransaction) => Ok(()),
            Some(s) => Err(KafkaError::new(
                ErrorCode::L_STATE,
                format!("Producing not allowed in transactional state {}", s.name()),
            )),
        }
    }

    fn ensure_transactional(&self) -> TxnResult {
        if self.txn_state.is_none() {
            return Err(TxnError::new(
                ErrorCode::L_NOT_CONFIGURED,
                "The Transactional API requires transactional.id to be configured",
            ));
        }
        Ok(())
    }

    /// Sends one step to the engine and waits for its answer until `deadline` (`None`: forever).
    fn txn_step(&self, op: TxnOp, deadline: Option<Instant>) -> TxnResult {
        let (tx, rx) = crossbeam_channel::bounded(1);
        if !self.engine.send(ProducerCommand::Txn { op, reply: tx }) {
            return Err(destroyed());
        }
        let got = match deadline {
            Some(d) => rx.recv_deadline(d).map_err(|e| match e {
                crossbeam_channel::RecvTimeoutError::Timeout => timed_out(),
                crossbeam_channel::RecvTimeoutError::Disconnected => destroyed(),
            }),
            None => rx.recv().map_err(|_| destroyed()),
        };
        got?
    }

    /// Gets the producer id for `transactional.id` from its coordinator, fencing older
    /// instances with the same id and aborting their open transaction. Call once, first.
    /// On `_TIMED_OUT` (retriable) call it again to resume.
    pub fn init_transactions(&self, timeout: Option<Duration>) -> TxnResult {
        self.ensure_transactional()?;
        let timeout = timeout.unwrap_or(self.txn_timeout * 2);
        self.txn_step(TxnOp::Init, Some(Instant::now() + timeout))
    }

    /// Starts a transaction: messages may be produced until commit or abort.
    pub fn begin_transaction(&self) -> TxnResult {
        self.ensure_transactional()?;
        self.txn_step(TxnOp::Begin, None)
    }

    /// Delivers every message produced in the transaction, then commits it. `_TIMED_OUT` and
    /// other retriable errors: call again; `txn_requires_abort`: call `abort_transaction`.
    pub fn commit_transaction(&self, timeout: Option<Duration>) -> TxnResult {
        self.commit_transaction_with(timeout, &mut |d| self.flush(d))
    }

    /// `commit_transaction` with the flush that serves delivery reports (the C API's own).
    pub(crate) fn commit_transaction_with(
        &self,
        timeout: Option<Duration>,
        flush: &mut dyn FnMut(Duration) -> Result<()>,
    ) -> TxnResult {
        self.ensure_transactional()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        self.txn_step(TxnOp::BeginCommit, deadline)?;
        let left = deadline.map_or(FOREVER, |d| d.saturating_duration_since(Instant::now()));
        if let Err(e) = flush(left) {
            return Err(if e.code == ErrorCode::L_TIMED_OUT {
                TxnError::retriable(
                    e.code,
                    format!(
                        "Failed to flush all outstanding messages within the API timeout: {} message(s) remaining",
                        self.in_flight_count()
                    ),
                )
            } else {
                TxnError::retriable(
                    e.code,
                    format!(
                        "Failed to flush outstanding messages: {}",
                        e.code.description()
                    ),
                )
            });
        }
        self.txn_step(TxnOp::Commit, deadline)
    }

    /// Fails the messages still queued (`_PURGE_QUEUE` delivery reports), waits for those in
    /// flight, and aborts the transaction: read_committed consumers never see its messages.
    pub fn abort_transaction(&self, timeout: Option<Duration>) -> TxnResult {
        self.abort_transaction_with(timeout, &mut |d| self.flush(d))
    }

    /// `abort_transaction` with the flush that serves delivery reports (the C API's own).
    pub(crate) fn abort_transaction_with(
        &self,
        timeout: Option<Duration>,
        flush: &mut dyn FnMut(Duration) -> Result<()>,
    ) -> TxnResult {
        self.ensure_transactional()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        self.txn_step(TxnOp::BeginAbort, deadline)?;
        let left = deadline.map_or(FOREVER, |d| d.saturating_duration_since(Instant::now()));
        if let Err(e) = flush(left) {
            return Err(TxnError::retriable(
                e.code,
                format!(
                    "Failed to flush all outstanding messages within the API timeout: {} message(s) remaining",
                    self.in_flight_count()
                ),
            ));
        }
        self.txn_step(TxnOp::Abort, deadline)
    }

    /// Adds a consumer's offsets to the transaction: they are committed for `group`'s consumer
    /// group when the transaction commits (consume-transform-produce). Offsets below 0 are
    /// skipped; none left is a no-op. `timeout` is capped at `transaction.timeout.ms`.
    pub fn send_offsets_to_transaction(
        &self,
        offsets: &[TopicPartition],
        group: &ConsumerGroupMetadata,
        timeout: Option<Duration>,
    ) -> TxnResult {
        self.ensure_transactional()?;
        let (tx, rx) = crossbeam_channel::bounded(1);
        let cmd = ProducerCommand::SendOffsets {
            offsets: offsets.to_vec(),
            group: group.clone(),
            timeout,
            reply: tx,
        };
        if !self.engine.send(cmd) {
            return Err(destroyed());
        }
        rx.recv().map_err(|_| destroyed())?
    }

    /// Whether this producer has `transactional.id` set.
    pub fn is_transactional(&self) -> bool {
        self.txn_state.is_some()
    }
}
