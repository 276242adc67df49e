//! Offsets by timestamp (`offsets_for_times`, `rd_kafka_offsets_for_times`), shared by the
//! consumer and producer engines: one ListOffsets per partition leader, then one answer with
//! librdkafka's outcome (the first partition error fails the whole query, unknown topics and
//! partitions are marked in the list, no known partition at all is `_UNKNOWN_PARTITION`).
//! Each partition's result is its `offset` and `error` in the returned list.

use std::collections::BTreeMap;
use std::time::Instant;

use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::{BrokerId, ListOffsetsRequest, ListOffsetsResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::channel::Reply;
use super::metadata::Metadata;
use crate::error::{ErrorCode, KafkaError};
use crate::topic_partition::TopicPartition;

/// The outcome librdkafka reports: the call's error and the list as it leaves it.
pub(crate) type TimesResult = (ErrorCode, Vec<TopicPartition>);

/// The public API's view of a [`TimesResult`]: the list, or the call's error.
pub(crate) fn times_result((err, parts): TimesResult) -> crate::error::Result<Vec<TopicPartition>> {
    if err.0 == 0 {
        Ok(parts)
    } else {
        Err(KafkaError::new(
            err,
            format!("Failed to query offsets: {err}"),
        ))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Waiting for a leader.
    Pending,
    /// In a request.
    Sent,
    /// Answered, or failed before asking (unknown topic or partition).
    Done,
}

struct Query {
    id: u64,
    /// Offsets hold the timestamps until answered.
    parts: Vec<TopicPartition>,
    states: Vec<State>,
    /// Any partition asked a leader (else the query fails with `_UNKNOWN_PARTITION`).
    asked: bool,
    /// The first partition error of a response.
    err: ErrorCode,
    /// Metadata responses must exceed this before a topic missing from the cache is unknown.
    mark: u64,
    deadline: Instant,
    reply: Reply<TimesResult>,
}

/// An in-flight ListOffsets: which query and which of its partitions.
pub(crate) struct TimesCtx {
    query: u64,
    parts: Vec<usize>,
}

/// Outstanding offsets-for-times queries.
#[derive(Default)]
pub(crate) struct TimesQueries {
    queries: Vec<Query>,
    next_id: u64,
}

/// Errors after which a partition is asked again (librdkafka retries these).
fn retriable(e: ErrorCode) -> bool {
    matches!(
        e,
        ErrorCode::LEADER_NOT_AVAILABLE
            | ErrorCode::FENCED_LEADER_EPOCH
            | ErrorCode::UNKNOWN_LEADER_EPOCH
            | ErrorCode::REQUEST_TIMED_OUT
    )
}

impl TimesQueries {
    /// Registers a query (an empty list is `_INVALID_ARG` at once) and asks once for metadata
    /// of its topics whose leaders are not known (without creating them, as librdkafka).
    pub fn add(
        &mut self,
        parts: Vec<TopicPartition>,
        deadline: Instant,
        reply: Reply<TimesResult>,
        md: &mut Metadata,
        now: Instant,
    ) {
        if parts.is_empty() {
            let _ = reply.send(Err(KafkaError::from_code(ErrorCode::L_INVALID_ARG)));
            return;
        }
        let unknown: Vec<String> = parts
            .iter()
            .filter(|p| md.leader(&p.topic, p.partition).is_none())
            .map(|p| p.topic.clone())
            .collect();
        let mark = if unknown.is_empty() {
            0
        } else {
            md.lookup_once.extend(unknown);
            md.request_refresh(now);
            md.fresh_mark()
        };
        self.next_id += 1;
        self.queries.push(Query {
            id: self.next_id,
            states: vec![State::Pending; parts.len()],
            parts,
            asked: false,
            err: ErrorCode::NO_ERROR,
            mark,
            deadline,
            reply,
        });
    }

    /// Requests to send now, one per leader: (leader, request, context). Partitions whose topic
    /// or partition does not exist are marked; queries with nothing left to wait for finish.
    pub fn take_requests(
        &mut self,
        md: &Metadata,
        read_committed: bool,
    ) -> Vec<(i32, ListOffsetsRequest, TimesCtx)> {
        let mut out = Vec::new();
        for q in &mut self.queries {
            let mut by_leader: BTreeMap<i32, Vec<usize>> = BTreeMap::new();
            for (i, p) in q.parts.iter_mut().enumerate() {
                if q.states[i] != State::Pending {
                    continue;
                }
                if let Some((leader, _)) = md.leader(&p.topic, p.partition) {
                    by_leader.entry(leader).or_default().push(i);
                    continue;
                }
                let Some(t) = md.topics.get(&p.topic) else {
                    if md.responses > q.mark {
                        p.error = ErrorCode::UNKNOWN_TOPIC_OR_PART;
                        q.states[i] = State::Done;
                    }
                    continue;
                };
                if t.error.0 != 0 && t.error != ErrorCode::LEADER_NOT_AVAILABLE {
                    p.error = t.error;
                    q.states[i] = State::Done;
                } else if !t.partitions.is_empty() && p.partition as usize >= t.partitions.len()
                    || p.partition < 0
                {
                    p.error = ErrorCode::L_UNKNOWN_PARTITION;
                    q.states[i] = State::Done;
                }
            }
            for (leader, idx) in by_leader {
                q.asked = true;
                idx.iter().for_each(|&i| q.states[i] = State::Sent);
                let req = request(&q.parts, &idx, read_committed);
                out.push((
                    leader,
                    req,
                    TimesCtx {
                        query: q.id,
                        parts: idx,
                    },
                ));
            }
        }
        self.finish_done();
        out
    }

    /// A request could not be sent or its connection failed: its partitions wait again.
    pub fn on_failed(&mut self, ctx: TimesCtx) {
        if let Some(q) = self.queries.iter_mut().find(|q| q.id == ctx.query) {
            ctx.parts.iter().for_each(|&i| q.states[i] = State::Pending);
        }
    }

    /// Applies a response; returns true when metadata should be refreshed (a leader moved).
    pub fn on_response(&mut self, ctx: TimesCtx, resp: Option<ListOffsetsResponse>) -> bool {
        let Some(q) = self.queries.iter_mut().find(|q| q.id == ctx.query) else {
            return false;
        };
        let mut refresh = false;
        for &i in &ctx.parts {
            let p = &mut q.parts[i];
            let found = resp.as_ref().and_then(|r| {
                r.topics
                    .iter()
                    .filter(|t| t.name.0.as_str() == p.topic)
                    .flat_map(|t| t.partitions.iter())
                    .find(|rp| rp.partition_index == p.partition)
            });
            let (err, offset) = match found {
                Some(rp) => (ErrorCode::from(rp.error_code), rp.offset),
                None => (ErrorCode::L_BAD_MSG, -1),
            };
            if retriable(err) {
                q.states[i] = State::Pending;
                refresh = true;
                continue;
            }
            q.states[i] = State::Done;
            if err.0 == 0 {
                p.offset = offset;
            } else if q.err.0 == 0 {
                // The call fails; like librdkafka, the list keeps only the errors found before
                // asking (unknown topics and partitions).
                q.err = err;
                refresh |= err == ErrorCode::NOT_LEADER_FOR_PARTITION;
            }
        }
        self.finish_done();
        refresh
    }

    /// Answers the queries with no partition left pending or in flight.
    fn finish_done(&mut self) {
        let (done, live): (Vec<Query>, Vec<Query>) = self
            .queries
            .drain(..)
            .partition(|q| q.states.iter().all(|s| *s == State::Done));
        self.queries = live;
        for q in done {
            let err = if !q.asked {
                ErrorCode::L_UNKNOWN_PARTITION
            } else {
                q.err
            };
            let _ = q.reply.send(Ok((err, q.parts)));
        }
    }

    /// Fails the queries whose deadline passed with `_TIMED_OUT`.
    pub fn expire(&mut self, now: Instant) {
        let (dead, live): (Vec<Query>, Vec<Query>) =
            self.queries.drain(..).partition(|q| q.deadline <= now);
        self.queries = live;
        for q in dead {
            let _ = q.reply.send(Ok((ErrorCode::L_TIMED_OUT, q.parts)));
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.queries.iter().map(|q| q.deadline).min()
    }
}

/// A ListOffsets for the partitions `idx` of `parts`, whose offsets are the timestamps.
fn request(parts: &[TopicPartition], idx: &[usize], read_committed: bool) -> ListOffsetsRequest {
    let mut topics: Vec<ListOffsetsTopic> = Vec::new();
    for &i in idx {
        let p = &parts[i];
        let lp = ListOffsetsPartition::default()
            .with_partition_index(p.partition)
            .with_timestamp(p.offset)
            .with_current_leader_epoch(-1);
        match topics.iter_mut().find(|t| t.name.0.as_str() == p.topic) {
            Some(t) => t.partitions.push(lp),
            None => topics.push(
                ListOffsetsTopic::default()
                    .with_name(TopicName(StrBytes::from_string(p.topic.clone())))
                    .with_partitions(vec![lp]),
            ),
        }
    }
    ListOffsetsRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_isolation_level(i8::from(read_committed))
        .with_topics(topics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::list_offsets_response::{
        ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
    };
    use kafka_protocol::messages::metadata_response::{
        MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::MetadataResponse;
    use std::time::Duration;

    fn metadata(now: Instant) -> Metadata {
        let mut md = Metadata::new(Duration::from_secs(300), Duration::from_millis(100), now);
        let part = |i: i32, leader: i32| {
            MetadataResponsePartition::default()
                .with_partition_index(i)
                .with_leader_id(BrokerId(leader))
        };
        md.build_request(9);
        md.apply(
            &MetadataResponse::default().with_topics(vec![
                MetadataResponseTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_static_str("t"))))
                    .with_partitions(vec![part(0, 1), part(1, 2)]),
                MetadataResponseTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_static_str("gone"))))
                    .with_error_code(ErrorCode::UNKNOWN_TOPIC_OR_PART.0 as i16),
            ]),
            now,
        );
        md
    }

    fn answer(topic: &str, part: i32, err: ErrorCode, offset: i64) -> ListOffsetsResponse {
        ListOffsetsResponse::default().with_topics(vec![ListOffsetsTopicResponse::default()
            .with_name(TopicName(StrBytes::from_string(topic.to_string())))
            .with_partitions(vec![ListOffsetsPartitionResponse::default()
                .with_partition_index(part)
                .with_error_code(err.0 as i16)
                .with_offset(offset)])])
    }

    #[test]
    fn asks_each_leader_and_answers_with_offsets() {
        let now = Instant::now();
        let mut md = metadata(now);
        let mut q = TimesQueries::default();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let parts = vec![
            TopicPartition::with_offset("t", 0, 1000),
            TopicPartition::with_offset("t", 1, 2000),
            TopicPartition::with_offset("t", 7, 3000),
            TopicPartition::with_offset("gone", 0, 3000),
        ];
        q.add(parts, now + Duration::from_secs(5), tx, &mut md, now);
        let reqs = q.take_requests(&md, true);
        assert_eq!(reqs.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2]);
        let p = &reqs[0].1.topics[0].partitions[0];
        assert_eq!((p.partition_index, p.timestamp), (0, 1000));
        assert_eq!(reqs[0].1.isolation_level, 1);
        let mut reqs = reqs.into_iter();
        let (_, _, c1) = reqs.next().unwrap();
        let (_, _, c2) = reqs.next().unwrap();
        assert!(!q.on_response(c1, Some(answer("t", 0, ErrorCode::NO_ERROR, 42))));
        assert!(rx.try_recv().is_err(), "partition 1 is still out");
        // A retriable error asks again.
        assert!(q.on_response(
            c2,
            Some(answer("t", 1, ErrorCode::LEADER_NOT_AVAILABLE, -1))
        ));
        let (_, _, c2) = q.take_requests(&md, true).pop().unwrap();
        q.on_response(c2, Some(answer("t", 1, ErrorCode::NO_ERROR, -1)));
        let (err, parts) = rx.try_recv().unwrap().unwrap();
        assert_eq!(err, ErrorCode::NO_ERROR);
        assert_eq!((parts[0].offset, parts[1].offset), (42, -1));
        assert_eq!(parts[2].error, ErrorCode::L_UNKNOWN_PARTITION);
        assert_eq!(parts[2].offset, 3000, "left as given");
        assert_eq!(parts[3].error, ErrorCode::UNKNOWN_TOPIC_OR_PART);
    }

    #[test]
    fn librdkafka_outcomes_for_errors_and_timeouts() {
        let now = Instant::now();
        let mut md = metadata(now);
        let mut q = TimesQueries::default();
        // Nothing known: _UNKNOWN_PARTITION without a request.
        let (tx, rx) = crossbeam_channel::bounded(1);
        q.add(
            vec![TopicPartition::with_offset("gone", 0, 1)],
            now,
            tx,
            &mut md,
            now,
        );
        assert!(q.take_requests(&md, false).is_empty());
        assert_eq!(
            rx.try_recv().unwrap().unwrap().0,
            ErrorCode::L_UNKNOWN_PARTITION
        );
        // A partition error fails the query.
        let (tx, rx) = crossbeam_channel::bounded(1);
        q.add(
            vec![TopicPartition::with_offset("t", 0, 1)],
            now,
            tx,
            &mut md,
            now,
        );
        let (_, _, c) = q.take_requests(&md, false).pop().unwrap();
        q.on_response(c, Some(answer("t", 0, ErrorCode::UNSUPPORTED_VERSION, -1)));
        assert_eq!(
            rx.try_recv().unwrap().unwrap().0,
            ErrorCode::UNSUPPORTED_VERSION
        );
        // No answer before the deadline.
        let (tx, rx) = crossbeam_channel::bounded(1);
        let deadline = now + Duration::from_millis(10);
        q.add(
            vec![TopicPartition::with_offset("t", 0, 1)],
            deadline,
            tx,
            &mut md,
            now,
        );
        let (_, _, c) = q.take_requests(&md, false).pop().unwrap();
        q.on_failed(c);
        q.expire(deadline);
        assert_eq!(rx.try_recv().unwrap().unwrap().0, ErrorCode::L_TIMED_OUT);
        // An empty list.
        let (tx, rx) = crossbeam_channel::bounded(1);
        q.add(Vec::new(), now, tx, &mut md, now);
        assert_eq!(
            rx.try_recv().unwrap().unwrap_err().code,
            ErrorCode::L_INVALID_ARG
        );
    }
}
