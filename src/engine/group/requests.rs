//! The group's request builders: JoinGroup (with each assignor's subscription metadata), the
//! leader's assignment and SyncGroup, LeaveGroup; the membership state machine decides when to send.

use std::collections::BTreeMap;
use std::time::Duration;

use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{GroupId, JoinGroupRequest, LeaveGroupRequest, SyncGroupRequest};
use kafka_protocol::protocol::StrBytes;

use super::{Group, GroupRequest};
use crate::engine::assignor::{self, AssignorKind, MemberSubscription, TopicPartitions};

impl Group {
    pub(super) fn join_request(&self) -> JoinGroupRequest {
        let topics: Vec<String> = self.subscription.iter().cloned().collect();
        let protocols = self
            .settings
            .strategies
            .iter()
            .map(|kind| {
                let owned = if kind.is_cooperative() {
                    self.owned.clone()
                } else {
                    TopicPartitions::new()
                };
                let meta = assignor::encode_subscription(
                    &topics,
                    &owned,
                    self.generation,
                    self.settings.client_rack.as_deref(),
                    3,
                );
                JoinGroupRequestProtocol::default()
                    .with_name(StrBytes::from_static_str(kind.name()))
                    .with_metadata(meta)
            })
            .collect();
        JoinGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_session_timeout_ms(self.settings.session_timeout.as_millis() as i32)
            .with_rebalance_timeout_ms(self.settings.max_poll_interval.as_millis() as i32)
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_group_instance_id(
                self.settings
                    .group_instance_id
                    .clone()
                    .map(StrBytes::from_string),
            )
            .with_protocol_type(StrBytes::from_static_str("consumer"))
            .with_protocols(protocols)
    }

    /// How long a JoinGroup may take beyond the socket timeout: the rebalance timeout.
    pub fn join_extra_timeout(&self) -> Duration {
        self.settings.max_poll_interval
    }

    pub(super) fn leader_sync(
        &self,
        members: &[MemberSubscription],
        partition_counts: &dyn Fn(&str) -> Option<i32>,
    ) -> SyncGroupRequest {
        let kind = self.protocol.unwrap_or(AssignorKind::Range);
        let counts: BTreeMap<String, i32> = members
            .iter()
            .flat_map(|m| m.topics.iter())
            .filter_map(|t| partition_counts(t).map(|n| (t.clone(), n)))
            .collect();
        let plan = kind.assign(members, &counts);
        let assignments = members
            .iter()
            .map(|m| {
                let empty = TopicPartitions::new();
                let a = plan.get(&m.member_id).unwrap_or(&empty);
                SyncGroupRequestAssignment::default()
                    .with_member_id(StrBytes::from_string(m.member_id.clone()))
                    .with_assignment(assignor::encode_assignment(a))
            })
            .collect();
        self.sync_request(assignments)
    }

    pub(super) fn sync_request(
        &self,
        assignments: Vec<SyncGroupRequestAssignment>,
    ) -> SyncGroupRequest {
        SyncGroupRequest::default()
            .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
            .with_generation_id(self.generation)
            .with_member_id(StrBytes::from_string(self.member_id.clone()))
            .with_group_instance_id(
                self.settings
                    .group_instance_id
                    .clone()
                    .map(StrBytes::from_string),
            )
            .with_protocol_type(Some(StrBytes::from_static_str("consumer")))
            .with_protocol_name(self.protocol.map(|p| StrBytes::from_static_str(p.name())))
            .with_assignments(assignments)
    }

    /// The LeaveGroup to send when leaving, if the member is known and not static.
    pub fn leave_request(&self) -> Option<GroupRequest> {
        if self.member_id.is_empty() || self.settings.group_instance_id.is_some() {
            return None;
        }
        Some(GroupRequest::Leave(
            LeaveGroupRequest::default()
                .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
                .with_member_id(StrBytes::from_string(self.member_id.clone()))
                .with_members(vec![MemberIdentity::default()
                    .with_member_id(StrBytes::from_string(self.member_id.clone()))]),
        ))
    }
}
