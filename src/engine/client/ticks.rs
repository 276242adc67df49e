//! What the consumer engine sends and when: group requests, commits, queries, lookups and
//! fetches, decided in one pass after every event.

use super::*;

impl Engine {
    pub(super) fn coordinator_key(&self) -> Option<BrokerKey> {
        self.group
            .as_ref()
            .and_then(|g| g.coordinator)
            .map(BrokerKey::Coordinator)
    }

    /// Sends a group request to the coordinator (FindCoordinator to any broker).
    pub(super) fn send_group(&mut self, req: GroupRequest, now: Instant) -> bool {
        let extra = self
            .group
            .as_ref()
            .map_or(Duration::ZERO, |g| g.join_extra_timeout());
        let result = match req {
            GroupRequest::FindCoordinator(r) => match self.any_ready_broker(now) {
                Some(k) => match self.net.version(k, ApiKey::FindCoordinator) {
                    Some(v) => {
                        let r = if v >= 4 {
                            r
                        } else {
                            r.with_coordinator_keys(Vec::new())
                        };
                        self.net
                            .send(k, &r, v, RequestCtx::FindCoordinator, Duration::ZERO, now)
                    }
                    None => Err((SendError::Unsupported, RequestCtx::FindCoordinator)),
                },
                None => Err((SendError::NotReady, RequestCtx::FindCoordinator)),
            },
            GroupRequest::Join(r) => self.send_to_coordinator(&r, RequestCtx::Join, extra, now),
            GroupRequest::Sync(r) => self.send_to_coordinator(&r, RequestCtx::Sync, extra, now),
            GroupRequest::Heartbeat(r) => {
                self.send_to_coordinator(&r, RequestCtx::Heartbeat, Duration::ZERO, now)
            }
            GroupRequest::Leave(r) => {
                // `member_id` exists up to v2, `members` from v3: kafka-protocol refuses to
                // encode a field the version lacks, so keep only the one this version has.
                let v = self
                    .coordinator_key()
                    .and_then(|k| self.net.version(k, ApiKey::LeaveGroup));
                let r = if v.is_some_and(|v| v >= 3) {
                    r.with_member_id(Default::default())
                } else {
                    r.with_members(Vec::new())
                };
                self.send_to_coordinator(&r, RequestCtx::Leave, Duration::ZERO, now)
            }
        };
        match result {
            Ok(()) => true,
            Err((_, ctx)) => {
                self.on_request_failed(ctx, now);
                false
            }
        }
    }

    pub(super) fn send_to_coordinator<R: Request>(
        &mut self,
        r: &R,
        ctx: RequestCtx,
        extra: Duration,
        now: Instant,
    ) -> Result<(), (SendError, RequestCtx)> {
        let Some(key) = self.coordinator_key() else {
            return Err((SendError::NotReady, ctx));
        };
        let Some(v) = self.net.version(key, R::KEY) else {
            return Err((SendError::Unsupported, ctx));
        };
        self.net.send(key, r, v, ctx, extra, now)
    }

    /// A broker with a ready connection, preferring known nodes; starts connecting if none is.
    pub(super) fn any_ready_broker(&mut self, now: Instant) -> Option<BrokerKey> {
        let mut keys: Vec<BrokerKey> = self
            .net
            .keys()
            .filter(|k| !matches!(k, BrokerKey::Coordinator(_)))
            .collect();
        keys.sort_by_key(|k| {
            (
                matches!(k, BrokerKey::Bootstrap(_)),
                self.net.failures(*k),
                *k,
            )
        });
        if let Some(k) = keys.iter().find(|k| self.net.is_ready(**k)) {
            return Some(*k);
        }
        if !keys.iter().any(|k| self.net.is_connecting_or_ready(*k)) {
            for k in &keys {
                self.net.ensure(*k, now);
                if self.net.is_connecting_or_ready(*k) {
                    break;
                }
            }
        }
        None
    }

    pub(super) fn flush_commits(&mut self, now: Instant) {
        let Some(key) = self.coordinator_key() else {
            return;
        };
        if !self.net.ensure(key, now) {
            return;
        }
        // A member keeps committing with its generation while a (cooperative) rejoin is under way;
        // -1 and no member id would be refused as an unknown member.
        let (generation, member, instance) = match &self.group {
            Some(g) if g.generation >= 0 && !g.member_id.is_empty() => (
                g.generation,
                g.member_id.clone(),
                g.settings.group_instance_id.clone(),
            ),
            _ => (-1, String::new(), None),
        };
        let group_id = self.settings.group_id.clone().unwrap_or_default();
        let version = self.net.version(key, ApiKey::OffsetCommit).unwrap_or(2);
        while let Some(c) = self.pending_commits.pop_front() {
            let req = offsets::build_commit(
                &group_id,
                generation,
                &member,
                instance.as_deref(),
                &c.offsets,
                version,
            );
            if let Err((_, RequestCtx::Commit(c))) =
                self.send_to_coordinator(&req, RequestCtx::Commit(c), Duration::ZERO, now)
            {
                self.pending_commits.push_front(c);
                break;
            }
        }
    }

    /// Runs every state machine forward: the one place that decides what to send.
    pub(super) fn tick(&mut self, now: Instant) {
        self.last_tick = now;
        if self.closed {
            return;
        }
        // Metadata.
        if self.metadata.due(now) {
            if let Some(k) = self.any_ready_broker(now) {
                if let Some(v) = self.net.version(k, ApiKey::Metadata) {
                    let req = self.metadata.build_request(v);
                    if self
                        .net
                        .send(k, &req, v, RequestCtx::Metadata, Duration::ZERO, now)
                        .is_err()
                    {
                        self.metadata.on_failure(now);
                    }
                }
            }
        }
        self.tick_group(now);
        self.tick_commits(now);
        self.tick_queries(now);
        self.tick_fetch(now);
        if self.closing.is_some() {
            self.finish_close_when_idle(now);
        }
    }

    pub(super) fn tick_group(&mut self, now: Instant) {
        let Some(g) = &mut self.group else { return };
        // max.poll.interval.ms
        if g.in_generation()
            && now
                >= self.start
                    + Duration::from_millis(self.shared.last_poll_ms.load(Ordering::Relaxed))
                    + g.settings.max_poll_interval
        {
            let since = now.duration_since(
                self.start
                    + Duration::from_millis(self.shared.last_poll_ms.load(Ordering::Relaxed)),
            );
            let exceeded = since.saturating_sub(g.settings.max_poll_interval);
            self.shared.polled.store(false, Ordering::Release);
            if let Some(leave) = g.on_poll_exceeded(exceeded, &mut self.out) {
                self.send_group(leave, now);
            }
            return;
        }
        if g.phase == Phase::PollExceeded && self.shared.polled.load(Ordering::Acquire) {
            g.on_polled_again();
        }
        let want_coordinator = !self.pending_commits.is_empty()
            || !self.fetcher.awaiting_committed().is_empty()
            || self.queries.wants_coordinator();
        let coord_ready = match g.coordinator {
            Some(node) => self.net.ensure(BrokerKey::Coordinator(node), now),
            None => false,
        };
        let needed = g.topics_needed();
        for t in needed {
            if self.metadata.partition_count(&t).is_none() && self.metadata.wanted.insert(t) {
                self.metadata.request_refresh(now);
            }
        }
        let md = &self.metadata;
        let mark = self.leader_metadata_mark;
        let counts = |t: &str| {
            if md.responses > mark {
                md.partition_count(t)
            } else {
                None
            }
        };
        let mut reqs = Vec::new();
        while let Some(req) =
            g.poll_request(now, coord_ready, want_coordinator, &counts, &mut self.out)
        {
            let is_find = matches!(req, GroupRequest::FindCoordinator(_));
            reqs.push(req);
            if is_find || reqs.len() > 4 {
                break;
            }
        }
        for req in reqs {
            let what = match &req {
                GroupRequest::FindCoordinator(_) => "FindCoordinator",
                GroupRequest::Join(_) => "JoinGroup",
                GroupRequest::Sync(_) => "SyncGroup",
                GroupRequest::Heartbeat(_) => "Heartbeat",
                GroupRequest::Leave(_) => "LeaveGroup",
            };
            let sent = self.send_group(req, now);
            let phase = self
                .group
                .as_ref()
                .map(|g| format!("{:?}", g.phase))
                .unwrap_or_default();
            self.debug(|| format!("group: {what} sent={sent}, phase {phase}"));
        }
    }

    pub(super) fn tick_commits(&mut self, now: Instant) {
        if let Some(at) = self.next_auto_commit {
            if now >= at {
                self.next_auto_commit = Some(now + self.settings.auto_commit_interval);
                let in_group = self
                    .group
                    .as_ref()
                    .is_some_and(|g| g.in_generation() || g.phase == Phase::Idle);
                if in_group {
                    let offsets = self.stored_offsets(None);
                    if !offsets.is_empty() {
                        self.pending_commits.push_back(CommitCtx {
                            offsets,
                            reply: None,
                            deadline: now + self.settings.net.socket_timeout,
                        });
                    }
                }
            }
        }
        // Expire commits that could not be sent in time.
        let mut i = 0;
        while i < self.pending_commits.len() {
            if self.pending_commits[i].deadline <= now {
                let c = self.pending_commits.remove(i).expect("index checked");
                self.finish_commit(
                    c,
                    Err(KafkaError::new(
                        ErrorCode::L_TIMED_OUT,
                        "Commit timed out waiting for the group coordinator",
                    )),
                );
            } else {
                i += 1;
            }
        }
        if !self.pending_commits.is_empty() {
            self.flush_commits(now);
        }
        // Committed offsets for new cursors.
        let Some(key) = self.coordinator_key() else {
            return;
        };
        let awaiting: Vec<(String, i32)> = self
            .fetcher
            .awaiting_committed()
            .into_iter()
            .map(|(t, p)| (t.to_string(), p))
            .filter(|k| !self.committed_in_flight.contains(k))
            .collect();
        if awaiting.is_empty() || !self.net.ensure(key, now) {
            return;
        }
        let group_id = self.settings.group_id.clone().unwrap_or_default();
        let stable = self.settings.fetch.read_committed
            && self
                .net
                .version(key, ApiKey::OffsetFetch)
                .is_some_and(|v| v >= 7);
        let req = offsets::build_offset_fetch(&group_id, &awaiting, stable);
        let n = awaiting.len();
        match self.send_to_coordinator(
            &req,
            RequestCtx::OffsetFetch(OffsetFetchCtx::Cursors(awaiting.clone())),
            Duration::ZERO,
            now,
        ) {
            Ok(()) => self.committed_in_flight.extend(awaiting),
            Err((e, _)) => self.debug(|| format!("OffsetFetch for {n} partitions not sent: {e:?}")),
        }
    }

    pub(super) fn tick_queries(&mut self, now: Instant) {
        self.queries.expire(now, &self.metadata);
        let any_up = self.net.keys().any(|k| self.net.is_ready(k));
        self.metadata_queries.expire(now, any_up);
        self.times.expire(now);
        self.group_lists
            .drive(&self.metadata, &mut self.net, RequestCtx::Groups, now);
        let read_committed = self.settings.fetch.read_committed;
        for (node, req, ctx) in self.times.take_requests(&self.metadata, read_committed) {
            let key = BrokerKey::Node(node);
            let v = self.net.version(key, ApiKey::ListOffsets);
            match v.filter(|_| self.net.ensure(key, now)) {
                Some(v) => {
                    if let Err((_, ctx)) =
                        self.net
                            .send(key, &req, v, RequestCtx::Times(ctx), Duration::ZERO, now)
                    {
                        self.on_request_failed(ctx, now);
                    }
                }
                None => {
                    self.net.ensure(key, now);
                    self.times.on_failed(ctx);
                }
            }
        }
        if let Some(key) = self.coordinator_key() {
            if self.net.ensure(key, now) {
                let group_id = self.settings.group_id.clone().unwrap_or_default();
                while let Some(q) = self.queries.take_committed() {
                    let req = offsets::build_offset_fetch(&group_id, &q.parts, false);
                    if let Err((_, ctx)) = self.send_to_coordinator(
                        &req,
                        RequestCtx::OffsetFetch(OffsetFetchCtx::Query(q)),
                        Duration::ZERO,
                        now,
                    ) {
                        self.on_request_failed(ctx, now);
                        break;
                    }
                }
            }
        }
        for (node, ctx, ts) in self.queries.take_watermarks(&self.metadata) {
            let key = BrokerKey::Node(node);
            if !self.net.ensure(key, now) {
                self.queries.retry_watermark(ctx);
                continue;
            }
            let Some(v) = self.net.version(key, ApiKey::ListOffsets) else {
                self.queries.retry_watermark(ctx);
                continue;
            };
            let req: ListOffsetsRequest = queries::watermark_request(&ctx, ts);
            if let Err((_, ctx)) = self.net.send(
                key,
                &req,
                v,
                RequestCtx::Watermark(ctx),
                Duration::ZERO,
                now,
            ) {
                self.on_request_failed(ctx, now);
            }
        }
    }

    pub(super) fn tick_fetch(&mut self, now: Instant) {
        let md = &self.metadata;
        let leaders = |t: &str, p: i32| md.leader(t, p);
        let lookups = self.fetcher.lookup_plan(leaders, now);
        for (node, parts) in lookups {
            let key = BrokerKey::Node(node);
            if !self.net.ensure(key, now) {
                continue;
            }
            let Some(v) = self.net.version(key, ApiKey::ListOffsets) else {
                continue;
            };
            let (req, ctx) = self.fetcher.build_lookup(node, &parts, v);
            if let Err((_, ctx)) =
                self.net
                    .send(key, &req, v, RequestCtx::Lookup(ctx), Duration::ZERO, now)
            {
                self.on_request_failed(ctx, now);
            }
        }
        let md = &self.metadata;
        let leaders = |t: &str, p: i32| md.leader(t, p);
        let plan = self.fetcher.fetch_plan(leaders, &self.shared, now);
        for (node, parts) in plan {
            let key = BrokerKey::Node(node);
            if !self.net.ensure(key, now) {
                continue;
            }
            let Some(v) = self.net.version(key, ApiKey::Fetch) else {
                continue;
            };
            let (req, ctx) = self.fetcher.build_fetch(node, &parts, v);
            let wait = Duration::from_millis(self.settings.fetch.fetch_wait_max_ms.max(0) as u64);
            if let Err((_, ctx)) = self
                .net
                .send(key, &req, v, RequestCtx::Fetch(ctx), wait, now)
            {
                self.on_request_failed(ctx, now);
            }
        }
    }
}
