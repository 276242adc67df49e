//! Listing consumer groups (`list_groups`, `rd_kafka_list_groups`), shared by the consumer and
//! producer engines: ListGroups to every broker once metadata named them, then DescribeGroups
//! to the same broker for the groups it coordinates (one group, or all), as librdkafka does.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use kafka_protocol::messages::{
    ApiKey, DescribeGroupsRequest, DescribeGroupsResponse, GroupId, ListGroupsRequest,
    ListGroupsResponse,
};
#[cfg(test)]
use kafka_protocol::protocol::StrBytes;

use super::channel::Reply;
use super::connection::{BrokerKey, Net};
use super::metadata::Metadata;
use crate::error::ErrorCode;
use crate::metadata::{GroupInfo, GroupMemberInfo, MetadataBroker};

/// librdkafka's outcome: the call's error (`_PARTIAL` when some brokers did not answer in
/// time but groups were found) and the groups.
pub(crate) type GroupsResult = (ErrorCode, Vec<GroupInfo>);

/// The public API's view of a [`GroupsResult`]: the groups, or the call's error (also for
/// `_PARTIAL`).
pub(crate) fn groups_result((err, groups): GroupsResult) -> crate::error::Result<Vec<GroupInfo>> {
    if err.0 == 0 {
        Ok(groups)
    } else {
        Err(crate::error::KafkaError::new(
            err,
            format!("Failed to list groups: {err}"),
        ))
    }
}

struct Query {
    id: u64,
    group: Option<String>,
    /// Requests sent or to send, not answered yet.
    waiting: usize,
    /// Set once ListGroups went to every broker metadata names.
    started: bool,
    err: ErrorCode,
    groups: Vec<GroupInfo>,
    deadline: Instant,
    reply: Reply<GroupsResult>,
}

/// A request of the group listing in flight.
#[derive(Clone, Copy, Debug)]
pub(crate) enum GroupsCtx {
    List { query: u64, broker: i32 },
    Describe { query: u64, broker: i32 },
}

/// A request to send: (broker, what).
pub(crate) enum GroupsRequest {
    List(ListGroupsRequest),
    Describe(DescribeGroupsRequest),
}

/// A request for one broker, waiting to be sent.
pub(crate) type Outgoing = (i32, GroupsRequest, GroupsCtx);

/// Outstanding group listings.
#[derive(Default)]
pub(crate) struct GroupLists {
    queries: Vec<Query>,
    next_id: u64,
    /// Requests not sent yet (their broker's connection is being set up).
    unsent: Vec<Outgoing>,
}

impl GroupLists {
    /// Registers a listing of `group` (or all groups) that must end by `deadline`.
    pub fn add(
        &mut self,
        group: Option<String>,
        deadline: Instant,
        reply: Reply<GroupsResult>,
        md: &mut Metadata,
        now: Instant,
    ) {
        if md.responses == 0 {
            md.request_refresh(now);
        }
        self.next_id += 1;
        self.queries.push(Query {
            id: self.next_id,
            group,
            waiting: 0,
            started: false,
            err: ErrorCode::NO_ERROR,
            groups: Vec::new(),
            deadline,
            reply,
        });
    }

    /// Requests to send now: the unsent ones, and ListGroups to every broker for the queries
    /// that can start (metadata names the brokers). What cannot go out yet comes back through
    /// [`requeue`](Self::requeue).
    pub fn take_requests(&mut self, md: &Metadata) -> Vec<Outgoing> {
        let mut out = std::mem::take(&mut self.unsent);
        if md.responses == 0 {
            return out;
        }
        let mut brokers: Vec<i32> = md.brokers.keys().copied().collect();
        brokers.sort_unstable();
        for q in self.queries.iter_mut().filter(|q| !q.started) {
            q.started = true;
            for &b in &brokers {
                q.waiting += 1;
                let ctx = GroupsCtx::List {
                    query: q.id,
                    broker: b,
                };
                out.push((b, GroupsRequest::List(ListGroupsRequest::default()), ctx));
            }
        }
        self.finish(|q| q.started && q.waiting == 0);
        out
    }

    /// A request whose broker is not ready yet: sent with the next `take_requests`.
    pub fn requeue(&mut self, req: Outgoing) {
        let id = match req.2 {
            GroupsCtx::List { query, .. } | GroupsCtx::Describe { query, .. } => query,
        };
        if self.queries.iter().any(|q| q.id == id) {
            self.unsent.push(req);
        }
    }

    /// A request failed with `err`: `_TRANSPORT` when its connection closed,
    /// `_UNSUPPORTED_FEATURE` when the broker lacks the API.
    pub fn on_failed(&mut self, ctx: GroupsCtx, err: ErrorCode) {
        let id = match ctx {
            GroupsCtx::List { query, .. } | GroupsCtx::Describe { query, .. } => query,
        };
        if let Some(q) = self.queries.iter_mut().find(|q| q.id == id) {
            q.waiting -= 1;
            q.err = err;
        }
        self.finish(|q| q.started && q.waiting == 0);
    }

    /// A ListGroups response from `broker`: the DescribeGroups to send to it, if any group of
    /// interest is there.
    pub fn on_list(
        &mut self,
        query: u64,
        broker: i32,
        resp: Option<ListGroupsResponse>,
    ) -> Option<Outgoing> {
        let q = self.queries.iter_mut().find(|q| q.id == query)?;
        q.waiting -= 1;
        let mut next = None;
        match resp {
            None => q.err = ErrorCode::L_BAD_MSG,
            Some(r) if r.error_code != 0 => q.err = ErrorCode::from(r.error_code),
            Some(r) => {
                let names: Vec<GroupId> = r
                    .groups
                    .into_iter()
                    .map(|g| g.group_id)
                    .filter(|g| q.group.as_deref().is_none_or(|want| want == g.0.as_str()))
                    .take(if q.group.is_some() { 1 } else { usize::MAX })
                    .collect();
                if !names.is_empty() {
                    q.waiting += 1;
                    let req = DescribeGroupsRequest::default().with_groups(names);
                    next = Some((
                        broker,
                        GroupsRequest::Describe(req),
                        GroupsCtx::Describe { query, broker },
                    ));
                }
            }
        }
        self.finish(|q| q.started && q.waiting == 0);
        next
    }

    /// A DescribeGroups response from `broker` (at `host:port` per metadata).
    pub fn on_describe(
        &mut self,
        query: u64,
        broker: i32,
        resp: Option<DescribeGroupsResponse>,
        md: &Metadata,
    ) {
        let Some(q) = self.queries.iter_mut().find(|q| q.id == query) else {
            return;
        };
        q.waiting -= 1;
        let addr = md.brokers.get(&broker).map(String::as_str).unwrap_or("");
        let (host, port) = addr.rsplit_once(':').unwrap_or((addr, "0"));
        let b = MetadataBroker {
            id: broker,
            host: host.to_string(),
            port: port.parse().unwrap_or(0),
        };
        match resp {
            None => q.err = ErrorCode::L_BAD_MSG,
            Some(r) => q.groups.extend(r.groups.into_iter().map(|g| {
                GroupInfo {
                    broker: b.clone(),
                    name: g.group_id.0.to_string(),
                    error: ErrorCode::from(g.error_code),
                    state: g.group_state.to_string(),
                    protocol_type: g.protocol_type.to_string(),
                    protocol: g.protocol_data.to_string(),
                    members: g
                        .members
                        .into_iter()
                        .map(|m| GroupMemberInfo {
                            member_id: m.member_id.to_string(),
                            client_id: m.client_id.to_string(),
                            client_host: m.client_host.to_string(),
                            metadata: m.member_metadata.to_vec(),
                            assignment: m.member_assignment.to_vec(),
                        })
                        .collect(),
                }
            })),
        }
        self.finish(|q| q.started && q.waiting == 0);
    }

    /// Expires queries, then sends what can go out on `net` (each request's context wrapped by
    /// `wrap`), connecting to brokers that are not ready and keeping their requests.
    pub fn drive<C>(
        &mut self,
        md: &Metadata,
        net: &mut Net<C>,
        wrap: impl Fn(GroupsCtx) -> C,
        now: Instant,
    ) {
        self.expire(now);
        for (node, req, ctx) in self.take_requests(md) {
            let key = BrokerKey::Node(node);
            if !net.ensure(key, now) {
                self.requeue((node, req, ctx));
                continue;
            }
            let sent = match &req {
                GroupsRequest::List(r) => net
                    .version(key, ApiKey::ListGroups)
                    .map(|v| net.send(key, r, v, wrap(ctx), Duration::ZERO, now)),
                GroupsRequest::Describe(r) => net
                    .version(key, ApiKey::DescribeGroups)
                    .map(|v| net.send(key, r, v, wrap(ctx), Duration::ZERO, now)),
            };
            match sent {
                Some(Ok(())) => {}
                Some(Err(_)) => self.on_failed(ctx, ErrorCode::L_TRANSPORT),
                None => self.on_failed(ctx, ErrorCode::L_UNSUPPORTED_FEATURE),
            }
        }
    }

    /// Answers the queries whose deadline passed: what was found (`_PARTIAL`), or `_TIMED_OUT`.
    pub fn expire(&mut self, now: Instant) {
        self.finish(|q| q.deadline <= now);
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.queries.iter().map(|q| q.deadline).min()
    }

    fn finish(&mut self, done: impl Fn(&Query) -> bool) {
        let (done, live): (Vec<Query>, Vec<Query>) = self.queries.drain(..).partition(done);
        self.queries = live;
        let ids: HashSet<u64> = done.iter().map(|q| q.id).collect();
        self.unsent.retain(|r| match r.2 {
            GroupsCtx::List { query, .. } | GroupsCtx::Describe { query, .. } => {
                !ids.contains(&query)
            }
        });
        for q in done {
            let err = if q.waiting > 0 && q.err.0 == 0 {
                if q.groups.is_empty() {
                    ErrorCode::L_TIMED_OUT
                } else {
                    ErrorCode::L_PARTIAL
                }
            } else {
                q.err
            };
            let _ = q.reply.send(Ok((err, q.groups)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::describe_groups_response::{
        DescribedGroup, DescribedGroupMember,
    };
    use kafka_protocol::messages::list_groups_response::ListedGroup;
    use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
    use kafka_protocol::messages::{BrokerId, MetadataResponse};

    fn group_id(s: &str) -> GroupId {
        GroupId(StrBytes::from_string(s.to_string()))
    }

    fn metadata(now: Instant) -> Metadata {
        let mut md = Metadata::new(Duration::from_secs(300), Duration::from_millis(100), now);
        let b = |id: i32| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(id))
                .with_host(StrBytes::from_string(format!("b{id}")))
                .with_port(9092)
        };
        md.build_request(9);
        md.apply(
            &MetadataResponse::default().with_brokers(vec![b(1), b(2)]),
            now,
        );
        md
    }

    fn listed(names: &[&str]) -> ListGroupsResponse {
        ListGroupsResponse::default().with_groups(
            names
                .iter()
                .map(|n| ListedGroup::default().with_group_id(group_id(n)))
                .collect(),
        )
    }

    #[test]
    fn lists_every_broker_and_describes_its_groups() {
        let now = Instant::now();
        let md = metadata(now);
        let mut gl = GroupLists::default();
        let (tx, rx) = crossbeam_channel::bounded(1);
        let mut empty = Metadata::new(Duration::from_secs(1), Duration::from_secs(1), now);
        gl.add(None, now + Duration::from_secs(5), tx, &mut empty, now);
        assert!(gl.take_requests(&empty).is_empty(), "waits for metadata");
        let reqs = gl.take_requests(&md);
        assert_eq!(reqs.iter().map(|r| r.0).collect::<Vec<_>>(), [1, 2]);
        let mut ctxs = reqs.into_iter().map(|r| r.2);
        let Some(GroupsCtx::List { query, .. }) = ctxs.next() else {
            panic!()
        };
        // Broker 1 has no groups; broker 2 coordinates "g".
        assert!(gl.on_list(query, 1, Some(listed(&[]))).is_none());
        let (b, req, _) = gl.on_list(query, 2, Some(listed(&["g"]))).unwrap();
        let GroupsRequest::Describe(d) = req else {
            panic!()
        };
        assert_eq!((b, d.groups[0].0.as_str()), (2, "g"));
        assert!(rx.try_recv().is_err());
        let resp = DescribeGroupsResponse::default().with_groups(vec![DescribedGroup::default()
            .with_group_id(group_id("g"))
            .with_group_state(StrBytes::from_static_str("Stable"))
            .with_members(vec![DescribedGroupMember::default()
                .with_member_id(StrBytes::from_static_str("m-1"))
                .with_member_assignment(bytes::Bytes::from_static(b"\x00\x01"))])]);
        gl.on_describe(query, 2, Some(resp), &md);
        let (err, groups) = rx.try_recv().unwrap().unwrap();
        assert_eq!(err, ErrorCode::NO_ERROR);
        assert_eq!(groups[0].broker.host, "b2");
        assert_eq!(groups[0].broker.port, 9092);
        assert_eq!(groups[0].state, "Stable");
        assert_eq!(groups[0].members[0].assignment, [0, 1]);
    }

    #[test]
    fn one_group_errors_and_timeouts() {
        let now = Instant::now();
        let mut md = metadata(now);
        let mut gl = GroupLists::default();
        let (tx, rx) = crossbeam_channel::bounded(1);
        gl.add(
            Some("b".into()),
            now + Duration::from_secs(5),
            tx,
            &mut md,
            now,
        );
        let mut reqs = gl.take_requests(&md).into_iter();
        let Some((_, _, GroupsCtx::List { query, .. })) = reqs.next() else {
            panic!()
        };
        let (_, req, _) = gl
            .on_list(query, 1, Some(listed(&["a", "b", "c"])))
            .unwrap();
        let GroupsRequest::Describe(d) = req else {
            panic!()
        };
        assert_eq!(d.groups.len(), 1);
        assert_eq!(d.groups[0].0.as_str(), "b");
        // Broker 2 fails: the listing fails with the transport error once all answered.
        gl.on_failed(reqs.next().unwrap().2, ErrorCode::L_TRANSPORT);
        gl.on_describe(query, 1, Some(DescribeGroupsResponse::default()), &md);
        assert_eq!(rx.try_recv().unwrap().unwrap().0, ErrorCode::L_TRANSPORT);
        // Nobody answers in time.
        let (tx, rx) = crossbeam_channel::bounded(1);
        gl.add(None, now, tx, &mut md, now);
        gl.take_requests(&md);
        gl.expire(now);
        assert_eq!(rx.try_recv().unwrap().unwrap().0, ErrorCode::L_TIMED_OUT);
    }
}
