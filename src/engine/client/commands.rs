//! The application's commands to the consumer engine: subscription, assignment, commits,
//! seeks, queries and close.

use super::*;

impl Engine {
    /// Applies an application command.
    pub fn handle_command(&mut self, cmd: Command, now: Instant) {
        match cmd {
            Command::Subscribe(topics, reply) => {
                let Some(g) = &mut self.group else {
                    let _ = reply.send(Err(KafkaError::new(
                        ErrorCode::L_UNKNOWN_GROUP,
                        "A consumer group id (group.id) is required to subscribe",
                    )));
                    return;
                };
                let set: BTreeSet<String> = topics.into_iter().collect();
                self.metadata.wanted.extend(set.iter().cloned());
                self.metadata.request_refresh(now);
                g.subscribe(set, &mut self.out);
                let _ = reply.send(Ok(()));
            }
            Command::Unsubscribe(reply) => {
                if let Some(g) = &mut self.group {
                    if let Some(leave) = g.unsubscribe(&mut self.out) {
                        self.send_group(leave, now);
                    }
                }
                let _ = reply.send(Ok(()));
            }
            Command::Assign {
                partitions,
                incremental,
                reply,
            } => {
                self.debug(|| {
                    let list: Vec<String> = partitions
                        .iter()
                        .flatten()
                        .map(|(tp, _)| format!("{}[{}]@{}", tp.topic, tp.partition, tp.offset))
                        .collect();
                    format!("assign (incremental {incremental:?}): {}", list.join(", "))
                });
                let r = self.assign(partitions, incremental, now);
                let _ = reply.send(r);
            }
            Command::Commit { offsets, reply } => self.commit(offsets, reply, now),
            Command::Committed {
                partitions,
                timeout,
                reply,
            } => {
                if self.group.is_none() {
                    let _ = reply.send(Err(KafkaError::new(
                        ErrorCode::L_UNKNOWN_GROUP,
                        "No group.id configured",
                    )));
                    return;
                }
                let parts = partitions
                    .iter()
                    .map(|tp| (tp.topic.clone(), tp.partition))
                    .collect();
                self.queries.add_committed(parts, now + timeout, reply);
            }
            Command::Seek { partition, reply } => {
                let r = match self.fetcher.get_mut(&partition.topic, partition.partition) {
                    Some(c) => {
                        c.seek(partition.offset);
                        c.shared
                            .position
                            .store(partition.offset.max(offset::INVALID), Ordering::Release);
                        Ok(())
                    }
                    None => Err(KafkaError::new(
                        ErrorCode::L_UNKNOWN_PARTITION,
                        format!(
                            "{} [{}] is not assigned",
                            partition.topic, partition.partition
                        ),
                    )),
                };
                if r.is_ok() && partition.offset < 0 && partition.offset != offset::STORED {
                    self.metadata.request_refresh(now);
                }
                let _ = reply.send(r);
            }
            Command::Pause(parts, pause, reply) => {
                for tp in parts {
                    if let Some(c) = self.fetcher.get_mut(&tp.topic, tp.partition) {
                        if c.paused != pause {
                            c.pause(pause);
                        }
                    }
                }
                let _ = reply.send(Ok(()));
            }
            Command::Watermarks {
                topic,
                partition,
                timeout,
                reply,
            } => {
                self.metadata.wanted.insert(topic.clone());
                if self.metadata.leader(&topic, partition).is_none() {
                    self.metadata.request_refresh(now);
                }
                self.queries
                    .add_watermark(topic, partition, now + timeout, reply);
            }
            Command::Metadata {
                scope,
                timeout,
                reply,
            } => {
                self.metadata_queries
                    .add(scope, now + timeout, reply, &mut self.metadata, now);
            }
            Command::OffsetsForTimes {
                partitions,
                timeout,
                reply,
            } => self
                .times
                .add(partitions, now + timeout, reply, &mut self.metadata, now),
            Command::ListGroups {
                group,
                timeout,
                reply,
            } => self
                .group_lists
                .add(group, now + timeout, reply, &mut self.metadata, now),
            Command::Wake => {}
            Command::MemberId(reply) => {
                let id = self.group.as_ref().map(|g| g.member_id.clone());
                let _ = reply.send(Ok(id.unwrap_or_default()));
            }
            Command::GroupMetadata(reply) => {
                let m = self
                    .group
                    .as_ref()
                    .map(|g| crate::group_metadata::ConsumerGroupMetadata {
                        group_id: g.group_id.clone(),
                        generation_id: g.generation,
                        member_id: g.member_id.clone(),
                        group_instance_id: g.settings.group_instance_id.clone(),
                    });
                let _ = reply.send(Ok(m));
            }
            Command::Close(reply) => self.close(reply, now),
            Command::AddBrokers(addrs) => {
                for a in addrs {
                    self.net.add_bootstrap(a);
                }
                self.metadata.request_refresh(now);
            }
        }
    }

    pub(super) fn assign(
        &mut self,
        partitions: Option<Vec<(TopicPartition, Arc<PartitionShared>)>>,
        incremental: Option<bool>,
        now: Instant,
    ) -> Result<()> {
        let current: Vec<(Arc<str>, i32)> = self.fetcher.cursors.keys().cloned().collect();
        let (add, remove): (Vec<Assigned>, Vec<(Arc<str>, i32)>) = match (partitions, incremental) {
            (None, _) => (Vec::new(), current),
            (Some(list), None) => {
                let keep: HashSet<(&str, i32)> = list
                    .iter()
                    .map(|(tp, _)| (tp.topic.as_str(), tp.partition))
                    .collect();
                let remove = current
                    .into_iter()
                    .filter(|(t, p)| !keep.contains(&(&**t, *p)))
                    .collect();
                (list, remove)
            }
            (Some(list), Some(true)) => {
                if let Some((tp, _)) = list.iter().find(|(tp, _)| {
                    self.fetcher
                        .cursors
                        .contains_key(&(Arc::from(tp.topic.as_str()), tp.partition))
                }) {
                    return Err(KafkaError::new(
                        ErrorCode::L_CONFLICT,
                        format!("{} [{}] is already assigned", tp.topic, tp.partition),
                    ));
                }
                (list, Vec::new())
            }
            (Some(list), Some(false)) => (
                Vec::new(),
                list.into_iter()
                    .map(|(tp, _)| (Arc::from(tp.topic.as_str()), tp.partition))
                    .collect(),
            ),
        };
        if !remove.is_empty() && self.settings.enable_auto_commit && self.group.is_some() {
            let offsets = self.stored_offsets(Some(&remove));
            if !offsets.is_empty() {
                self.pending_commits.push_back(CommitCtx {
                    offsets,
                    reply: None,
                    deadline: now + self.settings.net.socket_timeout,
                });
            }
        }
        for (t, p) in &remove {
            self.fetcher.remove(t, *p);
            self.last_committed.remove(&(t.clone(), *p));
        }
        for (tp, shared) in add {
            self.metadata.wanted.insert(tp.topic.clone());
            if self.metadata.leader(&tp.topic, tp.partition).is_none() {
                self.metadata.request_refresh(now);
            }
            let start = if self.group.is_none()
                && (tp.offset == offset::INVALID || tp.offset == offset::STORED)
            {
                match self.settings.fetch.auto_offset_reset {
                    crate::engine::settings::OffsetReset::Earliest => offset::BEGINNING,
                    _ => offset::END,
                }
            } else {
                tp.offset
            };
            self.fetcher.add(&tp.topic, tp.partition, shared, start);
        }
        let owned = self.fetcher.cursors.keys().fold(
            crate::engine::assignor::TopicPartitions::new(),
            |mut acc, (t, p)| {
                acc.entry(t.to_string()).or_default().push(*p);
                acc
            },
        );
        if let Some(g) = &mut self.group {
            if matches!(g.phase, Phase::AwaitApp(_)) {
                g.on_app_ack(&mut self.out);
            }
            if matches!(g.phase, Phase::Stable | Phase::Idle) {
                g.set_owned(owned);
            }
        }
        Ok(())
    }

    /// Offsets to commit: the stored offsets of `only` (or the whole assignment) that moved since
    /// the last commit. With `enable.auto.offset.store` the application stores each delivered offset.
    pub(super) fn stored_offsets(&self, only: Option<&[(Arc<str>, i32)]>) -> Vec<TopicPartition> {
        let keys: Vec<(Arc<str>, i32)> = match only {
            Some(k) => k.to_vec(),
            None => self.fetcher.cursors.keys().cloned().collect(),
        };
        keys.into_iter()
            .filter_map(|k| {
                let c = self.fetcher.cursors.get(&k)?;
                let off = c.shared.stored.load(Ordering::Acquire);
                (off >= 0 && self.last_committed.get(&k) != Some(&off))
                    .then(|| TopicPartition::with_offset(k.0.to_string(), k.1, off))
            })
            .collect()
    }

    pub(super) fn commit(
        &mut self,
        offsets: Option<Vec<TopicPartition>>,
        reply: Option<Reply<Vec<TopicPartition>>>,
        now: Instant,
    ) {
        if self.group.is_none() {
            let err = Err(KafkaError::new(
                ErrorCode::L_UNKNOWN_GROUP,
                "No group.id configured: cannot commit",
            ));
            match reply {
                Some(r) => {
                    let _ = r.send(err);
                }
                None => self.event(ConsumerEvent::OffsetCommit {
                    result: err.map(|_: Vec<TopicPartition>| ()),
                    offsets: Vec::new(),
                }),
            }
            return;
        }
        let offsets = offsets.unwrap_or_else(|| self.stored_offsets(None));
        if offsets.is_empty() {
            let err = KafkaError::new(ErrorCode::L_NO_OFFSET, "Local: No offset stored");
            match reply {
                Some(r) => {
                    let _ = r.send(Err(err));
                }
                None => self.event(ConsumerEvent::OffsetCommit {
                    result: Err(err),
                    offsets: Vec::new(),
                }),
            }
            return;
        }
        self.pending_commits.push_back(CommitCtx {
            offsets,
            reply,
            deadline: now + self.settings.net.socket_timeout,
        });
    }

    pub(super) fn close(&mut self, reply: Reply<()>, now: Instant) {
        if self.settings.enable_auto_commit && self.group.is_some() {
            let offsets = self.stored_offsets(None);
            if !offsets.is_empty() {
                self.pending_commits.push_back(CommitCtx {
                    offsets,
                    reply: None,
                    deadline: now + self.settings.net.socket_timeout,
                });
            }
        }
        let leave = self.group.as_mut().and_then(|g| g.close());
        let deadline = now + Duration::from_secs(10).min(self.settings.net.socket_timeout);
        self.closing = Some((reply, deadline));
        self.flush_commits(now);
        let sent = leave.is_some_and(|req| self.send_group(req, now));
        if !sent {
            self.finish_close_when_idle(now);
        }
    }

    pub(super) fn finish_close_when_idle(&mut self, now: Instant) {
        let commits_done = self.pending_commits.is_empty()
            && self
                .coordinator_key()
                .is_none_or(|k| self.net.inflight_count(k) == 0);
        if let Some((_, deadline)) = &self.closing {
            if commits_done || now >= *deadline {
                let (reply, _) = self.closing.take().expect("checked");
                let _ = reply.send(Ok(()));
                self.closed = true;
            }
        }
    }
}
