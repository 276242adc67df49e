//! Committed offsets (OffsetCommit/OffsetFetch) and the group listings (DescribeGroups,
//! ListGroups), answered by the group's coordinator.

use std::collections::BTreeMap;

use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponsePartition, OffsetFetchResponseTopic,
};
use kafka_protocol::messages::{
    DescribeGroupsRequest, DescribeGroupsResponse, ListGroupsResponse, OffsetCommitRequest,
    OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::cluster::err;
use super::group::{Coordinator, Group, State};

/// One committed offset with its leader epoch and metadata string.
#[derive(Clone, Debug)]
pub struct Offset {
    /// The next offset to consume.
    pub offset: i64,
    /// The leader epoch the client sent.
    pub leader_epoch: i32,
    /// The client's metadata string.
    pub metadata: Option<String>,
}

/// A group's committed offsets by topic and partition.
pub type Committed = BTreeMap<(String, i32), Offset>;

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

impl Coordinator {
    /// Answers OffsetCommit: a member's commit must name its generation; a commit with
    /// generation -1 and no member id (a simple consumer) is taken as is. `exists(topic,
    /// partition)` says whether a partition exists: commits to others get UNKNOWN_TOPIC_OR_PART.
    pub fn offset_commit(
        &mut self,
        broker: i32,
        brokers: usize,
        req: OffsetCommitRequest,
        exists: impl Fn(&str, i32) -> bool,
    ) -> OffsetCommitResponse {
        let gid = req.group_id.0.to_string();
        let code = if self.not_coordinator(broker, brokers, &gid) {
            err::NOT_COORDINATOR
        } else {
            let group = self.groups.entry(gid.clone()).or_insert_with(Group::empty);
            if req.generation_id_or_member_epoch < 0 && req.member_id.is_empty() {
                if group.members.is_empty() {
                    err::NONE
                } else {
                    err::ILLEGAL_GENERATION
                }
            } else {
                match group.check_member(&req.member_id, req.generation_id_or_member_epoch) {
                    err::NONE if group.state == State::CompletingRebalance => {
                        err::REBALANCE_IN_PROGRESS
                    }
                    code => code,
                }
            }
        };
        let mut resp = OffsetCommitResponse::default();
        for t in req.topics {
            let mut topic = OffsetCommitResponseTopic::default().with_name(t.name.clone());
            for p in t.partitions {
                let code = if code == err::NONE && !exists(&t.name.0, p.partition_index) {
                    err::UNKNOWN_TOPIC_OR_PARTITION
                } else {
                    code
                };
                if code == err::NONE {
                    let group = self.groups.get_mut(&gid).expect("created above");
                    group.offsets.insert(
                        (t.name.0.to_string(), p.partition_index),
                        Offset {
                            offset: p.committed_offset,
                            leader_epoch: p.committed_leader_epoch,
                            metadata: p.committed_metadata.map(|s| s.to_string()),
                        },
                    );
                }
                topic.partitions.push(
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(code),
                );
            }
            resp.topics.push(topic);
        }
        resp
    }

    /// Answers OffsetFetch (v1-7, one group): the named partitions, or every committed one
    /// when no topics are named; -1 for partitions without a commit.
    pub fn offset_fetch(
        &self,
        broker: i32,
        brokers: usize,
        req: OffsetFetchRequest,
    ) -> OffsetFetchResponse {
        let gid = req.group_id.0.to_string();
        let mut resp = OffsetFetchResponse::default();
        if self.not_coordinator(broker, brokers, &gid) {
            resp.error_code = err::NOT_COORDINATOR;
            for t in req.topics.unwrap_or_default() {
                let mut topic = OffsetFetchResponseTopic::default().with_name(t.name);
                for p in t.partition_indexes {
                    topic.partitions.push(
                        OffsetFetchResponsePartition::default()
                            .with_partition_index(p)
                            .with_committed_offset(-1)
                            .with_error_code(err::NOT_COORDINATOR),
                    );
                }
                resp.topics.push(topic);
            }
            return resp;
        }
        let empty = Committed::new();
        let committed = self.groups.get(&gid).map(|g| &g.offsets).unwrap_or(&empty);
        let wanted: Vec<(String, Vec<i32>)> = match req.topics {
            Some(topics) => topics
                .into_iter()
                .map(|t| (t.name.0.to_string(), t.partition_indexes))
                .collect(),
            None => {
                let mut all: BTreeMap<String, Vec<i32>> = BTreeMap::new();
                for (t, p) in committed.keys() {
                    all.entry(t.clone()).or_default().push(*p);
                }
                all.into_iter().collect()
            }
        };
        for (name, partitions) in wanted {
            let mut topic = OffsetFetchResponseTopic::default().with_name(TopicName(sb(&name)));
            for p in partitions {
                let c = committed.get(&(name.clone(), p));
                topic.partitions.push(
                    OffsetFetchResponsePartition::default()
                        .with_partition_index(p)
                        .with_committed_offset(c.map_or(-1, |c| c.offset))
                        .with_committed_leader_epoch(c.map_or(-1, |c| c.leader_epoch))
                        .with_metadata(Some(sb(c
                            .and_then(|c| c.metadata.as_deref())
                            .unwrap_or("")))),
                );
            }
            resp.topics.push(topic);
        }
        resp
    }

    /// Answers DescribeGroups for the groups this broker coordinates.
    pub fn describe(
        &self,
        broker: i32,
        brokers: usize,
        req: DescribeGroupsRequest,
    ) -> DescribeGroupsResponse {
        let mut resp = DescribeGroupsResponse::default();
        for gid in req.groups {
            let mut d = DescribedGroup::default().with_group_id(gid.clone());
            if self.not_coordinator(broker, brokers, &gid.0) {
                d.error_code = err::NOT_COORDINATOR;
            } else if let Some(g) = self.groups.get(gid.0.as_str()) {
                d.group_state = sb(g.state.name());
                d.protocol_type = sb(&g.protocol_type);
                d.protocol_data = sb(g.protocol.as_deref().unwrap_or(""));
                d.members = g
                    .members
                    .iter()
                    .map(|m| {
                        let metadata = g
                            .protocol
                            .as_ref()
                            .and_then(|p| m.protocols.iter().find(|(n, _)| n == p))
                            .map(|(_, md)| md.clone())
                            .unwrap_or_default();
                        DescribedGroupMember::default()
                            .with_member_id(sb(&m.id))
                            .with_group_instance_id(m.instance_id.as_deref().map(sb))
                            .with_client_id(sb(&m.client_id))
                            .with_client_host(sb("/127.0.0.1"))
                            .with_member_metadata(metadata)
                            .with_member_assignment(m.assignment.clone())
                    })
                    .collect();
            } else {
                d.group_state = sb("Dead");
            }
            resp.groups.push(d);
        }
        resp
    }

    /// Answers ListGroups with the groups this broker coordinates.
    pub fn list(&self, broker: i32, brokers: usize) -> ListGroupsResponse {
        let mut resp = ListGroupsResponse::default();
        let mut ids: Vec<&String> = self
            .groups
            .keys()
            .filter(|g| !self.not_coordinator(broker, brokers, g))
            .collect();
        ids.sort();
        for gid in ids {
            let g = &self.groups[gid];
            resp.groups.push(
                ListedGroup::default()
                    .with_group_id(kafka_protocol::messages::GroupId(sb(gid)))
                    .with_protocol_type(sb(&g.protocol_type))
                    .with_group_state(sb(g.state.name())),
            );
        }
        resp
    }
}
