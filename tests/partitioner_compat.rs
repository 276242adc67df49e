//! Our partitioners place records exactly where librdkafka 2.12.1 does.
//!
//! For each built-in partitioner, librdkafka (the mock launcher's producer, `--partitioner NAME`)
//! produces 10,000+ records with chosen keys to an 8-partition topic on librdkafka's mock
//! cluster and prints the partition of every delivery report; each deterministic placement must
//! equal `Partitioner::partition`. Keyless records that librdkafka places by its sticky rule
//! (`Partitioner::uses_sticky`, checked with `sticky.partitioning.linger.ms=900000`) must all
//! share one partition.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{launcher_path, MockCluster};
use kafka::partitioner::Partitioner;

const PARTITIONS: i32 = 8;
const TOPIC: &str = "placement";
const STICKY_LINGER_MS: u64 = 900_000;

/// The keys, in produce order (`None` = NULL key): `key-0`..`key-9999` with a NULL key after
/// every 500th and an empty key after every 2500th; then binary keys of lengths 1..=40 with
/// high-bit bytes (every murmur2 tail length, negative FNV-1a intermediate values).
fn keys() -> Vec<Option<Vec<u8>>> {
    let mut keys = Vec::new();
    for i in 0..10_000u32 {
        keys.push(Some(format!("key-{i}").into_bytes()));
        if i % 500 == 0 {
            keys.push(None);
        }
        if i % 2500 == 0 {
            keys.push(Some(Vec::new()));
        }
    }
    for len in 1..=40u32 {
        keys.push(Some(
            (0..len)
                .map(|j| 0x80 + ((j * 37 + len) % 128) as u8)
                .collect(),
        ));
    }
    keys
}

/// Produces one record per key with librdkafka's `partitioner` and returns `(key, partition)`
/// from each delivery report.
fn librdkafka_placements(
    bootstrap: &str,
    partitioner: &str,
    keys: &[Option<Vec<u8>>],
) -> Vec<(Option<Vec<u8>>, i32)> {
    let mut input = Vec::new();
    for k in keys {
        match k {
            Some(k) => {
                assert!(!k.contains(&b'\n') && k != b"\\N");
                input.extend_from_slice(k);
            }
            None => input.extend_from_slice(b"\\N"),
        }
        input.push(b'\n');
    }
    let mut child = Command::new(launcher_path())
        .args(["produce", "--bootstrap", bootstrap, "--topic", TOPIC])
        .args([
            "--partitioner",
            partitioner,
            "--keys",
            "-",
            "--print-partitions",
        ])
        .args(["--size", "10", "--warmup", "--set"])
        .arg(format!("sticky.partitioning.linger.ms={STICKY_LINGER_MS}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running mock-launcher produce");
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "mock-launcher produce --partitioner {partitioner} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let mut lines: Vec<&[u8]> = out.stdout.split(|&b| b == b'\n').collect();
    assert_eq!(lines.pop(), Some(&b""[..]));
    let last = lines.pop();
    assert_eq!(
        last,
        Some(format!("produced {}", keys.len()).as_bytes()),
        "last line"
    );
    lines
        .iter()
        .map(|l| {
            let tab = l
                .iter()
                .rposition(|&b| b == b'\t')
                .expect("key\\tpartition");
            let key = &l[..tab];
            let partition: i32 = std::str::from_utf8(&l[tab + 1..]).unwrap().parse().unwrap();
            ((key != b"\\N").then(|| key.to_vec()), partition)
        })
        .collect()
}

/// What a comparison of one partitioner found.
#[derive(Debug, Default)]
struct Outcome {
    /// Placements equal to ours.
    matched: usize,
    /// Our function drew a random number: not comparable, the partitions seen.
    random: BTreeSet<i32>,
    random_count: usize,
    /// Partitions of the records placed by the sticky rule, with their record counts.
    sticky: BTreeMap<i32, usize>,
    sticky_count: usize,
}

fn compare(p: Partitioner, bootstrap: &str, keys: &[Option<Vec<u8>>]) -> Outcome {
    let placements = librdkafka_placements(bootstrap, p.name(), keys);
    assert_eq!(
        placements.len(),
        keys.len(),
        "{}: delivery reports",
        p.name()
    );
    let linger = Duration::from_millis(STICKY_LINGER_MS);
    let mut o = Outcome::default();
    let mut mismatches = Vec::new();
    for (key, partition) in &placements {
        assert!((0..PARTITIONS).contains(partition));
        let key = key.as_deref();
        if p.uses_sticky(key, linger) {
            *o.sticky.entry(*partition).or_default() += 1;
            o.sticky_count += 1;
            continue;
        }
        let mut drew = false;
        let ours = p.partition(key, PARTITIONS, &mut || {
            drew = true;
            0
        });
        if drew {
            o.random.insert(*partition);
            o.random_count += 1;
        } else if ours == *partition {
            o.matched += 1;
        } else {
            mismatches.push((
                key.map(|k| String::from_utf8_lossy(k).into_owned()),
                ours,
                *partition,
            ));
        }
    }
    assert!(
        mismatches.is_empty(),
        "{}: {} placements differ from librdkafka's, (key, ours, librdkafka) e.g. {:?}",
        p.name(),
        mismatches.len(),
        &mismatches[..mismatches.len().min(10)]
    );
    o
}

#[test]
fn placement_matches_librdkafka() {
    let cluster = MockCluster::builder(3).topic(TOPIC, PARTITIONS).start();
    let keys = keys();
    let nulls = keys.iter().filter(|k| k.is_none()).count();
    let empties = keys
        .iter()
        .filter(|k| k.as_deref() == Some(&[][..]))
        .count();
    let all = keys.len();
    assert!(all > 10_000 && nulls == 20 && empties == 4);

    for p in Partitioner::ALL {
        let o = compare(p, cluster.bootstrap(), &keys);
        eprintln!("{}: {o:?}", p.name());
        let sticky = match p {
            Partitioner::Consistent | Partitioner::Murmur2 | Partitioner::Fnv1a => 0,
            Partitioner::ConsistentRandom => nulls + empties,
            _ => nulls,
        };
        assert_eq!(o.sticky_count, sticky, "{}: sticky records", p.name());
        // Sticky with a 15-minute linger: all on one partition (random per-record placement
        // would put 20 records on one of 8 partitions with probability 8^-19). This needs the
        // launcher's `--warmup`: librdkafka re-draws its sticky partition whenever that has no
        // leader broker attached yet, which is the case for a few milliseconds after the first
        // metadata, so without it keyless records produced at start-up hop partitions.
        assert!(
            o.sticky.len() <= 1,
            "{}: sticky records on {:?}",
            p.name(),
            o.sticky
        );
        if p == Partitioner::Random {
            // Keyed (and empty-key) records are random per record, not sticky.
            assert_eq!(o.random_count, all - nulls);
            assert_eq!(o.random.len(), PARTITIONS as usize, "random spread");
        } else {
            assert_eq!(o.random_count, 0);
            assert_eq!(o.matched, all - sticky, "{}: compared", p.name());
        }
    }
}
