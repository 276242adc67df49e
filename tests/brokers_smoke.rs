//! Proves the broker harness works, without using our library: librdkafka's mock cluster and
//! tansu, fed by the launcher's librdkafka 2.12.1 producer, read back by Debian's kcat
//! (librdkafka 2.0.2) and by the launcher's consumer.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{
    consume_with_librdkafka, expected_message, produce_with_librdkafka, MockCluster, Tansu,
};

const SIZE: usize = 100;

/// Checks that `(key, value, headers)` lines hold messages `0..count` exactly once each.
fn check_all_present<'a>(count: u64, msgs: impl Iterator<Item = (&'a str, &'a str, &'a str)>) {
    let mut seen = vec![0u32; count as usize];
    for (key, value, headers) in msgs {
        let i: u64 = key
            .strip_prefix("key-")
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("unexpected key {key:?}"));
        assert!(i < count, "unexpected key {key:?}");
        let (ek, ev, eh) = expected_message(i, SIZE);
        assert_eq!(key.as_bytes(), &ek[..]);
        assert_eq!(value.as_bytes(), &ev[..], "value of {key}");
        let eh: Vec<String> = eh
            .iter()
            .map(|(k, v)| format!("{k}={}", String::from_utf8_lossy(v)))
            .collect();
        assert_eq!(headers, eh.join(","), "headers of {key}");
        seen[i as usize] += 1;
    }
    let bad: Vec<_> = seen
        .iter()
        .enumerate()
        .filter(|(_, n)| **n != 1)
        .take(10)
        .collect();
    assert!(
        bad.is_empty(),
        "(index, times seen) not exactly once: {bad:?}"
    );
}

#[test]
fn mock_cluster_librdkafka_produce_kcat_consume() {
    let cluster = MockCluster::builder(3)
        .topic("smoke", 4)
        .initial_rebalance_delay_ms(0)
        .start();
    assert_eq!(cluster.bootstrap().split(',').count(), 3);
    assert!(cluster
        .bootstrap()
        .split(',')
        .all(|b| b.starts_with("127.0.0.1:")));

    produce_with_librdkafka(cluster.bootstrap(), "smoke", 1000, SIZE, "lz4");

    let out = Command::new("kcat")
        .args(["-C", "-q", "-e", "-b", cluster.bootstrap(), "-t", "smoke"])
        .args(["-f", "%p\t%o\t%k\t%s\t%h\n"])
        .output()
        .expect("running kcat (scripts/install-deps.sh installs it)");
    assert!(
        out.status.success(),
        "kcat: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().map(|l| l.split('\t').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == 5), "bad kcat line");
    check_all_present(1000, rows.iter().map(|r| (r[2], r[3], r[4])));

    // Idempotent producer: within each partition, message indexes increase with the offset.
    let mut last: BTreeMap<&str, (i64, u64)> = BTreeMap::new();
    for r in &rows {
        let offset: i64 = r[1].parse().unwrap();
        let idx: u64 = r[2]["key-".len()..].parse().unwrap();
        if let Some((o, i)) = last.insert(r[0], (offset, idx)) {
            assert!(
                offset > o && idx > i,
                "partition {} out of order at offset {offset}",
                r[0]
            );
        }
    }
    assert_eq!(last.len(), 4, "messages spread over all 4 partitions");

    // Fault injection answers, and the producer gets through injected Produce errors.
    cluster.push_errors(0, &[6, 6]).unwrap(); // Produce: NOT_LEADER_OR_FOLLOWER twice
    cluster.broker_push_errors(2, 3, &[0]).unwrap(); // Metadata on broker 2: no error
    cluster.set_rtt(1, 0).unwrap();
    cluster.set_coordinator("g", 2).unwrap();
    cluster.create_topic("smoke2", 2, 1).unwrap();
    cluster.set_leader("smoke2", 0, 3).unwrap();
    cluster.broker_down(3).unwrap();
    cluster.broker_up(3).unwrap();
    assert!(cluster
        .command("no_such_command")
        .unwrap_err()
        .contains("unknown command"));
    assert!(cluster.push_errors(0, &[12345]).is_err());
    produce_with_librdkafka(cluster.bootstrap(), "smoke2", 50, SIZE, "zstd");
    let back = consume_with_librdkafka(cluster.bootstrap(), "smoke2", 50, 20_000);
    let hs: Vec<String> = back
        .iter()
        .map(|m| {
            let v: Vec<String> = m.headers.iter().map(|(k, v)| format!("{k}={v}")).collect();
            v.join(",")
        })
        .collect();
    check_all_present(
        50,
        back.iter()
            .zip(&hs)
            .map(|(m, h)| (m.key.as_str(), m.value.as_str(), h.as_str())),
    );
}

#[test]
fn tansu_librdkafka_produce_and_consume() {
    if !Tansu::available() {
        eprintln!("SKIPPED: tansu is not installed (scripts/install-deps.sh installs it)");
        return;
    }
    let tansu = Tansu::start();
    tansu.create_topic("smoke", 3).unwrap();
    produce_with_librdkafka(tansu.bootstrap(), "smoke", 1000, SIZE, "lz4");
    let back = consume_with_librdkafka(tansu.bootstrap(), "smoke", 1000, 20_000);
    let hs: Vec<String> = back
        .iter()
        .map(|m| {
            let v: Vec<String> = m.headers.iter().map(|(k, v)| format!("{k}={v}")).collect();
            v.join(",")
        })
        .collect();
    check_all_present(
        1000,
        back.iter()
            .zip(&hs)
            .map(|(m, h)| (m.key.as_str(), m.value.as_str(), h.as_str())),
    );
}
