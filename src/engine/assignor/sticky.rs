//! The cooperative-sticky assignor (KIP-429 on top of KIP-54's sticky assignment).
//!
//! Three steps:
//! 1. Resolve who owns what: every member reports `owned` with the generation it got them in.
//!    A claim counts only if the partition exists. Per partition the highest generation wins
//!    (as librdkafka does, per partition); two members claiming it at that same generation make
//!    it *contested*: nobody owns it. A winner no longer subscribed to the topic keeps nothing,
//!    but still blocks the hand-over until it has revoked the partition.
//! 2. Compute a balanced target that keeps as many owned partitions as balance allows.
//!    Equal subscriptions (the common case) use exact quotas: every member ends with
//!    `n / m` or `n / m + 1` partitions, exactly `n % m` of them with the larger number.
//!    Different subscriptions: a member keeps owned partitions up to what a from-scratch
//!    placement would give it, then a least-loaded fill and a balancing pass that only moves
//!    partitions nobody keeps.
//! 3. The cooperative rule: a partition the target gives to B while A owns it (or while it is
//!    contested) is withheld this round. A sees it missing, revokes it and rejoins; in that
//!    second round nobody owns it and B gets it.
//!
//! Known limit: with different subscriptions the hand-over is safe in every round, but a
//! partition can take more than two rounds to reach its final member (a member's kept set can
//! exceed its cap in the next round and be trimmed again); the proptest checks safety only there.
//!
//! Why two rounds suffice with equal subscriptions: what a member receives in round one is a
//! subset of its target, so in round two no member owns more than its quota and the members at
//! the larger quota are at most `n % m`; step 2 then keeps everything everybody owns and hands
//! out only unowned partitions, so nothing is withheld.

use std::collections::{BTreeMap, BTreeSet};

use super::{Group, Tp};

/// Who owns each partition, after resolving conflicting claims.
struct Ownership<'a> {
    /// The member that holds the partition (highest generation claim), whether or not it is
    /// still subscribed to its topic: nobody else may get it this round.
    holder: BTreeMap<Tp<'a>, usize>,
    /// Partitions whose holder is still subscribed to them: these may stay where they are.
    owner: BTreeMap<Tp<'a>, usize>,
    /// Claimed by several members at the same (highest) generation.
    contested: BTreeSet<Tp<'a>>,
}

pub(super) fn assign<'a>(group: &Group<'a>) -> Vec<Vec<Tp<'a>>> {
    let n = group.members.len();
    if n == 0 {
        return Vec::new();
    }
    let ownership = resolve_ownership(group);
    let all_equal = group
        .subscriptions
        .iter()
        .all(|s| *s == group.subscriptions[0]);
    let target = if all_equal {
        assign_equal(group, &ownership)
    } else {
        assign_general(group, &ownership)
    };
    // The cooperative rule: never hand over a partition someone else may still be consuming.
    target
        .into_iter()
        .enumerate()
        .map(|(member, tps)| {
            tps.into_iter()
                .filter(|tp| {
                    !ownership.contested.contains(tp)
                        && ownership.holder.get(tp).is_none_or(|&o| o == member)
                })
                .collect()
        })
        .collect()
}

fn resolve_ownership<'a>(group: &Group<'a>) -> Ownership<'a> {
    // partition -> (generation, member) of every valid claim
    let mut claims: BTreeMap<Tp<'a>, Vec<(i32, usize)>> = BTreeMap::new();
    for (i, m) in group.members.iter().enumerate() {
        for (topic, partitions) in &m.owned {
            let Some((&t, &count)) = group.topics.get_key_value(topic.as_str()) else {
                continue;
            };
            for &p in partitions {
                if (0..count).contains(&p) {
                    claims.entry((t, p)).or_default().push((m.generation, i));
                }
            }
        }
    }
    let mut ownership = Ownership {
        holder: BTreeMap::new(),
        owner: BTreeMap::new(),
        contested: BTreeSet::new(),
    };
    for (tp, mut c) in claims {
        c.sort_unstable();
        c.dedup();
        let (top_gen, top_member) = c[c.len() - 1];
        if c.len() >= 2 && c[c.len() - 2].0 == top_gen {
            ownership.contested.insert(tp);
        } else {
            ownership.holder.insert(tp, top_member);
            if group.subscriptions[top_member].contains(tp.0) {
                ownership.owner.insert(tp, top_member);
            }
        }
    }
    ownership
}

/// Members' owned partitions, per member index, sorted.
fn owned_by_member<'a>(group: &Group<'a>, ownership: &Ownership<'a>) -> Vec<Vec<Tp<'a>>> {
    let mut owned = vec![Vec::new(); group.members.len()];
    for (&tp, &m) in &ownership.owner {
        owned[m].push(tp);
    }
    owned
}

/// Exact quotas for the case where every member subscribes to the same topics.
fn assign_equal<'a>(group: &Group<'a>, ownership: &Ownership<'a>) -> Vec<Vec<Tp<'a>>> {
    let m = group.members.len();
    let all = group.all_partitions();
    let min_quota = all.len() / m;
    // Members that may hold `min_quota + 1`.
    let mut extra_slots = all.len() % m;

    let mut target = owned_by_member(group, ownership);
    let mut kept = BTreeSet::new();
    for owned in &mut target {
        let keep = if owned.len() <= min_quota {
            owned.len()
        } else if extra_slots > 0 {
            extra_slots -= 1;
            min_quota + 1
        } else {
            min_quota
        };
        owned.truncate(keep);
        kept.extend(owned.iter().copied());
    }

    let mut unassigned = all.into_iter().filter(|tp| !kept.contains(tp));
    for t in &mut target {
        while t.len() < min_quota {
            match unassigned.next() {
                Some(tp) => t.push(tp),
                None => break,
            }
        }
    }
    // What remains is exactly `extra_slots` partitions: one each to members at `min_quota`.
    for t in &mut target {
        if t.len() == min_quota {
            match unassigned.next() {
                Some(tp) => t.push(tp),
                None => break,
            }
        }
    }
    debug_assert!(unassigned.next().is_none());
    target
}

/// Members with different subscriptions: a best effort at balance, sticky where it can be.
///
/// Each member may keep owned partitions up to the count it would get in a from-scratch
/// placement (its cap); the rest is placed by [`place`], which never moves kept partitions.
fn assign_general<'a>(group: &Group<'a>, ownership: &Ownership<'a>) -> Vec<Vec<Tp<'a>>> {
    let m = group.members.len();
    let subscribers: BTreeMap<&str, Vec<usize>> = group
        .topics
        .keys()
        .map(|&t| (t, group.subscribers(t)))
        .collect();

    let mut scratch = vec![Vec::new(); m];
    place(
        &subscribers,
        &mut scratch,
        group.all_partitions(),
        &vec![usize::MAX; m],
        &BTreeSet::new(),
    );
    let caps: Vec<usize> = scratch.iter().map(Vec::len).collect();

    // Partitions only one member may take end up there whatever it owns; count them against
    // its cap first, and keep the most constrained owned partitions first.
    let mut forced = vec![0usize; m];
    for (t, subs) in &subscribers {
        if let [only] = subs[..] {
            forced[only] += group.topics[t] as usize;
        }
    }
    let mut target = owned_by_member(group, ownership);
    let mut kept = BTreeSet::new();
    for (i, owned) in target.iter_mut().enumerate() {
        owned.sort_by_key(|&(t, p)| (subscribers[t].len(), t, p));
        let budget = caps[i].saturating_sub(forced[i]);
        let mut others = 0;
        owned.retain(|(t, _)| {
            if subscribers[t].len() == 1 {
                return true;
            }
            others += 1;
            others <= budget
        });
        kept.extend(owned.iter().copied());
    }
    let unassigned = group
        .all_partitions()
        .into_iter()
        .filter(|tp| !kept.contains(tp))
        .collect();
    place(&subscribers, &mut target, unassigned, &caps, &kept);
    target
}

/// Place `unassigned` on top of `target`: most constrained partitions first, each to the least
/// loaded member that may take it, preferring members under their cap. Then balance: move a
/// partition not in `fixed` to a member that may take it and has at least two fewer. Each move
/// lowers the sum of squared counts, so the loop ends.
fn place<'a>(
    subscribers: &BTreeMap<&str, Vec<usize>>,
    target: &mut [Vec<Tp<'a>>],
    mut unassigned: Vec<Tp<'a>>,
    caps: &[usize],
    fixed: &BTreeSet<Tp<'a>>,
) {
    unassigned.sort_by_key(|&(t, p)| (subscribers[t].len(), t, p));
    for tp in unassigned {
        let best = subscribers[tp.0]
            .iter()
            .copied()
            .min_by_key(|&i| (target[i].len() >= caps[i], target[i].len(), i));
        if let Some(i) = best {
            target[i].push(tp);
        }
    }
    loop {
        let mut best: Option<(usize, usize, usize, usize)> = None; // (gain, from, index, to)
        for (from, held) in target.iter().enumerate() {
            for (idx, tp) in held.iter().enumerate() {
                if fixed.contains(tp) {
                    continue;
                }
                let Some(to) = subscribers[tp.0]
                    .iter()
                    .copied()
                    .min_by_key(|&j| (target[j].len(), j))
                else {
                    continue;
                };
                if target[to].len() + 1 < held.len() {
                    let gain = held.len() - target[to].len();
                    if best.is_none_or(|(g, ..)| gain > g) {
                        best = Some((gain, from, idx, to));
                    }
                }
            }
        }
        let Some((_, from, idx, to)) = best else {
            break;
        };
        let tp = target[from].remove(idx);
        target[to].push(tp);
    }
}
