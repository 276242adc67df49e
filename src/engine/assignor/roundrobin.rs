//! The round-robin assignor: all partitions of all subscribed topics, sorted by topic then
//! partition, dealt to the members in member order; a member not subscribed to a partition's
//! topic is skipped, and the deal continues where it stopped (it is not restarted per topic).

use super::{Group, Tp};

pub(super) fn assign<'a>(group: &Group<'a>) -> Vec<Vec<Tp<'a>>> {
    let n = group.members.len();
    let mut out = vec![Vec::new(); n];
    // Start "before" member 0, as the deal advances first and then checks the subscription.
    let mut next = n.wrapping_sub(1);
    for (topic, p) in group.all_partitions() {
        // Every topic in `group.topics` has at least one subscriber, so this terminates.
        loop {
            next = (next.wrapping_add(1)) % n;
            if group.subscriptions[next].contains(topic) {
                break;
            }
        }
        out[next].push((topic, p));
    }
    out
}
