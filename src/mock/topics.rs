//! Topics and partitions: creation (explicit, CreateTopics, or automatic like librdkafka's
//! mock), leader placement across the brokers, and the Metadata and FindCoordinator answers.

use std::collections::{BTreeMap, HashMap};

use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, CreateTopicsRequest, CreateTopicsResponse, FindCoordinatorRequest,
    FindCoordinatorResponse, MetadataRequest, MetadataResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

use super::cluster::{err, Cluster};
use super::log::PartitionLog;
use super::produce::SequenceState;

/// One partition: its replicas (the first is the leader) and its log.
#[derive(Debug)]
pub struct Partition {
    /// The leader's broker id (-1: none).
    pub leader: i32,
    /// Bumped by each leader change.
    pub leader_epoch: i32,
    /// Replica broker ids, leader first; all of them are in sync.
    pub replicas: Vec<i32>,
    /// The records.
    pub log: PartitionLog,
    /// Idempotent producers' sequence state, by producer id.
    pub sequences: HashMap<i64, SequenceState>,
}

/// Every topic, by name.
#[derive(Debug, Default)]
pub struct Topics {
    topics: BTreeMap<String, Vec<Partition>>,
}

/// Kafka's topic name rule: 1-249 characters of `[a-zA-Z0-9._-]`, not `.` or `..`.
pub fn valid_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

impl Topics {
    /// Creates `name` with `partitions` partitions of `replication` replicas each: partition p
    /// is led by the (p mod N)th broker, followed by the next ones (librdkafka's mock places
    /// single-replica partitions the same way).
    pub fn create(
        &mut self,
        name: &str,
        partitions: i32,
        replication: i32,
        brokers: &[i32],
    ) -> Result<(), i16> {
        if !valid_topic_name(name) {
            return Err(err::INVALID_TOPIC_EXCEPTION);
        }
        if self.topics.contains_key(name) {
            return Err(err::TOPIC_ALREADY_EXISTS);
        }
        if partitions <= 0 {
            return Err(err::INVALID_PARTITIONS);
        }
        if replication <= 0 || replication as usize > brokers.len() {
            return Err(err::INVALID_REPLICATION_FACTOR);
        }
        let n = brokers.len();
        let parts = (0..partitions as usize)
            .map(|p| {
                let first = p % n;
                let replicas: Vec<i32> = (0..replication as usize)
                    .map(|r| brokers[(first + r) % n])
                    .collect();
                Partition {
                    leader: replicas[0],
                    leader_epoch: 0,
                    replicas,
                    log: PartitionLog::default(),
                    sequences: HashMap::new(),
                }
            })
            .collect();
        self.topics.insert(name.to_string(), parts);
        Ok(())
    }

    /// The partitions of `name`.
    pub fn get(&self, name: &str) -> Option<&Vec<Partition>> {
        self.topics.get(name)
    }

    /// The partitions of `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Vec<Partition>> {
        self.topics.get_mut(name)
    }

    /// Every topic name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.topics.keys().cloned().collect()
    }
}

impl Cluster {
    /// Creates `name` with the cluster's defaults if it does not exist (librdkafka's mock
    /// auto-creates on Metadata and Produce). False when the name is invalid.
    pub(super) fn auto_create(&mut self, name: &str) -> bool {
        if self.topics.get(name).is_some() {
            return true;
        }
        let brokers = self.broker_ids();
        let (p, r) = (
            self.settings.default_partitions,
            self.settings.default_replication,
        );
        self.topics.create(name, p, r, &brokers).is_ok()
    }

    /// Answers Metadata: all brokers, and the topics asked for (all when none are named),
    /// creating unknown ones when the request allows it.
    pub(super) fn metadata(&mut self, req: MetadataRequest, version: i16) -> MetadataResponse {
        let wanted: Option<Vec<String>> = match req.topics {
            None => None,
            Some(t) if t.is_empty() && version == 0 => None,
            Some(t) => Some(
                t.into_iter()
                    .filter_map(|t| t.name.map(|n| n.0.to_string()))
                    .collect(),
            ),
        };
        let auto = version < 4 || req.allow_auto_topic_creation;
        let names = wanted.unwrap_or_else(|| self.topics.names());
        let mut resp = MetadataResponse::default();
        resp.brokers = self
            .settings
            .brokers
            .iter()
            .map(|b| {
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(b.id))
                    .with_host(StrBytes::from_string(b.host.clone()))
                    .with_port(i32::from(b.port))
            })
            .collect();
        resp.cluster_id = Some(StrBytes::from_string(self.settings.cluster_id.clone()));
        resp.controller_id = BrokerId(1);
        for name in names {
            let exists = self.topics.get(&name).is_some() || (auto && self.auto_create(&name));
            let mut topic = MetadataResponseTopic::default()
                .with_name(Some(TopicName(StrBytes::from_string(name.clone()))));
            match self.topics.get(&name) {
                Some(parts) if exists => {
                    topic.partitions = parts
                        .iter()
                        .enumerate()
                        .map(|(i, p)| {
                            let ids: Vec<BrokerId> =
                                p.replicas.iter().map(|&b| BrokerId(b)).collect();
                            MetadataResponsePartition::default()
                                .with_partition_index(i as i32)
                                .with_error_code(if p.leader < 0 {
                                    err::LEADER_NOT_AVAILABLE
                                } else {
                                    err::NONE
                                })
                                .with_leader_id(BrokerId(p.leader))
                                .with_leader_epoch(p.leader_epoch)
                                .with_replica_nodes(ids.clone())
                                .with_isr_nodes(ids)
                        })
                        .collect();
                }
                _ => {
                    topic.error_code = if valid_topic_name(&name) {
                        err::UNKNOWN_TOPIC_OR_PARTITION
                    } else {
                        err::INVALID_TOPIC_EXCEPTION
                    };
                }
            }
            if let Some(&code) = self.faults.topic_errors.get(&name) {
                topic.error_code = code;
            }
            resp.topics.push(topic);
        }
        resp
    }

    /// Answers CreateTopics: -1 partitions or replicas take the cluster's defaults.
    pub(super) fn create_topics(&mut self, req: CreateTopicsRequest) -> CreateTopicsResponse {
        let brokers = self.broker_ids();
        let mut resp = CreateTopicsResponse::default();
        for t in req.topics {
            let name = t.name.0.to_string();
            let partitions = if t.num_partitions == -1 {
                self.settings.default_partitions
            } else {
                t.num_partitions
            };
            let replication = if t.replication_factor == -1 {
                self.settings.default_replication
            } else {
                i32::from(t.replication_factor)
            };
            let result = if req.validate_only {
                let mut scratch = Topics::default();
                match self.topics.get(&name) {
                    Some(_) => Err(err::TOPIC_ALREADY_EXISTS),
                    None => scratch.create(&name, partitions, replication, &brokers),
                }
            } else {
                self.topics.create(&name, partitions, replication, &brokers)
            };
            let mut r = CreatableTopicResult::default().with_name(t.name);
            match result {
                Ok(()) => {
                    r.num_partitions = partitions;
                    r.replication_factor = replication as i16;
                }
                Err(code) => {
                    r.error_code = code;
                    r.num_partitions = -1;
                    r.replication_factor = -1;
                }
            }
            resp.topics.push(r);
        }
        resp
    }

    /// Answers FindCoordinator (v0-3: one key): groups and transactional ids are spread over the
    /// brokers by a hash of the key.
    pub(super) fn find_coordinator(&self, req: FindCoordinatorRequest) -> FindCoordinatorResponse {
        let id =
            self.coordinator
                .coordinator_of(req.key_type, &req.key, self.settings.brokers.len());
        // A coordinator pinned to a broker the cluster lacks is not available.
        let Some(b) = self.settings.brokers.iter().find(|b| b.id == id) else {
            return FindCoordinatorResponse::default()
                .with_error_code(err::COORDINATOR_NOT_AVAILABLE)
                .with_node_id(BrokerId(-1))
                .with_port(-1);
        };
        FindCoordinatorResponse::default()
            .with_node_id(BrokerId(b.id))
            .with_host(StrBytes::from_string(b.host.clone()))
            .with_port(i32::from(b.port))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaders_spread_over_brokers_and_replicas_follow() {
        let mut t = Topics::default();
        t.create("a", 4, 3, &[1, 2, 3]).unwrap();
        let leaders: Vec<i32> = t.get("a").unwrap().iter().map(|p| p.leader).collect();
        assert_eq!(leaders, vec![1, 2, 3, 1]);
        t.create("c", 2, 1, &[1, 2, 3]).unwrap();
        let leaders: Vec<i32> = t.get("c").unwrap().iter().map(|p| p.leader).collect();
        assert_eq!(
            leaders,
            vec![1, 2],
            "every topic starts at broker 1, as librdkafka's mock"
        );
        assert_eq!(t.get("a").unwrap()[1].replicas, vec![2, 3, 1]);
        assert_eq!(t.create("a", 1, 1, &[1]), Err(err::TOPIC_ALREADY_EXISTS));
        assert_eq!(
            t.create("b", 1, 4, &[1, 2, 3]),
            Err(err::INVALID_REPLICATION_FACTOR)
        );
        assert_eq!(
            t.create("bad name", 1, 1, &[1]),
            Err(err::INVALID_TOPIC_EXCEPTION)
        );
    }
}
