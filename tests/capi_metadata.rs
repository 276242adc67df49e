//! Cluster metadata and offset queries through the C ABI against librdkafka's mock cluster:
//! Debian's `kcat -L` (plain and JSON, all topics, one topic, a missing topic) and `kcat -Q` run
//! once on the system librdkafka and once with librskafka as `librdkafka.so.1`, and must print
//! the same; `tests/c/metadata.c` and `tests/c/brokers_add.c` (compiled against the system
//! rdkafka.h) likewise.
//! The broker that answers a metadata request is chosen at random by librdkafka, so that line is
//! checked for consistency (a listed broker, named `host:port/id`) and then masked.
#![cfg(feature = "capi")]

mod common;

use std::path::Path;
use std::process::Command;

use common::capi::{build_both, have_kcat, lib_dir, run_on, HEADER};
use common::{produce_with_librdkafka, MockCluster};

/// Checks that `id` and `name` (`host:port/id`) are a broker of `cluster`.
fn check_origin(cluster: &MockCluster, id: &str, name: &str) {
    let (addr, name_id) = name.rsplit_once('/').expect("name is host:port/id");
    assert_eq!(id, name_id, "{name}");
    let idx: usize = id.parse().expect("numeric broker id");
    let addrs: Vec<&str> = cluster.bootstrap().split(',').collect();
    assert_eq!(
        addrs.get(idx - 1),
        Some(&addr),
        "broker {id} is not at {addr}"
    );
}

/// Masks the answering broker of `kcat -L` output (plain or JSON) after checking it.
fn mask_origin(cluster: &MockCluster, out: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in out.lines() {
        if let Some((head, rest)) = line.split_once("(from broker ") {
            let (id, rest) = rest.split_once(": ").unwrap();
            let (name, tail) = rest.split_once(')').unwrap();
            check_origin(cluster, id, name);
            lines.push(format!("{head}(from broker X){tail}"));
        } else if let Some(rest) = line.strip_prefix("{\"originating_broker\":{\"id\":") {
            let (id, rest) = rest.split_once(",\"name\":\"").unwrap();
            let (name, tail) = rest.split_once("\"}").unwrap();
            check_origin(cluster, id, name);
            lines.push(format!("{{\"originating_broker\":X{tail}"));
        } else {
            lines.push(line.to_string());
        }
    }
    lines.join("\n")
}

#[test]
fn kcat_metadata_matches_librdkafka() {
    if !have_kcat() {
        eprintln!("SKIP: kcat is not installed");
        return;
    }
    let dir = lib_dir();
    let cluster = MockCluster::builder(3)
        .topic_rf("md-three", 4, 3)
        .topic("md-one", 2)
        .start();
    let b = cluster.bootstrap();
    let kcat = Path::new("kcat");
    let cases: [&[&str]; 5] = [
        &["-L"],
        &["-L", "-J"],
        &["-L", "-t", "md-three"],
        &[
            "-L",
            "-t",
            "md-missing",
            "-X",
            "allow.auto.create.topics=false",
        ],
        &["-L", "-J", "-t", "md-one"],
    ];
    for case in cases {
        let args: Vec<&str> = ["-b", b].iter().chain(case.iter()).copied().collect();
        let (ok_theirs, theirs, err_theirs) = run_on(kcat, None, &args);
        let (ok_ours, ours, err_ours) = run_on(kcat, Some(&dir), &args);
        eprintln!(
            "kcat {case:?}\nlibrdkafka:\n{theirs}{err_theirs}\nlibrskafka:\n{ours}{err_ours}"
        );
        assert!(ok_theirs && ok_ours, "kcat {case:?} failed");
        assert!(!err_ours.contains("NOTIMPL"), "{err_ours}");
        assert_eq!(
            mask_origin(&cluster, &theirs),
            mask_origin(&cluster, &ours),
            "kcat {case:?}"
        );
    }
    // The values themselves: three brokers, replicas and ISRs of the RF-3 topic, the error.
    let (_, out, _) = run_on(kcat, Some(&dir), &["-b", b, "-L"]);
    assert!(
        out.contains(" 3 brokers:\n  broker 1 at 127.0.0.1:"),
        "{out}"
    );
    assert!(
        out.contains("  topic \"md-three\" with 4 partitions:\n"),
        "{out}"
    );
    assert!(out.contains(", replicas: 1,2,3, isrs: 1,2,3\n"), "{out}");
    assert!(
        out.contains("  topic \"md-one\" with 2 partitions:\n"),
        "{out}"
    );
    let args = [
        "-b",
        b,
        "-L",
        "-t",
        "md-missing",
        "-X",
        "allow.auto.create.topics=false",
    ];
    let (_, out, _) = run_on(kcat, Some(&dir), &args);
    assert!(
        out.contains("topic \"md-missing\" with 0 partitions: Broker: Unknown topic or partition"),
        "{out}"
    );
    // No broker to ask: librdkafka's _TRANSPORT, not a timeout.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap().to_string();
    drop(closed);
    let args = ["-b", addr.as_str(), "-L", "-m", "2"];
    let error_line = |s: &str| {
        s.lines()
            .find(|l| l.starts_with("% ERROR"))
            .map(str::to_string)
    };
    let (_, _, err_theirs) = run_on(kcat, None, &args);
    let (_, _, err_ours) = run_on(kcat, Some(&dir), &args);
    assert!(error_line(&err_theirs).is_some(), "{err_theirs}");
    assert_eq!(error_line(&err_theirs), error_line(&err_ours));
}

#[test]
fn kcat_offsets_for_times_matches_librdkafka() {
    if !have_kcat() {
        eprintln!("SKIP: kcat is not installed");
        return;
    }
    let dir = lib_dir();
    let cluster = MockCluster::start(3, &[("q-data", 2), ("q-empty", 1)]);
    produce_with_librdkafka(cluster.bootstrap(), "q-data", 100, 10, "none");
    let b = cluster.bootstrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
        .to_string();
    let at = |t: &str, p: i32, ts: &str| format!("{t}:{p}:{ts}");
    let cases: Vec<Vec<String>> = vec![
        vec![
            at("q-data", 0, "-2"),
            at("q-data", 1, "-1"),
            at("q-empty", 0, "-1"),
        ],
        vec![
            at("q-data", 0, "1000"),
            at("q-data", 1, &now),
            at("q-empty", 0, "1000"),
        ],
        vec![at("q-missing", 0, "1000")],
        vec![at("q-data", 7, "1000")],
        vec![at("q-missing", 0, "1000"), at("q-data", 0, "-1")],
    ];
    let kcat = Path::new("kcat");
    for case in &cases {
        let mut args = vec!["-b", b, "-Q"];
        for t in case {
            args.extend(["-t", t.as_str()]);
        }
        let (_, theirs, err_theirs) = run_on(kcat, None, &args);
        let (_, ours, err_ours) = run_on(kcat, Some(&dir), &args);
        eprintln!(
            "kcat {case:?}\nlibrdkafka:\n{theirs}{err_theirs}\nlibrskafka:\n{ours}{err_ours}"
        );
        assert!(!err_ours.contains("NOTIMPL"), "{err_ours}");
        assert!(!theirs.is_empty() || !err_theirs.is_empty());
        assert_eq!(theirs, ours, "kcat -Q {case:?}: stdout");
        assert_eq!(err_theirs, err_ours, "kcat -Q {case:?}: stderr");
    }
    // Real values: 100 messages over two partitions, the end offsets add up.
    let (_, out, _) = run_on(
        kcat,
        Some(&dir),
        &["-b", b, "-Q", "-t", "q-data:0:-1", "-t", "q-data:1:-1"],
    );
    let ends: i64 = out
        .lines()
        .map(|l| l.rsplit(' ').next().unwrap().parse::<i64>().unwrap())
        .sum();
    assert_eq!(ends, 100, "{out}");
}

/// librdkafka 2.0.2 cannot talk to tansu (its ApiVersions fails), so on tansu only librskafka
/// runs: two batches produced a second apart, then offsets by timestamp through `kcat -Q`.
#[test]
fn kcat_offsets_for_times_on_tansu() {
    if !have_kcat() || !common::Tansu::available() {
        eprintln!("SKIP: kcat or tansu is not installed");
        return;
    }
    let dir = lib_dir();
    let tansu = common::Tansu::start();
    tansu.create_topic("times", 1).unwrap();
    let b = tansu.bootstrap().to_string();
    let produce = |lines: &str| {
        let mut child = Command::new("kcat")
            .args(["-P", "-b", &b, "-t", "times", "-p", "0"])
            .env("LD_LIBRARY_PATH", &dir)
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(lines.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
    };
    produce("a\nb\nc\n");
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let between = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    std::thread::sleep(std::time::Duration::from_millis(100));
    produce("d\ne\n");
    let query = |ts: String| {
        let t = format!("times:0:{ts}");
        let (ok, out, err) = run_on(Path::new("kcat"), Some(&dir), &["-b", &b, "-Q", "-t", &t]);
        assert!(ok, "{out}{err}");
        out
    };
    assert_eq!(query("1000".into()), "times [0] offset 0\n");
    assert_eq!(query(between.to_string()), "times [0] offset 3\n");
}

#[test]
fn metadata_c_program_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let (ours, theirs) = build_both("tests/c/metadata.c", "metadata");
    let cluster = MockCluster::builder(3).topic_rf("md-c", 2, 3).start();
    produce_with_librdkafka(cluster.bootstrap(), "md-c", 30, 10, "none");
    let args = [cluster.bootstrap(), "md-c", "md-c-missing"];
    let (ok_theirs, expected, err_theirs) = run_on(&theirs, None, &args);
    let (ok_ours, out, err_ours) = run_on(&ours, None, &args);
    eprintln!("librdkafka:\n{expected}{err_theirs}\nlibrskafka:\n{out}{err_ours}");
    assert!(ok_theirs && ok_ours);
    assert!(!err_ours.contains("NOTIMPL"), "{err_ours}");
    assert_eq!(expected, out, "left: librdkafka, right: librskafka");
    assert!(
        out.contains("cached watermarks before: NO_ERROR -1001 -1001\n"),
        "{out}"
    );
    assert!(out.contains("  origin ok\n"), "{out}");
    assert!(out.contains(" replicas1,2,3 isrs1,2,3\n"), "{out}");
    assert!(
        out.contains("  topic md-c-missing: 0 partitions, UNKNOWN_TOPIC_OR_PART\n"),
        "{out}"
    );
    assert!(
        out.contains("group metadata of the consumer: round trip ok\n"),
        "{out}"
    );
    assert!(out.contains("reading garbage: _BAD_MSG\n"), "{out}");
    assert!(
        out.contains("group metadata of a producer: NULL\n"),
        "{out}"
    );
    // The cached watermarks after consuming, the consumer's and the producer's queries agree.
    let value = |prefix: &str| {
        let line = out.lines().find(|l| l.starts_with(prefix)).unwrap();
        line[prefix.len()..].to_string()
    };
    let cached = value("cached watermarks after: ");
    assert!(
        cached.starts_with("NO_ERROR 0 ") && !cached.ends_with(" 0"),
        "{out}"
    );
    assert_eq!(cached, value("queried watermarks: "));
    assert_eq!(cached, value("queried watermarks from a producer: "));
    assert!(out.ends_with("done\n"));
}

/// Clients without `bootstrap.servers` (`tests/c/brokers_add.c`): the CONFWARN notice, no
/// metadata without a broker, `rd_kafka_brokers_add`, then producing and consuming through the
/// added brokers.
#[test]
fn brokers_add_c_program_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let (ours, theirs) = build_both("tests/c/brokers_add.c", "brokers_add");
    let cluster = MockCluster::builder(3)
        .topic("ba-ours", 2)
        .topic("ba-theirs", 2)
        .initial_rebalance_delay_ms(0)
        .start();
    let (ok_theirs, expected, err_theirs) = run_on(
        &theirs,
        None,
        &[cluster.bootstrap(), "ba-theirs", "ba-theirs"],
    );
    let (ok_ours, out, err_ours) =
        run_on(&ours, None, &[cluster.bootstrap(), "ba-ours", "ba-ours"]);
    assert!(ok_theirs && ok_ours, "{err_theirs}\n{err_ours}");
    assert_eq!(expected, out, "left: librdkafka, right: librskafka");
    assert!(out.starts_with("log 5 CONFWARN [thrd:app]: No `bootstrap.servers` configured"));
    assert!(
        out.contains("add: 3\nadd again: 3\nmetadata: NO_ERROR, 3 brokers\n"),
        "{out}"
    );
    assert!(out.contains("flush: NO_ERROR, delivered 10\n"), "{out}");
    assert!(out.ends_with("consumed 10\ndone\n"), "{out}");
}

/// librdkafka's mock cluster has no ListGroups: both libraries report `_UNSUPPORTED_FEATURE`.
#[test]
fn list_groups_on_the_mock_cluster_matches_librdkafka() {
    if !Path::new(HEADER).exists() {
        eprintln!("SKIP: the system rdkafka.h is not installed (apt-get install librdkafka-dev)");
        return;
    }
    let (ours, theirs) = build_both("tests/c/groups.c", "groups");
    let cluster = MockCluster::start(3, &[("lg", 1)]);
    let (ok_theirs, expected, _) = run_on(&theirs, None, &[cluster.bootstrap()]);
    let (ok_ours, out, err_ours) = run_on(&ours, None, &[cluster.bootstrap()]);
    assert!(ok_theirs && ok_ours, "{err_ours}");
    assert_eq!(expected, out);
    assert_eq!(out, "list_groups: _UNSUPPORTED_FEATURE, list NULL\n");
}

/// On tansu (which librdkafka 2.0.2 cannot talk to) with a member in a group: tansu 0.6
/// answers ListGroups with no groups (docs/BROKERS.md), so the listing succeeds and is empty.
/// The group details (DescribeGroups) are covered by the engine's unit tests.
#[test]
fn list_groups_on_tansu() {
    if !Path::new(HEADER).exists() || !common::Tansu::available() {
        eprintln!("SKIP: rdkafka.h or tansu is not installed");
        return;
    }
    // Built once per binary (common::capi): shared with the mock-cluster test running alongside.
    let (ours, _) = build_both("tests/c/groups.c", "groups");
    let tansu = common::Tansu::start();
    tansu.create_topic("lg-topic", 2).unwrap();
    let mut config = kafka::ClientConfig::new();
    config
        .set("bootstrap.servers", tansu.bootstrap())
        .unwrap()
        .set("group.id", "lg-group")
        .unwrap();
    let consumer = kafka::Consumer::new(&config).unwrap();
    consumer.subscribe(&["lg-topic"]).unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while consumer.assignment().is_empty() {
        assert!(std::time::Instant::now() < deadline, "no assignment");
        consumer.poll(std::time::Duration::from_millis(200));
    }
    for args in [&[tansu.bootstrap()][..], &[tansu.bootstrap(), "lg-group"]] {
        let (ok, out, err) = run_on(&ours, None, args);
        assert!(ok, "{err}");
        assert_eq!(out, "list_groups: NO_ERROR, list set\n");
    }
    let groups = consumer
        .list_groups(None, std::time::Duration::from_secs(5))
        .unwrap();
    assert!(groups.is_empty(), "{groups:?}");
    consumer.close().unwrap();
}
