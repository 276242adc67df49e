//! The public structs of librdkafka's header, field for field (`#[repr(C)]`), and its enum values
//! and `#define` constants.

use std::os::raw::{c_char, c_int, c_void};

use super::ctypes::*;
use super::headers::rd_kafka_headers_t;

/// A message: produced (in delivery reports), consumed, or an error event.
/// Always owned by librskafka; see `rd_kafka_message_destroy`.
#[repr(C)]
pub struct rd_kafka_message_t {
    /// Non-zero for an error event or a failed delivery.
    pub err: rd_kafka_resp_err_t,
    /// The topic handle.
    pub rkt: *mut rd_kafka_topic_t,
    /// Partition.
    pub partition: i32,
    /// The value, or for errors the error string (with `len` bytes, not NUL-terminated).
    pub payload: *mut c_void,
    /// Length of `payload`.
    pub len: usize,
    /// The key.
    pub key: *mut c_void,
    /// Length of `key`.
    pub key_len: usize,
    /// Offset.
    pub offset: i64,
    /// The producer's per-message opaque in delivery reports; otherwise library-private.
    pub _private: *mut c_void,
}

/// One partition in a list: topic, partition, offset, commit metadata, error.
#[repr(C)]
pub struct rd_kafka_topic_partition_t {
    /// Topic name (owned by the list).
    pub topic: *mut c_char,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Commit metadata (owned by the list).
    pub metadata: *mut c_void,
    /// Size of `metadata`.
    pub metadata_size: usize,
    /// Application opaque.
    pub opaque: *mut c_void,
    /// Per-partition error.
    pub err: rd_kafka_resp_err_t,
    /// Library-private (leader epoch and other state); do not touch.
    pub _private: *mut c_void,
}

/// A growable list of partitions.
#[repr(C)]
pub struct rd_kafka_topic_partition_list_t {
    /// Elements in use.
    pub cnt: c_int,
    /// Allocated elements.
    pub size: c_int,
    /// The elements.
    pub elems: *mut rd_kafka_topic_partition_t,
}

/// `mem` member of [`rd_kafka_vu_t`]'s union.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rd_kafka_vu_mem {
    /// Data.
    pub ptr: *mut c_void,
    /// Length.
    pub size: usize,
}

/// `header` member of [`rd_kafka_vu_t`]'s union.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct rd_kafka_vu_header {
    /// Header name.
    pub name: *const c_char,
    /// Header value.
    pub val: *const c_void,
    /// Value size, -1 for a NUL-terminated value.
    pub size: isize,
}

/// The value of one [`rd_kafka_vu_t`].
#[repr(C)]
#[derive(Clone, Copy)]
pub union rd_kafka_vu_value {
    /// Topic name.
    pub cstr: *const c_char,
    /// Topic handle.
    pub rkt: *mut rd_kafka_topic_t,
    /// An int.
    pub i: c_int,
    /// An int32.
    pub i32_: i32,
    /// An int64.
    pub i64_: i64,
    /// A buffer.
    pub mem: rd_kafka_vu_mem,
    /// A header.
    pub header: rd_kafka_vu_header,
    /// A header list.
    pub headers: *mut rd_kafka_headers_t,
    /// A pointer (opaque).
    pub ptr: *mut c_void,
    /// Size padding.
    pub _pad: [c_char; 64],
}

/// One typed argument of `rd_kafka_produceva()`.
#[repr(C)]
pub struct rd_kafka_vu_t {
    /// Which field of `u` is set (`RD_KAFKA_VTYPE_*`).
    pub vtype: rd_kafka_vtype_t,
    /// The value.
    pub u: rd_kafka_vu_value,
}

/// A broker in metadata.
#[repr(C)]
pub struct rd_kafka_metadata_broker {
    /// Broker id.
    pub id: i32,
    /// Host name.
    pub host: *mut c_char,
    /// Port.
    pub port: c_int,
}
/// Typedef name of [`rd_kafka_metadata_broker`].
pub type rd_kafka_metadata_broker_t = rd_kafka_metadata_broker;

/// A partition in metadata.
#[repr(C)]
pub struct rd_kafka_metadata_partition {
    /// Partition id.
    pub id: i32,
    /// Partition error.
    pub err: rd_kafka_resp_err_t,
    /// Leader broker id.
    pub leader: i32,
    /// Number of replicas.
    pub replica_cnt: c_int,
    /// Replica broker ids.
    pub replicas: *mut i32,
    /// Number of in-sync replicas.
    pub isr_cnt: c_int,
    /// In-sync replica broker ids.
    pub isrs: *mut i32,
}
/// Typedef name of [`rd_kafka_metadata_partition`].
pub type rd_kafka_metadata_partition_t = rd_kafka_metadata_partition;

/// A topic in metadata.
#[repr(C)]
pub struct rd_kafka_metadata_topic {
    /// Topic name.
    pub topic: *mut c_char,
    /// Number of partitions.
    pub partition_cnt: c_int,
    /// Partitions.
    pub partitions: *mut rd_kafka_metadata_partition,
    /// Topic error.
    pub err: rd_kafka_resp_err_t,
}
/// Typedef name of [`rd_kafka_metadata_topic`].
pub type rd_kafka_metadata_topic_t = rd_kafka_metadata_topic;

/// Cluster metadata (from `rd_kafka_metadata()`, freed with `rd_kafka_metadata_destroy()`).
#[repr(C)]
pub struct rd_kafka_metadata {
    /// Number of brokers.
    pub broker_cnt: c_int,
    /// Brokers.
    pub brokers: *mut rd_kafka_metadata_broker,
    /// Number of topics.
    pub topic_cnt: c_int,
    /// Topics.
    pub topics: *mut rd_kafka_metadata_topic,
    /// The broker that answered.
    pub orig_broker_id: i32,
    /// Its name.
    pub orig_broker_name: *mut c_char,
}
/// Typedef name of [`rd_kafka_metadata`].
pub type rd_kafka_metadata_t = rd_kafka_metadata;

/// One error code with its name and description (`rd_kafka_get_err_descs()`).
#[repr(C)]
pub struct rd_kafka_err_desc {
    /// The code.
    pub code: rd_kafka_resp_err_t,
    /// Name without the `RD_KAFKA_RESP_ERR_` prefix; NULL for unused codes.
    pub name: *const c_char,
    /// Description; NULL for unused codes.
    pub desc: *const c_char,
}

/// A member of a group (`rd_kafka_list_groups()`).
#[repr(C)]
pub struct rd_kafka_group_member_info {
    /// Member id.
    pub member_id: *mut c_char,
    /// Client id.
    pub client_id: *mut c_char,
    /// Client host.
    pub client_host: *mut c_char,
    /// Member metadata (binary).
    pub member_metadata: *mut c_void,
    /// Its size.
    pub member_metadata_size: c_int,
    /// Member assignment (binary).
    pub member_assignment: *mut c_void,
    /// Its size.
    pub member_assignment_size: c_int,
}

/// A group (`rd_kafka_list_groups()`).
#[repr(C)]
pub struct rd_kafka_group_info {
    /// The coordinator.
    pub broker: rd_kafka_metadata_broker,
    /// Group name.
    pub group: *mut c_char,
    /// Group error.
    pub err: rd_kafka_resp_err_t,
    /// Group state.
    pub state: *mut c_char,
    /// Protocol type.
    pub protocol_type: *mut c_char,
    /// Protocol.
    pub protocol: *mut c_char,
    /// Members.
    pub members: *mut rd_kafka_group_member_info,
    /// Number of members.
    pub member_cnt: c_int,
}

/// The groups of `rd_kafka_list_groups()` (freed with `rd_kafka_group_list_destroy()`).
#[repr(C)]
pub struct rd_kafka_group_list {
    /// Groups.
    pub groups: *mut rd_kafka_group_info,
    /// Number of groups.
    pub group_cnt: c_int,
}

// ---- enum values and #define constants ----

/// Version of librdkafka this library is compatible with (`0xMMmmrrxx`, xx = 0xff: final release).
pub const RD_KAFKA_VERSION: c_int = 0x020f00ff;

/// Producer client.
pub const RD_KAFKA_PRODUCER: rd_kafka_type_t = 0;
/// Consumer client.
pub const RD_KAFKA_CONSUMER: rd_kafka_type_t = 1;

/// Timestamp not available.
pub const RD_KAFKA_TIMESTAMP_NOT_AVAILABLE: rd_kafka_timestamp_type_t = 0;
/// Set by the producer.
pub const RD_KAFKA_TIMESTAMP_CREATE_TIME: rd_kafka_timestamp_type_t = 1;
/// Set by the broker.
pub const RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME: rd_kafka_timestamp_type_t = 2;

/// Unknown configuration property.
pub const RD_KAFKA_CONF_UNKNOWN: rd_kafka_conf_res_t = -2;
/// Invalid value.
pub const RD_KAFKA_CONF_INVALID: rd_kafka_conf_res_t = -1;
/// Success.
pub const RD_KAFKA_CONF_OK: rd_kafka_conf_res_t = 0;

/// Message was never sent.
pub const RD_KAFKA_MSG_STATUS_NOT_PERSISTED: rd_kafka_msg_status_t = 0;
/// Message may have been written.
pub const RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED: rd_kafka_msg_status_t = 1;
/// Message was written (acknowledged).
pub const RD_KAFKA_MSG_STATUS_PERSISTED: rd_kafka_msg_status_t = 2;

/// `producev` argument kinds.
pub const RD_KAFKA_VTYPE_END: rd_kafka_vtype_t = 0;
/// Topic name (`const char *`).
pub const RD_KAFKA_VTYPE_TOPIC: rd_kafka_vtype_t = 1;
/// Topic handle.
pub const RD_KAFKA_VTYPE_RKT: rd_kafka_vtype_t = 2;
/// Partition (`int32_t`).
pub const RD_KAFKA_VTYPE_PARTITION: rd_kafka_vtype_t = 3;
/// Value (`void *, size_t`).
pub const RD_KAFKA_VTYPE_VALUE: rd_kafka_vtype_t = 4;
/// Key (`void *, size_t`).
pub const RD_KAFKA_VTYPE_KEY: rd_kafka_vtype_t = 5;
/// Per-message opaque (`void *`).
pub const RD_KAFKA_VTYPE_OPAQUE: rd_kafka_vtype_t = 6;
/// Message flags (`int`).
pub const RD_KAFKA_VTYPE_MSGFLAGS: rd_kafka_vtype_t = 7;
/// Timestamp (`int64_t`).
pub const RD_KAFKA_VTYPE_TIMESTAMP: rd_kafka_vtype_t = 8;
/// One header (`const char *, const void *, ssize_t`).
pub const RD_KAFKA_VTYPE_HEADER: rd_kafka_vtype_t = 9;
/// A header list (`rd_kafka_headers_t *`).
pub const RD_KAFKA_VTYPE_HEADERS: rd_kafka_vtype_t = 10;

/// No event.
pub const RD_KAFKA_EVENT_NONE: rd_kafka_event_type_t = 0x0;
/// Delivery reports.
pub const RD_KAFKA_EVENT_DR: rd_kafka_event_type_t = 0x1;
/// Fetched message.
pub const RD_KAFKA_EVENT_FETCH: rd_kafka_event_type_t = 0x2;
/// Log line.
pub const RD_KAFKA_EVENT_LOG: rd_kafka_event_type_t = 0x4;
/// Error.
pub const RD_KAFKA_EVENT_ERROR: rd_kafka_event_type_t = 0x8;
/// Rebalance.
pub const RD_KAFKA_EVENT_REBALANCE: rd_kafka_event_type_t = 0x10;
/// Offset commit result.
pub const RD_KAFKA_EVENT_OFFSET_COMMIT: rd_kafka_event_type_t = 0x20;
/// Statistics.
pub const RD_KAFKA_EVENT_STATS: rd_kafka_event_type_t = 0x40;
/// CreateTopics result.
pub const RD_KAFKA_EVENT_CREATETOPICS_RESULT: rd_kafka_event_type_t = 100;
/// DeleteTopics result.
pub const RD_KAFKA_EVENT_DELETETOPICS_RESULT: rd_kafka_event_type_t = 101;
/// CreatePartitions result.
pub const RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT: rd_kafka_event_type_t = 102;
/// AlterConfigs result.
pub const RD_KAFKA_EVENT_ALTERCONFIGS_RESULT: rd_kafka_event_type_t = 103;
/// DescribeConfigs result.
pub const RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT: rd_kafka_event_type_t = 104;
/// DeleteRecords result.
pub const RD_KAFKA_EVENT_DELETERECORDS_RESULT: rd_kafka_event_type_t = 105;
/// DeleteGroups result.
pub const RD_KAFKA_EVENT_DELETEGROUPS_RESULT: rd_kafka_event_type_t = 106;
/// DeleteConsumerGroupOffsets result.
pub const RD_KAFKA_EVENT_DELETECONSUMERGROUPOFFSETS_RESULT: rd_kafka_event_type_t = 107;
/// OAUTHBEARER token refresh needed.
pub const RD_KAFKA_EVENT_OAUTHBEARER_TOKEN_REFRESH: rd_kafka_event_type_t = 0x100;
/// Background queue event.
pub const RD_KAFKA_EVENT_BACKGROUND: rd_kafka_event_type_t = 0x200;
/// CreateAcls result.
pub const RD_KAFKA_EVENT_CREATEACLS_RESULT: rd_kafka_event_type_t = 0x400;
/// DescribeAcls result.
pub const RD_KAFKA_EVENT_DESCRIBEACLS_RESULT: rd_kafka_event_type_t = 0x800;
/// DeleteAcls result.
pub const RD_KAFKA_EVENT_DELETEACLS_RESULT: rd_kafka_event_type_t = 0x1000;
/// ListConsumerGroups result.
pub const RD_KAFKA_EVENT_LISTCONSUMERGROUPS_RESULT: rd_kafka_event_type_t = 0x2000;
/// DescribeConsumerGroups result.
pub const RD_KAFKA_EVENT_DESCRIBECONSUMERGROUPS_RESULT: rd_kafka_event_type_t = 0x4000;
/// ListConsumerGroupOffsets result.
pub const RD_KAFKA_EVENT_LISTCONSUMERGROUPOFFSETS_RESULT: rd_kafka_event_type_t = 0x8000;
/// AlterConsumerGroupOffsets result.
pub const RD_KAFKA_EVENT_ALTERCONSUMERGROUPOFFSETS_RESULT: rd_kafka_event_type_t = 0x10000;
/// IncrementalAlterConfigs result.
pub const RD_KAFKA_EVENT_INCREMENTALALTERCONFIGS_RESULT: rd_kafka_event_type_t = 0x20000;
/// DescribeUserScramCredentials result.
pub const RD_KAFKA_EVENT_DESCRIBEUSERSCRAMCREDENTIALS_RESULT: rd_kafka_event_type_t = 0x40000;
/// AlterUserScramCredentials result.
pub const RD_KAFKA_EVENT_ALTERUSERSCRAMCREDENTIALS_RESULT: rd_kafka_event_type_t = 0x80000;
/// DescribeTopics result.
pub const RD_KAFKA_EVENT_DESCRIBETOPICS_RESULT: rd_kafka_event_type_t = 0x100000;
/// DescribeCluster result.
pub const RD_KAFKA_EVENT_DESCRIBECLUSTER_RESULT: rd_kafka_event_type_t = 0x200000;
/// ListOffsets result.
pub const RD_KAFKA_EVENT_LISTOFFSETS_RESULT: rd_kafka_event_type_t = 0x400000;
/// ElectLeaders result.
pub const RD_KAFKA_EVENT_ELECTLEADERS_RESULT: rd_kafka_event_type_t = 0x800000;

/// Let the partitioner choose.
pub const RD_KAFKA_PARTITION_UA: i32 = -1;
/// Start at the first offset.
pub const RD_KAFKA_OFFSET_BEGINNING: i64 = -2;
/// Start at the end.
pub const RD_KAFKA_OFFSET_END: i64 = -1;
/// Start at the committed offset.
pub const RD_KAFKA_OFFSET_STORED: i64 = -1000;
/// No offset.
pub const RD_KAFKA_OFFSET_INVALID: i64 = -1001;
/// Base of relative offsets from the end.
pub const RD_KAFKA_OFFSET_TAIL_BASE: i64 = -2000;

/// `rd_kafka_produce` flag: free the payload after use.
pub const RD_KAFKA_MSG_F_FREE: c_int = 0x1;
/// Copy the payload.
pub const RD_KAFKA_MSG_F_COPY: c_int = 0x2;
/// Block when the queue is full.
pub const RD_KAFKA_MSG_F_BLOCK: c_int = 0x4;
/// Produce batch: partition set per message.
pub const RD_KAFKA_MSG_F_PARTITION: c_int = 0x8;

/// Purge queued messages.
pub const RD_KAFKA_PURGE_F_QUEUE: c_int = 0x1;
/// Purge in-flight messages.
pub const RD_KAFKA_PURGE_F_INFLIGHT: c_int = 0x2;
/// Do not wait for in-flight requests.
pub const RD_KAFKA_PURGE_F_NON_BLOCKING: c_int = 0x4;

/// `rd_kafka_destroy_flags`: do not close the consumer.
pub const RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE: c_int = 0x8;

/// Older name of `RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS`.
pub const RD_KAFKA_RESP_ERR_GROUP_LOAD_IN_PROGRESS: rd_kafka_resp_err_t = 14;
/// Older name of `RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE`.
pub const RD_KAFKA_RESP_ERR_GROUP_COORDINATOR_NOT_AVAILABLE: rd_kafka_resp_err_t = 15;
/// Older name of `RD_KAFKA_RESP_ERR_NOT_COORDINATOR`.
pub const RD_KAFKA_RESP_ERR_NOT_COORDINATOR_FOR_GROUP: rd_kafka_resp_err_t = 16;
