//! librskafka's in-process mock cluster (`kafka::mock`, `rd_kafka_mock_cluster_new`) serving
//! clients we did not write: librdkafka 2.12.1 (`mock-launcher produce/consume`), Debian's
//! `kcat` (librdkafka 2.0.2: `-P`, `-C`, `-L`, `-G` with committed offsets resumed), and our own
//! Rust client in a group; and `tests/c/mock_cluster.c` printing the same transcript linked
//! against librskafka as against the system librdkafka (each with its own mock cluster).

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::consumer_util::{consume_all, consumer_config, unique_group, Tracker, SIZE};
use common::producer_util::{check_content, check_partition_order, index_of, send_all};
use common::{consume_with_librdkafka, produce_with_librdkafka};
use kafka::mock::MockCluster;
use kafka::{ClientConfig, Consumer, Producer};

#[test]
fn librdkafka_produces_and_consumes_through_our_mock() {
    let cluster = MockCluster::new(3).unwrap();
    let b = cluster.bootstrap_servers();
    assert_eq!(b.split(',').count(), 3);
    assert!(b.split(',').all(|a| a.starts_with("127.0.0.1:")), "{b}");
    for (topic, codec) in [("lt-lz4", "lz4"), ("lt-none", "none"), ("lt-zstd", "zstd")] {
        // Auto-created on the producer's first Metadata request: 4 partitions.
        produce_with_librdkafka(b, topic, 2000, SIZE, codec);
        let got = consume_with_librdkafka(b, topic, 2000, 30_000);
        assert_eq!(got.len(), 2000);
        let mut seen = vec![0u32; 2000];
        for m in &got {
            check_content(m, SIZE);
            seen[index_of(m) as usize] += 1;
        }
        assert!(
            seen.iter().all(|n| *n == 1),
            "{topic}: not every message exactly once"
        );
        check_partition_order(&got);
        let parts: std::collections::BTreeSet<i32> = got.iter().map(|m| m.partition).collect();
        assert_eq!(parts.len(), 4, "{topic}: auto-created with 4 partitions");
    }
}

/// Runs Debian's kcat with `args` and `stdin`; returns (stdout, stderr), panicking on failure.
fn kcat(args: &[&str], stdin: &str) -> (String, String) {
    let mut child = Command::new("timeout")
        .arg("60")
        .arg("kcat")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running kcat (scripts/install-deps.sh installs it)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let (o, e) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    assert!(out.status.success(), "kcat {args:?} failed: {o}\n{e}");
    (o, e)
}

/// `partition -> [(offset, line)]` from kcat output lines `partition|offset|rest`.
fn by_partition(out: &str) -> BTreeMap<i32, Vec<(i64, String)>> {
    let mut m: BTreeMap<i32, Vec<(i64, String)>> = BTreeMap::new();
    for line in out.lines() {
        let mut f = line.splitn(3, '|');
        let (Some(p), Some(o), Some(rest)) = (f.next(), f.next(), f.next()) else {
            continue;
        };
        m.entry(p.parse().unwrap())
            .or_default()
            .push((o.parse().unwrap(), rest.to_string()));
    }
    m
}

#[test]
fn kcat_produces_lists_consumes_and_resumes_a_group() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.set_initial_rebalance_delay(Duration::ZERO);
    cluster.create_topic("kc", 3, 2).unwrap();
    assert_eq!(
        cluster.create_topic("kc", 3, 2),
        Err(kafka::ErrorCode::TOPIC_ALREADY_EXISTS),
        "TOPIC_ALREADY_EXISTS"
    );
    let b = cluster.bootstrap_servers();

    let (list, _) = kcat(&["-b", b, "-L"], "");
    assert!(list.contains(" 3 brokers:"), "{list}");
    assert!(list.contains("topic \"kc\" with 3 partitions:"), "{list}");
    for p in 0..3 {
        assert!(
            list.contains(&format!("partition {p}, leader {}", p + 1)),
            "{list}"
        );
    }

    let input: String = (0..30).map(|i| format!("k{i}:v{i}\n")).collect();
    kcat(
        &["-b", b, "-P", "-t", "kc", "-K:", "-H", "h1=x", "-H", "h2=y"],
        &input,
    );

    let fmt = "%p|%o|%k=%s;%h\n";
    let (out, _) = kcat(
        &[
            "-b",
            b,
            "-C",
            "-t",
            "kc",
            "-o",
            "beginning",
            "-e",
            "-f",
            fmt,
        ],
        "",
    );
    let parts = by_partition(&out);
    let mut total = 0;
    for msgs in parts.values() {
        for (n, (offset, rest)) in msgs.iter().enumerate() {
            assert_eq!(*offset, n as i64, "offsets are dense and in order: {out}");
            let (kv, headers) = rest.split_once(';').unwrap();
            let (k, v) = kv.split_once('=').unwrap();
            assert_eq!(k.strip_prefix('k'), v.strip_prefix('v'), "{rest}");
            assert_eq!(headers, "h1=x,h2=y");
            total += 1;
        }
        // kcat's default partitioner (consistent_random) keeps a key's order: indices rise.
        let idx: Vec<u32> = msgs
            .iter()
            .map(|(_, r)| r[1..r.find('=').unwrap()].parse().unwrap())
            .collect();
        assert!(idx.windows(2).all(|w| w[0] < w[1]), "{idx:?}");
    }
    assert_eq!(total, 30, "{out}");

    // A group reads everything and commits on exit; the next run of the group starts there.
    let (first, _) = kcat(
        &[
            "-b",
            b,
            "-G",
            "kg",
            "-o",
            "beginning",
            "-e",
            "-f",
            fmt,
            "kc",
        ],
        "",
    );
    assert_eq!(
        by_partition(&first).values().map(Vec::len).sum::<usize>(),
        30,
        "{first}"
    );
    let more: String = (30..36).map(|i| format!("k{i}:v{i}\n")).collect();
    kcat(&["-b", b, "-P", "-t", "kc", "-K:"], &more);
    let (second, _) = kcat(&["-b", b, "-G", "kg", "-e", "-f", fmt, "kc"], "");
    let mut keys: Vec<String> = by_partition(&second)
        .values()
        .flatten()
        .map(|(_, r)| r.split('=').next().unwrap().to_string())
        .collect();
    keys.sort();
    assert_eq!(keys, ["k30", "k31", "k32", "k33", "k34", "k35"], "{second}");
}

fn producer(bootstrap: &str) -> Producer {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap).unwrap();
    c.set("enable.idempotence", "true").unwrap();
    c.set("linger.ms", "2").unwrap();
    Producer::new(&c).unwrap()
}

#[test]
fn our_client_produces_and_consumes_in_a_group() {
    let cluster = MockCluster::new(3).unwrap();
    // Both members join the first generation (no uncommitted partition changes hands).
    cluster.set_initial_rebalance_delay(Duration::from_millis(1500));
    cluster.create_topic("rs", 6, 3).unwrap();
    let b = cluster.bootstrap_servers().to_string();
    let p = producer(&b);
    send_all(&p, "rs", 3000, SIZE);
    p.flush(Duration::from_secs(30)).unwrap();

    // Two members share the partitions; together they read every message once, in order.
    let group = unique_group("mock");
    let cfg = consumer_config(&b, Some(&group), &[("enable.auto.commit", "false")]);
    let a = Consumer::new(&cfg).unwrap();
    let c = Consumer::new(&cfg).unwrap();
    a.subscribe(&["rs"]).unwrap();
    c.subscribe(&["rs"]).unwrap();
    let mut tracker = Tracker::new(3000, SIZE);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let mut from_each = [0u64; 2];
    while !tracker.complete() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} of 3000",
            tracker.total
        );
        for (i, consumer) in [&a, &c].into_iter().enumerate() {
            if let Some(Ok(m)) = consumer.poll(Duration::from_millis(50)) {
                tracker.record(&m);
                from_each[i] += 1;
            }
        }
    }
    tracker.assert_exactly_once();
    assert!(
        from_each.iter().all(|n| *n > 0),
        "both members consumed: {from_each:?}"
    );
    a.commit(None, kafka::CommitMode::Sync).unwrap();
    c.commit(None, kafka::CommitMode::Sync).unwrap();
    let assigned = a.assignment().len() + c.assignment().len();
    assert_eq!(assigned, 6, "the group's members hold all six partitions");
    // ListGroups + DescribeGroups as rd_kafka_list_groups does them.
    let groups = a
        .list_groups(Some(&group), Duration::from_secs(10))
        .unwrap();
    assert_eq!(groups.len(), 1, "{groups:?}");
    let g = &groups[0];
    assert_eq!(
        (
            g.state.as_str(),
            g.protocol_type.as_str(),
            g.protocol.as_str()
        ),
        ("Stable", "consumer", "range")
    );
    assert_eq!(g.members.len(), 2);
    assert!(g
        .members
        .iter()
        .all(|m| !m.assignment.is_empty() && !m.metadata.is_empty()));
    let all = a.list_groups(None, Duration::from_secs(10)).unwrap();
    assert!(all.iter().any(|x| x.name == group), "{all:?}");
    a.close().unwrap();
    c.close().unwrap();
    drop((a, c));

    // A new member of the group resumes at the committed offsets: only the new messages.
    let p = producer(&b);
    for i in 3000..3100 {
        common::producer_util::send_expected(&p, "rs", i, SIZE).unwrap();
    }
    p.flush(Duration::from_secs(30)).unwrap();
    let d = Consumer::new(&cfg).unwrap();
    d.subscribe(&["rs"]).unwrap();
    let mut resumed = Tracker::new(3100, SIZE);
    for i in 0..3000 {
        resumed.seen[i] = 1;
    }
    resumed.total = 3000;
    consume_all(&d, &mut resumed, Duration::from_secs(30));
    resumed.assert_exactly_once();
    d.close().unwrap();
}

#[cfg(feature = "capi")]
#[test]
fn c_program_prints_the_same_as_on_librdkafka() {
    use common::capi::{compile, our_lib, run, work_dir, HEADER};
    if !std::path::Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let lib = our_lib();
    let lib_dir = lib.parent().unwrap();
    let dir = work_dir("mock_cluster");
    let ours = dir.join("mock_cluster_librskafka");
    compile(
        "tests/c/mock_cluster.c",
        &ours,
        &[
            format!("-L{}", lib_dir.display()),
            "-lkafka".to_string(),
            format!("-Wl,-rpath,{}", lib_dir.display()),
        ],
    );
    let theirs = dir.join("mock_cluster_librdkafka");
    compile(
        "tests/c/mock_cluster.c",
        &theirs,
        &["-lrdkafka".to_string()],
    );
    let out = run(&ours, &[]);
    let expected = run(&theirs, &[]);
    assert_eq!(
        expected, out,
        "left: librdkafka with its mock, right: librskafka with ours"
    );
    assert!(
        out.contains("bootstraps: 3 brokers, starts with 127.0.0.1: 1\n"),
        "{out}"
    );
    assert!(
        out.contains("topic_create again: TOPIC_ALREADY_EXISTS\n"),
        "{out}"
    );
    assert!(out.contains("consumed 200 bad 0 headers_ok 200\n"), "{out}");
    assert!(out.contains("consumed 20 bad 0 headers_ok 20\n"), "{out}");
    assert!(out.contains("  partition 3: offsets 50..54\n"), "{out}");
    assert!(out.ends_with("done\n"), "{out}");
}

#[test]
fn test_mock_num_brokers_gives_a_client_its_own_cluster() {
    let mut c = ClientConfig::new();
    c.set("test.mock.num.brokers", "2").unwrap();
    c.set("test.mock.broker.rtt", "300").unwrap();
    c.set("bootstrap.servers", "192.0.2.1:1").unwrap();
    let p = Producer::new(&c).unwrap();
    let reports = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let r = reports.clone();
    p.set_delivery_callback(Box::new(move |d| {
        r.lock()
            .unwrap()
            .push((d.partition, d.offset, d.error.clone()))
    }));
    for _ in 0..3 {
        p.send(&kafka::Record::to("own").partition(1).value(b"v"))
            .unwrap();
    }
    p.flush(Duration::from_secs(10)).unwrap();
    let start = std::time::Instant::now();
    let md = p
        .fetch_metadata(Some("own"), Duration::from_secs(10))
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(290),
        "test.mock.broker.rtt delays answers"
    );
    assert_eq!(md.brokers.len(), 2);
    assert!(
        md.brokers.iter().all(|b| b.host == "127.0.0.1"),
        "{:?}",
        md.brokers
    );
    let got = reports.lock().unwrap().clone();
    assert_eq!(got, vec![(1, 0, None), (1, 1, None), (1, 2, None)]);
}

/// `kcat -X test.mock.num.brokers=3` with our library as `librdkafka.so.1`: the handle gets its
/// own cluster and says so as librdkafka does; producing and listing go to it.
#[cfg(feature = "capi")]
#[test]
fn kcat_with_test_mock_num_brokers_on_our_library() {
    use common::capi::{our_lib, work_dir};
    let lib = our_lib();
    let dir = work_dir("mock_cluster_kcat");
    let link = dir.join("librdkafka.so.1");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink(&lib, &link).unwrap();
    let run = |lib_dir: Option<&std::path::Path>, args: &[&str], stdin: &str| {
        let mut cmd = Command::new("timeout");
        cmd.arg("60").arg("kcat").args(args);
        if let Some(d) = lib_dir {
            cmd.env("LD_LIBRARY_PATH", d);
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "kcat {args:?}: {out:?}");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let mock = ["-b", "192.0.2.1:9", "-X", "test.mock.num.brokers=3"];
    for lib_dir in [Some(dir.as_path()), None] {
        let (list, err) = run(lib_dir, &[&mock[..], &["-L"]].concat(), "");
        assert!(list.contains(" 3 brokers:"), "{list}");
        assert!(
            err.contains("|MOCK|") && err.contains("ignored and replaced with 127.0.0.1:"),
            "{err}"
        );
        let produce = [&mock[..], &["-P", "-t", "m", "-K:", "-p", "0", "-v"]].concat();
        let (_, err) = run(lib_dir, &produce, "a:1\nb:2\n");
        assert!(!err.contains("ERROR") && !err.contains("failed"), "{err}");
    }
}

/// The assignment a `mock-launcher group` timeline (`<seconds>\t[partitions]` lines) shows at
/// `at` seconds.
fn assignment_at(timeline: &str, at: f64) -> Vec<i32> {
    let mut current = Vec::new();
    for line in timeline.lines() {
        let (t, parts) = line.split_once('\t').unwrap();
        let Ok(t) = t.parse::<f64>() else { continue };
        if t > at {
            break;
        }
        let inner = parts.trim_start_matches('[').trim_end_matches(']');
        current = inner
            .split(',')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse().unwrap())
            .collect();
    }
    current
}

/// Three librdkafka 2.12.1 members per group (eager `range`, incremental `cooperative-sticky`)
/// settle on disjoint assignments covering the topic, after the initial rebalance delay.
#[test]
fn librdkafka_groups_settle_on_our_coordinator() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("grp", 8, 1).unwrap();
    let b = cluster.bootstrap_servers().to_string();
    for assignor in ["range", "cooperative-sticky"] {
        let children: Vec<_> = (0..3)
            .map(|i| {
                Command::new(common::launcher_path())
                    .args(["group", "--bootstrap", &b, "--topic", "grp"])
                    .args(["--group", &format!("g-{assignor}"), "--assignor", assignor])
                    .args(["--seconds", "9", "--client-id", &format!("m{i}")])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let timelines: Vec<String> = children
            .into_iter()
            .map(|c| {
                let out = c.wait_with_output().unwrap();
                assert!(out.status.success(), "{out:?}");
                String::from_utf8(out.stdout).unwrap()
            })
            .collect();
        let sets: Vec<Vec<i32>> = timelines.iter().map(|t| assignment_at(t, 7.5)).collect();
        let mut all: Vec<i32> = sets.concat();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..8).collect::<Vec<_>>(),
            "{assignor}: {sets:?}\n{timelines:#?}"
        );
        assert!(sets.iter().all(|s| !s.is_empty()), "{assignor}: {sets:?}");
    }
}

/// Injected Produce errors (retriable ones and a disconnect) cost librdkafka 2.12.1's and our
/// idempotent producers retries, never a duplicate or a reordering.
#[test]
fn producers_retry_through_injected_errors_without_duplicates() {
    use kafka::ErrorCode;
    let cluster = MockCluster::new(3).unwrap();
    let b = cluster.bootstrap_servers().to_string();
    let errors = [
        ErrorCode::NOT_ENOUGH_REPLICAS,
        ErrorCode::L_TRANSPORT,
        ErrorCode::NOT_LEADER_FOR_PARTITION,
        ErrorCode::NOT_ENOUGH_REPLICAS,
    ];
    cluster.push_request_errors(0, &errors);
    produce_with_librdkafka(&b, "faulty-rd", 1000, SIZE, "lz4");
    assert_eq!(cluster.queued_request_errors(0), 0, "every error was met");

    cluster.create_topic("faulty-rs", 4, 3).unwrap();
    cluster.push_request_errors(0, &errors);
    let p = producer(&b);
    send_all(&p, "faulty-rs", 1000, SIZE);
    p.flush(Duration::from_secs(30)).unwrap();
    assert_eq!(cluster.queued_request_errors(0), 0, "every error was met");

    for topic in ["faulty-rd", "faulty-rs"] {
        let got = consume_with_librdkafka(&b, topic, 1000, 30_000);
        let mut seen = vec![0u32; 1000];
        for m in &got {
            check_content(m, SIZE);
            seen[index_of(m) as usize] += 1;
        }
        assert!(
            seen.iter().all(|n| *n == 1),
            "{topic}: every message exactly once"
        );
        check_partition_order(&got);
        // consume_with_librdkafka stops at 1000: nothing beyond (no duplicates) either.
        let all = common::consume_all_with_librdkafka(&b, topic, 30_000);
        assert_eq!(all.len(), 1000, "{topic}");
    }
}

/// A broker taken down drops its clients, which reconnect once it is up again; a partition's
/// leadership moved elsewhere is followed.
#[test]
fn clients_follow_broker_outages_and_leader_moves() {
    let cluster = MockCluster::new(3).unwrap();
    cluster.create_topic("moving", 1, 3).unwrap();
    let b = cluster.bootstrap_servers().to_string();
    let p = producer(&b);
    for i in 0..50 {
        common::producer_util::send_expected(&p, "moving", i, SIZE).unwrap();
    }
    p.flush(Duration::from_secs(30)).unwrap();
    cluster.broker_down(1).unwrap();
    assert_eq!(
        cluster.broker_down(9),
        Err(kafka::ErrorCode::L_UNKNOWN_BROKER)
    );
    cluster.partition_leader("moving", 0, 2).unwrap();
    for i in 50..100 {
        common::producer_util::send_expected(&p, "moving", i, SIZE).unwrap();
    }
    p.flush(Duration::from_secs(30)).unwrap();
    cluster.broker_up(1).unwrap();
    let got = consume_with_librdkafka(&b, "moving", 100, 30_000);
    let offsets: Vec<i64> = got.iter().map(|m| m.offset).collect();
    assert_eq!(offsets, (0..100).collect::<Vec<_>>());
    for m in &got {
        check_content(m, SIZE);
        assert_eq!(index_of(m), m.offset as u64);
    }
}
