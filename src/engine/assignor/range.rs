//! The range assignor: per topic, the subscribed members (in member order) get contiguous
//! ranges of partitions; the first `count % members` members get one partition more.
//!
//! Without partition rack information this is what librdkafka's (rack-aware) range assignor
//! degenerates to, and what the Java `RangeAssignor` does.

use super::{Group, Tp};

pub(super) fn assign<'a>(group: &Group<'a>) -> Vec<Vec<Tp<'a>>> {
    let mut out = vec![Vec::new(); group.members.len()];
    for (&topic, &count) in &group.topics {
        let subscribers = group.subscribers(topic);
        let n = subscribers.len() as i32;
        if n == 0 {
            continue;
        }
        let per_member = count / n;
        let with_extra = count % n;
        for (i, &m) in subscribers.iter().enumerate() {
            let i = i as i32;
            let start = per_member * i + i.min(with_extra);
            let len = per_member + i32::from(i < with_extra);
            out[m].extend((start..start + len).map(|p| (topic, p)));
        }
    }
    out
}
