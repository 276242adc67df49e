//! The application's metadata queries (`fetch_metadata`, `rd_kafka_metadata`, controller and
//! cluster id), shared by the consumer and producer engines: each is answered from the first
//! Metadata response whose request was sent after it was asked, like librdkafka's.

use std::time::Instant;

use kafka_protocol::messages::MetadataResponse;

use super::channel::Reply;
use super::connection::BrokerKey;
use super::metadata::Metadata;
use crate::error::{ErrorCode, KafkaError};
use crate::metadata::{
    Metadata as PublicMetadata, MetadataBroker, MetadataPartition, MetadataTopic,
};

/// What a query asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum MetadataScope {
    /// Every topic of the cluster.
    All,
    /// These topics only (none: brokers only).
    Topics(Vec<String>),
    /// Controller and cluster id: from the cache when any response was seen, else the next one.
    Cached,
}

impl MetadataScope {
    /// One topic, or all of them.
    pub fn of(topic: Option<&str>) -> Self {
        match topic {
            Some(t) => MetadataScope::Topics(vec![t.to_string()]),
            None => MetadataScope::All,
        }
    }
}

struct Query {
    scope: MetadataScope,
    deadline: Instant,
    reply: Reply<PublicMetadata>,
    /// `Metadata::responses` must exceed this for a response to answer the query.
    mark: u64,
}

/// Outstanding metadata queries.
#[derive(Default)]
pub(crate) struct MetadataQueries {
    queries: Vec<Query>,
}

impl MetadataQueries {
    /// Registers a query and makes sure the next Metadata request covers it.
    pub fn add(
        &mut self,
        scope: MetadataScope,
        deadline: Instant,
        reply: Reply<PublicMetadata>,
        md: &mut Metadata,
        now: Instant,
    ) {
        match &scope {
            MetadataScope::Cached if md.responses > 0 => {
                let _ = reply.send(Ok(cached(md)));
                return;
            }
            MetadataScope::Cached => {}
            MetadataScope::All => md.want_all = true,
            MetadataScope::Topics(t) => md.wanted.extend(t.iter().cloned()),
        }
        let mark = if scope == MetadataScope::Cached {
            0
        } else {
            md.request_refresh(now);
            md.fresh_mark()
        };
        self.queries.push(Query {
            scope,
            deadline,
            reply,
            mark,
        });
    }

    /// A response from `from` (at `addr`) was applied to `md`: answers the queries it covers.
    pub fn on_response(
        &mut self,
        resp: &MetadataResponse,
        md: &Metadata,
        from: BrokerKey,
        addr: Option<&str>,
    ) {
        let (ready, waiting): (Vec<Query>, Vec<Query>) =
            self.queries.drain(..).partition(|q| md.responses > q.mark);
        self.queries = waiting;
        for q in ready {
            let answer = match &q.scope {
                MetadataScope::Cached => cached(md),
                scope => public_metadata(resp, scope, from, addr),
            };
            let _ = q.reply.send(Ok(answer));
        }
    }

    /// Fails the queries whose deadline passed: `_TIMED_OUT`, or like librdkafka `_TRANSPORT`
    /// when no broker connection is up (`any_up` false) to ask.
    pub fn expire(&mut self, now: Instant, any_up: bool) {
        let (dead, live): (Vec<Query>, Vec<Query>) =
            self.queries.drain(..).partition(|q| q.deadline <= now);
        self.queries = live;
        for q in dead {
            let e = if any_up {
                KafkaError::new(ErrorCode::L_TIMED_OUT, "Metadata request timed out")
            } else {
                KafkaError::new(
                    ErrorCode::L_TRANSPORT,
                    "No broker is up to ask for metadata",
                )
            };
            let _ = q.reply.send(Err(e));
        }
    }

    pub fn next_deadline(&self) -> Option<Instant> {
        self.queries.iter().map(|q| q.deadline).min()
    }
}

/// Controller and cluster id from the cache (no brokers, no topics).
fn cached(md: &Metadata) -> PublicMetadata {
    PublicMetadata {
        orig_broker_id: -1,
        controller_id: md.controller_id,
        cluster_id: md.cluster_id.clone(),
        ..Default::default()
    }
}

/// The answering broker as librdkafka names it: a bootstrap connection whose address a broker
/// of the response advertises is that broker (librdkafka gives it the node id).
fn orig_broker(resp: &MetadataResponse, from: BrokerKey, addr: Option<&str>) -> (i32, String) {
    let addr = addr.unwrap_or("");
    let id = match from {
        BrokerKey::Node(id) | BrokerKey::Coordinator(id) => Some(id),
        BrokerKey::Bootstrap(_) => resp
            .brokers
            .iter()
            .find(|b| format!("{}:{}", b.host.as_str(), b.port) == addr)
            .map(|b| b.node_id.0),
    };
    match id {
        Some(id) => (id, format!("{addr}/{id}")),
        None => (-1, format!("{addr}/bootstrap")),
    }
}

/// Converts a response to the public type: brokers and partitions sorted by id (as librdkafka
/// does), topics in the response's order, topics asked for but missing as unknown.
pub(crate) fn public_metadata(
    resp: &MetadataResponse,
    scope: &MetadataScope,
    from: BrokerKey,
    addr: Option<&str>,
) -> PublicMetadata {
    let (orig_broker_id, orig_broker_name) = orig_broker(resp, from, addr);
    let mut brokers: Vec<MetadataBroker> = resp
        .brokers
        .iter()
        .map(|b| MetadataBroker {
            id: b.node_id.0,
            host: b.host.to_string(),
            port: b.port,
        })
        .collect();
    brokers.sort_by_key(|b| b.id);
    let wanted = |name: &str| match scope {
        MetadataScope::Topics(t) => t.iter().any(|w| w == name),
        _ => true,
    };
    let mut topics: Vec<MetadataTopic> = resp
        .topics
        .iter()
        .filter_map(|t| Some((t.name.as_ref()?.0.as_str(), t)))
        .filter(|(name, _)| wanted(name))
        .map(|(name, t)| {
            let mut partitions: Vec<MetadataPartition> = t
                .partitions
                .iter()
                .map(|p| MetadataPartition {
                    id: p.partition_index,
                    error: ErrorCode::from(p.error_code),
                    leader: p.leader_id.0,
                    replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                    isrs: p.isr_nodes.iter().map(|b| b.0).collect(),
                })
                .collect();
            partitions.sort_by_key(|p| p.id);
            MetadataTopic {
                name: name.to_string(),
                error: ErrorCode::from(t.error_code),
                partitions,
            }
        })
        .collect();
    if let MetadataScope::Topics(asked) = scope {
        for name in asked {
            if !topics.iter().any(|t| &t.name == name) {
                topics.push(MetadataTopic {
                    name: name.clone(),
                    error: ErrorCode::UNKNOWN_TOPIC_OR_PART,
                    partitions: Vec::new(),
                });
            }
        }
    }
    PublicMetadata {
        orig_broker_id,
        orig_broker_name,
        controller_id: resp.controller_id.0,
        cluster_id: resp.cluster_id.as_ref().map(|c| c.to_string()),
        brokers,
        topics,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::{BrokerId, TopicName};
    use kafka_protocol::protocol::StrBytes;
    use std::time::Duration;

    fn response() -> MetadataResponse {
        let broker = |id: i32, port: i32| {
            MetadataResponseBroker::default()
                .with_node_id(BrokerId(id))
                .with_host(StrBytes::from_static_str("127.0.0.1"))
                .with_port(port)
        };
        let part = |id: i32, leader: i32| {
            MetadataResponsePartition::default()
                .with_partition_index(id)
                .with_leader_id(BrokerId(leader))
                .with_replica_nodes(vec![BrokerId(1), BrokerId(2)])
                .with_isr_nodes(vec![BrokerId(2)])
        };
        MetadataResponse::default()
            .with_brokers(vec![broker(2, 9002), broker(1, 9001)])
            .with_controller_id(BrokerId(2))
            .with_cluster_id(Some(StrBytes::from_static_str("c1")))
            .with_topics(vec![
                MetadataResponseTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_static_str("zeta"))))
                    .with_partitions(vec![part(1, 2), part(0, 1)]),
                MetadataResponseTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_static_str("alpha"))))
                    .with_partitions(vec![part(0, 1)]),
            ])
    }

    #[test]
    fn converts_with_librdkafka_order_and_names() {
        let m = public_metadata(
            &response(),
            &MetadataScope::All,
            BrokerKey::Bootstrap(0),
            Some("127.0.0.1:9002"),
        );
        assert_eq!(
            (m.orig_broker_id, m.orig_broker_name.as_str()),
            (2, "127.0.0.1:9002/2")
        );
        assert_eq!(m.controller_id, 2);
        assert_eq!(m.cluster_id.as_deref(), Some("c1"));
        assert_eq!(m.brokers.iter().map(|b| b.id).collect::<Vec<_>>(), [1, 2]);
        let names: Vec<&str> = m.topics.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["zeta", "alpha"]);
        let p = &m.topics[0].partitions;
        assert_eq!((p[0].id, p[0].leader, p[1].id, p[1].leader), (0, 1, 1, 2));
        assert_eq!(
            (p[0].replicas.as_slice(), p[0].isrs.as_slice()),
            (&[1, 2][..], &[2][..])
        );
        let unknown = public_metadata(
            &response(),
            &MetadataScope::All,
            BrokerKey::Bootstrap(0),
            Some("10.0.0.1:1"),
        );
        assert_eq!(unknown.orig_broker_name, "10.0.0.1:1/bootstrap");
    }

    #[test]
    fn topic_scope_filters_and_reports_missing_topics() {
        let m = public_metadata(
            &response(),
            &MetadataScope::Topics(vec!["alpha".into(), "nope".into()]),
            BrokerKey::Node(1),
            Some("127.0.0.1:9001"),
        );
        assert_eq!(m.orig_broker_name, "127.0.0.1:9001/1");
        assert_eq!(m.topics.len(), 2);
        assert_eq!(m.topics[0].name, "alpha");
        assert_eq!(m.topics[1].error, ErrorCode::UNKNOWN_TOPIC_OR_PART);
        assert!(m.topics[1].partitions.is_empty());
    }

    #[test]
    fn answers_only_with_a_response_sent_after_the_query() {
        let now = Instant::now();
        let mut md = Metadata::new(Duration::from_secs(300), Duration::from_millis(100), now);
        let mut q = MetadataQueries::default();
        md.build_request(9);
        let (tx, rx) = crossbeam_channel::bounded(1);
        q.add(
            MetadataScope::All,
            now + Duration::from_secs(1),
            tx,
            &mut md,
            now,
        );
        // The response to the request already in flight does not answer it.
        md.apply(&response(), now);
        q.on_response(&response(), &md, BrokerKey::Node(1), Some("127.0.0.1:9001"));
        assert!(rx.try_recv().is_err());
        let req = md.build_request(9);
        assert!(req.topics.is_none(), "asks for all topics");
        md.apply(&response(), now);
        q.on_response(&response(), &md, BrokerKey::Node(1), Some("127.0.0.1:9001"));
        let m = rx.try_recv().unwrap().unwrap();
        assert_eq!(m.topics.len(), 2);
        // Controller id from the cache, at once.
        let (tx, rx) = crossbeam_channel::bounded(1);
        q.add(MetadataScope::Cached, now, tx, &mut md, now);
        assert_eq!(rx.try_recv().unwrap().unwrap().controller_id, 2);
    }

    #[test]
    fn expired_queries_time_out() {
        let now = Instant::now();
        let mut md = Metadata::new(Duration::from_secs(300), Duration::from_millis(100), now);
        let mut q = MetadataQueries::default();
        let (tx, rx) = crossbeam_channel::bounded(1);
        q.add(MetadataScope::Topics(vec![]), now, tx, &mut md, now);
        assert_eq!(q.next_deadline(), Some(now));
        q.expire(now, true);
        assert_eq!(
            rx.try_recv().unwrap().unwrap_err().code,
            ErrorCode::L_TIMED_OUT
        );
        let (tx, rx) = crossbeam_channel::bounded(1);
        q.add(MetadataScope::All, now, tx, &mut md, now);
        q.expire(now, false);
        assert_eq!(
            rx.try_recv().unwrap().unwrap_err().code,
            ErrorCode::L_TRANSPORT
        );
    }
}
