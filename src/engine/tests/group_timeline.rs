//! Group membership over time: join, sync, heartbeats, rebalances, session loss, coordinator moves.

use std::time::Duration;

use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::{
    ApiKey, FindCoordinatorRequest, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest,
    JoinGroupResponse, MetadataRequest, OffsetCommitRequest, OffsetCommitResponse,
    SyncGroupRequest, TopicName,
};

use super::harness::{Harness, Sent};
use super::*;
use crate::engine::channel::{Command, RebalanceKind};
use crate::error::ErrorCode;

const REBALANCE_IN_PROGRESS: i16 = 27;
const NOT_COORDINATOR: i16 = 16;
const MEMBER_ID_REQUIRED: i16 = 79;

fn all4() -> Vec<(String, i32)> {
    names(&[tp("a", 0), tp("a", 1), tp("b", 0), tp("b", 1)])
}

/// The consumer protocol subscription in a JoinGroup's first protocol.
fn subscription(join: &Sent) -> assignor::MemberSubscription {
    let r: JoinGroupRequest = join.decode();
    assignor::decode_subscription("", None, &r.protocols[0].metadata).unwrap()
}

/// Answers (empty) the Fetches sent on `req`'s connection before it, as the broker would.
fn answer_fetches_before(h: &mut Harness, req: &Sent) {
    let earlier: Vec<Sent> = h
        .pending
        .iter()
        .filter(|s| {
            s.conn == req.conn && s.correlation_id < req.correlation_id && s.api == ApiKey::Fetch
        })
        .cloned()
        .collect();
    for f in earlier {
        h.respond(&f, &fetch_response(Vec::new()));
    }
}

#[test]
fn join_sync_heartbeat_timeline() {
    // No auto-commit timer, so that heartbeats are the only reason to wake up.
    let mut h = Harness::new(&[
        ("group.id", "g"),
        ("heartbeat.interval.ms", "3000"),
        ("enable.auto.commit", "false"),
    ]);
    let md0 = h.expect(ApiKey::Metadata);
    assert_eq!(md0.addr, "boot:9092");
    // The application subscribes while the first Metadata is still in flight.
    h.subscribe(&["a", "b"]);
    let fc = h.expect(ApiKey::FindCoordinator);
    assert_eq!(fc.addr, "boot:9092");
    assert_eq!(fc.decode::<FindCoordinatorRequest>().key.as_str(), "g");
    h.respond(&md0, &metadata(&[1, 2], &[]));
    h.respond(&fc, &coordinator(1, 0));

    // The subscription's topics are asked for even though they were added mid-flight.
    let md = h.expect(ApiKey::Metadata);
    let asked: Vec<String> = md
        .decode::<MetadataRequest>()
        .topics
        .unwrap()
        .iter()
        .map(|t| t.name.as_ref().unwrap().0.to_string())
        .collect();
    assert_eq!(asked, ["a", "b"]);

    // JoinGroup goes to the coordinator on its own connection; the broker wants a member id.
    let join1 = h.expect(ApiKey::JoinGroup);
    assert_eq!(join1.addr, "b1:9092");
    let j: JoinGroupRequest = join1.decode();
    assert_eq!(j.member_id.as_str(), "");
    assert_eq!(j.protocols[0].name.as_str(), "range");
    assert_eq!(subscription(&join1).topics, ["a", "b"]);
    h.respond(
        &join1,
        &JoinGroupResponse::default()
            .with_error_code(MEMBER_ID_REQUIRED)
            .with_member_id(s("m-1")),
    );
    let join2 = h.expect(ApiKey::JoinGroup);
    assert_eq!(join2.conn, join1.conn);
    assert_eq!(join2.decode::<JoinGroupRequest>().member_id.as_str(), "m-1");
    h.respond(&md, &metadata(&[1, 2], &[("a", &[1, 2]), ("b", &[1, 2])]));

    // We lead: range assigns both topics' partitions to the only member.
    h.respond(&join2, &joined(&join2, "m-1", "m-1", 1));
    answer_leader_metadata(&mut h);
    let sync = h.expect(ApiKey::SyncGroup);
    let sr: SyncGroupRequest = sync.decode();
    assert_eq!((sr.generation_id, sr.member_id.as_str()), (1, "m-1"));
    let assigned = sync_assignment(&sync, "m-1");
    assert_eq!(assigned.get("a"), Some(&vec![0, 1]));
    assert_eq!(assigned.get("b"), Some(&vec![0, 1]));
    h.respond(&sync, &synced(&assigned));
    let ev = rebalances(&mut h);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, RebalanceKind::Assign);
    assert!(!ev[0].lost && !ev[0].cooperative);
    assert_eq!(names(&ev[0].partitions), all4());
    // Nothing is fetched before the application applies the assignment.
    assert!(h.take(ApiKey::OffsetFetch).is_none());
    assert_eq!(h.deadline_in(), Some(Duration::from_secs(3)));

    h.assign(Some(&ev[0].partitions), None);
    let of = h.expect(ApiKey::OffsetFetch);
    assert_eq!(of.conn, join1.conn);
    let want: Vec<(String, i32)> = all4();
    assert_eq!(offset_fetch_parts(&of), want);
    h.respond(
        &of,
        &committed(&[("a", 0, 10), ("a", 1, 11), ("b", 0, 12), ("b", 1, 13)]),
    );
    let f1 = h.expect(ApiKey::Fetch);
    let f2 = h.expect(ApiKey::Fetch);
    let (f1, f2) = if f1.addr == "b1:9092" {
        (f1, f2)
    } else {
        (f2, f1)
    };
    assert_eq!((f1.addr.as_str(), f2.addr.as_str()), ("b1:9092", "b2:9092"));
    assert_ne!(
        f1.conn, join1.conn,
        "fetches do not share the coordinator's connection"
    );
    assert_eq!(
        fetch_offsets(&f1),
        [("a".to_string(), 0, 10), ("b".to_string(), 0, 12)]
    );
    assert_eq!(
        fetch_offsets(&f2),
        [("a".to_string(), 1, 11), ("b".to_string(), 1, 13)]
    );

    // Heartbeats every heartbeat.interval.ms, and nothing else wakes the engine meanwhile.
    for _ in 0..3 {
        assert_eq!(h.sleep(), Duration::from_secs(3));
        let hb = h.expect(ApiKey::Heartbeat);
        assert_eq!(hb.conn, join1.conn);
        let r: HeartbeatRequest = hb.decode();
        assert_eq!((r.generation_id, r.member_id.as_str()), (1, "m-1"));
        h.respond(&hb, &HeartbeatResponse::default());
    }
    // Only heartbeats went out meanwhile; the fetches still wait for their long poll.
    let after = h
        .log
        .iter()
        .position(|r| r.correlation_id == f2.correlation_id.max(f1.correlation_id));
    let later: Vec<ApiKey> = h.log[after.unwrap() + 1..].iter().map(|r| r.api).collect();
    assert_eq!(later, [ApiKey::Heartbeat; 3]);
    assert!(h.pending.is_empty());
    assert!(errors(&mut h).is_empty());
}

#[test]
fn eager_rebalance_in_progress_revokes_then_rejoins_after_ack() {
    let mut h = stable_group(&[]);
    h.sleep();
    let hb = h.expect(ApiKey::Heartbeat);
    h.respond(
        &hb,
        &HeartbeatResponse::default().with_error_code(REBALANCE_IN_PROGRESS),
    );
    let ev = rebalances(&mut h);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, RebalanceKind::Revoke);
    assert!(!ev[0].lost);
    assert_eq!(names(&ev[0].partitions), all4());
    // No JoinGroup until the application has let go of its partitions.
    h.advance(Duration::from_millis(500));
    assert!(h.take(ApiKey::JoinGroup).is_none());

    h.assign(None, None);
    let join = h.expect(ApiKey::JoinGroup);
    assert_eq!(join.decode::<JoinGroupRequest>().member_id.as_str(), "m-1");
    assert!(subscription(&join).owned.is_empty());
}

#[test]
fn cooperative_rebalance_in_progress_rejoins_keeping_partitions() {
    let mut h = stable_group(&[("partition.assignment.strategy", "cooperative-sticky")]);
    h.sleep();
    let hb = h.expect(ApiKey::Heartbeat);
    h.respond(
        &hb,
        &HeartbeatResponse::default().with_error_code(REBALANCE_IN_PROGRESS),
    );
    // JoinGroup right away, reporting what we own; nothing revoked yet.
    assert!(rebalances(&mut h).is_empty());
    let join = h.expect(ApiKey::JoinGroup);
    let j: JoinGroupRequest = join.decode();
    assert_eq!(j.member_id.as_str(), "m-1");
    assert_eq!(j.protocols[0].name.as_str(), "cooperative-sticky");
    let owned = subscription(&join).owned;
    assert_eq!(owned.get("a"), Some(&vec![0, 1]));
    assert_eq!(owned.get("b"), Some(&vec![0, 1]));

    // Another member leads and gives us only partition 0 of each topic.
    h.respond(&join, &joined(&join, "m-1", "m-2", 2));
    let sync = h.expect(ApiKey::SyncGroup);
    assert_eq!(sync.decode::<SyncGroupRequest>().generation_id, 2);
    let mut keep = TopicPartitions::new();
    keep.insert("a".into(), vec![0]);
    keep.insert("b".into(), vec![0]);
    h.respond(&sync, &synced(&keep));
    let ev = rebalances(&mut h);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, RebalanceKind::Revoke);
    assert!(ev[0].cooperative && !ev[0].lost);
    assert_eq!(names(&ev[0].partitions), names(&[tp("a", 1), tp("b", 1)]));

    h.assign(Some(&ev[0].partitions), Some(false));
    // Nothing new to add; whatever assign follows carries no partitions.
    for r in rebalances(&mut h) {
        assert_eq!(r.kind, RebalanceKind::Assign);
        assert!(r.partitions.is_empty());
        h.assign(Some(&r.partitions), Some(true));
    }
    // The revoked partitions are handed on in another round.
    let rejoin = h.expect(ApiKey::JoinGroup);
    let owned = subscription(&rejoin).owned;
    assert_eq!(owned.get("a"), Some(&vec![0]));
    assert_eq!(owned.get("b"), Some(&vec![0]));
    assert!(h.parts.contains_key(&("a".to_string(), 0)));
    let fetching: Vec<(String, i32)> = h
        .engine
        .fetcher
        .cursors
        .keys()
        .map(|(t, p)| (t.to_string(), *p))
        .collect();
    assert_eq!(fetching, names(&[tp("a", 0), tp("b", 0)]));
}

#[test]
fn session_timeout_with_silent_coordinator_loses_partitions() {
    let mut h = stable_group(&[
        ("session.timeout.ms", "10000"),
        ("heartbeat.interval.ms", "1000"),
    ]);
    let synced_at = h.now;
    h.sleep();
    let hb = h.expect(ApiKey::Heartbeat);
    // The coordinator never answers: at the session deadline, and not before, the member gives
    // up (the engine also wakes for the auto-commit timer meanwhile).
    let mut errs = Vec::new();
    while errs.is_empty() {
        h.sleep();
        errs = errors(&mut h);
    }
    assert_eq!(h.now - synced_at, Duration::from_secs(10));
    assert_eq!(errs.len(), 1, "{errs:?}");
    assert_eq!(errs[0].code, ErrorCode::L_TIMED_OUT);
    assert!(
        errs[0].message.contains("session timed out"),
        "{}",
        errs[0].message
    );
    let ev = rebalances(&mut h);
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].kind, RebalanceKind::Revoke);
    assert!(ev[0].lost);
    assert_eq!(names(&ev[0].partitions), all4());
    assert!(h.take(ApiKey::JoinGroup).is_none());

    h.assign(None, None);
    let join = h.expect(ApiKey::JoinGroup);
    assert_eq!(join.conn, hb.conn);
    assert_eq!(join.decode::<JoinGroupRequest>().member_id.as_str(), "");
}

#[test]
fn session_timeout_while_coordinator_unreachable_loses_partitions() {
    let mut h = stable_group(&[
        ("session.timeout.ms", "10000"),
        ("heartbeat.interval.ms", "1000"),
    ]);
    let synced_at = h.now;
    h.sleep();
    let hb = h.expect(ApiKey::Heartbeat);
    h.close_conn(hb.conn, "Disconnected");
    // FindCoordinator goes out but nobody answers; the session still expires on time, and the
    // engine does not spin meanwhile.
    let mut wakeups = 0;
    while h.now - synced_at < Duration::from_secs(10) {
        let slept = h.sleep();
        assert!(
            slept > Duration::ZERO,
            "busy loop at {:?}",
            h.now - synced_at
        );
        wakeups += 1;
        assert!(wakeups < 200);
    }
    assert!(h.log.iter().any(|r| r.api == ApiKey::FindCoordinator));
    let errs = errors(&mut h);
    assert!(
        errs.iter().any(|e| e.code == ErrorCode::L_TIMED_OUT),
        "{errs:?}"
    );
    let ev = rebalances(&mut h);
    assert_eq!(ev.len(), 1);
    assert!(ev[0].lost && ev[0].kind == RebalanceKind::Revoke);
}

#[test]
fn heartbeat_not_coordinator_moves_to_new_coordinator() {
    let mut h = stable_group(&[]);
    h.sleep();
    let hb = h.expect(ApiKey::Heartbeat);
    let old = hb.conn;
    h.respond(
        &hb,
        &HeartbeatResponse::default().with_error_code(NOT_COORDINATOR),
    );
    assert_eq!(h.sleep(), Duration::from_millis(100), "retry.backoff.ms");
    let fc = h.expect(ApiKey::FindCoordinator);
    answer_fetches_before(&mut h, &fc);
    h.respond(&fc, &coordinator(2, 0));
    assert!(
        !h.conns.contains_key(&old),
        "the old coordinator connection is closed"
    );

    let hb2 = loop {
        h.sleep();
        if let Some(hb) = h.take(ApiKey::Heartbeat) {
            break hb;
        }
    };
    assert_eq!(hb2.addr, "b2:9092");
    assert_ne!(hb2.conn, old);
    let r: HeartbeatRequest = hb2.decode();
    assert_eq!((r.generation_id, r.member_id.as_str()), (1, "m-1"));
    assert!(rebalances(&mut h).is_empty());
}

#[test]
fn commit_not_coordinator_is_resent_to_new_coordinator() {
    let mut h = stable_group(&[]);
    let reply = h.command(|r| Command::Commit {
        offsets: Some(vec![tp_at("a", 0, 15)]),
        reply: Some(r),
    });
    let oc = h.expect(ApiKey::OffsetCommit);
    assert_eq!(oc.addr, "b1:9092");
    let answer = |err: i16| {
        OffsetCommitResponse::default().with_topics(vec![OffsetCommitResponseTopic::default()
            .with_name(TopicName(s("a")))
            .with_partitions(vec![OffsetCommitResponsePartition::default()
                .with_partition_index(0)
                .with_error_code(err)])])
    };
    h.respond(&oc, &answer(NOT_COORDINATOR));
    assert!(
        reply.try_recv().is_err(),
        "not answered yet: the commit is retried"
    );
    h.sleep();
    let fc = h.expect(ApiKey::FindCoordinator);
    answer_fetches_before(&mut h, &fc);
    h.respond(&fc, &coordinator(2, 0));
    let oc2 = h.expect(ApiKey::OffsetCommit);
    assert_eq!(oc2.addr, "b2:9092");
    let r: OffsetCommitRequest = oc2.decode();
    assert_eq!(
        (r.generation_id_or_member_epoch, r.member_id.as_str()),
        (1, "m-1")
    );
    assert_eq!(r.topics[0].partitions[0].committed_offset, 15);
    h.respond(&oc2, &answer(0));
    let done = reply.try_recv().unwrap().unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!((done[0].offset, done[0].error), (15, ErrorCode::NONE));
}
