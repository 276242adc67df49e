//! Produce and idempotence: batches checked (v2 format, CRC) and appended to the leader's log;
//! producer ids from InitProducerId; per-partition sequence checks as Kafka makes them
//! (duplicates of the last five batches acknowledged with their first offset, gaps refused).

use std::collections::{HashMap, VecDeque};

use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{
    InitProducerIdRequest, InitProducerIdResponse, ProduceRequest, ProduceResponse, ProducerId,
};

use super::cluster::{err, Cluster};
use crate::protocol::records::{BatchIter, RawBatch, RecordError};

/// Batches per producer and partition remembered for duplicate detection (Kafka's 5).
const REMEMBERED: usize = 5;

/// Hands out producer ids and bumps epochs.
#[derive(Debug)]
pub struct ProducerIds {
    next: i64,
    epochs: HashMap<i64, i16>,
    transactional: HashMap<String, i64>,
}

impl Default for ProducerIds {
    fn default() -> Self {
        ProducerIds {
            next: 1000,
            epochs: HashMap::new(),
            transactional: HashMap::new(),
        }
    }
}

impl ProducerIds {
    /// Answers InitProducerId: a new id at epoch 0, or the known id (by transactional id, or the
    /// one the request names, KIP-360) with its epoch bumped.
    pub fn init(&mut self, req: &InitProducerIdRequest) -> InitProducerIdResponse {
        let txn_id = req.transactional_id.as_ref().filter(|t| !t.0.is_empty());
        let known = txn_id
            .and_then(|t| self.transactional.get(t.0.as_str()).copied())
            .or_else(|| {
                (req.producer_id.0 >= 0 && self.epochs.contains_key(&req.producer_id.0))
                    .then_some(req.producer_id.0)
            });
        let (id, epoch) = match known {
            Some(id) => {
                let e = self.epochs.entry(id).or_insert(0);
                *e = e.wrapping_add(1).max(0);
                (id, *e)
            }
            None => {
                let id = self.next;
                self.next += 1;
                self.epochs.insert(id, 0);
                if let Some(t) = txn_id {
                    self.transactional.insert(t.0.to_string(), id);
                }
                (id, 0)
            }
        };
        InitProducerIdResponse::default()
            .with_producer_id(ProducerId(id))
            .with_producer_epoch(epoch)
    }
}

/// One producer's recent batches on one partition.
#[derive(Debug, Default)]
pub struct SequenceState {
    epoch: i16,
    /// (first sequence, last sequence, base offset), oldest first.
    recent: VecDeque<(i32, i32, i64)>,
}

/// What the sequence check says about a batch.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    /// Append it.
    Append,
    /// Already appended at this base offset: acknowledge, do not append.
    Duplicate(i64),
    /// Refuse with this error.
    Refuse(i16),
}

fn check_sequence(state: Option<&SequenceState>, epoch: i16, first: i32, last: i32) -> Check {
    let Some(s) = state else {
        return if first == 0 {
            Check::Append
        } else {
            Check::Refuse(err::OUT_OF_ORDER_SEQUENCE_NUMBER)
        };
    };
    if epoch < s.epoch {
        return Check::Refuse(err::INVALID_PRODUCER_EPOCH);
    }
    if epoch > s.epoch {
        return if first == 0 {
            Check::Append
        } else {
            Check::Refuse(err::OUT_OF_ORDER_SEQUENCE_NUMBER)
        };
    }
    if let Some(&(_, _, base)) = s.recent.iter().find(|&&(f, l, _)| f == first && l == last) {
        return Check::Duplicate(base);
    }
    match s.recent.back() {
        Some(&(_, l, _)) if first != l.wrapping_add(1) && !(l == i32::MAX && first == 0) => {
            Check::Refuse(err::OUT_OF_ORDER_SEQUENCE_NUMBER)
        }
        _ => Check::Append,
    }
}

fn record(state: &mut SequenceState, epoch: i16, first: i32, last: i32, base: i64) {
    if epoch != state.epoch {
        state.epoch = epoch;
        state.recent.clear();
    }
    state.recent.push_back((first, last, base));
    if state.recent.len() > REMEMBERED {
        state.recent.pop_front();
    }
}

/// The batches of a partition's records, or the error the whole partition gets.
fn parse_batches(records: Option<bytes::Bytes>) -> Result<Vec<RawBatch>, i16> {
    let records = records.unwrap_or_default();
    let mut iter = BatchIter::new(records);
    let mut out = Vec::new();
    for b in iter.by_ref() {
        match b {
            Ok(b) if b.verify_crc().is_ok() => out.push(b),
            Err(RecordError::UnsupportedMagic(_)) => {
                return Err(err::UNSUPPORTED_FOR_MESSAGE_FORMAT)
            }
            _ => return Err(err::CORRUPT_MESSAGE),
        }
    }
    if iter.truncated() || out.is_empty() {
        return Err(err::CORRUPT_MESSAGE);
    }
    Ok(out)
}

impl Cluster {
    /// Answers Produce on broker `broker`: unknown topics are created, each partition's batches
    /// are checked and appended if this broker leads it.
    pub(super) fn produce(&mut self, broker: i32, req: ProduceRequest) -> ProduceResponse {
        let mut resp = ProduceResponse::default();
        let bad_acks = !matches!(req.acks, -1..=1);
        for t in req.topic_data {
            let name = t.name.0.to_string();
            self.auto_create(&name);
            let mut topic = TopicProduceResponse::default().with_name(t.name.clone());
            for p in t.partition_data {
                let mut pr = PartitionProduceResponse::default()
                    .with_index(p.index)
                    .with_base_offset(-1)
                    .with_log_append_time_ms(-1)
                    .with_log_start_offset(-1);
                let part = self
                    .topics
                    .get_mut(&name)
                    .and_then(|parts| usize::try_from(p.index).ok().and_then(|i| parts.get_mut(i)));
                match part {
                    _ if bad_acks => pr.error_code = err::INVALID_REQUIRED_ACKS,
                    None => pr.error_code = err::UNKNOWN_TOPIC_OR_PARTITION,
                    Some(part) if part.leader != broker => {
                        pr.error_code = err::NOT_LEADER_OR_FOLLOWER
                    }
                    Some(part) => match parse_batches(p.records) {
                        Err(code) => pr.error_code = code,
                        Ok(batches) => {
                            let mut first_base = None;
                            for b in &batches {
                                let h = b.header;
                                let base = if h.producer_id < 0 {
                                    part.log.append(b)
                                } else {
                                    let last = h.base_sequence.wrapping_add(h.last_offset_delta);
                                    let state = part.sequences.get(&h.producer_id);
                                    match check_sequence(
                                        state,
                                        h.producer_epoch,
                                        h.base_sequence,
                                        last,
                                    ) {
                                        Check::Refuse(code) => {
                                            pr.error_code = code;
                                            break;
                                        }
                                        Check::Duplicate(base) => base,
                                        Check::Append => {
                                            let base = part.log.append(b);
                                            let s =
                                                part.sequences.entry(h.producer_id).or_default();
                                            record(
                                                s,
                                                h.producer_epoch,
                                                h.base_sequence,
                                                last,
                                                base,
                                            );
                                            base
                                        }
                                    }
                                };
                                first_base.get_or_insert(base);
                            }
                            if pr.error_code == err::NONE {
                                pr.base_offset = first_base.unwrap_or(-1);
                                pr.log_start_offset = part.log.start();
                            }
                        }
                    },
                }
                topic.partition_responses.push(pr);
            }
            resp.responses.push(topic);
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequences_accept_in_order_ack_duplicates_refuse_gaps() {
        let mut s = SequenceState::default();
        assert_eq!(
            check_sequence(None, 0, 5, 9),
            Check::Refuse(err::OUT_OF_ORDER_SEQUENCE_NUMBER)
        );
        assert_eq!(check_sequence(None, 0, 0, 4), Check::Append);
        record(&mut s, 0, 0, 4, 100);
        assert_eq!(check_sequence(Some(&s), 0, 5, 9), Check::Append);
        record(&mut s, 0, 5, 9, 105);
        assert_eq!(check_sequence(Some(&s), 0, 0, 4), Check::Duplicate(100));
        assert_eq!(
            check_sequence(Some(&s), 0, 12, 13),
            Check::Refuse(err::OUT_OF_ORDER_SEQUENCE_NUMBER)
        );
        assert_eq!(check_sequence(Some(&s), 1, 0, 1), Check::Append);
        assert_eq!(
            check_sequence(Some(&s), 1, 3, 4),
            Check::Refuse(err::OUT_OF_ORDER_SEQUENCE_NUMBER)
        );
        record(&mut s, 1, 0, 1, 110);
        assert_eq!(
            check_sequence(Some(&s), 0, 10, 11),
            Check::Refuse(err::INVALID_PRODUCER_EPOCH)
        );
    }

    #[test]
    fn init_producer_id_bumps_known_ids() {
        let mut ids = ProducerIds::default();
        let a = ids.init(&InitProducerIdRequest::default().with_producer_id(ProducerId(-1)));
        let b = ids.init(&InitProducerIdRequest::default().with_producer_id(ProducerId(-1)));
        assert_ne!(a.producer_id, b.producer_id);
        let bumped = ids.init(
            &InitProducerIdRequest::default()
                .with_producer_id(a.producer_id)
                .with_producer_epoch(0),
        );
        assert_eq!(
            (bumped.producer_id, bumped.producer_epoch),
            (a.producer_id, 1)
        );
    }
}
