//! Offset commit and committed-offset lookup (OffsetCommit, OffsetFetch) for the group coordinator.

use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{
    GroupId, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse,
    TopicName,
};
use kafka_protocol::protocol::StrBytes;

use crate::error::ErrorCode;
use crate::topic_partition::TopicPartition;

/// Builds an OffsetCommit; `generation` -1 and an empty member id commit outside group membership.
/// Fields newer than `version` are left at their defaults, which is what the encoder requires.
pub(crate) fn build_commit(
    group_id: &str,
    generation: i32,
    member_id: &str,
    instance_id: Option<&str>,
    offsets: &[TopicPartition],
    version: i16,
) -> OffsetCommitRequest {
    let instance_id = instance_id.filter(|_| version >= 7);
    let mut topics: Vec<OffsetCommitRequestTopic> = Vec::new();
    for tp in offsets {
        let p = OffsetCommitRequestPartition::default()
            .with_partition_index(tp.partition)
            .with_committed_offset(tp.offset)
            .with_committed_leader_epoch(if version >= 6 { tp.leader_epoch } else { -1 })
            .with_committed_metadata(Some(StrBytes::from_string(
                tp.metadata.clone().unwrap_or_default(),
            )));
        match topics.iter_mut().find(|t| t.name.0.as_str() == tp.topic) {
            Some(t) => t.partitions.push(p),
            None => topics.push(
                OffsetCommitRequestTopic::default()
                    .with_name(TopicName(StrBytes::from_string(tp.topic.clone())))
                    .with_partitions(vec![p]),
            ),
        }
    }
    OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group_id.to_string())))
        .with_generation_id_or_member_epoch(generation)
        .with_member_id(StrBytes::from_string(member_id.to_string()))
        .with_group_instance_id(instance_id.map(|s| StrBytes::from_string(s.to_string())))
        .with_retention_time_ms(-1)
        .with_topics(topics)
}

/// Per-partition results of a commit: the offsets sent, each with its error; and the first error.
pub(crate) fn commit_results(
    sent: &[TopicPartition],
    resp: &OffsetCommitResponse,
) -> (Vec<TopicPartition>, ErrorCode) {
    let mut first = ErrorCode::NONE;
    let out = sent
        .iter()
        .map(|tp| {
            let err = resp
                .topics
                .iter()
                .filter(|t| t.name.0.as_str() == tp.topic)
                .flat_map(|t| t.partitions.iter())
                .find(|p| p.partition_index == tp.partition)
                .map_or(ErrorCode::UNKNOWN_TOPIC_OR_PART, |p| {
                    ErrorCode::from(p.error_code)
                });
            if first.0 == 0 {
                first = err;
            }
            TopicPartition {
                error: err,
                ..tp.clone()
            }
        })
        .collect();
    (out, first)
}

/// Builds an OffsetFetch for `parts` (v1..v7 layout); `require_stable` needs v7.
pub(crate) fn build_offset_fetch(
    group_id: &str,
    parts: &[(String, i32)],
    require_stable: bool,
) -> OffsetFetchRequest {
    let mut topics: Vec<OffsetFetchRequestTopic> = Vec::new();
    for (t, p) in parts {
        match topics.iter_mut().find(|x| x.name.0.as_str() == t) {
            Some(x) => x.partition_indexes.push(*p),
            None => topics.push(
                OffsetFetchRequestTopic::default()
                    .with_name(TopicName(StrBytes::from_string(t.clone())))
                    .with_partition_indexes(vec![*p]),
            ),
        }
    }
    OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group_id.to_string())))
        .with_topics(Some(topics))
        .with_require_stable(require_stable)
}

/// The committed offsets in an OffsetFetch response (-1001 `INVALID` where none), and the
/// group-level error.
pub(crate) fn offset_fetch_results(
    parts: &[(String, i32)],
    resp: &OffsetFetchResponse,
) -> (Vec<TopicPartition>, ErrorCode) {
    let out = parts
        .iter()
        .map(|(t, p)| {
            let found = resp
                .topics
                .iter()
                .filter(|x| x.name.0.as_str() == t)
                .flat_map(|x| x.partitions.iter())
                .find(|x| x.partition_index == *p);
            let mut tp = TopicPartition::new(t.clone(), *p);
            if let Some(f) = found {
                tp.error = ErrorCode::from(f.error_code);
                tp.offset = if f.committed_offset >= 0 {
                    f.committed_offset
                } else {
                    crate::topic_partition::offset::INVALID
                };
                tp.leader_epoch = f.committed_leader_epoch;
                tp.metadata = f
                    .metadata
                    .as_ref()
                    .map(|m| m.to_string())
                    .filter(|m| !m.is_empty());
            }
            tp
        })
        .collect();
    (out, ErrorCode::from(resp.error_code))
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::offset_commit_response::{
        OffsetCommitResponsePartition, OffsetCommitResponseTopic,
    };

    #[test]
    fn commit_groups_partitions_by_topic_and_maps_errors() {
        let sent = vec![
            TopicPartition::with_offset("a", 0, 5),
            TopicPartition::with_offset("a", 1, 7),
            TopicPartition::with_offset("b", 0, 1),
        ];
        let req = build_commit("g", 3, "m", None, &sent, 8);
        assert_eq!(req.topics.len(), 2);
        assert_eq!(req.topics[0].partitions.len(), 2);
        let resp =
            OffsetCommitResponse::default().with_topics(vec![OffsetCommitResponseTopic::default()
                .with_name(TopicName(StrBytes::from_static_str("a")))
                .with_partitions(vec![
                    OffsetCommitResponsePartition::default().with_partition_index(0),
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(1)
                        .with_error_code(22),
                ])]);
        let (res, first) = commit_results(&sent, &resp);
        assert_eq!(res[0].error, ErrorCode::NONE);
        assert_eq!(res[1].error, ErrorCode::ILLEGAL_GENERATION);
        assert_eq!(res[2].error, ErrorCode::UNKNOWN_TOPIC_OR_PART);
        assert_eq!(first, ErrorCode::ILLEGAL_GENERATION);
    }
}
