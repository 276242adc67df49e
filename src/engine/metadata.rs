//! The metadata cache: brokers, topics, partition leaders and epochs, and when to refresh them.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use crate::error::ErrorCode;

/// Leader of one partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PartitionLeader {
    pub leader: i32,
    pub epoch: i32,
    pub error: ErrorCode,
}

/// What the cluster told us about one topic.
#[derive(Clone, Debug, Default)]
pub(crate) struct TopicMeta {
    pub error: ErrorCode,
    /// Indexed by partition id.
    pub partitions: Vec<PartitionLeader>,
}

/// The client's view of the cluster.
pub(crate) struct Metadata {
    pub brokers: HashMap<i32, String>,
    pub topics: HashMap<String, TopicMeta>,
    /// Topics the client needs metadata for (subscribed or assigned).
    pub wanted: BTreeSet<String>,
    /// Ask for every topic (metadata queries from the application).
    pub want_all: bool,
    /// Topics to look up once, never auto-created (leader lookups for offset queries).
    pub lookup_once: BTreeSet<String>,
    /// The `lookup_once` topics of the request in flight (restored if it fails).
    inflight_lookup: BTreeSet<String>,
    /// Let the broker create wanted topics that do not exist (`allow.auto.create.topics`).
    pub allow_auto_create: bool,
    refresh_due: Option<Instant>,
    in_flight: bool,
    refresh_interval: Duration,
    retry_backoff: Duration,
    /// Bumped on every applied response so users can tell whether something changed.
    pub generation: u64,
    /// Responses applied so far: lets a user wait for one sent after a point in time.
    pub responses: u64,
    /// When the last response was applied (statistics `metadata_age`).
    pub updated_at: Option<Instant>,
    /// The request in flight asks for every topic (restored to `want_all` if it fails).
    inflight_all: bool,
    /// The controller's id from the last response (-1 until known).
    pub controller_id: i32,
    /// The cluster id from the last response that had one.
    pub cluster_id: Option<String>,
}

impl Metadata {
    pub fn new(refresh_interval: Duration, retry_backoff: Duration, now: Instant) -> Self {
        Metadata {
            brokers: HashMap::new(),
            topics: HashMap::new(),
            wanted: BTreeSet::new(),
            want_all: false,
            lookup_once: BTreeSet::new(),
            inflight_lookup: BTreeSet::new(),
            allow_auto_create: false,
            refresh_due: Some(now),
            in_flight: false,
            refresh_interval,
            retry_backoff,
            generation: 0,
            responses: 0,
            updated_at: None,
            inflight_all: false,
            controller_id: -1,
            cluster_id: None,
        }
    }

    /// The count `responses` must exceed for a response to come from a request sent from now on.
    pub fn fresh_mark(&self) -> u64 {
        self.responses + u64::from(self.in_flight)
    }

    /// Asks for a refresh as soon as possible (leader errors, new topics).
    pub fn request_refresh(&mut self, now: Instant) {
        if self.refresh_due.is_none_or(|d| d > now) {
            self.refresh_due = Some(now);
        }
    }

    /// Asks for a refresh after the retry backoff (an error that the next refresh may clear).
    pub fn request_refresh_soon(&mut self, now: Instant) {
        let at = now + self.retry_backoff;
        if self.refresh_due.is_none_or(|d| d > at) {
            self.refresh_due = Some(at);
        }
    }

    /// True when a request should go out now.
    pub fn due(&self, now: Instant) -> bool {
        !self.in_flight && self.refresh_due.is_some_and(|d| d <= now)
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        if self.in_flight {
            None
        } else {
            self.refresh_due
        }
    }

    /// Builds the request for what is wanted and marks it in flight.
    pub fn build_request(&mut self, version: i16) -> MetadataRequest {
        self.in_flight = true;
        // Cleared so that a refresh asked for while this one is in flight (a new subscription,
        // a leader error) is still pending when it completes.
        self.refresh_due = None;
        self.inflight_all = std::mem::take(&mut self.want_all);
        self.inflight_lookup = std::mem::take(&mut self.lookup_once);
        let topics = if self.inflight_all {
            None
        } else {
            Some(
                self.wanted
                    .union(&self.inflight_lookup)
                    .map(|t| {
                        MetadataRequestTopic::default()
                            .with_name(Some(TopicName(StrBytes::from_string(t.clone()))))
                    })
                    .collect(),
            )
        };
        // Auto-creation can only be declined from v4 on; older brokers always allow it.
        let create = self.allow_auto_create && self.inflight_lookup.is_empty();
        MetadataRequest::default()
            .with_topics(topics)
            .with_allow_auto_topic_creation(version < 4 || create)
    }

    /// The request failed: try again after the backoff.
    pub fn on_failure(&mut self, now: Instant) {
        self.in_flight = false;
        self.want_all |= std::mem::take(&mut self.inflight_all);
        let lookup = std::mem::take(&mut self.inflight_lookup);
        self.lookup_once.extend(lookup);
        self.schedule(now + self.retry_backoff);
    }

    /// Sets the next refresh, keeping an earlier one asked for meanwhile.
    fn schedule(&mut self, at: Instant) {
        self.refresh_due = Some(self.refresh_due.map_or(at, |d| d.min(at)));
    }

    /// Applies a response; returns true when leaders, partition counts or brokers changed.
    pub fn apply(&mut self, resp: &MetadataResponse, now: Instant) -> bool {
        self.updated_at = Some(now);
        self.in_flight = false;
        self.inflight_all = false;
        self.inflight_lookup.clear();
        self.responses += 1;
        self.controller_id = resp.controller_id.0;
        if let Some(c) = &resp.cluster_id {
            self.cluster_id = Some(c.to_string());
        }
        let mut changed = false;
        let brokers: HashMap<i32, String> = resp
            .brokers
            .iter()
            .map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port)))
            .collect();
        if !brokers.is_empty() && brokers != self.brokers {
            self.brokers = brokers;
            changed = true;
        }
        let mut retry = false;
        for t in &resp.topics {
            let Some(name) = &t.name else { continue };
            let mut partitions = vec![
                PartitionLeader {
                    leader: -1,
                    epoch: -1,
                    error: ErrorCode::LEADER_NOT_AVAILABLE
                };
                t.partitions.len()
            ];
            for p in &t.partitions {
                let idx = p.partition_index as usize;
                if idx >= partitions.len() {
                    partitions.resize(
                        idx + 1,
                        PartitionLeader {
                            leader: -1,
                            epoch: -1,
                            error: ErrorCode::UNKNOWN_TOPIC_OR_PART,
                        },
                    );
                }
                partitions[idx] = PartitionLeader {
                    leader: p.leader_id.0,
                    epoch: p.leader_epoch,
                    error: ErrorCode::from(p.error_code),
                };
                if p.leader_id.0 < 0 {
                    retry = true;
                }
            }
            let meta = TopicMeta {
                error: ErrorCode::from(t.error_code),
                partitions,
            };
            if meta.error.0 != 0 && meta.error != ErrorCode::UNKNOWN_TOPIC_OR_PART {
                retry = true;
            }
            let old = self.topics.get(name.0.as_str());
            if old.is_none_or(|o| o.partitions != meta.partitions || o.error != meta.error) {
                changed = true;
            }
            self.topics.insert(name.0.to_string(), meta);
        }
        self.schedule(if retry {
            now + self.retry_backoff
        } else {
            now + self.refresh_interval
        });
        if changed {
            self.generation += 1;
        }
        changed
    }

    /// The leader of a partition, if known and available.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<(i32, i32)> {
        let p = self
            .topics
            .get(topic)?
            .partitions
            .get(usize::try_from(partition).ok()?)?;
        (p.leader >= 0).then_some((p.leader, p.epoch))
    }

    /// Partition count of a topic that exists.
    pub fn partition_count(&self, topic: &str) -> Option<i32> {
        let t = self.topics.get(topic)?;
        (t.error.0 == 0 && !t.partitions.is_empty()).then_some(t.partitions.len() as i32)
    }

    /// True when the last response said the topic does not exist.
    pub fn is_unknown(&self, topic: &str) -> bool {
        self.topics
            .get(topic)
            .is_some_and(|t| t.error == ErrorCode::UNKNOWN_TOPIC_OR_PART)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::BrokerId;

    fn response(leaders: &[i32]) -> MetadataResponse {
        MetadataResponse::default()
            .with_brokers(vec![MetadataResponseBroker::default()
                .with_node_id(BrokerId(1))
                .with_host(StrBytes::from_static_str("127.0.0.1"))
                .with_port(9092)])
            .with_topics(vec![MetadataResponseTopic::default()
                .with_name(Some(TopicName(StrBytes::from_static_str("t"))))
                .with_partitions(
                    leaders
                        .iter()
                        .enumerate()
                        .map(|(i, l)| {
                            MetadataResponsePartition::default()
                                .with_partition_index(i as i32)
                                .with_leader_id(BrokerId(*l))
                                .with_leader_epoch(3)
                        })
                        .collect(),
                )])
    }

    #[test]
    fn applies_leaders_and_schedules_refresh() {
        let now = Instant::now();
        let mut m = Metadata::new(Duration::from_secs(300), Duration::from_millis(100), now);
        assert!(m.due(now));
        m.wanted.insert("t".into());
        let req = m.build_request(9);
        assert_eq!(req.topics.as_ref().unwrap().len(), 1);
        assert!(!m.due(now));
        assert!(m.apply(&response(&[1, 1]), now));
        assert_eq!(m.leader("t", 1), Some((1, 3)));
        assert_eq!(m.partition_count("t"), Some(2));
        assert_eq!(m.brokers[&1], "127.0.0.1:9092");
        assert_eq!(m.next_deadline(), Some(now + Duration::from_secs(300)));
        assert!(!m.apply(&response(&[1, 1]), now));
    }

    #[test]
    fn missing_leader_retries_soon() {
        let now = Instant::now();
        let mut m = Metadata::new(Duration::from_secs(300), Duration::from_millis(100), now);
        m.build_request(9);
        m.apply(&response(&[1, -1]), now);
        assert_eq!(m.leader("t", 1), None);
        assert_eq!(m.next_deadline(), Some(now + Duration::from_millis(100)));
    }

    #[test]
    fn lookup_once_topics_are_asked_once_without_auto_creation() {
        let now = Instant::now();
        let mut m = Metadata::new(Duration::from_secs(300), Duration::from_millis(100), now);
        m.allow_auto_create = true;
        m.wanted.insert("t".into());
        m.lookup_once.insert("probe".into());
        let req = m.build_request(9);
        assert_eq!(req.topics.as_ref().unwrap().len(), 2);
        assert!(!req.allow_auto_topic_creation);
        m.on_failure(now);
        let req = m.build_request(9);
        assert_eq!(
            req.topics.as_ref().unwrap().len(),
            2,
            "restored after the failure"
        );
        m.apply(&response(&[1]), now);
        let req = m.build_request(9);
        assert_eq!(req.topics.as_ref().unwrap().len(), 1);
        assert!(req.allow_auto_topic_creation);
    }
}
