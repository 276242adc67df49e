//! Error codes with librdkafka's names and values (`rd_kafka_resp_err_t`), and the library's error type.
//!
//! Negative codes are client-side ("local") errors; zero and positive codes are the Kafka protocol's
//! broker error codes, so a broker's error passes through unchanged.

use std::fmt;

/// A librdkafka error code: the same integer values as `rd_kafka_resp_err_t`.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct ErrorCode(pub i32);

/// (value, name without the `RD_KAFKA_RESP_ERR_` prefix, description as librdkafka 2.15's
/// `rd_kafka_err2str`), from `src/capi/errors.tsv`.
const TABLE: &[(i32, &str, &str)] = &[
    (-200, "_BEGIN", "_BEGIN"),
    (-199, "_BAD_MSG", "Local: Bad message format"),
    (-198, "_BAD_COMPRESSION", "Local: Invalid compressed data"),
    (-197, "_DESTROY", "Local: Broker handle destroyed for termination"),
    (-196, "_FAIL", "Local: Communication failure with broker"),
    (-195, "_TRANSPORT", "Local: Broker transport failure"),
    (-194, "_CRIT_SYS_RESOURCE", "Local: Critical system resource failure"),
    (-193, "_RESOLVE", "Local: Host resolution failure"),
    (-192, "_MSG_TIMED_OUT", "Local: Message timed out"),
    (-191, "_PARTITION_EOF", "Broker: No more messages"),
    (-190, "_UNKNOWN_PARTITION", "Local: Unknown partition"),
    (-189, "_FS", "Local: File or filesystem error"),
    (-188, "_UNKNOWN_TOPIC", "Local: Unknown topic"),
    (-187, "_ALL_BROKERS_DOWN", "Local: All broker connections are down"),
    (-186, "_INVALID_ARG", "Local: Invalid argument or configuration"),
    (-185, "_TIMED_OUT", "Local: Timed out"),
    (-184, "_QUEUE_FULL", "Local: Queue full"),
    (-183, "_ISR_INSUFF", "Local: ISR count insufficient"),
    (-182, "_NODE_UPDATE", "Local: Broker node update"),
    (-181, "_SSL", "Local: SSL error"),
    (-180, "_WAIT_COORD", "Local: Waiting for coordinator"),
    (-179, "_UNKNOWN_GROUP", "Local: Unknown group"),
    (-178, "_IN_PROGRESS", "Local: Operation in progress"),
    (-177, "_PREV_IN_PROGRESS", "Local: Previous operation in progress"),
    (-176, "_EXISTING_SUBSCRIPTION", "Local: Existing subscription"),
    (-175, "_ASSIGN_PARTITIONS", "Local: Assign partitions"),
    (-174, "_REVOKE_PARTITIONS", "Local: Revoke partitions"),
    (-173, "_CONFLICT", "Local: Conflicting use"),
    (-172, "_STATE", "Local: Erroneous state"),
    (-171, "_UNKNOWN_PROTOCOL", "Local: Unknown protocol"),
    (-170, "_NOT_IMPLEMENTED", "Local: Not implemented"),
    (-169, "_AUTHENTICATION", "Local: Authentication failure"),
    (-168, "_NO_OFFSET", "Local: No offset stored"),
    (-167, "_OUTDATED", "Local: Outdated"),
    (-166, "_TIMED_OUT_QUEUE", "Local: Timed out in queue"),
    (-165, "_UNSUPPORTED_FEATURE", "Local: Required feature not supported by broker"),
    (-164, "_WAIT_CACHE", "Local: Awaiting cache update"),
    (-163, "_INTR", "Local: Operation interrupted"),
    (-162, "_KEY_SERIALIZATION", "Local: Key serialization error"),
    (-161, "_VALUE_SERIALIZATION", "Local: Value serialization error"),
    (-160, "_KEY_DESERIALIZATION", "Local: Key deserialization error"),
    (-159, "_VALUE_DESERIALIZATION", "Local: Value deserialization error"),
    (-158, "_PARTIAL", "Local: Partial response"),
    (-157, "_READ_ONLY", "Local: Read-only object"),
    (-156, "_NOENT", "Local: No such entry"),
    (-155, "_UNDERFLOW", "Local: Read underflow"),
    (-154, "_INVALID_TYPE", "Local: Invalid type"),
    (-153, "_RETRY", "Local: Retry operation"),
    (-152, "_PURGE_QUEUE", "Local: Purged in queue"),
    (-151, "_PURGE_INFLIGHT", "Local: Purged in flight"),
    (-150, "_FATAL", "Local: Fatal error"),
    (-149, "_INCONSISTENT", "Local: Inconsistent state"),
    (-148, "_GAPLESS_GUARANTEE", "Local: Gap-less ordering would not be guaranteed if proceeding"),
    (-147, "_MAX_POLL_EXCEEDED", "Local: Maximum application poll interval (max.poll.interval.ms) exceeded"),
    (-146, "_UNKNOWN_BROKER", "Local: Unknown broker"),
    (-145, "_NOT_CONFIGURED", "Local: Functionality not configured"),
    (-144, "_FENCED", "Local: This instance has been fenced by a newer instance"),
    (-143, "_APPLICATION", "Local: Application generated error"),
    (-142, "_ASSIGNMENT_LOST", "Local: Group partition assignment lost"),
    (-141, "_NOOP", "Local: No operation performed"),
    (-140, "_AUTO_OFFSET_RESET", "Local: No offset to automatically reset to"),
    (-139, "_LOG_TRUNCATION", "Local: Partition log truncation detected"),
    (-138, "_INVALID_DIFFERENT_RECORD", "Local: an invalid record in the same batch caused the failure of this message too"),
    (-137, "_DESTROY_BROKER", "Local: Broker handle destroyed without termination"),
    (-100, "_END", "_END"),
    (-1, "UNKNOWN", "Unknown broker error"),
    (0, "NO_ERROR", "Success"),
    (1, "OFFSET_OUT_OF_RANGE", "Broker: Offset out of range"),
    (2, "INVALID_MSG", "Broker: Invalid message"),
    (3, "UNKNOWN_TOPIC_OR_PART", "Broker: Unknown topic or partition"),
    (4, "INVALID_MSG_SIZE", "Broker: Invalid message size"),
    (5, "LEADER_NOT_AVAILABLE", "Broker: Leader not available"),
    (6, "NOT_LEADER_FOR_PARTITION", "Broker: Not leader for partition"),
    (7, "REQUEST_TIMED_OUT", "Broker: Request timed out"),
    (8, "BROKER_NOT_AVAILABLE", "Broker: Broker not available"),
    (9, "REPLICA_NOT_AVAILABLE", "Broker: Replica not available"),
    (10, "MSG_SIZE_TOO_LARGE", "Broker: Message size too large"),
    (11, "STALE_CTRL_EPOCH", "Broker: StaleControllerEpochCode"),
    (12, "OFFSET_METADATA_TOO_LARGE", "Broker: Offset metadata string too large"),
    (13, "NETWORK_EXCEPTION", "Broker: Broker disconnected before response received"),
    (14, "COORDINATOR_LOAD_IN_PROGRESS", "Broker: Coordinator load in progress"),
    (15, "COORDINATOR_NOT_AVAILABLE", "Broker: Coordinator not available"),
    (16, "NOT_COORDINATOR", "Broker: Not coordinator"),
    (17, "TOPIC_EXCEPTION", "Broker: Invalid topic"),
    (18, "RECORD_LIST_TOO_LARGE", "Broker: Message batch larger than configured server segment size"),
    (19, "NOT_ENOUGH_REPLICAS", "Broker: Not enough in-sync replicas"),
    (20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "Broker: Message(s) written to insufficient number of in-sync replicas"),
    (21, "INVALID_REQUIRED_ACKS", "Broker: Invalid required acks value"),
    (22, "ILLEGAL_GENERATION", "Broker: Specified group generation id is not valid"),
    (23, "INCONSISTENT_GROUP_PROTOCOL", "Broker: Inconsistent group protocol"),
    (24, "INVALID_GROUP_ID", "Broker: Invalid group.id"),
    (25, "UNKNOWN_MEMBER_ID", "Broker: Unknown member"),
    (26, "INVALID_SESSION_TIMEOUT", "Broker: Invalid session timeout"),
    (27, "REBALANCE_IN_PROGRESS", "Broker: Group rebalance in progress"),
    (28, "INVALID_COMMIT_OFFSET_SIZE", "Broker: Commit offset data size is not valid"),
    (29, "TOPIC_AUTHORIZATION_FAILED", "Broker: Topic authorization failed"),
    (30, "GROUP_AUTHORIZATION_FAILED", "Broker: Group authorization failed"),
    (31, "CLUSTER_AUTHORIZATION_FAILED", "Broker: Cluster authorization failed"),
    (32, "INVALID_TIMESTAMP", "Broker: Invalid timestamp"),
    (33, "UNSUPPORTED_SASL_MECHANISM", "Broker: Unsupported SASL mechanism"),
    (34, "ILLEGAL_SASL_STATE", "Broker: Request not valid in current SASL state"),
    (35, "UNSUPPORTED_VERSION", "Broker: API version not supported"),
    (36, "TOPIC_ALREADY_EXISTS", "Broker: Topic already exists"),
    (37, "INVALID_PARTITIONS", "Broker: Invalid number of partitions"),
    (38, "INVALID_REPLICATION_FACTOR", "Broker: Invalid replication factor"),
    (39, "INVALID_REPLICA_ASSIGNMENT", "Broker: Invalid replica assignment"),
    (40, "INVALID_CONFIG", "Broker: Configuration is invalid"),
    (41, "NOT_CONTROLLER", "Broker: Not controller for cluster"),
    (42, "INVALID_REQUEST", "Broker: Invalid request"),
    (43, "UNSUPPORTED_FOR_MESSAGE_FORMAT", "Broker: Message format on broker does not support request"),
    (44, "POLICY_VIOLATION", "Broker: Policy violation"),
    (45, "OUT_OF_ORDER_SEQUENCE_NUMBER", "Broker: Broker received an out of order sequence number"),
    (46, "DUPLICATE_SEQUENCE_NUMBER", "Broker: Broker received a duplicate sequence number"),
    (47, "INVALID_PRODUCER_EPOCH", "Broker: Producer attempted an operation with an old epoch"),
    (48, "INVALID_TXN_STATE", "Broker: Producer attempted a transactional operation in an invalid state"),
    (49, "INVALID_PRODUCER_ID_MAPPING", "Broker: Producer attempted to use a producer id which is not currently assigned to its transactional id"),
    (50, "INVALID_TRANSACTION_TIMEOUT", "Broker: Transaction timeout is larger than the maximum value allowed by the broker's max.transaction.timeout.ms"),
    (51, "CONCURRENT_TRANSACTIONS", "Broker: Producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing"),
    (52, "TRANSACTION_COORDINATOR_FENCED", "Broker: Indicates that the transaction coordinator sending a WriteTxnMarker is no longer the current coordinator for a given producer"),
    (53, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED", "Broker: Transactional Id authorization failed"),
    (54, "SECURITY_DISABLED", "Broker: Security features are disabled"),
    (55, "OPERATION_NOT_ATTEMPTED", "Broker: Operation not attempted"),
    (56, "KAFKA_STORAGE_ERROR", "Broker: Disk error when trying to access log file on disk"),
    (57, "LOG_DIR_NOT_FOUND", "Broker: The user-specified log directory is not found in the broker config"),
    (58, "SASL_AUTHENTICATION_FAILED", "Broker: SASL Authentication failed"),
    (59, "UNKNOWN_PRODUCER_ID", "Broker: Unknown Producer Id"),
    (60, "REASSIGNMENT_IN_PROGRESS", "Broker: Partition reassignment is in progress"),
    (61, "DELEGATION_TOKEN_AUTH_DISABLED", "Broker: Delegation Token feature is not enabled"),
    (62, "DELEGATION_TOKEN_NOT_FOUND", "Broker: Delegation Token is not found on server"),
    (63, "DELEGATION_TOKEN_OWNER_MISMATCH", "Broker: Specified Principal is not valid Owner/Renewer"),
    (64, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED", "Broker: Delegation Token requests are not allowed on this connection"),
    (65, "DELEGATION_TOKEN_AUTHORIZATION_FAILED", "Broker: Delegation Token authorization failed"),
    (66, "DELEGATION_TOKEN_EXPIRED", "Broker: Delegation Token is expired"),
    (67, "INVALID_PRINCIPAL_TYPE", "Broker: Supplied principalType is not supported"),
    (68, "NON_EMPTY_GROUP", "Broker: The group is not empty"),
    (69, "GROUP_ID_NOT_FOUND", "Broker: The group id does not exist"),
    (70, "FETCH_SESSION_ID_NOT_FOUND", "Broker: The fetch session ID was not found"),
    (71, "INVALID_FETCH_SESSION_EPOCH", "Broker: The fetch session epoch is invalid"),
    (72, "LISTENER_NOT_FOUND", "Broker: No matching listener"),
    (73, "TOPIC_DELETION_DISABLED", "Broker: Topic deletion is disabled"),
    (74, "FENCED_LEADER_EPOCH", "Broker: Leader epoch is older than broker epoch"),
    (75, "UNKNOWN_LEADER_EPOCH", "Broker: Leader epoch is newer than broker epoch"),
    (76, "UNSUPPORTED_COMPRESSION_TYPE", "Broker: Unsupported compression type"),
    (77, "STALE_BROKER_EPOCH", "Broker: Broker epoch has changed"),
    (78, "OFFSET_NOT_AVAILABLE", "Broker: Leader high watermark is not caught up"),
    (79, "MEMBER_ID_REQUIRED", "Broker: Group member needs a valid member ID"),
    (80, "PREFERRED_LEADER_NOT_AVAILABLE", "Broker: Preferred leader was not available"),
    (81, "GROUP_MAX_SIZE_REACHED", "Broker: Consumer group has reached maximum size"),
    (82, "FENCED_INSTANCE_ID", "Broker: Static consumer fenced by other consumer with same group.instance.id"),
    (83, "ELIGIBLE_LEADERS_NOT_AVAILABLE", "Broker: Eligible partition leaders are not available"),
    (84, "ELECTION_NOT_NEEDED", "Broker: Leader election not needed for topic partition"),
    (85, "NO_REASSIGNMENT_IN_PROGRESS", "Broker: No partition reassignment is in progress"),
    (86, "GROUP_SUBSCRIBED_TO_TOPIC", "Broker: Deleting offsets of a topic while the consumer group is subscribed to it"),
    (87, "INVALID_RECORD", "Broker: Broker failed to validate record"),
    (88, "UNSTABLE_OFFSET_COMMIT", "Broker: There are unstable offsets that need to be cleared"),
    (89, "THROTTLING_QUOTA_EXCEEDED", "Broker: Throttling quota has been exceeded"),
    (90, "PRODUCER_FENCED", "Broker: There is a newer producer with the same transactionalId which fences the current one"),
    (91, "RESOURCE_NOT_FOUND", "Broker: Request illegally referred to resource that does not exist"),
    (92, "DUPLICATE_RESOURCE", "Broker: Request illegally referred to the same resource twice"),
    (93, "UNACCEPTABLE_CREDENTIAL", "Broker: Requested credential would not meet criteria for acceptability"),
    (94, "INCONSISTENT_VOTER_SET", "Broker: Indicates that the either the sender or recipient of a voter-only request is not one of the expected voters"),
    (95, "INVALID_UPDATE_VERSION", "Broker: Invalid update version"),
    (96, "FEATURE_UPDATE_FAILED", "Broker: Unable to update finalized features due to server error"),
    (97, "PRINCIPAL_DESERIALIZATION_FAILURE", "Broker: Request principal deserialization failed during forwarding"),
    (100, "UNKNOWN_TOPIC_ID", "Broker: Unknown topic id"),
    (103, "INCONSISTENT_TOPIC_ID", "Broker: The log's topic ID did not match the topic ID in the request"),
    (110, "FENCED_MEMBER_EPOCH", "Broker: The member epoch is fenced by the group coordinator"),
    (111, "UNRELEASED_INSTANCE_ID", "Broker: The instance ID is still used by another member in the consumer group"),
    (112, "UNSUPPORTED_ASSIGNOR", "Broker: The assignor or its version range is not supported by the consumer group"),
    (113, "STALE_MEMBER_EPOCH", "Broker: The member epoch is stale"),
    (114, "MISMATCHED_ENDPOINT_TYPE", "Broker: The request was sent to an endpoint of the wrong type"),
    (115, "UNSUPPORTED_ENDPOINT_TYPE", "Broker: This endpoint type is not supported yet"),
    (116, "UNKNOWN_CONTROLLER_ID", "Broker: This controller ID is not known"),
    (117, "UNKNOWN_SUBSCRIPTION_ID", "Broker: Client sent a push telemetry request with an invalid or outdated subscription ID"),
    (118, "TELEMETRY_TOO_LARGE", "Broker: Client sent a push telemetry request larger than the maximum size the broker will accept"),
    (119, "INVALID_REGISTRATION", "Broker: The controller has considered the broker registration to be invalid"),
    (120, "TRANSACTION_ABORTABLE", "Broker: The server encountered an error with the transaction"),
    (121, "INVALID_RECORD_STATE", "Broker: The record state is invalid"),
    (122, "SHARE_SESSION_NOT_FOUND", "Broker: The share session was not found"),
    (123, "INVALID_SHARE_SESSION_EPOCH", "Broker: The share session epoch is invalid"),
    (124, "FENCED_STATE_EPOCH", "Broker: The share-group state epoch did not match"),
    (125, "INVALID_VOTER_KEY", "Broker: The voter key doesn't match the receiving replica's key"),
    (126, "DUPLICATE_VOTER", "Broker: The voter is already part of the set of voters"),
    (127, "VOTER_NOT_FOUND", "Broker: The voter is not part of the set of voters"),
    (128, "INVALID_REGULAR_EXPRESSION", "Broker: The regular expression is not valid"),
    (129, "REBOOTSTRAP_REQUIRED", "Broker: Client metadata is stale, client should rebootstrap to obtain new metadata"),
    (130, "STREAMS_INVALID_TOPOLOGY", "Broker: The supplied topology is invalid"),
    (131, "STREAMS_INVALID_TOPOLOGY_EPOCH", "Broker: The supplied topology epoch is invalid"),
    (132, "STREAMS_TOPOLOGY_FENCED", "Broker: The supplied topology epoch is outdated"),
    (133, "SHARE_SESSION_LIMIT_REACHED", "Broker: The limit of share sessions has been reached"),
];

macro_rules! codes {
    ($($name:ident = $v:expr),* $(,)?) => {
        #[allow(missing_docs)]
        impl ErrorCode { $(pub const $name: ErrorCode = ErrorCode($v);)* }
    };
}
codes! {
    L_BEGIN = -200,
    L_BAD_MSG = -199,
    L_BAD_COMPRESSION = -198,
    L_DESTROY = -197,
    L_FAIL = -196,
    L_TRANSPORT = -195,
    L_CRIT_SYS_RESOURCE = -194,
    L_RESOLVE = -193,
    L_MSG_TIMED_OUT = -192,
    L_PARTITION_EOF = -191,
    L_UNKNOWN_PARTITION = -190,
    L_FS = -189,
    L_UNKNOWN_TOPIC = -188,
    L_ALL_BROKERS_DOWN = -187,
    L_INVALID_ARG = -186,
    L_TIMED_OUT = -185,
    L_QUEUE_FULL = -184,
    L_ISR_INSUFF = -183,
    L_NODE_UPDATE = -182,
    L_SSL = -181,
    L_WAIT_COORD = -180,
    L_UNKNOWN_GROUP = -179,
    L_IN_PROGRESS = -178,
    L_PREV_IN_PROGRESS = -177,
    L_EXISTING_SUBSCRIPTION = -176,
    L_ASSIGN_PARTITIONS = -175,
    L_REVOKE_PARTITIONS = -174,
    L_CONFLICT = -173,
    L_STATE = -172,
    L_UNKNOWN_PROTOCOL = -171,
    L_NOT_IMPLEMENTED = -170,
    L_AUTHENTICATION = -169,
    L_NO_OFFSET = -168,
    L_OUTDATED = -167,
    L_TIMED_OUT_QUEUE = -166,
    L_UNSUPPORTED_FEATURE = -165,
    L_WAIT_CACHE = -164,
    L_INTR = -163,
    L_KEY_SERIALIZATION = -162,
    L_VALUE_SERIALIZATION = -161,
    L_KEY_DESERIALIZATION = -160,
    L_VALUE_DESERIALIZATION = -159,
    L_PARTIAL = -158,
    L_READ_ONLY = -157,
    L_NOENT = -156,
    L_UNDERFLOW = -155,
    L_INVALID_TYPE = -154,
    L_RETRY = -153,
    L_PURGE_QUEUE = -152,
    L_PURGE_INFLIGHT = -151,
    L_FATAL = -150,
    L_INCONSISTENT = -149,
    L_GAPLESS_GUARANTEE = -148,
    L_MAX_POLL_EXCEEDED = -147,
    L_UNKNOWN_BROKER = -146,
    L_NOT_CONFIGURED = -145,
    L_FENCED = -144,
    L_APPLICATION = -143,
    L_ASSIGNMENT_LOST = -142,
    L_NOOP = -141,
    L_AUTO_OFFSET_RESET = -140,
    L_LOG_TRUNCATION = -139,
    L_INVALID_DIFFERENT_RECORD = -138,
    L_DESTROY_BROKER = -137,
    L_END = -100,
    UNKNOWN = -1,
    NO_ERROR = 0,
    OFFSET_OUT_OF_RANGE = 1,
    INVALID_MSG = 2,
    UNKNOWN_TOPIC_OR_PART = 3,
    INVALID_MSG_SIZE = 4,
    LEADER_NOT_AVAILABLE = 5,
    NOT_LEADER_FOR_PARTITION = 6,
    REQUEST_TIMED_OUT = 7,
    BROKER_NOT_AVAILABLE = 8,
    REPLICA_NOT_AVAILABLE = 9,
    MSG_SIZE_TOO_LARGE = 10,
    STALE_CTRL_EPOCH = 11,
    OFFSET_METADATA_TOO_LARGE = 12,
    NETWORK_EXCEPTION = 13,
    COORDINATOR_LOAD_IN_PROGRESS = 14,
    COORDINATOR_NOT_AVAILABLE = 15,
    NOT_COORDINATOR = 16,
    TOPIC_EXCEPTION = 17,
    RECORD_LIST_TOO_LARGE = 18,
    NOT_ENOUGH_REPLICAS = 19,
    NOT_ENOUGH_REPLICAS_AFTER_APPEND = 20,
    INVALID_REQUIRED_ACKS = 21,
    ILLEGAL_GENERATION = 22,
    INCONSISTENT_GROUP_PROTOCOL = 23,
    INVALID_GROUP_ID = 24,
    UNKNOWN_MEMBER_ID = 25,
    INVALID_SESSION_TIMEOUT = 26,
    REBALANCE_IN_PROGRESS = 27,
    INVALID_COMMIT_OFFSET_SIZE = 28,
    TOPIC_AUTHORIZATION_FAILED = 29,
    GROUP_AUTHORIZATION_FAILED = 30,
    CLUSTER_AUTHORIZATION_FAILED = 31,
    INVALID_TIMESTAMP = 32,
    UNSUPPORTED_SASL_MECHANISM = 33,
    ILLEGAL_SASL_STATE = 34,
    UNSUPPORTED_VERSION = 35,
    TOPIC_ALREADY_EXISTS = 36,
    INVALID_PARTITIONS = 37,
    INVALID_REPLICATION_FACTOR = 38,
    INVALID_REPLICA_ASSIGNMENT = 39,
    INVALID_CONFIG = 40,
    NOT_CONTROLLER = 41,
    INVALID_REQUEST = 42,
    UNSUPPORTED_FOR_MESSAGE_FORMAT = 43,
    POLICY_VIOLATION = 44,
    OUT_OF_ORDER_SEQUENCE_NUMBER = 45,
    DUPLICATE_SEQUENCE_NUMBER = 46,
    INVALID_PRODUCER_EPOCH = 47,
    INVALID_TXN_STATE = 48,
    INVALID_PRODUCER_ID_MAPPING = 49,
    INVALID_TRANSACTION_TIMEOUT = 50,
    CONCURRENT_TRANSACTIONS = 51,
    TRANSACTION_COORDINATOR_FENCED = 52,
    TRANSACTIONAL_ID_AUTHORIZATION_FAILED = 53,
    SECURITY_DISABLED = 54,
    OPERATION_NOT_ATTEMPTED = 55,
    KAFKA_STORAGE_ERROR = 56,
    LOG_DIR_NOT_FOUND = 57,
    SASL_AUTHENTICATION_FAILED = 58,
    UNKNOWN_PRODUCER_ID = 59,
    REASSIGNMENT_IN_PROGRESS = 60,
    DELEGATION_TOKEN_AUTH_DISABLED = 61,
    DELEGATION_TOKEN_NOT_FOUND = 62,
    DELEGATION_TOKEN_OWNER_MISMATCH = 63,
    DELEGATION_TOKEN_REQUEST_NOT_ALLOWED = 64,
    DELEGATION_TOKEN_AUTHORIZATION_FAILED = 65,
    DELEGATION_TOKEN_EXPIRED = 66,
    INVALID_PRINCIPAL_TYPE = 67,
    NON_EMPTY_GROUP = 68,
    GROUP_ID_NOT_FOUND = 69,
    FETCH_SESSION_ID_NOT_FOUND = 70,
    INVALID_FETCH_SESSION_EPOCH = 71,
    LISTENER_NOT_FOUND = 72,
    TOPIC_DELETION_DISABLED = 73,
    FENCED_LEADER_EPOCH = 74,
    UNKNOWN_LEADER_EPOCH = 75,
    UNSUPPORTED_COMPRESSION_TYPE = 76,
    STALE_BROKER_EPOCH = 77,
    OFFSET_NOT_AVAILABLE = 78,
    MEMBER_ID_REQUIRED = 79,
    PREFERRED_LEADER_NOT_AVAILABLE = 80,
    GROUP_MAX_SIZE_REACHED = 81,
    FENCED_INSTANCE_ID = 82,
    ELIGIBLE_LEADERS_NOT_AVAILABLE = 83,
    ELECTION_NOT_NEEDED = 84,
    NO_REASSIGNMENT_IN_PROGRESS = 85,
    GROUP_SUBSCRIBED_TO_TOPIC = 86,
    INVALID_RECORD = 87,
    UNSTABLE_OFFSET_COMMIT = 88,
    THROTTLING_QUOTA_EXCEEDED = 89,
    PRODUCER_FENCED = 90,
    RESOURCE_NOT_FOUND = 91,
    DUPLICATE_RESOURCE = 92,
    UNACCEPTABLE_CREDENTIAL = 93,
    INCONSISTENT_VOTER_SET = 94,
    INVALID_UPDATE_VERSION = 95,
    FEATURE_UPDATE_FAILED = 96,
    PRINCIPAL_DESERIALIZATION_FAILURE = 97,
    UNKNOWN_TOPIC_ID = 100,
    INCONSISTENT_TOPIC_ID = 103,
    FENCED_MEMBER_EPOCH = 110,
    UNRELEASED_INSTANCE_ID = 111,
    UNSUPPORTED_ASSIGNOR = 112,
    STALE_MEMBER_EPOCH = 113,
    MISMATCHED_ENDPOINT_TYPE = 114,
    UNSUPPORTED_ENDPOINT_TYPE = 115,
    UNKNOWN_CONTROLLER_ID = 116,
    UNKNOWN_SUBSCRIPTION_ID = 117,
    TELEMETRY_TOO_LARGE = 118,
    INVALID_REGISTRATION = 119,
    TRANSACTION_ABORTABLE = 120,
    INVALID_RECORD_STATE = 121,
    SHARE_SESSION_NOT_FOUND = 122,
    INVALID_SHARE_SESSION_EPOCH = 123,
    FENCED_STATE_EPOCH = 124,
    INVALID_VOTER_KEY = 125,
    DUPLICATE_VOTER = 126,
    VOTER_NOT_FOUND = 127,
    INVALID_REGULAR_EXPRESSION = 128,
    REBOOTSTRAP_REQUIRED = 129,
    STREAMS_INVALID_TOPOLOGY = 130,
    STREAMS_INVALID_TOPOLOGY_EPOCH = 131,
    STREAMS_TOPOLOGY_FENCED = 132,
    SHARE_SESSION_LIMIT_REACHED = 133,
}

impl ErrorCode {
    /// No error.
    pub const NONE: ErrorCode = ErrorCode(0);

    /// librdkafka's name without the `RD_KAFKA_RESP_ERR_` prefix, e.g. `_PARTITION_EOF`.
    pub fn name(self) -> &'static str {
        lookup(self.0).map_or("UNKNOWN", |e| e.1)
    }

    /// A human-readable description of the code.
    pub fn description(self) -> &'static str {
        lookup(self.0).map_or("Unknown error", |e| e.2)
    }

    /// True for codes the client raises itself rather than a broker.
    pub fn is_local(self) -> bool {
        self.0 < 0
    }

    /// True for broker errors that a retry of the same request can clear.
    pub fn is_retriable(self) -> bool {
        matches!(
            self,
            ErrorCode::UNKNOWN_TOPIC_OR_PART
                | ErrorCode::LEADER_NOT_AVAILABLE
                | ErrorCode::NOT_LEADER_FOR_PARTITION
                | ErrorCode::REQUEST_TIMED_OUT
                | ErrorCode::NETWORK_EXCEPTION
                | ErrorCode::COORDINATOR_LOAD_IN_PROGRESS
                | ErrorCode::COORDINATOR_NOT_AVAILABLE
                | ErrorCode::NOT_COORDINATOR
                | ErrorCode::NOT_ENOUGH_REPLICAS
                | ErrorCode::NOT_ENOUGH_REPLICAS_AFTER_APPEND
                | ErrorCode::FENCED_LEADER_EPOCH
                | ErrorCode::UNKNOWN_LEADER_EPOCH
                | ErrorCode::OFFSET_NOT_AVAILABLE
                | ErrorCode::KAFKA_STORAGE_ERROR
        )
    }
}

fn lookup(code: i32) -> Option<&'static (i32, &'static str, &'static str)> {
    TABLE.iter().find(|e| e.0 == code)
}

impl fmt::Debug for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.description())
    }
}

impl From<i16> for ErrorCode {
    fn from(v: i16) -> Self {
        ErrorCode(v as i32)
    }
}

/// The error type of the public API: a librdkafka error code and a message that says what failed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct KafkaError {
    /// The librdkafka-compatible code.
    pub code: ErrorCode,
    /// What went wrong, in words.
    pub message: String,
    /// Whether the error is fatal to the client instance.
    pub fatal: bool,
}

impl KafkaError {
    /// An error with a code and a message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        KafkaError {
            code,
            message: message.into(),
            fatal: false,
        }
    }

    /// An error whose message is the code's own description.
    pub fn from_code(code: ErrorCode) -> Self {
        KafkaError::new(code, code.description())
    }
}

impl From<ErrorCode> for KafkaError {
    fn from(code: ErrorCode) -> Self {
        KafkaError::from_code(code)
    }
}

/// Shorthand for results of the public API.
pub type Result<T, E = KafkaError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_librdkafka() {
        assert_eq!(ErrorCode::L_PARTITION_EOF.0, -191);
        assert_eq!(ErrorCode::L_MSG_TIMED_OUT.0, -192);
        assert_eq!(ErrorCode::UNKNOWN_TOPIC_OR_PART.0, 3);
        assert_eq!(ErrorCode::NOT_COORDINATOR.0, 16);
        assert_eq!(ErrorCode::L_PARTITION_EOF.name(), "_PARTITION_EOF");
        assert_eq!(ErrorCode(9999).name(), "UNKNOWN");
    }
}
