//! Consumer-group partition assignors and the embedded "consumer" protocol metadata.
//!
//! Sans-IO: the group state machine feeds decoded JoinGroup member metadata to
//! [`AssignorKind::assign`] when this member is the leader, and encodes the result for SyncGroup.
//!
//! ```text
//! JoinGroup  -> protocol metadata = encode_subscription(...)       (ConsumerProtocolSubscription)
//! leader     -> decode_subscription(...) for every member -> AssignorKind::assign(...)
//! SyncGroup  -> encode_assignment(...) per member ; member: decode_assignment(...)
//! ```
//!
//! Assignors (librdkafka's names): `range` and `roundrobin` (eager protocol) and
//! `cooperative-sticky` (KIP-429 incremental cooperative protocol).

mod protocol;
mod range;
mod roundrobin;
mod sticky;

use std::collections::{BTreeMap, BTreeSet};

#[allow(unused_imports)] // the group state machine is not wired up yet
pub(crate) use protocol::{
    decode_assignment, decode_subscription, encode_assignment, encode_subscription,
};

/// Topic name -> sorted partition ids.
pub(crate) type TopicPartitions = BTreeMap<String, Vec<i32>>;

/// One member's decoded JoinGroup metadata, as the leader sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MemberSubscription {
    /// The member id the coordinator gave the member.
    pub member_id: String,
    /// `group.instance.id` for static members (KIP-345).
    pub group_instance_id: Option<String>,
    /// Subscribed topics.
    pub topics: Vec<String>,
    /// Partitions the member currently owns (subscription v1+, cooperative), else empty.
    pub owned: TopicPartitions,
    /// Generation in which the member got `owned` (subscription v2+), -1 if unknown.
    pub generation: i32,
    /// `client.rack` (subscription v3+).
    pub rack_id: Option<String>,
    /// Assignor-specific user data, passed through untouched.
    pub user_data: Option<bytes::Bytes>,
}

/// The built-in assignors, by the protocol names librdkafka registers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum AssignorKind {
    /// Contiguous ranges per topic (eager).
    Range,
    /// All partitions dealt round-robin over all members (eager).
    RoundRobin,
    /// Balanced and sticky, with KIP-429 cooperative hand-over.
    CooperativeSticky,
}

impl AssignorKind {
    /// Look up an assignor by its `partition.assignment.strategy` name (case-sensitive, as in
    /// librdkafka).
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "range" => Some(Self::Range),
            "roundrobin" => Some(Self::RoundRobin),
            "cooperative-sticky" => Some(Self::CooperativeSticky),
            _ => None,
        }
    }

    /// The protocol name sent in JoinGroup.
    pub fn name(self) -> &'static str {
        match self {
            Self::Range => "range",
            Self::RoundRobin => "roundrobin",
            Self::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// Whether the assignor uses the incremental cooperative rebalance protocol (KIP-429).
    pub fn is_cooperative(self) -> bool {
        matches!(self, Self::CooperativeSticky)
    }

    /// Leader-side: compute the assignment for all members.
    ///
    /// `partitions` maps topic -> partition count; subscribed topics missing from it (or with no
    /// partitions) are skipped. The result has an entry for every distinct member id (possibly
    /// empty). Deterministic: it depends only on the inputs, not on their order. A member id that
    /// occurs twice is taken once (the first occurrence).
    pub fn assign(
        self,
        members: &[MemberSubscription],
        partitions: &BTreeMap<String, i32>,
    ) -> BTreeMap<String, TopicPartitions> {
        let group = Group::new(members, partitions);
        let per_member = match self {
            Self::Range => range::assign(&group),
            Self::RoundRobin => roundrobin::assign(&group),
            Self::CooperativeSticky => sticky::assign(&group),
        };
        let mut out = BTreeMap::new();
        for (m, assigned) in group.members.iter().zip(per_member) {
            let mut tps = TopicPartitions::new();
            for (topic, p) in assigned {
                tps.entry(topic.to_string()).or_default().push(p);
            }
            for ps in tps.values_mut() {
                ps.sort_unstable();
                ps.dedup();
            }
            out.insert(m.member_id.clone(), tps);
        }
        out
    }
}

/// `partition.assignment.strategy`: a comma-separated list of assignor names in preference order.
///
/// Like librdkafka: names are trimmed, empty items skipped, repeats collapsed, and eager and
/// cooperative assignors cannot be mixed.
pub(crate) fn parse_strategy_list(s: &str) -> Result<Vec<AssignorKind>, String> {
    let mut out: Vec<AssignorKind> = Vec::new();
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let kind = AssignorKind::from_name(name)
            .ok_or_else(|| format!("Unsupported partition.assignment.strategy: {name}"))?;
        if !out.contains(&kind) {
            out.push(kind);
        }
    }
    if out.is_empty() {
        return Err(format!(
            "partition.assignment.strategy \"{s}\" names no assignor"
        ));
    }
    if out
        .iter()
        .any(|k| k.is_cooperative() != out[0].is_cooperative())
    {
        return Err(format!(
            "All partition.assignment.strategy ({s}) assignors must have the same protocol \
             type, online migration between assignors with different protocol types is not \
             supported"
        ));
    }
    Ok(out)
}

/// A (topic, partition) borrowed from the assignor inputs; orders by topic then partition.
pub(super) type Tp<'a> = (&'a str, i32);

/// The inputs of one assignment, normalised: members deduplicated and sorted the way librdkafka
/// sorts them, subscriptions reduced to topics that exist in the metadata.
pub(super) struct Group<'a> {
    /// Members in assignment order (see [`member_order`]).
    pub members: Vec<&'a MemberSubscription>,
    /// Per member (same index): subscribed topics that have at least one partition.
    pub subscriptions: Vec<BTreeSet<&'a str>>,
    /// Topic -> partition count, only for topics somebody subscribes to.
    pub topics: BTreeMap<&'a str, i32>,
}

impl<'a> Group<'a> {
    fn new(members: &'a [MemberSubscription], partitions: &'a BTreeMap<String, i32>) -> Self {
        let mut seen = BTreeSet::new();
        let mut members: Vec<&MemberSubscription> = members
            .iter()
            .filter(|m| seen.insert(m.member_id.as_str()))
            .collect();
        members.sort_by(|a, b| member_order(a).cmp(&member_order(b)));
        let subscriptions: Vec<BTreeSet<&str>> = members
            .iter()
            .map(|m| {
                m.topics
                    .iter()
                    .filter_map(|t| partitions.get_key_value(t.as_str()))
                    .filter(|(_, &n)| n > 0)
                    .map(|(t, _)| t.as_str())
                    .collect()
            })
            .collect();
        let topics = subscriptions
            .iter()
            .flatten()
            .map(|&t| (t, partitions[t]))
            .collect();
        Group {
            members,
            subscriptions,
            topics,
        }
    }

    /// Every partition of every subscribed topic, sorted by topic then partition.
    pub fn all_partitions(&self) -> Vec<Tp<'a>> {
        self.topics
            .iter()
            .flat_map(|(&t, &n)| (0..n).map(move |p| (t, p)))
            .collect()
    }

    /// Indices of the members subscribed to `topic`, in member order.
    pub fn subscribers(&self, topic: &str) -> Vec<usize> {
        (0..self.members.len())
            .filter(|&i| self.subscriptions[i].contains(topic))
            .collect()
    }
}

/// Member sort key. librdkafka compares two static members by `group.instance.id` and otherwise
/// by member id; that comparison is not a total order for a mix of static and dynamic members,
/// so we sort by "instance id if set, else member id", then member id. Both agree with librdkafka
/// when all members are static or all are dynamic.
fn member_order(m: &MemberSubscription) -> (&str, &str) {
    (
        m.group_instance_id.as_deref().unwrap_or(&m.member_id),
        &m.member_id,
    )
}

#[cfg(test)]
mod tests;
