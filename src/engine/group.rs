//! Consumer-group membership (classic protocol): coordinator discovery, JoinGroup, SyncGroup,
//! Heartbeat, LeaveGroup; eager and cooperative (KIP-429) rebalancing; static membership.
//!
//! ```text
//! Idle -subscribe-> Join -JoinGroup-> (leader: Assign) -SyncGroup-> AwaitApp(assign) -> Stable
//!   Stable -REBALANCE_IN_PROGRESS-> eager: AwaitApp(revoke all) -> Join
//!                                   cooperative: Join (keep partitions; revoke only what moves)
//! ```
//! The machine never sends: `poll_request` says what to send next, the engine sends it and feeds the
//! response back. Assignments go to the application as `Rebalance` events and take effect when the
//! application acknowledges them with an (incremental) assign, as librdkafka's rebalance callback does.

use std::collections::{BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use kafka_protocol::messages::{
    FindCoordinatorRequest, FindCoordinatorResponse, GroupId, HeartbeatRequest, HeartbeatResponse,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::assignor::{self, AssignorKind, MemberSubscription, TopicPartitions};
use super::channel::{ConsumerEvent, Delivery, Rebalance, RebalanceKind};
use super::settings::GroupSettings;
use crate::error::ErrorCode;
use crate::topic_partition::{offset, TopicPartition};

mod requests;

/// Where the member is in the join protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Not subscribed.
    Idle,
    /// Ready to send JoinGroup once the coordinator is reachable.
    Join,
    JoinInFlight,
    /// The leader waits for metadata of every member's topics before assigning.
    AwaitMetadata(Vec<MemberSubscription>),
    SyncInFlight,
    /// A rebalance event was handed to the application; waiting for its assign/unassign.
    AwaitApp(AppStep),
    Stable,
    /// Left after `max.poll.interval.ms`; rejoins on the application's next poll.
    PollExceeded,
    /// Closing: LeaveGroup sent or not needed.
    Left,
}

/// What the application is acknowledging, and what follows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum AppStep {
    /// Assigned partitions: then stable.
    Assign,
    /// Eager or lost revoke of everything: then rejoin.
    RevokeAll,
    /// Cooperative revoke of moving partitions: then assign `then_assign` and rejoin.
    RevokeSome { then_assign: TopicPartitions },
}

/// A request the group wants sent.
pub(crate) enum GroupRequest {
    FindCoordinator(FindCoordinatorRequest),
    Join(JoinGroupRequest),
    Sync(SyncGroupRequest),
    Heartbeat(HeartbeatRequest),
    Leave(LeaveGroupRequest),
}

/// One consumer's membership in its group.
pub(crate) struct Group {
    pub settings: GroupSettings,
    pub group_id: String,
    pub phase: Phase,
    pub coordinator: Option<i32>,
    finding: bool,
    find_retry_at: Option<Instant>,
    /// The client needs the coordinator outside a membership (commits, committed-offset
    /// queries), as last told by `poll_request`.
    coordinator_wanted: bool,
    pub member_id: String,
    pub generation: i32,
    pub protocol: Option<AssignorKind>,
    pub subscription: BTreeSet<String>,
    /// What the group assigned to us and the application applied.
    pub owned: TopicPartitions,
    heartbeat_due: Option<Instant>,
    heartbeat_in_flight: bool,
    session_deadline: Option<Instant>,
    join_retry_at: Option<Instant>,
    /// Set when the leader must rebalance because metadata changed.
    rejoin_requested: bool,
    /// Why the group last rejoined (statistics `rebalance_reason`).
    pub rejoin_reason: String,
}

impl Group {
    pub fn new(group_id: String, settings: GroupSettings) -> Self {
        Group {
            settings,
            group_id,
            phase: Phase::Idle,
            coordinator: None,
            finding: false,
            find_retry_at: None,
            coordinator_wanted: false,
            member_id: String::new(),
            generation: -1,
            protocol: None,
            subscription: BTreeSet::new(),
            owned: TopicPartitions::new(),
            heartbeat_due: None,
            heartbeat_in_flight: false,
            session_deadline: None,
            join_retry_at: None,
            rejoin_requested: false,
            rejoin_reason: String::new(),
        }
    }

    fn cooperative(&self) -> bool {
        self.protocol.is_some_and(|p| p.is_cooperative())
            || (self.protocol.is_none()
                && self
                    .settings
                    .strategies
                    .first()
                    .is_some_and(|p| p.is_cooperative()))
    }

    /// True while the member holds a generation the broker knows.
    pub fn in_generation(&self) -> bool {
        matches!(self.phase, Phase::Stable | Phase::AwaitApp(_)) && self.generation >= 0
    }

    /// Replaces the subscription; joins, or rejoins when it changed.
    pub fn subscribe(&mut self, topics: BTreeSet<String>, out: &mut VecDeque<Delivery>) {
        if topics == self.subscription && self.phase != Phase::Idle {
            return;
        }
        self.subscription = topics;
        self.rejoin(out, "subscription changed");
    }

    /// Leaves the group membership but keeps the coordinator.
    pub fn unsubscribe(&mut self, out: &mut VecDeque<Delivery>) -> Option<GroupRequest> {
        self.subscription.clear();
        if !self.owned.is_empty() {
            self.emit(out, RebalanceKind::Revoke, flatten(&self.owned), false);
            self.phase = Phase::AwaitApp(AppStep::RevokeAll);
        } else {
            self.phase = Phase::Idle;
        }
        let leave = self.leave_request();
        self.member_id.clear();
        self.generation = -1;
        leave
    }

    /// Starts a new join round, revoking first where the protocol requires it.
    fn rejoin(&mut self, out: &mut VecDeque<Delivery>, why: &str) {
        self.rejoin_reason = why.to_string();
        if matches!(self.phase, Phase::JoinInFlight | Phase::SyncInFlight) {
            self.rejoin_requested = true;
            return;
        }
        if !self.cooperative() && !self.owned.is_empty() {
            self.emit(out, RebalanceKind::Revoke, flatten(&self.owned), false);
            self.phase = Phase::AwaitApp(AppStep::RevokeAll);
        } else {
            self.phase = Phase::Join;
        }
        self.heartbeat_due = None;
    }

    /// The membership is gone (fenced, unknown member, session timeout): lose partitions, rejoin.
    fn lose(&mut self, out: &mut VecDeque<Delivery>, reset_member: bool) {
        if reset_member {
            self.member_id.clear();
        }
        self.generation = -1;
        self.heartbeat_due = None;
        self.session_deadline = None;
        if !self.owned.is_empty() {
            self.emit(out, RebalanceKind::Revoke, flatten(&self.owned), true);
            self.phase = Phase::AwaitApp(AppStep::RevokeAll);
        } else {
            self.phase = if self.subscription.is_empty() {
                Phase::Idle
            } else {
                Phase::Join
            };
        }
    }

    fn emit(
        &self,
        out: &mut VecDeque<Delivery>,
        kind: RebalanceKind,
        partitions: Vec<TopicPartition>,
        lost: bool,
    ) {
        let cooperative = self.cooperative();
        out.push_back(Delivery::Event(ConsumerEvent::Rebalance(Rebalance {
            kind,
            partitions,
            cooperative,
            lost,
        })));
    }

    fn error(out: &mut VecDeque<Delivery>, code: ErrorCode, msg: String) {
        super::channel::push_error(out, code, msg);
    }

    /// The application applied the rebalance it was given.
    pub fn on_app_ack(&mut self, out: &mut VecDeque<Delivery>) {
        let Phase::AwaitApp(step) = std::mem::replace(&mut self.phase, Phase::Stable) else {
            return;
        };
        match step {
            AppStep::Assign => {
                self.phase = if self.rejoin_requested {
                    Phase::Join
                } else {
                    Phase::Stable
                };
                self.rejoin_requested = false;
            }
            AppStep::RevokeAll => {
                self.owned.clear();
                self.phase = if self.subscription.is_empty() {
                    Phase::Idle
                } else {
                    Phase::Join
                };
            }
            AppStep::RevokeSome { then_assign } => {
                self.emit(out, RebalanceKind::Assign, flatten(&then_assign), false);
                for (t, ps) in &then_assign {
                    let owned = self.owned.entry(t.clone()).or_default();
                    owned.extend(ps);
                    owned.sort_unstable();
                    owned.dedup();
                }
                self.phase = Phase::AwaitApp(AppStep::Assign);
                // Moved partitions are unowned now: the group needs another round to hand them on.
                self.rejoin_requested = true;
            }
        }
    }

    /// Records what the application applied, so the next join reports it as owned.
    pub fn set_owned(&mut self, owned: TopicPartitions) {
        self.owned = owned;
    }

    /// The coordinator connection failed or moved: find it again.
    pub fn coordinator_lost(&mut self, now: Instant) {
        self.coordinator = None;
        self.finding = false;
        self.find_retry_at = Some(now + self.settings.retry_backoff);
        self.heartbeat_in_flight = false;
        match self.phase {
            Phase::JoinInFlight | Phase::SyncInFlight => self.phase = Phase::Join,
            _ => {}
        }
    }

    /// Whether a coordinator is wanted (a group id is set and it is unknown).
    fn needs_coordinator(&self) -> bool {
        self.coordinator.is_none() && !self.finding
    }

    /// The next request to send given the time and whether the coordinator connection is ready.
    /// `partition_counts` resolves topics for the leader's assignment.
    pub fn poll_request(
        &mut self,
        now: Instant,
        coordinator_ready: bool,
        want_coordinator: bool,
        partition_counts: &dyn Fn(&str) -> Option<i32>,
        out: &mut VecDeque<Delivery>,
    ) -> Option<GroupRequest> {
        // Checked first: the session also expires while the coordinator is unknown or unreachable.
        if let Some(deadline) = self.session_deadline {
            if now >= deadline && self.in_generation() {
                let msg = format!("Consumer group session timed out (in join-state {:?}) after {} ms without a successful response from the group coordinator", self.phase, self.settings.session_timeout.as_millis());
                Self::error(out, ErrorCode::L_TIMED_OUT, msg);
                self.lose(out, true);
            }
        }
        self.coordinator_wanted = want_coordinator;
        if self.needs_coordinator()
            && (want_coordinator || self.phase != Phase::Idle)
            && self.find_retry_at.is_none_or(|t| t <= now)
        {
            self.finding = true;
            return Some(GroupRequest::FindCoordinator(
                FindCoordinatorRequest::default()
                    .with_key(StrBytes::from_string(self.group_id.clone()))
                    .with_coordinator_keys(vec![StrBytes::from_string(self.group_id.clone())])
                    .with_key_type(0),
            ));
        }
        if !coordinator_ready {
            return None;
        }
        match &self.phase {
            Phase::Join if self.join_retry_at.is_none_or(|t| t <= now) => {
                self.join_retry_at = None;
                self.phase = Phase::JoinInFlight;
                return Some(GroupRequest::Join(self.join_request()));
            }
            Phase::AwaitMetadata(members)
                if members
                    .iter()
                    .flat_map(|m| m.topics.iter())
                    .all(|t| partition_counts(t).is_some()) =>
            {
                let Phase::AwaitMetadata(members) =
                    std::mem::replace(&mut self.phase, Phase::SyncInFlight)
                else {
                    unreachable!()
                };
                return Some(GroupRequest::Sync(
                    self.leader_sync(&members, partition_counts),
                ));
            }
            Phase::Stable | Phase::AwaitApp(_)
                if self.generation >= 0
                    && !self.heartbeat_in_flight
                    && self.heartbeat_due.is_some_and(|t| t <= now) =>
            {
                self.heartbeat_in_flight = true;
                self.heartbeat_due = None;
                return Some(GroupRequest::Heartbeat(
                    HeartbeatRequest::default()
                        .with_group_id(GroupId(StrBytes::from_string(self.group_id.clone())))
                        .with_generation_id(self.generation)
                        .with_member_id(StrBytes::from_string(self.member_id.clone()))
                        .with_group_instance_id(
                            self.settings
                                .group_instance_id
                                .clone()
                                .map(StrBytes::from_string),
                        ),
                ));
            }
            _ => {}
        }
        None
    }

    /// Topics the leader needs metadata for while assigning.
    pub fn topics_needed(&self) -> BTreeSet<String> {
        match &self.phase {
            Phase::AwaitMetadata(members) => members
                .iter()
                .flat_map(|m| m.topics.iter().cloned())
                .collect(),
            _ => BTreeSet::new(),
        }
    }

    /// Closing: no further requests; returns the LeaveGroup to send, if any.
    pub fn close(&mut self) -> Option<GroupRequest> {
        let leave = self.leave_request();
        self.phase = Phase::Left;
        self.heartbeat_due = None;
        leave
    }

    /// Handles FindCoordinator; returns the coordinator's id and address on success.
    pub fn on_find_coordinator(
        &mut self,
        resp: &FindCoordinatorResponse,
        now: Instant,
        out: &mut VecDeque<Delivery>,
    ) -> Option<(i32, String)> {
        self.finding = false;
        let (err, node, host, port, msg) = match resp.coordinators.first() {
            Some(c) => (
                c.error_code,
                c.node_id.0,
                c.host.as_str(),
                c.port,
                c.error_message.as_ref(),
            ),
            None => (
                resp.error_code,
                resp.node_id.0,
                resp.host.as_str(),
                resp.port,
                resp.error_message.as_ref(),
            ),
        };
        let err = ErrorCode::from(err);
        if err.0 != 0 || node < 0 {
            self.find_retry_at = Some(now + self.settings.retry_backoff);
            if !err.is_retriable() && err.0 != 0 {
                let text = msg
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| err.to_string());
                Self::error(
                    out,
                    err,
                    format!(
                        "FindCoordinator for group \"{}\" failed: {text}",
                        self.group_id
                    ),
                );
            }
            return None;
        }
        self.coordinator = Some(node);
        Some((node, format!("{host}:{port}")))
    }

    /// The FindCoordinator got no response.
    pub fn on_find_failed(&mut self, now: Instant) {
        self.finding = false;
        self.find_retry_at = Some(now + self.settings.retry_backoff);
    }

    /// Handles a JoinGroup response. Returns the request to send next (the SyncGroup).
    pub fn on_join(
        &mut self,
        resp: JoinGroupResponse,
        now: Instant,
        partition_counts: &dyn Fn(&str) -> Option<i32>,
        out: &mut VecDeque<Delivery>,
    ) -> Option<GroupRequest> {
        if self.phase != Phase::JoinInFlight {
            return None;
        }
        let err = ErrorCode::from(resp.error_code);
        self.rejoin_requested = false;
        match err {
            ErrorCode::NONE => {}
            ErrorCode::MEMBER_ID_REQUIRED => {
                self.member_id = resp.member_id.to_string();
                self.phase = Phase::Join;
                return None;
            }
            ErrorCode::UNKNOWN_MEMBER_ID | ErrorCode::ILLEGAL_GENERATION => {
                self.member_id.clear();
                self.generation = -1;
                self.phase = Phase::Join;
                return None;
            }
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => {
                self.phase = Phase::Join;
                self.coordinator_lost(now);
                return None;
            }
            ErrorCode::FENCED_INSTANCE_ID => {
                Self::error(
                    out,
                    ErrorCode::L_FATAL,
                    format!(
                        "Fatal consumer error: static member {:?} was fenced by another instance",
                        self.settings.group_instance_id
                    ),
                );
                self.phase = Phase::Left;
                return None;
            }
            other => {
                if !other.is_retriable() && other != ErrorCode::REBALANCE_IN_PROGRESS {
                    Self::error(out, other, format!("JoinGroup failed: {other}"));
                }
                self.phase = Phase::Join;
                self.join_retry_at = Some(now + self.settings.retry_backoff);
                return None;
            }
        }
        self.member_id = resp.member_id.to_string();
        self.generation = resp.generation_id;
        self.protocol = resp
            .protocol_name
            .as_ref()
            .and_then(|n| AssignorKind::from_name(n.as_str()));
        self.session_deadline = Some(now + self.settings.session_timeout);
        if resp.leader.as_str() == self.member_id && !resp.skip_assignment {
            let mut members = Vec::with_capacity(resp.members.len());
            for m in &resp.members {
                match assignor::decode_subscription(
                    m.member_id.as_str(),
                    m.group_instance_id.as_deref(),
                    &m.metadata,
                ) {
                    Ok(s) => members.push(s),
                    Err(e) => Self::error(
                        out,
                        ErrorCode::L_BAD_MSG,
                        format!(
                            "member {} sent unreadable subscription metadata: {e}",
                            m.member_id.as_str()
                        ),
                    ),
                }
            }
            self.phase = Phase::AwaitMetadata(members);
            return self.poll_request(now, true, false, partition_counts, out);
        }
        self.phase = Phase::SyncInFlight;
        Some(GroupRequest::Sync(self.sync_request(Vec::new())))
    }

    /// Handles a SyncGroup response: the assignment goes to the application.
    pub fn on_sync(&mut self, resp: SyncGroupResponse, now: Instant, out: &mut VecDeque<Delivery>) {
        if self.phase != Phase::SyncInFlight {
            return;
        }
        let err = ErrorCode::from(resp.error_code);
        match err {
            ErrorCode::NONE => {}
            ErrorCode::UNKNOWN_MEMBER_ID => return self.lose(out, true),
            ErrorCode::ILLEGAL_GENERATION | ErrorCode::REBALANCE_IN_PROGRESS => {
                self.phase = Phase::Join;
                return;
            }
            ErrorCode::NOT_COORDINATOR | ErrorCode::COORDINATOR_NOT_AVAILABLE => {
                self.phase = Phase::Join;
                return self.coordinator_lost(now);
            }
            _ => {
                // Like librdkafka (rd_kafka_cgrp_handle_SyncGroup_memberstate): a failed sync
                // means rejoining, not an error for the application.
                self.phase = Phase::Join;
                self.join_retry_at = Some(now + self.settings.retry_backoff);
                return;
            }
        }
        let assigned = match assignor::decode_assignment(&resp.assignment) {
            Ok(a) => a,
            Err(e) => {
                Self::error(
                    out,
                    ErrorCode::L_BAD_MSG,
                    format!("unreadable assignment from the group leader: {e}"),
                );
                TopicPartitions::new()
            }
        };
        self.heartbeat_due = Some(now + self.settings.heartbeat_interval);
        self.session_deadline = Some(now + self.settings.session_timeout);
        if self.cooperative() {
            let revoked = difference(&self.owned, &assigned);
            let added = difference(&assigned, &self.owned);
            if !revoked.is_empty() {
                self.emit(out, RebalanceKind::Revoke, flatten(&revoked), false);
                for (t, ps) in &revoked {
                    if let Some(o) = self.owned.get_mut(t) {
                        o.retain(|p| !ps.contains(p));
                    }
                }
                self.owned.retain(|_, ps| !ps.is_empty());
                self.phase = Phase::AwaitApp(AppStep::RevokeSome { then_assign: added });
            } else {
                self.emit(out, RebalanceKind::Assign, flatten(&added), false);
                self.owned = assigned;
                self.phase = Phase::AwaitApp(AppStep::Assign);
            }
        } else {
            self.emit(out, RebalanceKind::Assign, flatten(&assigned), false);
            self.owned = assigned;
            self.phase = Phase::AwaitApp(AppStep::Assign);
        }
    }

    /// Handles a Heartbeat response.
    pub fn on_heartbeat(
        &mut self,
        resp: HeartbeatResponse,
        now: Instant,
        out: &mut VecDeque<Delivery>,
    ) {
        self.heartbeat_in_flight = false;
        if !matches!(self.phase, Phase::Stable | Phase::AwaitApp(_)) {
            return;
        }
        self.heartbeat_due = Some(now + self.settings.heartbeat_interval);
        match ErrorCode::from(resp.error_code) {
            ErrorCode::NONE => self.session_deadline = Some(now + self.settings.session_timeout),
            ErrorCode::REBALANCE_IN_PROGRESS => {
                self.session_deadline = Some(now + self.settings.session_timeout);
                if matches!(self.phase, Phase::Stable) {
                    self.rejoin(out, "rebalance in progress");
                } else {
                    self.rejoin_requested = true;
                }
            }
            ErrorCode::ILLEGAL_GENERATION => self.lose(out, false),
            ErrorCode::UNKNOWN_MEMBER_ID => self.lose(out, true),
            ErrorCode::FENCED_INSTANCE_ID => {
                Self::error(
                    out,
                    ErrorCode::L_FATAL,
                    "Fatal consumer error: this static member was fenced by another instance"
                        .into(),
                );
                self.phase = Phase::Left;
            }
            ErrorCode::NOT_COORDINATOR
            | ErrorCode::COORDINATOR_NOT_AVAILABLE
            | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS => self.coordinator_lost(now),
            other => Self::error(out, other, format!("Heartbeat failed: {other}")),
        }
    }

    /// The Heartbeat got no response: the coordinator connection is gone.
    pub fn on_heartbeat_failed(&mut self, now: Instant) {
        self.heartbeat_in_flight = false;
        self.heartbeat_due = Some(now + self.settings.retry_backoff);
    }

    /// A JoinGroup or SyncGroup got no response: try again.
    pub fn on_join_failed(&mut self, now: Instant) {
        if matches!(self.phase, Phase::JoinInFlight | Phase::SyncInFlight) {
            self.phase = Phase::Join;
            self.join_retry_at = Some(now + self.settings.retry_backoff);
        }
    }

    /// The application did not poll within `max.poll.interval.ms`: leave the group.
    pub fn on_poll_exceeded(
        &mut self,
        exceeded_by: Duration,
        out: &mut VecDeque<Delivery>,
    ) -> Option<GroupRequest> {
        if matches!(self.phase, Phase::Idle | Phase::Left | Phase::PollExceeded) {
            return None;
        }
        let msg = format!(
            "Application maximum poll interval ({}ms) exceeded by {}ms",
            self.settings.max_poll_interval.as_millis(),
            exceeded_by.as_millis()
        );
        Self::error(out, ErrorCode::L_MAX_POLL_EXCEEDED, msg);
        let leave = self.leave_request();
        self.member_id.clear();
        self.generation = -1;
        if !self.owned.is_empty() {
            self.emit(out, RebalanceKind::Revoke, flatten(&self.owned), true);
            self.owned.clear();
        }
        self.phase = Phase::PollExceeded;
        leave
    }

    /// The application polled again after a poll-interval breach: rejoin.
    pub fn on_polled_again(&mut self) {
        if self.phase == Phase::PollExceeded {
            self.phase = if self.subscription.is_empty() {
                Phase::Idle
            } else {
                Phase::Join
            };
        }
    }

    /// Metadata changed: the leader rebalances when a subscribed topic's partition count changed.
    pub fn on_metadata_changed(&mut self, out: &mut VecDeque<Delivery>) {
        if self.phase == Phase::Stable {
            self.rejoin(out, "metadata changed");
        }
    }

    /// The earliest time the group needs attention.
    pub fn next_deadline(&self) -> Option<Instant> {
        let mut d: Vec<Instant> = Vec::new();
        // Heartbeat and join retries wait for a coordinator: until one is known they are not
        // deadlines (they would be in the past and the driver would spin).
        if !self.heartbeat_in_flight && self.coordinator.is_some() {
            d.extend(self.heartbeat_due);
        }
        d.extend(self.session_deadline.filter(|_| self.in_generation()));
        if self.coordinator.is_none()
            && !self.finding
            && (self.phase != Phase::Idle || self.coordinator_wanted)
        {
            d.extend(self.find_retry_at);
        }
        if self.phase == Phase::Join && self.coordinator.is_some() {
            d.extend(self.join_retry_at);
        }
        d.into_iter().min()
    }
}

/// Partitions in `a` that are not in `b`.
pub(crate) fn difference(a: &TopicPartitions, b: &TopicPartitions) -> TopicPartitions {
    let mut out = TopicPartitions::new();
    for (t, ps) in a {
        let other = b.get(t);
        let left: Vec<i32> = ps
            .iter()
            .copied()
            .filter(|p| !other.is_some_and(|o| o.contains(p)))
            .collect();
        if !left.is_empty() {
            out.insert(t.clone(), left);
        }
    }
    out
}

/// The assignment as a partition list with the `INVALID` offset (use the committed one).
pub(crate) fn flatten(tp: &TopicPartitions) -> Vec<TopicPartition> {
    tp.iter()
        .flat_map(|(t, ps)| {
            ps.iter()
                .map(move |p| TopicPartition::with_offset(t.clone(), *p, offset::INVALID))
        })
        .collect()
}
