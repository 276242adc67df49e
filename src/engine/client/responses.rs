//! How the consumer engine handles broker responses: metadata, group, commits, committed
//! offsets, lookups and fetches.

use super::*;
use crate::engine::channel::push_error;

impl Engine {
    pub(super) fn on_response(
        &mut self,
        key: BrokerKey,
        f: InFlight<RequestCtx>,
        mut body: Bytes,
        now: Instant,
    ) {
        let v = f.version;
        self.debug(|| {
            format!(
                "{key:?}: {:?} v{v} response ({} bytes)",
                f.api_key,
                body.len()
            )
        });
        self.all_down_reported = false;
        match f.ctx {
            RequestCtx::Metadata => match self.decode::<MetadataResponse>(&mut body, v, "Metadata")
            {
                Some(resp) => {
                    let addr = self.net.address(key).map(str::to_string);
                    self.on_metadata(&resp, now);
                    self.metadata_queries
                        .on_response(&resp, &self.metadata, key, addr.as_deref());
                }
                None => self.metadata.on_failure(now),
            },
            RequestCtx::FindCoordinator => {
                let Some(resp) =
                    self.decode::<FindCoordinatorResponse>(&mut body, v, "FindCoordinator")
                else {
                    return self.with_group(|g, _| g.on_find_failed(now));
                };
                let mut found = None;
                self.with_group(|g, out| found = g.on_find_coordinator(&resp, now, out));
                if let Some((node, addr)) = found {
                    for old in self
                        .net
                        .keys()
                        .filter(|k| matches!(k, BrokerKey::Coordinator(n) if *n != node))
                        .collect::<Vec<_>>()
                    {
                        let failed = self.net.remove(old, now);
                        failed
                            .into_iter()
                            .for_each(|f| self.on_request_failed(f.ctx, now));
                    }
                    let failed = self
                        .net
                        .set_address(BrokerKey::Coordinator(node), addr, now);
                    failed
                        .into_iter()
                        .for_each(|f| self.on_request_failed(f.ctx, now));
                }
            }
            RequestCtx::Join => {
                let error_only = join_error_response(&body, v);
                let Some(resp) = error_only
                    .or_else(|| self.decode::<JoinGroupResponse>(&mut body, v, "JoinGroup"))
                else {
                    return self.with_group(|g, _| g.on_join_failed(now));
                };
                self.want_group_topics(&resp, now);
                // Like librdkafka, the leader assigns from metadata fetched after the join: the
                // partition counts are fresh, and followers' SyncGroups are not outrun.
                let mark = self.metadata.fresh_mark();
                self.leader_metadata_mark = mark;
                let next = match &mut self.group {
                    Some(g) => g.on_join(resp, now, &|_| None, &mut self.out),
                    None => None,
                };
                if let Some(req) = next {
                    self.send_group(req, now);
                }
                if self
                    .group
                    .as_ref()
                    .is_some_and(|g| matches!(g.phase, Phase::AwaitMetadata(_)))
                {
                    self.metadata.request_refresh(now);
                }
            }
            RequestCtx::Sync => {
                let resp = match null_assignment_sync_response(&body, v) {
                    Some(r) => Some(r),
                    None => self.decode::<SyncGroupResponse>(&mut body, v, "SyncGroup"),
                };
                match resp {
                    Some(resp) => self.with_group(|g, out| g.on_sync(resp, now, out)),
                    None => self.with_group(|g, _| g.on_join_failed(now)),
                }
            }
            RequestCtx::Heartbeat => {
                match self.decode::<HeartbeatResponse>(&mut body, v, "Heartbeat") {
                    Some(resp) => self.with_group(|g, out| g.on_heartbeat(resp, now, out)),
                    None => self.with_group(|g, _| g.on_heartbeat_failed(now)),
                }
            }
            RequestCtx::Leave => {
                if let Some((reply, _)) = self.closing.take() {
                    let _ = reply.send(Ok(()));
                    self.closed = true;
                }
            }
            RequestCtx::Commit(c) => {
                match self.decode::<OffsetCommitResponse>(&mut body, v, "OffsetCommit") {
                    Some(resp) => self.on_commit(c, &resp, now),
                    None => self.finish_commit(c, Err(KafkaError::from_code(ErrorCode::L_BAD_MSG))),
                }
            }
            RequestCtx::OffsetFetch(ctx) => {
                let resp = self.decode::<OffsetFetchResponse>(&mut body, v, "OffsetFetch");
                self.on_offset_fetch(ctx, resp, now);
            }
            RequestCtx::Lookup(l) => {
                match self.decode::<ListOffsetsResponse>(&mut body, v, "ListOffsets") {
                    Some(resp) => {
                        if self.fetcher.on_lookup_response(l, resp, &mut self.out, now) {
                            self.metadata.request_refresh_soon(now);
                        }
                    }
                    None => self.fetcher.on_lookup_failed(l, now),
                }
            }
            RequestCtx::Fetch(ctx) => match self.decode::<FetchResponse>(&mut body, v, "Fetch") {
                Some(resp) => {
                    self.on_fetch_throttle(ctx.node, resp.throttle_time_ms, now);
                    let mut sinks = FetchSinks {
                        out: &mut self.out,
                        pool: &self.pool,
                        shared: &self.shared,
                    };
                    if self.fetcher.on_fetch_response(ctx, resp, &mut sinks, now) {
                        self.metadata.request_refresh(now);
                    }
                }
                None => self.fetcher.on_fetch_failed(&ctx),
            },
            RequestCtx::Watermark(w) => {
                let resp = self.decode::<ListOffsetsResponse>(&mut body, v, "ListOffsets");
                if self.queries.on_watermark(w, resp) {
                    self.metadata.request_refresh_soon(now);
                }
            }
            RequestCtx::Groups(GroupsCtx::List { query, broker }) => {
                let resp = self.decode::<ListGroupsResponse>(&mut body, v, "ListGroups");
                if let Some(next) = self.group_lists.on_list(query, broker, resp) {
                    self.group_lists.requeue(next);
                }
            }
            RequestCtx::Groups(GroupsCtx::Describe { query, broker }) => {
                let resp = self.decode::<DescribeGroupsResponse>(&mut body, v, "DescribeGroups");
                self.group_lists
                    .on_describe(query, broker, resp, &self.metadata);
            }
            RequestCtx::Times(t) => {
                let resp = self.decode::<ListOffsetsResponse>(&mut body, v, "ListOffsets");
                if self.times.on_response(t, resp) {
                    self.metadata.request_refresh_soon(now);
                }
            }
        }
    }

    /// The leader needs metadata for every member's topics.
    pub(super) fn want_group_topics(&mut self, resp: &JoinGroupResponse, now: Instant) {
        if resp.members.is_empty() {
            return;
        }
        for m in &resp.members {
            if let Ok(s) = crate::engine::assignor::decode_subscription(
                m.member_id.as_str(),
                None,
                &m.metadata,
            ) {
                for t in s.topics {
                    if self.metadata.partition_count(&t).is_none() && self.metadata.wanted.insert(t)
                    {
                        self.metadata.request_refresh(now);
                    }
                }
            }
        }
    }

    pub(super) fn on_metadata(&mut self, resp: &MetadataResponse, now: Instant) {
        let before: HashMap<String, i32> = self
            .group
            .as_ref()
            .map(|g| {
                g.subscription
                    .iter()
                    .filter_map(|t| self.metadata.partition_count(t).map(|n| (t.clone(), n)))
                    .collect()
            })
            .unwrap_or_default();
        self.metadata.apply(resp, now);
        let brokers: Vec<(i32, String)> = self
            .metadata
            .brokers
            .iter()
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        for (id, addr) in &brokers {
            let failed = self
                .net
                .set_address(BrokerKey::Node(*id), addr.clone(), now);
            failed
                .into_iter()
                .for_each(|f| self.on_request_failed(f.ctx, now));
        }
        let gone: Vec<BrokerKey> = self
            .net
            .keys()
            .filter(|k| matches!(k, BrokerKey::Node(id) if !self.metadata.brokers.contains_key(id)))
            .collect();
        for k in gone {
            let failed = self.net.remove(k, now);
            failed
                .into_iter()
                .for_each(|f| self.on_request_failed(f.ctx, now));
        }
        if !brokers.is_empty() {
            for k in self
                .net
                .keys()
                .filter(|k| matches!(k, BrokerKey::Bootstrap(_)))
                .collect::<Vec<_>>()
            {
                if self.net.inflight_count(k) == 0 {
                    self.net.close(k, now, false);
                }
            }
        }
        if let Some(g) = &mut self.group {
            let after: HashMap<String, i32> = g
                .subscription
                .iter()
                .filter_map(|t| self.metadata.partition_count(t).map(|n| (t.clone(), n)))
                .collect();
            let missing: Vec<&String> = g
                .subscription
                .iter()
                .filter(|t| self.metadata.is_unknown(t))
                .collect();
            for t in missing {
                let msg = format!(
                    "Subscribed topic not available: {t}: Broker: Unknown topic or partition"
                );
                push_error(&mut self.out, ErrorCode::UNKNOWN_TOPIC_OR_PART, msg);
            }
            if after != before && !before.is_empty() {
                g.on_metadata_changed(&mut self.out);
            }
        }
    }

    pub(super) fn on_commit(&mut self, c: CommitCtx, resp: &OffsetCommitResponse, now: Instant) {
        let (results, first) = offsets::commit_results(&c.offsets, resp);
        if matches!(
            first,
            ErrorCode::NOT_COORDINATOR
                | ErrorCode::COORDINATOR_NOT_AVAILABLE
                | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
        ) && now < c.deadline
        {
            self.with_group(|g, _| g.coordinator_lost(now));
            self.pending_commits.push_back(c);
            return;
        }
        for tp in results.iter().filter(|tp| tp.error.0 == 0) {
            self.last_committed
                .insert((Arc::from(tp.topic.as_str()), tp.partition), tp.offset);
        }
        if matches!(
            first,
            ErrorCode::ILLEGAL_GENERATION
                | ErrorCode::UNKNOWN_MEMBER_ID
                | ErrorCode::REBALANCE_IN_PROGRESS
        ) {
            self.metadata.request_refresh_soon(now);
        }
        let result = if first.0 == 0 {
            Ok(())
        } else {
            Err(KafkaError::new(first, format!("Commit failed: {first}")))
        };
        let CommitCtx {
            reply, offsets: _, ..
        } = c;
        match reply {
            Some(r) => {
                let _ = r.send(result.map(|_| results));
            }
            None => self.event(ConsumerEvent::OffsetCommit {
                result,
                offsets: results,
            }),
        }
    }

    pub(super) fn finish_commit(&mut self, c: CommitCtx, result: Result<()>) {
        match c.reply {
            Some(r) => {
                let _ = r.send(result.map(|_| c.offsets));
            }
            None => self.event(ConsumerEvent::OffsetCommit {
                result,
                offsets: c.offsets,
            }),
        }
    }

    pub(super) fn on_offset_fetch(
        &mut self,
        ctx: OffsetFetchCtx,
        resp: Option<OffsetFetchResponse>,
        now: Instant,
    ) {
        let parts = match &ctx {
            OffsetFetchCtx::Cursors(p) => p.clone(),
            OffsetFetchCtx::Query(q) => q.parts.clone(),
        };
        let (results, err) = match &resp {
            Some(r) => offsets::offset_fetch_results(&parts, r),
            None => (Vec::new(), ErrorCode::L_BAD_MSG),
        };
        let retriable = matches!(
            err,
            ErrorCode::NOT_COORDINATOR
                | ErrorCode::COORDINATOR_NOT_AVAILABLE
                | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
        ) || results
            .iter()
            .any(|r| r.error == ErrorCode::UNSTABLE_OFFSET_COMMIT);
        if retriable {
            self.with_group(|g, _| g.coordinator_lost(now));
        }
        match ctx {
            OffsetFetchCtx::Cursors(parts) => {
                for p in &parts {
                    self.committed_in_flight.remove(p);
                }
                if retriable || err.0 != 0 {
                    return;
                }
                for tp in results {
                    self.last_committed
                        .insert((Arc::from(tp.topic.as_str()), tp.partition), tp.offset);
                    let off = if tp.error.0 == 0 { tp.offset } else { -1 };
                    self.fetcher
                        .set_committed(&tp.topic, tp.partition, off, &mut self.out);
                }
            }
            OffsetFetchCtx::Query(q) => {
                if retriable {
                    self.queries.retry_committed(q);
                } else if err.0 != 0 {
                    let _ = q.reply.send(Err(KafkaError::new(
                        err,
                        format!("Failed to fetch committed offsets: {err}"),
                    )));
                } else {
                    let _ = q.reply.send(Ok(results));
                }
            }
        }
    }
}

/// A JoinGroup error response (v0-v5) that does not decode: librdkafka's mock cluster writes
/// null strings (protocol name, leader, member id) with every error, which the schema's
/// non-nullable strings reject. Only the error code matters then (librdkafka reads it the same
/// way); `None` when the body decodes or carries no error.
fn join_error_response(body: &[u8], version: i16) -> Option<JoinGroupResponse> {
    if !(0..=5).contains(&version) {
        return None;
    }
    let at = if version >= 2 { 4 } else { 0 };
    let code = i16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]);
    if code == 0
        || frame::decode_body::<JoinGroupResponse>(&mut Bytes::copy_from_slice(body), version)
            .is_ok()
    {
        return None;
    }
    let mut resp = JoinGroupResponse::default();
    resp.error_code = code;
    Some(resp)
}

/// A SyncGroup response (v0-v3) whose `assignment` is null (length -1), which the schema's
/// non-nullable bytes reject: librdkafka's mock cluster writes one with every SyncGroup error
/// (e.g. REBALANCE_IN_PROGRESS) and librdkafka's client reads it as an empty assignment. Returns
/// that response with an empty assignment; `None` for anything else (decoded normally).
fn null_assignment_sync_response(body: &[u8], version: i16) -> Option<SyncGroupResponse> {
    if !(0..=3).contains(&version) {
        return None;
    }
    let at = if version >= 1 { 4 } else { 0 };
    let be16 = |b: &[u8]| i16::from_be_bytes([b[0], b[1]]);
    let be32 = |b: &[u8]| i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    if body.len() != at + 6 || be32(&body[at + 2..]) != -1 {
        return None;
    }
    let mut resp = SyncGroupResponse::default();
    if version >= 1 {
        resp.throttle_time_ms = be32(body);
    }
    resp.error_code = be16(&body[at..]);
    Some(resp)
}

#[cfg(test)]
mod null_assignment_tests {
    use super::null_assignment_sync_response;

    #[test]
    fn null_assignment_keeps_the_error_code() {
        // v3: throttle 0, REBALANCE_IN_PROGRESS (27), assignment length -1.
        let body = [0, 0, 0, 0, 0, 27, 0xff, 0xff, 0xff, 0xff];
        let r = null_assignment_sync_response(&body, 3).unwrap();
        assert_eq!(r.error_code, 27);
        assert!(r.assignment.is_empty());
        // v0 has no throttle time.
        let r = null_assignment_sync_response(&body[4..], 0).unwrap();
        assert_eq!(r.error_code, 27);
        // A real (empty) assignment is left to the normal decoder.
        assert!(null_assignment_sync_response(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0], 3).is_none());
    }

    #[test]
    fn join_error_with_null_strings_keeps_the_error_code() {
        // v5: throttle 0, NOT_COORDINATOR (16), generation -1, then null strings (length -1).
        let mut body = vec![0, 0, 0, 0, 0, 16, 0xff, 0xff, 0xff, 0xff];
        body.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);
        let r = super::join_error_response(&body, 5).unwrap();
        assert_eq!(r.error_code, 16);
    }
}
