//! The transaction manager in simulated time: a producer engine driven without sockets, whose
//! requests the tests answer with scripted responses (coordinator `b1:9092`, topic `t`).

use std::collections::HashMap;

use bytes::{Buf, BufMut, BytesMut};
use crossbeam_channel::Receiver;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, ApiVersionsResponse, BrokerId,
    EndTxnRequest, EndTxnResponse, FindCoordinatorRequest, FindCoordinatorResponse,
};
use kafka_protocol::protocol::{Decodable, Encodable};

use super::txn::{TxnError, TxnOp, TxnState};
use super::*;
use crate::config::ClientConfig;
use crate::engine::connection::IoAction;
use crate::protocol::versions::CLIENT_VERSIONS;
use crate::runtime::event_loop::Core;

pub(super) struct Sent {
    conn: ConnId,
    pub(super) addr: String,
    api: ApiKey,
    pub(super) version: i16,
    correlation_id: i32,
    body: Bytes,
}

impl Sent {
    pub(super) fn decode<R: Decodable>(&self) -> R {
        R::decode(&mut self.body.clone(), self.version).expect("request decodes")
    }
}

pub(super) struct H {
    pub(super) e: ProducerEngine,
    pub(super) now: Instant,
    conns: HashMap<ConnId, String>,
    pub(super) pending: Vec<Sent>,
    reports: Vec<DeliveryReport>,
}

impl H {
    pub(super) fn new() -> H {
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", "boot:9092").unwrap();
        c.set("transactional.id", "tx").unwrap();
        c.set("linger.ms", "0").unwrap();
        let s = ProducerSettings::from_config(&c).unwrap();
        let now = Instant::now();
        let e = ProducerEngine::new(s, "p".into(), false, now).unwrap();
        let mut h = H {
            e,
            now,
            conns: HashMap::new(),
            pending: Vec::new(),
            reports: Vec::new(),
        };
        h.pump();
        h
    }

    pub(super) fn pump(&mut self) {
        loop {
            self.e.handle_timeout(self.now);
            let mut progressed = false;
            while let Some(a) = self.e.poll_io() {
                match a {
                    IoAction::Connect(id, addr) => {
                        self.conns.insert(id, addr);
                        self.e.handle_connected(id, self.now);
                        progressed = true;
                    }
                    IoAction::Send(id, frame) => progressed |= self.on_send(id, frame),
                    IoAction::Close(id) => {
                        self.conns.remove(&id);
                    }
                }
            }
            if !progressed {
                break;
            }
        }
        while let Some(o) = self.e.poll_output() {
            if let ProducerOutput::Reports { chunks, .. } = o {
                self.reports.extend(chunks.into_iter().flatten());
            }
        }
    }

    pub(super) fn on_send(&mut self, conn: ConnId, mut frame: Bytes) -> bool {
        frame.advance(4);
        let api = ApiKey::try_from(frame.get_i16()).unwrap();
        let version = frame.get_i16();
        let correlation_id = frame.get_i32();
        let n = frame.get_i16();
        frame.advance(n.max(0) as usize);
        if api.request_header_version(version) >= 2 {
            frame.advance(1);
        }
        let sent = Sent {
            conn,
            addr: self.conns[&conn].clone(),
            api,
            version,
            correlation_id,
            body: frame,
        };
        if api == ApiKey::ApiVersions {
            let keys = CLIENT_VERSIONS
                .iter()
                .map(|(k, lo, hi)| {
                    ApiVersion::default()
                        .with_api_key(*k as i16)
                        .with_min_version(*lo)
                        .with_max_version(*hi)
                })
                .collect();
            let r = ApiVersionsResponse::default().with_api_keys(keys);
            self.answer(&sent, &r);
            return true;
        }
        self.pending.push(sent);
        false
    }

    pub(super) fn answer<R: Encodable>(&mut self, req: &Sent, resp: &R) {
        let mut buf = BytesMut::new();
        buf.put_i32(req.correlation_id);
        if req.api.response_header_version(req.version) >= 1 {
            buf.put_u8(0);
        }
        resp.encode(&mut buf, req.version).unwrap();
        self.e.handle_frame(req.conn, buf.freeze(), self.now);
    }

    pub(super) fn respond<R: Encodable>(&mut self, req: Sent, resp: &R) {
        self.answer(&req, resp);
        self.pump();
    }

    pub(super) fn take(&mut self, api: ApiKey) -> Option<Sent> {
        let i = self.pending.iter().position(|s| s.api == api)?;
        Some(self.pending.remove(i))
    }

    pub(super) fn expect(&mut self, api: ApiKey) -> Sent {
        let apis: Vec<ApiKey> = self.pending.iter().map(|s| s.api).collect();
        self.take(api)
            .unwrap_or_else(|| panic!("no {api:?} pending: {apis:?}"))
    }

    pub(super) fn advance(&mut self, d: Duration) {
        self.now += d;
        self.pump();
    }

    /// Sends a transactional step; returns the receiver of its answer.
    pub(super) fn op(&mut self, op: TxnOp) -> Receiver<Result<(), TxnError>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.e
            .handle_command(ProducerCommand::Txn { op, reply: tx }, self.now);
        self.pump();
        rx
    }

    pub(super) fn produce(&mut self, n: usize) {
        for i in 0..n {
            let rec = ProduceRecord {
                topic: Arc::from("t"),
                partition: 0,
                key: None,
                value: Some(Bytes::from(format!("v{i}"))),
                headers: Vec::new(),
                timestamp: 1,
                opaque: i,
                reply: None,
                enqueued: self.now,
            };
            self.e
                .handle_command(ProducerCommand::Produce(rec), self.now);
        }
        self.pump();
    }

    pub(super) fn state(&self) -> TxnState {
        self.e.txn.as_ref().unwrap().state
    }

    pub(super) fn answer_metadata(&mut self) {
        while let Some(req) = self.take(ApiKey::Metadata) {
            let part = MetadataResponsePartition::default()
                .with_partition_index(0)
                .with_leader_id(BrokerId(1))
                .with_replica_nodes(vec![BrokerId(1)])
                .with_isr_nodes(vec![BrokerId(1)]);
            let resp = MetadataResponse::default()
                .with_brokers(vec![MetadataResponseBroker::default()
                    .with_node_id(BrokerId(1))
                    .with_host(StrBytes::from_static_str("b1"))
                    .with_port(9092)])
                .with_topics(vec![MetadataResponseTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_static_str("t"))))
                    .with_partitions(vec![part])]);
            self.respond(req, &resp);
        }
    }

    pub(super) fn answer_find(&mut self) {
        let req = self.expect(ApiKey::FindCoordinator);
        let body: FindCoordinatorRequest = req.decode();
        assert_eq!((body.key.as_str(), body.key_type), ("tx", 1));
        let resp = FindCoordinatorResponse::default()
            .with_node_id(BrokerId(1))
            .with_host(StrBytes::from_static_str("b1"))
            .with_port(9092);
        self.respond(req, &resp);
    }

    /// init_transactions up to Ready with producer id 7, epoch 0.
    pub(super) fn init(&mut self) {
        self.answer_metadata();
        let rx = self.op(TxnOp::Init);
        assert_eq!(self.state(), TxnState::WaitPid);
        self.answer_find();
        let req = self.expect(ApiKey::InitProducerId);
        assert_eq!(
            req.addr, "b1:9092",
            "InitProducerId goes to the coordinator"
        );
        let body: InitProducerIdRequest = req.decode();
        assert_eq!(
            body.transactional_id.as_ref().map(|t| t.0.as_str()),
            Some("tx")
        );
        assert_eq!(body.transaction_timeout_ms, 60_000);
        let resp = InitProducerIdResponse::default()
            .with_producer_id(ProducerId(7))
            .with_producer_epoch(0);
        self.respond(req, &resp);
        rx.try_recv().unwrap().unwrap();
        assert_eq!(self.state(), TxnState::Ready);
    }

    /// Answers the pending AddPartitionsToTxn with `code` for every partition; returns the
    /// address it went to.
    pub(super) fn answer_add(&mut self, code: i16) -> String {
        let req = self.expect(ApiKey::AddPartitionsToTxn);
        let body: AddPartitionsToTxnRequest = req.decode();
        assert_eq!(body.v3_and_below_producer_id, ProducerId(7));
        let topics = body
            .v3_and_below_topics
            .iter()
            .map(|t| {
                AddPartitionsToTxnTopicResult::default()
                    .with_name(t.name.clone())
                    .with_results_by_partition(
                        t.partitions
                            .iter()
                            .map(|p| {
                                AddPartitionsToTxnPartitionResult::default()
                                    .with_partition_index(*p)
                                    .with_partition_error_code(code)
                            })
                            .collect(),
                    )
            })
            .collect();
        let resp = AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(topics);
        let addr = req.addr.clone();
        self.respond(req, &resp);
        addr
    }

    pub(super) fn answer_produce(&mut self) -> Bytes {
        let req = self.expect(ApiKey::Produce);
        let body: ProduceRequest = req.decode();
        let records = body.topic_data[0].partition_data[0]
            .records
            .clone()
            .unwrap();
        let resp = ProduceResponse::default().with_responses(vec![TopicProduceResponse::default()
            .with_name(TopicName(StrBytes::from_static_str("t")))
            .with_partition_responses(vec![PartitionProduceResponse::default()
                .with_index(0)
                .with_base_offset(0)])]);
        self.respond(req, &resp);
        records
    }

    pub(super) fn answer_end(&mut self, commit: bool, code: i16) {
        let req = self.expect(ApiKey::EndTxn);
        let body: EndTxnRequest = req.decode();
        assert_eq!(body.committed, commit);
        assert_eq!(body.transactional_id.0.as_str(), "tx");
        self.respond(req, &EndTxnResponse::default().with_error_code(code));
    }
}

/// Attributes of a record batch (after base offset, length, leader epoch, magic, CRC).
fn attributes(batch: &Bytes) -> i16 {
    i16::from_be_bytes([batch[21], batch[22]])
}

#[test]
fn add_partitions_before_produce_then_end_txn_commit() {
    let mut h = H::new();
    h.init();
    h.op(TxnOp::Begin).try_recv().unwrap().unwrap();
    h.produce(3);
    assert!(
        h.take(ApiKey::Produce).is_none(),
        "no Produce before the partition is added"
    );
    assert_eq!(
        h.answer_add(0),
        "b1:9092",
        "AddPartitionsToTxn goes to the coordinator"
    );
    let batch = h.answer_produce();
    assert_eq!(
        attributes(&batch) & 0x10,
        0x10,
        "batch marked transactional"
    );
    assert_eq!(h.reports.len(), 3);
    h.op(TxnOp::BeginCommit).try_recv().unwrap().unwrap();
    let commit = h.op(TxnOp::Commit);
    assert_eq!(h.state(), TxnState::CommittingTransaction);
    h.answer_end(true, 0);
    commit.try_recv().unwrap().unwrap();
    assert_eq!(h.state(), TxnState::Ready);
    // The next transaction adds the partition again.
    h.op(TxnOp::Begin).try_recv().unwrap().unwrap();
    h.produce(1);
    h.answer_add(0);
    h.answer_produce();
}

#[test]
fn retriable_add_partitions_errors_are_retried() {
    let mut h = H::new();
    h.init();
    h.op(TxnOp::Begin).try_recv().unwrap().unwrap();
    h.produce(1);
    h.answer_add(ErrorCode::CONCURRENT_TRANSACTIONS.0 as i16);
    assert!(h.take(ApiKey::AddPartitionsToTxn).is_none(), "backs off");
    h.advance(Duration::from_millis(20));
    h.answer_add(ErrorCode::NOT_COORDINATOR.0 as i16);
    h.advance(Duration::from_millis(10));
    h.answer_find();
    h.answer_add(0);
    h.answer_produce();
    assert_eq!(h.state(), TxnState::InTransaction);
    assert!(h.reports[0].error.is_none());
}

#[test]
fn fenced_end_txn_is_fatal() {
    let mut h = H::new();
    h.init();
    h.op(TxnOp::Begin).try_recv().unwrap().unwrap();
    h.produce(1);
    h.answer_add(0);
    h.answer_produce();
    h.op(TxnOp::BeginCommit).try_recv().unwrap().unwrap();
    let commit = h.op(TxnOp::Commit);
    h.answer_end(true, ErrorCode::PRODUCER_FENCED.0 as i16);
    let e = commit.try_recv().unwrap().unwrap_err();
    assert!(e.is_fatal() && e.code() == ErrorCode::L_FENCED, "{e:?}");
    assert_eq!(h.state(), TxnState::FatalError);
    let again = h.op(TxnOp::Begin).try_recv().unwrap().unwrap_err();
    assert!(again.is_fatal());
    assert_eq!(again.message(), e.message());
}

#[test]
fn abortable_error_then_abort_purges_and_skips_end_txn() {
    let mut h = H::new();
    h.init();
    h.op(TxnOp::Begin).try_recv().unwrap().unwrap();
    h.produce(2);
    h.answer_add(ErrorCode::TOPIC_AUTHORIZATION_FAILED.0 as i16);
    assert_eq!(h.state(), TxnState::AbortableError);
    let e = h.op(TxnOp::BeginCommit).try_recv().unwrap().unwrap_err();
    assert!(e.txn_requires_abort() && !e.is_fatal(), "{e:?}");
    assert!(e.message().starts_with(
        "Failed to add partition(s) to transaction on broker b1:9092/1: Broker: Topic authorization failed"
    ));
    h.op(TxnOp::BeginAbort).try_recv().unwrap().unwrap();
    let codes: Vec<_> = h
        .reports
        .iter()
        .map(|r| r.error.as_ref().unwrap().code)
        .collect();
    assert_eq!(codes, vec![ErrorCode::L_PURGE_QUEUE; 2]);
    h.op(TxnOp::Abort).try_recv().unwrap().unwrap();
    assert!(
        h.take(ApiKey::EndTxn).is_none(),
        "nothing was added: no EndTxn"
    );
    assert_eq!(h.state(), TxnState::Ready);
}

#[test]
fn state_errors_name_the_state() {
    let mut h = H::new();
    let e = h.op(TxnOp::Begin).try_recv().unwrap().unwrap_err();
    assert_eq!(e.code(), ErrorCode::L_STATE);
    assert_eq!(e.message(), "Operation not valid in state Init");
    h.init();
    let e = h.op(TxnOp::BeginCommit).try_recv().unwrap().unwrap_err();
    assert_eq!(e.message(), "Operation not valid in state Ready");
}

#[test]
fn epoch_bump_in_a_transaction_is_abortable_and_the_abort_waits_for_it() {
    let mut h = H::new();
    h.init();
    h.op(TxnOp::Begin).try_recv().unwrap().unwrap();
    h.produce(1);
    h.answer_add(0);
    let req = h.expect(ApiKey::Produce);
    let resp = ProduceResponse::default().with_responses(vec![TopicProduceResponse::default()
        .with_name(TopicName(StrBytes::from_static_str("t")))
        .with_partition_responses(vec![PartitionProduceResponse::default()
            .with_index(0)
            .with_error_code(ErrorCode::OUT_OF_ORDER_SEQUENCE_NUMBER.0 as i16)])]);
    h.respond(req, &resp);
    assert_eq!(h.state(), TxnState::AbortableError);
    h.op(TxnOp::BeginAbort).try_recv().unwrap().unwrap();
    let abort = h.op(TxnOp::Abort);
    // The new epoch comes first (KIP-360 bump on the coordinator); it ends the transaction.
    let bump = h.expect(ApiKey::InitProducerId);
    let body: InitProducerIdRequest = bump.decode();
    assert_eq!((body.producer_id, body.producer_epoch), (ProducerId(7), 0));
    let resp = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(7))
        .with_producer_epoch(1);
    h.respond(bump, &resp);
    abort.try_recv().unwrap().unwrap();
    assert!(h.take(ApiKey::EndTxn).is_none());
    assert_eq!(h.state(), TxnState::Ready);
}

#[test]
fn init_finishing_after_the_caller_gave_up_completes_on_the_next_call() {
    let mut h = H::new();
    h.answer_metadata();
    drop(h.op(TxnOp::Init));
    h.answer_find();
    let req = h.expect(ApiKey::InitProducerId);
    let resp = InitProducerIdResponse::default()
        .with_producer_id(ProducerId(7))
        .with_producer_epoch(0);
    h.respond(req, &resp);
    assert_eq!(h.state(), TxnState::ReadyNotAcked);
    let e = h.op(TxnOp::Begin).try_recv().unwrap().unwrap_err();
    assert_eq!(e.message(), "Operation not valid in state ReadyNotAcked");
    h.op(TxnOp::Init).try_recv().unwrap().unwrap();
    assert_eq!(h.state(), TxnState::Ready);
    assert!(
        h.take(ApiKey::InitProducerId).is_none(),
        "no second producer id"
    );
}
