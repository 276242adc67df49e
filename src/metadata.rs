//! The cluster as the application sees it: brokers, controller, cluster id, and topics with
//! their partitions' leaders, replicas and in-sync replicas, in the order the broker sent them;
//! and the consumer groups its brokers coordinate.

use crate::error::ErrorCode;

/// One metadata answer (librdkafka's `rd_kafka_metadata_t`, plus controller and cluster id).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    /// Id of the broker that answered (-1 if it is not in the broker list).
    pub orig_broker_id: i32,
    /// Its name, librdkafka style: `host:port/id` (or `host:port/bootstrap`).
    pub orig_broker_name: String,
    /// The controller's broker id (-1 if the broker did not say).
    pub controller_id: i32,
    /// The cluster id (Metadata v2 and later).
    pub cluster_id: Option<String>,
    /// The brokers of the cluster.
    pub brokers: Vec<MetadataBroker>,
    /// The topics asked for (all of them, or the ones named).
    pub topics: Vec<MetadataTopic>,
}

/// A broker in [`Metadata`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataBroker {
    /// Broker (node) id.
    pub id: i32,
    /// Host name it advertises.
    pub host: String,
    /// Port.
    pub port: i32,
}

/// A topic in [`Metadata`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataTopic {
    /// Topic name.
    pub name: String,
    /// The topic's error (`UNKNOWN_TOPIC_OR_PART` for a topic that does not exist).
    pub error: ErrorCode,
    /// Its partitions.
    pub partitions: Vec<MetadataPartition>,
}

/// A partition in [`Metadata`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetadataPartition {
    /// Partition id.
    pub id: i32,
    /// The partition's error (e.g. `LEADER_NOT_AVAILABLE`).
    pub error: ErrorCode,
    /// Leader broker id (-1 without a leader).
    pub leader: i32,
    /// Replica broker ids.
    pub replicas: Vec<i32>,
    /// In-sync replica broker ids.
    pub isrs: Vec<i32>,
}

/// A consumer group as its coordinator describes it (librdkafka's `rd_kafka_group_info`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupInfo {
    /// The broker that coordinates the group.
    pub broker: MetadataBroker,
    /// Group id.
    pub name: String,
    /// The group's error from DescribeGroups.
    pub error: ErrorCode,
    /// State (`Stable`, `Empty`, `PreparingRebalance`...).
    pub state: String,
    /// Protocol type (`consumer` for consumer groups).
    pub protocol_type: String,
    /// The chosen protocol (assignor name).
    pub protocol: String,
    /// The members.
    pub members: Vec<GroupMemberInfo>,
}

/// A member of a [`GroupInfo`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GroupMemberInfo {
    /// Member id.
    pub member_id: String,
    /// The member's `client.id`.
    pub client_id: String,
    /// The member's host as the broker saw it.
    pub client_host: String,
    /// Member metadata (the consumer protocol's subscription), as sent.
    pub metadata: Vec<u8>,
    /// Member assignment, as sent.
    pub assignment: Vec<u8>,
}
