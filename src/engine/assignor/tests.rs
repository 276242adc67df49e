use std::collections::{BTreeMap, BTreeSet};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ConsumerProtocolAssignment, ConsumerProtocolSubscription};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use proptest::prelude::*;

use super::*;

fn member(id: &str, topics: &[&str]) -> MemberSubscription {
    MemberSubscription {
        member_id: id.to_string(),
        group_instance_id: None,
        topics: topics.iter().map(|t| t.to_string()).collect(),
        owned: TopicPartitions::new(),
        generation: -1,
        rack_id: None,
        user_data: None,
    }
}

fn owning(
    mut m: MemberSubscription,
    generation: i32,
    owned: TopicPartitions,
) -> MemberSubscription {
    m.generation = generation;
    m.owned = owned;
    m
}

fn counts(topics: &[(&str, i32)]) -> BTreeMap<String, i32> {
    topics.iter().map(|(t, n)| (t.to_string(), *n)).collect()
}

fn tps(list: &[(&str, &[i32])]) -> TopicPartitions {
    list.iter()
        .map(|(t, ps)| (t.to_string(), ps.to_vec()))
        .collect()
}

fn size(t: &TopicPartitions) -> usize {
    t.values().map(Vec::len).sum()
}

fn is_subset(a: &TopicPartitions, b: &TopicPartitions) -> bool {
    a.iter()
        .all(|(t, ps)| ps.iter().all(|p| b.get(t).is_some_and(|bp| bp.contains(p))))
}

/// The next round as the group would run it: every member now owns what it was assigned.
fn next_round(
    members: &[MemberSubscription],
    assignment: &BTreeMap<String, TopicPartitions>,
    generation: i32,
) -> Vec<MemberSubscription> {
    members
        .iter()
        .map(|m| owning(m.clone(), generation, assignment[&m.member_id].clone()))
        .collect()
}

// ---- names and strategy list ----

#[test]
fn names_round_trip() {
    for k in [
        AssignorKind::Range,
        AssignorKind::RoundRobin,
        AssignorKind::CooperativeSticky,
    ] {
        assert_eq!(AssignorKind::from_name(k.name()), Some(k));
    }
    assert_eq!(AssignorKind::from_name("sticky"), None);
    assert_eq!(AssignorKind::from_name("Range"), None);
    assert!(AssignorKind::CooperativeSticky.is_cooperative());
    assert!(!AssignorKind::Range.is_cooperative());
    assert!(!AssignorKind::RoundRobin.is_cooperative());
}

#[test]
fn strategy_list() {
    use AssignorKind::*;
    assert_eq!(
        parse_strategy_list("range,roundrobin"),
        Ok(vec![Range, RoundRobin])
    );
    assert_eq!(
        parse_strategy_list(" roundrobin , range,,range "),
        Ok(vec![RoundRobin, Range])
    );
    assert_eq!(
        parse_strategy_list("cooperative-sticky"),
        Ok(vec![CooperativeSticky])
    );
    let err = parse_strategy_list("range,bogus").unwrap_err();
    assert!(err.contains("bogus"), "{err}");
    let err = parse_strategy_list("range,cooperative-sticky").unwrap_err();
    assert!(err.contains("same protocol type"), "{err}");
    assert!(parse_strategy_list(" , ").is_err());
}

// ---- range ----

#[test]
fn range_two_members_two_topics() {
    let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
    let out = AssignorKind::Range.assign(&members, &counts(&[("t0", 3), ("t1", 3)]));
    assert_eq!(out["C0"], tps(&[("t0", &[0, 1]), ("t1", &[0, 1])]));
    assert_eq!(out["C1"], tps(&[("t0", &[2]), ("t1", &[2])]));
}

#[test]
fn range_unequal_subscriptions_and_order() {
    // Input order does not matter: members are sorted by member id.
    let members = [
        member("C2", &["t0", "t1", "t2"]),
        member("C0", &["t0"]),
        member("C1", &["t0", "t1"]),
    ];
    let out = AssignorKind::Range.assign(&members, &counts(&[("t0", 3), ("t1", 3), ("t2", 3)]));
    assert_eq!(out["C0"], tps(&[("t0", &[0])]));
    assert_eq!(out["C1"], tps(&[("t0", &[1]), ("t1", &[0, 1])]));
    assert_eq!(
        out["C2"],
        tps(&[("t0", &[2]), ("t1", &[2]), ("t2", &[0, 1, 2])])
    );
}

#[test]
fn range_more_members_than_partitions() {
    let members = [
        member("a", &["t"]),
        member("b", &["t"]),
        member("c", &["t"]),
    ];
    let out = AssignorKind::Range.assign(&members, &counts(&[("t", 2)]));
    assert_eq!(out["a"], tps(&[("t", &[0])]));
    assert_eq!(out["b"], tps(&[("t", &[1])]));
    assert!(out["c"].is_empty());
}

#[test]
fn range_static_members_sorted_by_instance_id() {
    let mut x = member("m-x", &["t"]);
    x.group_instance_id = Some("i-2".into());
    let mut y = member("m-y", &["t"]);
    y.group_instance_id = Some("i-1".into());
    let out = AssignorKind::Range.assign(&[x, y], &counts(&[("t", 3)]));
    assert_eq!(out["m-y"], tps(&[("t", &[0, 1])]));
    assert_eq!(out["m-x"], tps(&[("t", &[2])]));
}

#[test]
fn no_members_and_missing_topics() {
    for kind in [
        AssignorKind::Range,
        AssignorKind::RoundRobin,
        AssignorKind::CooperativeSticky,
    ] {
        assert!(kind.assign(&[], &counts(&[("t", 3)])).is_empty());
        let members = [member("a", &["gone", "t"]), member("b", &["gone"])];
        let out = kind.assign(&members, &counts(&[("t", 2), ("empty", 0)]));
        assert_eq!(out["a"], tps(&[("t", &[0, 1])]), "{kind:?}");
        assert!(out["b"].is_empty(), "{kind:?}");
    }
}

// ---- roundrobin ----

#[test]
fn roundrobin_two_members_two_topics() {
    let members = [member("C1", &["t0", "t1"]), member("C0", &["t1", "t0"])];
    let out = AssignorKind::RoundRobin.assign(&members, &counts(&[("t0", 3), ("t1", 3)]));
    assert_eq!(out["C0"], tps(&[("t0", &[0, 2]), ("t1", &[1])]));
    assert_eq!(out["C1"], tps(&[("t0", &[1]), ("t1", &[0, 2])]));
}

#[test]
fn roundrobin_unequal_subscriptions() {
    // The example from the Java RoundRobinAssignor documentation.
    let members = [
        member("C0", &["t0"]),
        member("C1", &["t0", "t1"]),
        member("C2", &["t0", "t1", "t2"]),
    ];
    let out =
        AssignorKind::RoundRobin.assign(&members, &counts(&[("t0", 1), ("t1", 2), ("t2", 3)]));
    assert_eq!(out["C0"], tps(&[("t0", &[0])]));
    assert_eq!(out["C1"], tps(&[("t1", &[0])]));
    assert_eq!(out["C2"], tps(&[("t1", &[1]), ("t2", &[0, 1, 2])]));
}

// ---- cooperative-sticky ----

const STICKY: AssignorKind = AssignorKind::CooperativeSticky;

#[test]
fn sticky_initial_assignment_is_balanced() {
    let members = [
        member("a", &["t0", "t1"]),
        member("b", &["t0", "t1"]),
        member("c", &["t1", "t0"]),
    ];
    let out = STICKY.assign(&members, &counts(&[("t0", 4), ("t1", 3)]));
    let sizes: Vec<usize> = out.values().map(size).collect();
    assert_eq!(sizes.iter().sum::<usize>(), 7);
    assert!(sizes.iter().max().unwrap() - sizes.iter().min().unwrap() <= 1);
}

#[test]
fn sticky_member_joins() {
    let parts = counts(&[("t", 6)]);
    let a = owning(member("a", &["t"]), 1, tps(&[("t", &[0, 1, 2])]));
    let b = owning(member("b", &["t"]), 1, tps(&[("t", &[3, 4, 5])]));
    let c = member("c", &["t"]);
    let round1 = STICKY.assign(&[a.clone(), b.clone(), c.clone()], &parts);
    // Round 1: the old owners only give up partitions; nothing moves directly to c.
    assert_eq!(size(&round1["a"]), 2);
    assert_eq!(size(&round1["b"]), 2);
    assert!(round1["c"].is_empty());
    assert!(is_subset(&round1["a"], &a.owned));
    assert!(is_subset(&round1["b"], &b.owned));
    // Round 2: the revoked partitions go to c; a and b keep everything they still have.
    let round2 = STICKY.assign(&next_round(&[a, b, c], &round1, 2), &parts);
    assert_eq!(round2["a"], round1["a"]);
    assert_eq!(round2["b"], round1["b"]);
    assert_eq!(size(&round2["c"]), 2);
}

#[test]
fn sticky_member_leaves() {
    let parts = counts(&[("t", 6)]);
    let a = owning(member("a", &["t"]), 4, tps(&[("t", &[0, 3])]));
    let b = owning(member("b", &["t"]), 4, tps(&[("t", &[1, 4])]));
    // c (owning 2 and 5) left the group.
    let out = STICKY.assign(&[a.clone(), b.clone()], &parts);
    assert_eq!(size(&out["a"]), 3);
    assert_eq!(size(&out["b"]), 3);
    assert!(is_subset(&a.owned, &out["a"]));
    assert!(is_subset(&b.owned, &out["b"]));
    let mut all: Vec<i32> = out.values().flat_map(|t| t["t"].clone()).collect();
    all.sort_unstable();
    assert_eq!(all, vec![0, 1, 2, 3, 4, 5]);
}

#[test]
fn sticky_conflicting_claims_highest_generation_wins() {
    let parts = counts(&[("t", 4)]);
    let a = owning(member("a", &["t"]), 5, tps(&[("t", &[0, 1])]));
    let b = owning(member("b", &["t"]), 4, tps(&[("t", &[1, 2])]));
    let out = STICKY.assign(&[a, b], &parts);
    assert_eq!(out["a"], tps(&[("t", &[0, 1])]));
    assert_eq!(out["b"], tps(&[("t", &[2, 3])]));
}

#[test]
fn sticky_conflicting_claims_same_generation_are_withheld() {
    let parts = counts(&[("t", 4)]);
    let a = owning(member("a", &["t"]), 3, tps(&[("t", &[0, 1])]));
    let b = owning(member("b", &["t"]), 3, tps(&[("t", &[1, 2])]));
    let round1 = STICKY.assign(&[a.clone(), b.clone()], &parts);
    // Partition 1 is claimed twice: nobody gets it until both have revoked it.
    assert!(round1.values().all(|t| !t["t"].contains(&1)));
    assert!(round1["a"]["t"].contains(&0));
    assert!(round1["b"]["t"].contains(&2));
    let round2 = STICKY.assign(&next_round(&[a, b], &round1, 4), &parts);
    assert_eq!(size(&round2["a"]) + size(&round2["b"]), 4);
    assert_eq!(size(&round2["a"]), 2);
}

#[test]
fn sticky_ignores_invalid_claims() {
    let parts = counts(&[("t", 2), ("u", 2)]);
    // a claims a partition that does not exist and one of a topic it left.
    let a = owning(
        member("a", &["t"]),
        2,
        tps(&[("t", &[1, 7]), ("u", &[0]), ("gone", &[0])]),
    );
    let b = member("b", &["u"]);
    let members = [a, b];
    let round1 = STICKY.assign(&members, &parts);
    assert_eq!(round1["a"], tps(&[("t", &[0, 1])]));
    // a must revoke u-0 before b may have it.
    assert_eq!(round1["b"], tps(&[("u", &[1])]));
    let round2 = STICKY.assign(&next_round(&members, &round1, 3), &parts);
    assert_eq!(round2["b"], tps(&[("u", &[0, 1])]));
}

#[test]
fn sticky_general_case_is_sticky_and_reasonably_balanced() {
    let parts = counts(&[("t0", 4), ("t1", 4)]);
    let a = owning(
        member("a", &["t0", "t1"]),
        1,
        tps(&[("t0", &[0, 1, 2, 3]), ("t1", &[0, 1, 2, 3])]),
    );
    let b = member("b", &["t1"]);
    let round1 = STICKY.assign(&[a.clone(), b.clone()], &parts);
    assert!(round1["b"].is_empty());
    assert!(is_subset(&round1["a"], &a.owned));
    let round2 = STICKY.assign(&next_round(&[a, b], &round1, 2), &parts);
    assert_eq!(round2["a"], round1["a"]);
    assert_eq!(size(&round2["a"]) + size(&round2["b"]), 8);
    assert!(size(&round2["b"]) >= 3, "{round2:?}");
}

// ---- protocol ----

fn sample_owned() -> TopicPartitions {
    tps(&[("orders", &[0, 2, 5]), ("payments", &[1])])
}

#[test]
fn subscription_round_trip_all_versions() {
    let topics = vec!["b".to_string(), "a".to_string(), "b".to_string()];
    for version in 0..=3 {
        let bytes = encode_subscription(&topics, &sample_owned(), 7, Some("rack-1"), version);
        let m = decode_subscription("m1", Some("inst"), &bytes).unwrap();
        assert_eq!(m.member_id, "m1");
        assert_eq!(m.group_instance_id.as_deref(), Some("inst"));
        assert_eq!(m.topics, vec!["a", "b"]);
        assert_eq!(m.user_data, Some(Bytes::new()));
        let owned = if version >= 1 {
            sample_owned()
        } else {
            TopicPartitions::new()
        };
        assert_eq!(m.owned, owned, "v{version}");
        assert_eq!(m.generation, if version >= 2 { 7 } else { -1 });
        assert_eq!(
            m.rack_id.as_deref(),
            if version >= 3 { Some("rack-1") } else { None }
        );
    }
    let m = decode_subscription(
        "m",
        None,
        &encode_subscription(&[], &BTreeMap::new(), -1, None, 3),
    )
    .unwrap();
    assert!(m.topics.is_empty() && m.rack_id.is_none() && m.generation == -1);
}

#[test]
fn subscription_matches_kafka_protocol() {
    let topics = vec!["a".to_string(), "b".to_string()];
    for version in 0..=3 {
        let ours = encode_subscription(&topics, &sample_owned(), 9, Some("r"), version);
        let mut buf = ours.clone();
        assert_eq!(buf.split_to(2).as_ref(), &version.to_be_bytes());
        let theirs = ConsumerProtocolSubscription::decode(&mut buf, version).unwrap();
        assert!(buf.is_empty());
        assert_eq!(theirs.topics.len(), 2);
        assert_eq!(theirs.user_data, Some(Bytes::new()));
        if version >= 1 {
            assert_eq!(theirs.owned_partitions.len(), 2);
            assert_eq!(theirs.owned_partitions[0].partitions, vec![0, 2, 5]);
        }
        // And the other way round: what kafka-protocol encodes, we decode.
        let mut out = BytesMut::new();
        out.extend_from_slice(&version.to_be_bytes());
        theirs.encode(&mut out, version).unwrap();
        assert_eq!(out.freeze(), ours);
    }
    let mut out = BytesMut::new();
    out.extend_from_slice(&1i16.to_be_bytes());
    ConsumerProtocolSubscription::default()
        .with_topics(vec![StrBytes::from_static_str("x")])
        .encode(&mut out, 1)
        .unwrap();
    let m = decode_subscription("m", None, &out).unwrap();
    assert_eq!(m.topics, vec!["x"]);
    assert_eq!(m.user_data, None);
}

#[test]
fn subscription_newer_version_is_read_as_v3() {
    let mut bytes = BytesMut::from(
        &encode_subscription(&["t".to_string()], &sample_owned(), 3, Some("r"), 3)[..],
    );
    bytes[..2].copy_from_slice(&4i16.to_be_bytes());
    bytes.extend_from_slice(b"future fields");
    let m = decode_subscription("m", None, &bytes).unwrap();
    assert_eq!(m.owned, sample_owned());
    assert_eq!(m.rack_id.as_deref(), Some("r"));
}

#[test]
fn assignment_round_trip_and_kafka_protocol() {
    let assigned = sample_owned();
    let bytes = encode_assignment(&assigned);
    assert_eq!(decode_assignment(&bytes).unwrap(), assigned);
    let mut buf = bytes.clone();
    assert_eq!(buf.split_to(2).as_ref(), &0i16.to_be_bytes());
    let theirs = ConsumerProtocolAssignment::decode(&mut buf, 0).unwrap();
    assert_eq!(theirs.assigned_partitions.len(), 2);
    assert_eq!(theirs.user_data, Some(Bytes::new()));
    // kafka-protocol (as the Java client) writing v3 with null user data.
    let mut out = BytesMut::new();
    out.extend_from_slice(&3i16.to_be_bytes());
    theirs.with_user_data(None).encode(&mut out, 3).unwrap();
    assert_eq!(decode_assignment(&out).unwrap(), assigned);
    assert!(decode_assignment(&[]).unwrap().is_empty());
    assert!(decode_assignment(&encode_assignment(&BTreeMap::new()))
        .unwrap()
        .is_empty());
}

#[test]
fn truncated_input_is_an_error() {
    let sub = encode_subscription(&["t".to_string()], &sample_owned(), 1, Some("r"), 3);
    for len in 0..sub.len() {
        assert!(
            decode_subscription("m", None, &sub[..len]).is_err(),
            "len {len}"
        );
    }
    let asg = encode_assignment(&sample_owned());
    for len in 1..asg.len() {
        assert!(decode_assignment(&asg[..len]).is_err(), "len {len}");
    }
}

#[test]
fn corrupt_input_is_an_error() {
    // Huge topic count with nothing behind it: fails without allocating.
    let mut huge = vec![0, 3];
    huge.extend_from_slice(&i32::MAX.to_be_bytes());
    assert!(decode_subscription("m", None, &huge).is_err());
    assert!(decode_assignment(&huge).is_err());
    // Negative version and lengths.
    assert!(decode_subscription("m", None, &[0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
    assert!(decode_subscription("m", None, &[0, 0, 0xff, 0xff, 0xff, 0xfe]).is_err());
    // A null topic name and one that is not UTF-8.
    assert!(decode_subscription("m", None, &[0, 0, 0, 0, 0, 1, 0xff, 0xff, 0, 0, 0, 0]).is_err());
    assert!(decode_subscription("m", None, &[0, 0, 0, 0, 0, 1, 0, 1, 0xc3, 0, 0, 0, 0]).is_err());
}

// ---- properties ----

/// Topics t0..t3 with 0..6 partitions or absent from metadata; 1..6 members, each subscribed to
/// a non-empty subset.
fn group_strategy() -> impl Strategy<Value = (BTreeMap<String, i32>, Vec<MemberSubscription>)> {
    let topics = proptest::collection::vec(proptest::option::of(0i32..7), 4);
    let members = proptest::collection::vec(1u8..16, 0..7);
    (topics, members).prop_map(|(topics, masks)| {
        let parts = topics
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.map(|n| (format!("t{i}"), n)))
            .collect();
        let members = masks
            .iter()
            .enumerate()
            .map(|(i, mask)| {
                let topics: Vec<String> = (0..4)
                    .filter(|b| mask & (1 << b) != 0)
                    .map(|b| format!("t{b}"))
                    .collect();
                let topics: Vec<&str> = topics.iter().map(String::as_str).collect();
                member(&format!("m{i}"), &topics)
            })
            .collect();
        (parts, members)
    })
}

/// Every partition of every subscribed topic exactly once, only to subscribed members.
fn check_complete(
    parts: &BTreeMap<String, i32>,
    members: &[MemberSubscription],
    out: &BTreeMap<String, TopicPartitions>,
) -> Result<(), TestCaseError> {
    check_valid(parts, members, out)?;
    let mut expected = BTreeSet::new();
    for m in members {
        for t in &m.topics {
            for p in 0..parts.get(t).copied().unwrap_or(0) {
                expected.insert((t.clone(), p));
            }
        }
    }
    let got: BTreeSet<(String, i32)> = out
        .values()
        .flat_map(|tp| {
            tp.iter()
                .flat_map(|(t, ps)| ps.iter().map(|&p| (t.clone(), p)))
        })
        .collect();
    prop_assert_eq!(got, expected);
    Ok(())
}

/// No partition twice, only existing partitions, only to subscribed members.
fn check_valid(
    parts: &BTreeMap<String, i32>,
    members: &[MemberSubscription],
    out: &BTreeMap<String, TopicPartitions>,
) -> Result<(), TestCaseError> {
    prop_assert_eq!(out.len(), members.len());
    let mut seen = BTreeSet::new();
    for m in members {
        for (t, ps) in &out[&m.member_id] {
            prop_assert!(m.topics.contains(t));
            for &p in ps {
                prop_assert!(p >= 0 && p < parts[t]);
                prop_assert!(seen.insert((t.clone(), p)), "{} {} twice", t, p);
            }
        }
    }
    Ok(())
}

fn spread(out: &BTreeMap<String, TopicPartitions>) -> usize {
    let sizes: Vec<usize> = out.values().map(size).collect();
    sizes.iter().max().unwrap_or(&0) - sizes.iter().min().unwrap_or(&0)
}

proptest! {
    #[test]
    fn eager_assignors_cover_everything((parts, members) in group_strategy()) {
        for kind in [AssignorKind::Range, AssignorKind::RoundRobin] {
            let out = kind.assign(&members, &parts);
            check_complete(&parts, &members, &out)?;
        }
    }

    /// From arbitrary (disjoint) previous ownership and a changed membership: round one never
    /// hands over a partition another member owns; with equal subscriptions round two covers
    /// everything, balanced, and keeps what round one gave.
    #[test]
    fn sticky_converges_in_two_rounds(
        (parts, members) in group_strategy(),
        equal in any::<bool>(),
        prior in proptest::collection::vec(proptest::option::of(0usize..8), 24),
    ) {
        let mut members = members;
        if equal {
            let topics = members.first().map(|m| m.topics.clone()).unwrap_or_default();
            for m in &mut members {
                m.topics = topics.clone();
            }
        }
        // Previous owners: index into `prior` by topic * 6 + partition; owners that are not
        // members any more (index >= members.len()) have left.
        for (t, &n) in &parts {
            let ti: usize = t[1..].parse().unwrap();
            for p in 0..n {
                if let Some(Some(o)) = prior.get(ti * 6 + p as usize) {
                    if let Some(m) = members.get_mut(*o) {
                        m.owned.entry(t.clone()).or_default().push(p);
                        m.generation = 1;
                    }
                }
            }
        }
        let round1 = STICKY.assign(&members, &parts);
        check_valid(&parts, &members, &round1)?;
        for m in &members {
            for (t, ps) in &round1[&m.member_id] {
                for p in ps {
                    let other_owner = members.iter().any(|o| {
                        o.member_id != m.member_id && o.owned.get(t).is_some_and(|op| op.contains(p))
                    });
                    prop_assert!(!other_owner, "{} {} handed over while owned", t, p);
                }
            }
        }
        let members2 = next_round(&members, &round1, 2);
        let round2 = STICKY.assign(&members2, &parts);
        if !equal {
            // Different subscriptions: the hand-over is safe in every round, but full coverage
            // is not guaranteed within a fixed number of rounds yet (see sticky.rs).
            let (mut members_n, mut round_n) = (members2, round2);
            for generation in 3..6 {
                check_valid(&parts, &members_n, &round_n)?;
                members_n = next_round(&members_n, &round_n, generation);
                round_n = STICKY.assign(&members_n, &parts);
            }
            return check_valid(&parts, &members_n, &round_n);
        }
        check_complete(&parts, &members2, &round2)?;
        {
            prop_assert!(spread(&round2) <= 1, "{:?}", round2);
            for m in &members2 {
                prop_assert!(is_subset(&m.owned, &round2[&m.member_id]));
            }
        }
    }

    #[test]
    fn decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode_subscription("m", None, &bytes);
        let _ = decode_assignment(&bytes);
    }
}
