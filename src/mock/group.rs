//! The classic group coordinator: JoinGroup/SyncGroup/Heartbeat/LeaveGroup with Kafka's states
//! (Empty, PreparingRebalance, CompletingRebalance, Stable), generations, a leader that assigns,
//! session and rebalance timeouts, and the initial rebalance delay of a new group.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{
    ApiKey, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse,
    LeaveGroupRequest, LeaveGroupResponse, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::cluster::{coordinator_for, err, ConnId, Pending};
use super::offsets::Committed;

/// Kafka's group states.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// No members.
    Empty,
    /// Waiting for the members to (re)join.
    PreparingRebalance,
    /// Joined; waiting for the leader's assignment.
    CompletingRebalance,
    /// Every member has its assignment.
    Stable,
}

impl State {
    /// The name DescribeGroups and ListGroups report.
    pub fn name(self) -> &'static str {
        match self {
            State::Empty => "Empty",
            State::PreparingRebalance => "PreparingRebalance",
            State::CompletingRebalance => "CompletingRebalance",
            State::Stable => "Stable",
        }
    }
}

/// One group member.
#[derive(Debug)]
pub struct Member {
    /// Its id, given by the coordinator.
    pub id: String,
    /// `group.instance.id`, if static.
    pub instance_id: Option<String>,
    /// The client id of its JoinGroup.
    pub client_id: String,
    session_timeout: Duration,
    rebalance_timeout: Duration,
    /// Protocols it supports (name, metadata), in its order of preference.
    pub protocols: Vec<(String, Bytes)>,
    /// What the leader assigned it.
    pub assignment: Bytes,
    joined: Option<Pending>,
    syncing: Option<Pending>,
    expires: Instant,
}

/// One consumer group.
#[derive(Debug)]
pub struct Group {
    /// Current state.
    pub state: State,
    /// Bumped by each completed join phase.
    pub generation: i32,
    /// `consumer` for consumer groups.
    pub protocol_type: String,
    /// The protocol (assignor) of the current generation.
    pub protocol: Option<String>,
    /// The member that assigns.
    pub leader: Option<String>,
    /// Members in join order.
    pub members: Vec<Member>,
    /// Committed offsets.
    pub offsets: Committed,
    not_before: Option<Instant>,
    deadline: Option<Instant>,
}

impl Group {
    /// A group without members or offsets.
    pub fn empty() -> Self {
        Group {
            state: State::Empty,
            generation: 0,
            protocol_type: String::new(),
            protocol: None,
            leader: None,
            members: Vec::new(),
            offsets: Committed::default(),
            not_before: None,
            deadline: None,
        }
    }

    /// The member `id`, if it belongs to the group.
    pub fn member(&self, id: &str) -> Option<&Member> {
        self.members.iter().find(|m| m.id == id)
    }

    fn member_mut(&mut self, id: &str) -> Option<&mut Member> {
        self.members.iter_mut().find(|m| m.id == id)
    }

    /// Checks a member id and generation as OffsetCommit and Heartbeat do.
    pub fn check_member(&self, member: &str, generation: i32) -> i16 {
        if self.member(member).is_none() {
            err::UNKNOWN_MEMBER_ID
        } else if generation != self.generation {
            err::ILLEGAL_GENERATION
        } else {
            err::NONE
        }
    }
}

/// Every group, and the answers to parked requests that rebalances completed.
#[derive(Debug)]
pub struct Coordinator {
    /// Groups by id.
    pub groups: HashMap<String, Group>,
    /// How long the first member of an empty group waits for others.
    pub initial_delay: Duration,
    /// Answers to parked JoinGroup/SyncGroup requests, taken by the cluster.
    pub done: Vec<(ConnId, Bytes)>,
    /// Coordinators pinned by key type and key.
    pub pinned: HashMap<(i8, String), i32>,
    next_member: u64,
}

fn sb(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

impl Coordinator {
    /// No groups yet.
    pub fn new(initial_delay: Duration) -> Self {
        Coordinator {
            groups: HashMap::new(),
            initial_delay,
            done: Vec::new(),
            pinned: HashMap::new(),
            next_member: 0,
        }
    }

    /// The broker coordinating `key` (key type 0: a group, 1: a transactional id): the pinned
    /// one (`rd_kafka_mock_coordinator_set`), else a hash of the key over the brokers.
    pub fn coordinator_of(&self, key_type: i8, key: &str, brokers: usize) -> i32 {
        self.pinned
            .get(&(key_type, key.to_string()))
            .copied()
            .unwrap_or_else(|| coordinator_for(key, brokers))
    }

    /// NOT_COORDINATOR unless `broker` coordinates `group`.
    pub fn not_coordinator(&self, broker: i32, brokers: usize, group: &str) -> bool {
        self.coordinator_of(0, group, brokers) != broker
    }

    /// Handles JoinGroup: `Some` is an immediate (error) answer; `None` parks the request until
    /// the rebalance completes (possibly at once, into `done`).
    pub fn join(
        &mut self,
        broker: i32,
        brokers: usize,
        req: JoinGroupRequest,
        client_id: &str,
        pending: Pending,
        now: Instant,
    ) -> Option<JoinGroupResponse> {
        let fail = |code: i16| {
            Some(
                JoinGroupResponse::default()
                    .with_error_code(code)
                    .with_generation_id(-1)
                    .with_member_id(req.member_id.clone()),
            )
        };
        let gid = req.group_id.0.to_string();
        if gid.is_empty() {
            return fail(err::INCONSISTENT_GROUP_PROTOCOL);
        }
        if self.not_coordinator(broker, brokers, &gid) {
            return fail(err::NOT_COORDINATOR);
        }
        if req.session_timeout_ms <= 0 {
            return fail(err::INVALID_SESSION_TIMEOUT);
        }
        let protocols: Vec<(String, Bytes)> = req
            .protocols
            .iter()
            .map(|p| (p.name.to_string(), p.metadata.clone()))
            .collect();
        let group = self.groups.entry(gid).or_insert_with(Group::empty);
        let compatible = group.members.is_empty()
            || (group.protocol_type == req.protocol_type.as_str()
                && protocols.iter().any(|(n, _)| {
                    group.members.iter().all(|m| {
                        m.id == req.member_id.as_str() || m.protocols.iter().any(|(o, _)| o == n)
                    })
                }));
        if protocols.is_empty() || !compatible {
            return fail(err::INCONSISTENT_GROUP_PROTOCOL);
        }
        let session_timeout = Duration::from_millis(req.session_timeout_ms as u64);
        let rebalance_timeout = Duration::from_millis(if req.rebalance_timeout_ms > 0 {
            req.rebalance_timeout_ms as u64
        } else {
            req.session_timeout_ms as u64
        });
        let instance_id = req.group_instance_id.as_ref().map(|s| s.to_string());
        let known_instance = instance_id.as_ref().and_then(|i| {
            group
                .members
                .iter()
                .position(|m| m.instance_id.as_ref() == Some(i))
        });
        if let Some(i) = known_instance {
            // A static member back under another member id replaces its previous incarnation
            // (KIP-345), whose parked requests are fenced.
            if group.members[i].id != req.member_id.as_str() {
                let old = group.members.remove(i);
                fence(old, &mut self.done);
            }
        }
        let member_id = if req.member_id.is_empty()
            || (group.member(&req.member_id).is_none() && known_instance.is_some())
        {
            self.next_member += 1;
            let id = format!("{client_id}-{:08x}-{}", now_tag(), self.next_member);
            group.members.push(Member {
                id: id.clone(),
                instance_id,
                client_id: client_id.to_string(),
                session_timeout,
                rebalance_timeout,
                protocols: Vec::new(),
                assignment: Bytes::new(),
                joined: None,
                syncing: None,
                expires: now + session_timeout,
            });
            id
        } else if group.member(&req.member_id).is_some() {
            req.member_id.to_string()
        } else {
            return fail(err::UNKNOWN_MEMBER_ID);
        };
        group.protocol_type = req.protocol_type.to_string();
        let m = group
            .member_mut(&member_id)
            .expect("member just found or added");
        m.protocols = protocols;
        m.session_timeout = session_timeout;
        m.rebalance_timeout = rebalance_timeout;
        m.joined = Some(pending);
        m.expires = now + session_timeout;
        if group.state != State::PreparingRebalance {
            let initial = if group.state == State::Empty {
                self.initial_delay
            } else {
                Duration::ZERO
            };
            prepare_rebalance(group, now, initial, &mut self.done);
        }
        try_complete_join(group, now, &mut self.done);
        None
    }

    /// Handles SyncGroup: the leader's assignment completes the generation for everyone;
    /// followers park until it arrives (`None`).
    pub fn sync(
        &mut self,
        broker: i32,
        brokers: usize,
        req: SyncGroupRequest,
        pending: Pending,
        now: Instant,
    ) -> Option<SyncGroupResponse> {
        let fail = |code: i16| Some(SyncGroupResponse::default().with_error_code(code));
        let gid = req.group_id.0.to_string();
        if self.not_coordinator(broker, brokers, &gid) {
            return fail(err::NOT_COORDINATOR);
        }
        let Some(group) = self.groups.get_mut(&gid) else {
            return fail(err::UNKNOWN_MEMBER_ID);
        };
        let code = group.check_member(&req.member_id, req.generation_id);
        if code != err::NONE {
            return fail(code);
        }
        let protocol = group.protocol.clone().map(|p| sb(&p));
        let protocol_type = Some(sb(&group.protocol_type));
        let answer = |assignment: Bytes| {
            SyncGroupResponse::default()
                .with_assignment(assignment)
                .with_protocol_name(protocol.clone())
                .with_protocol_type(protocol_type.clone())
        };
        let is_leader = group.leader.as_deref() == Some(req.member_id.as_str());
        let state = group.state;
        let member = group.member_mut(&req.member_id).expect("checked");
        member.expires = now + member.session_timeout;
        match state {
            State::PreparingRebalance | State::Empty => fail(err::REBALANCE_IN_PROGRESS),
            State::Stable => Some(answer(member.assignment.clone())),
            State::CompletingRebalance => {
                member.syncing = Some(pending);
                if is_leader {
                    for m in &mut group.members {
                        m.assignment = req
                            .assignments
                            .iter()
                            .find(|a| a.member_id.as_str() == m.id)
                            .map(|a| a.assignment.clone())
                            .unwrap_or_default();
                    }
                    group.state = State::Stable;
                    for m in &mut group.members {
                        if let Some(p) = m.syncing.take() {
                            self.done
                                .push(p.answer(ApiKey::SyncGroup, &answer(m.assignment.clone())));
                        }
                    }
                }
                None
            }
        }
    }

    /// Handles Heartbeat: REBALANCE_IN_PROGRESS tells members to rejoin.
    pub fn heartbeat(
        &mut self,
        broker: i32,
        brokers: usize,
        req: HeartbeatRequest,
        now: Instant,
    ) -> HeartbeatResponse {
        let gid = req.group_id.0.to_string();
        let code = if self.not_coordinator(broker, brokers, &gid) {
            err::NOT_COORDINATOR
        } else if let Some(group) = self.groups.get_mut(&gid) {
            match group.member_mut(&req.member_id) {
                None => err::UNKNOWN_MEMBER_ID,
                Some(m) => {
                    m.expires = now + m.session_timeout;
                    if group.state == State::PreparingRebalance {
                        err::REBALANCE_IN_PROGRESS
                    } else if req.generation_id != group.generation {
                        err::ILLEGAL_GENERATION
                    } else {
                        err::NONE
                    }
                }
            }
        } else {
            err::UNKNOWN_MEMBER_ID
        };
        HeartbeatResponse::default().with_error_code(code)
    }

    /// Handles LeaveGroup (v0-2: one member; v3+: a list): the rest of the group rebalances.
    pub fn leave(
        &mut self,
        broker: i32,
        brokers: usize,
        req: LeaveGroupRequest,
        now: Instant,
    ) -> LeaveGroupResponse {
        let gid = req.group_id.0.to_string();
        let mut resp = LeaveGroupResponse::default();
        if self.not_coordinator(broker, brokers, &gid) {
            return resp.with_error_code(err::NOT_COORDINATOR);
        }
        let ids: Vec<(String, Option<StrBytes>)> = if req.members.is_empty() {
            vec![(req.member_id.to_string(), None)]
        } else {
            req.members
                .iter()
                .map(|m| (m.member_id.to_string(), m.group_instance_id.clone()))
                .collect()
        };
        let Some(group) = self.groups.get_mut(&gid) else {
            return resp.with_error_code(err::UNKNOWN_MEMBER_ID);
        };
        let mut removed = false;
        for (id, instance) in &ids {
            let code = match group.members.iter().position(|m| &m.id == id) {
                Some(i) => {
                    group.members.remove(i);
                    removed = true;
                    err::NONE
                }
                None => err::UNKNOWN_MEMBER_ID,
            };
            resp.members.push(
                MemberResponse::default()
                    .with_member_id(sb(id))
                    .with_group_instance_id(instance.clone())
                    .with_error_code(code),
            );
        }
        if req.members.is_empty() {
            resp.error_code = resp.members[0].error_code;
            resp.members.clear();
        }
        if removed {
            members_left(group, now, &mut self.done);
        }
        resp
    }

    /// Expires members whose session ran out and completes rebalances whose wait is over;
    /// returns the answers to parked requests.
    pub fn tick(&mut self, now: Instant) -> Vec<(ConnId, Bytes)> {
        for group in self.groups.values_mut() {
            let before = group.members.len();
            let done = &mut self.done;
            group.members.retain_mut(|m| {
                let keep = m.joined.is_some() || m.expires > now;
                if let Some(p) = m.syncing.take_if(|_| !keep) {
                    let resp = SyncGroupResponse::default().with_error_code(err::UNKNOWN_MEMBER_ID);
                    done.push(p.answer(ApiKey::SyncGroup, &resp));
                }
                keep
            });
            if group.members.len() != before {
                members_left(group, now, &mut self.done);
            }
            try_complete_join(group, now, &mut self.done);
        }
        std::mem::take(&mut self.done)
    }

    /// The earliest session expiry or rebalance deadline.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.groups
            .values()
            .flat_map(|g| {
                let rebalance = if g.state == State::PreparingRebalance {
                    let all_joined = g.members.iter().all(|m| m.joined.is_some());
                    if all_joined {
                        g.not_before.or(g.deadline)
                    } else {
                        g.deadline
                    }
                } else {
                    None
                };
                g.members
                    .iter()
                    .filter(|m| m.joined.is_none())
                    .map(|m| m.expires)
                    .chain(rebalance)
            })
            .min()
    }
}

/// A short tag making member ids unique across mock clusters of one process.
fn now_tag() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
}

/// Answers the parked requests of a static member's replaced incarnation with FENCED_INSTANCE_ID.
fn fence(old: Member, done: &mut Vec<(ConnId, Bytes)>) {
    if let Some(p) = old.joined {
        let resp = JoinGroupResponse::default()
            .with_error_code(err::FENCED_INSTANCE_ID)
            .with_generation_id(-1);
        done.push(p.answer(ApiKey::JoinGroup, &resp));
    }
    if let Some(p) = old.syncing {
        let resp = SyncGroupResponse::default().with_error_code(err::FENCED_INSTANCE_ID);
        done.push(p.answer(ApiKey::SyncGroup, &resp));
    }
}

/// Members left or expired: the group rebalances, or becomes empty.
fn members_left(group: &mut Group, now: Instant, done: &mut Vec<(ConnId, Bytes)>) {
    if group.members.is_empty() {
        group.state = State::Empty;
        group.leader = None;
        group.protocol = None;
        group.generation += 1;
        group.not_before = None;
        group.deadline = None;
    } else if group.state != State::PreparingRebalance {
        prepare_rebalance(group, now, Duration::ZERO, done);
    }
}

/// Enters PreparingRebalance: followers waiting in SyncGroup are told to rejoin.
fn prepare_rebalance(
    group: &mut Group,
    now: Instant,
    initial: Duration,
    done: &mut Vec<(ConnId, Bytes)>,
) {
    group.state = State::PreparingRebalance;
    let longest = group
        .members
        .iter()
        .map(|m| m.rebalance_timeout)
        .max()
        .unwrap_or_default();
    group.not_before = Some(now + initial);
    group.deadline = Some(now + longest.max(initial));
    for m in &mut group.members {
        if let Some(p) = m.syncing.take() {
            let resp = SyncGroupResponse::default().with_error_code(err::REBALANCE_IN_PROGRESS);
            done.push(p.answer(ApiKey::SyncGroup, &resp));
        }
    }
}

/// Completes the join phase once every member rejoined (after the initial delay) or the
/// rebalance timeout passed (members that did not rejoin are dropped).
fn try_complete_join(group: &mut Group, now: Instant, done: &mut Vec<(ConnId, Bytes)>) {
    if group.state != State::PreparingRebalance {
        return;
    }
    let all_joined = group.members.iter().all(|m| m.joined.is_some());
    let ready = all_joined && group.not_before.is_none_or(|t| now >= t);
    let timed_out = group.deadline.is_some_and(|t| now >= t);
    if !ready && !timed_out {
        return;
    }
    group.members.retain(|m| m.joined.is_some());
    if group.members.is_empty() {
        members_left(group, now, done);
        return;
    }
    group.generation += 1;
    group.state = State::CompletingRebalance;
    group.not_before = None;
    group.deadline = None;
    if group
        .leader
        .as_ref()
        .is_none_or(|l| group.member(l).is_none())
    {
        group.leader = Some(group.members[0].id.clone());
    }
    let leader = group.leader.clone().expect("set above");
    let leader_member = group.member(&leader).expect("leader is a member");
    let protocol = leader_member
        .protocols
        .iter()
        .map(|(n, _)| n.clone())
        .find(|n| {
            group
                .members
                .iter()
                .all(|m| m.protocols.iter().any(|(o, _)| o == n))
        })
        .unwrap_or_else(|| leader_member.protocols[0].0.clone());
    group.protocol = Some(protocol.clone());
    let listing: Vec<JoinGroupResponseMember> = group
        .members
        .iter()
        .map(|m| {
            JoinGroupResponseMember::default()
                .with_member_id(sb(&m.id))
                .with_group_instance_id(m.instance_id.as_deref().map(sb))
                .with_metadata(
                    m.protocols
                        .iter()
                        .find(|(n, _)| *n == protocol)
                        .map(|(_, md)| md.clone())
                        .unwrap_or_default(),
                )
        })
        .collect();
    for m in &mut group.members {
        m.expires = now + m.session_timeout;
        let Some(p) = m.joined.take() else { continue };
        let resp = JoinGroupResponse::default()
            .with_generation_id(group.generation)
            .with_protocol_type(Some(sb(&group.protocol_type)))
            .with_protocol_name(Some(sb(&protocol)))
            .with_leader(sb(&leader))
            .with_member_id(sb(&m.id))
            .with_members(if m.id == leader {
                listing.clone()
            } else {
                Vec::new()
            });
        done.push(p.answer(ApiKey::JoinGroup, &resp));
    }
}
