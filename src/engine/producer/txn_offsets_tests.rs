//! `send_offsets_to_transaction` in simulated time with scripted responses: the transaction
//! coordinator is `b1:9092` (node 1), the group coordinator `b2:9092` (node 2).

use crossbeam_channel::Receiver;
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, BrokerId, FindCoordinatorRequest,
    FindCoordinatorResponse, TxnOffsetCommitRequest, TxnOffsetCommitResponse,
};

use super::txn::{TxnError, TxnOp, TxnState};
use super::txn_tests::H;
use super::*;
use crate::group_metadata::ConsumerGroupMetadata;
use crate::runtime::event_loop::Core;
use crate::topic_partition::TopicPartition;

fn group() -> ConsumerGroupMetadata {
    ConsumerGroupMetadata {
        group_id: "g".into(),
        generation_id: 3,
        member_id: "m-1".into(),
        group_instance_id: Some("i-1".into()),
    }
}

fn offsets() -> Vec<TopicPartition> {
    let mut a = TopicPartition::with_offset("in", 0, 5);
    a.metadata = Some("meta".into());
    vec![a, TopicPartition::with_offset("in", 1, -1001)]
}

impl H {
    fn send_offsets(
        &mut self,
        offsets: Vec<TopicPartition>,
        timeout: Option<Duration>,
    ) -> Receiver<Result<(), TxnError>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        let cmd = ProducerCommand::SendOffsets {
            offsets,
            group: group(),
            timeout,
            reply: tx,
        };
        self.e.handle_command(cmd, self.now);
        self.pump();
        rx
    }

    fn in_txn(&mut self) {
        self.init();
        self.op(TxnOp::Begin).try_recv().unwrap().unwrap();
    }

    fn answer_add_offsets(&mut self, code: i16) {
        let req = self.expect(ApiKey::AddOffsetsToTxn);
        assert_eq!(
            req.addr, "b1:9092",
            "AddOffsetsToTxn goes to the txn coordinator"
        );
        let body: AddOffsetsToTxnRequest = req.decode();
        assert_eq!(body.group_id.0.as_str(), "g");
        assert_eq!(body.transactional_id.0.as_str(), "tx");
        assert_eq!(body.producer_id, ProducerId(7));
        self.respond(
            req,
            &AddOffsetsToTxnResponse::default().with_error_code(code),
        );
    }

    fn answer_find_group(&mut self) {
        let req = self.expect(ApiKey::FindCoordinator);
        let body: FindCoordinatorRequest = req.decode();
        assert_eq!((body.key.as_str(), body.key_type), ("g", 0));
        let resp = FindCoordinatorResponse::default()
            .with_node_id(BrokerId(2))
            .with_host(StrBytes::from_static_str("b2"))
            .with_port(9092);
        self.respond(req, &resp);
    }

    fn answer_commit(&mut self, code: i16) {
        let req = self.expect(ApiKey::TxnOffsetCommit);
        assert_eq!(
            req.addr, "b2:9092",
            "TxnOffsetCommit goes to the group coordinator"
        );
        let body: TxnOffsetCommitRequest = req.decode();
        let resp = TxnOffsetCommitResponse::default().with_topics(
            body.topics
                .iter()
                .map(|t| {
                    TxnOffsetCommitResponseTopic::default()
                        .with_name(t.name.clone())
                        .with_partitions(
                            t.partitions
                                .iter()
                                .map(|p| {
                                    TxnOffsetCommitResponsePartition::default()
                                        .with_partition_index(p.partition_index)
                                        .with_error_code(code)
                                })
                                .collect(),
                        )
                })
                .collect(),
        );
        self.respond(req, &resp);
    }
}

#[test]
fn offsets_go_to_the_group_coordinator_and_the_commit_sends_end_txn() {
    let mut h = H::new();
    h.in_txn();
    let rx = h.send_offsets(offsets(), None);
    h.answer_add_offsets(0);
    h.answer_find_group();
    let req = h.expect(ApiKey::TxnOffsetCommit);
    let body: TxnOffsetCommitRequest = req.decode();
    assert_eq!(req.version, 3);
    assert_eq!(body.group_id.0.as_str(), "g");
    assert_eq!((body.producer_id, body.producer_epoch), (ProducerId(7), 0));
    assert_eq!(body.generation_id, 3);
    assert_eq!(body.member_id.as_str(), "m-1");
    assert_eq!(body.group_instance_id.as_deref(), Some("i-1"));
    assert_eq!(body.topics.len(), 1);
    let parts = &body.topics[0].partitions;
    assert_eq!(parts.len(), 1, "the invalid offset is skipped");
    assert_eq!(
        (parts[0].partition_index, parts[0].committed_offset),
        (0, 5)
    );
    assert_eq!(parts[0].committed_metadata.as_deref(), Some("meta"));
    h.pending.push(req);
    assert!(rx.try_recv().is_err(), "no answer before TxnOffsetCommit's");
    h.answer_commit(0);
    rx.try_recv().unwrap().unwrap();
    assert_eq!(h.state(), TxnState::InTransaction);
    // No message was produced, but the offsets make the transaction worth an EndTxn.
    let c = h.op(TxnOp::BeginCommit);
    c.try_recv().unwrap().unwrap();
    let c = h.op(TxnOp::Commit);
    h.answer_end(true, 0);
    c.try_recv().unwrap().unwrap();
    assert_eq!(h.state(), TxnState::Ready);
}

#[test]
fn no_valid_offset_is_a_no_op_in_any_state() {
    let mut h = H::new();
    h.init();
    let none = vec![TopicPartition::with_offset("in", 0, -1)];
    h.send_offsets(none, None).try_recv().unwrap().unwrap();
    h.send_offsets(Vec::new(), None)
        .try_recv()
        .unwrap()
        .unwrap();
    assert!(h.take(ApiKey::AddOffsetsToTxn).is_none());
    let e = h
        .send_offsets(offsets(), None)
        .try_recv()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.code(), ErrorCode::L_STATE);
    assert_eq!(e.message(), "Operation not valid in state Ready");
    assert!(!e.is_retriable() && !e.txn_requires_abort() && !e.is_fatal());
}

#[test]
fn illegal_generation_is_abortable_and_the_abort_sends_end_txn() {
    let mut h = H::new();
    h.in_txn();
    let rx = h.send_offsets(offsets(), None);
    h.answer_add_offsets(0);
    h.answer_find_group();
    h.answer_commit(ErrorCode::ILLEGAL_GENERATION.0 as i16);
    let e = rx.try_recv().unwrap().unwrap_err();
    assert_eq!(e.code(), ErrorCode::ILLEGAL_GENERATION);
    assert!(e.txn_requires_abort() && !e.is_fatal());
    assert!(
        e.message().starts_with(
            "Failed to commit offsets to transaction on broker b2:9092/2: \
             in((null))[0](Broker: Specified group generation id is not valid)"
        ),
        "{}",
        e.message()
    );
    assert_eq!(h.state(), TxnState::AbortableError);
    h.op(TxnOp::BeginAbort).try_recv().unwrap().unwrap();
    let a = h.op(TxnOp::Abort);
    h.answer_end(false, 0);
    a.try_recv().unwrap().unwrap();
}

#[test]
fn fenced_add_offsets_is_fatal() {
    let mut h = H::new();
    h.in_txn();
    let rx = h.send_offsets(offsets(), None);
    h.answer_add_offsets(ErrorCode::PRODUCER_FENCED.0 as i16);
    let e = rx.try_recv().unwrap().unwrap_err();
    assert_eq!(e.code(), ErrorCode::L_FENCED);
    assert!(e.is_fatal());
    assert_eq!(h.state(), TxnState::FatalError);
}

#[test]
fn retriable_errors_are_retried_and_not_coordinator_finds_the_group_again() {
    let mut h = H::new();
    h.in_txn();
    let rx = h.send_offsets(offsets(), None);
    h.answer_add_offsets(ErrorCode::CONCURRENT_TRANSACTIONS.0 as i16);
    h.advance(Duration::from_millis(200));
    h.answer_add_offsets(0);
    h.answer_find_group();
    h.answer_commit(ErrorCode::NOT_COORDINATOR.0 as i16);
    h.advance(Duration::from_millis(100));
    assert!(
        h.take(ApiKey::FindCoordinator).is_none(),
        "500 ms before retrying"
    );
    h.advance(Duration::from_millis(450));
    h.answer_find_group();
    h.answer_commit(0);
    rx.try_recv().unwrap().unwrap();
}

#[test]
fn add_offsets_running_out_of_time_is_retriable() {
    let mut h = H::new();
    h.in_txn();
    let rx = h.send_offsets(offsets(), Some(Duration::from_millis(500)));
    for _ in 0..3 {
        h.answer_add_offsets(ErrorCode::COORDINATOR_LOAD_IN_PROGRESS.0 as i16);
        h.advance(Duration::from_millis(200));
    }
    let e = rx.try_recv().unwrap().unwrap_err();
    assert_eq!(e.code(), ErrorCode::L_TIMED_OUT);
    assert!(e
        .message()
        .starts_with("Failed to add offsets to transaction on broker b1:9092/1"));
    assert!(e.is_retriable() && !e.txn_requires_abort());
    assert_eq!(h.state(), TxnState::InTransaction);
}
