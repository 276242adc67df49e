//! Topic-partition values and librdkafka's logical offsets.

use crate::error::ErrorCode;

/// librdkafka's logical offsets (`RD_KAFKA_OFFSET_*`).
pub mod offset {
    /// The first offset still in the log.
    pub const BEGINNING: i64 = -2;
    /// The offset after the last message: only new messages.
    pub const END: i64 = -1;
    /// The committed offset of the group, else `auto.offset.reset`.
    pub const STORED: i64 = -1000;
    /// No offset: the same as `STORED` where an offset is looked up.
    pub const INVALID: i64 = -1001;
    /// `TAIL_BASE - n` means n messages before the end.
    pub const TAIL_BASE: i64 = -2000;
}

/// A topic partition with an offset and, in results, an error: librdkafka's
/// `rd_kafka_topic_partition_t`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number.
    pub partition: i32,
    /// An offset or one of the logical offsets in [`offset`].
    pub offset: i64,
    /// Commit metadata.
    pub metadata: Option<String>,
    /// The leader epoch of the offset, -1 if unknown.
    pub leader_epoch: i32,
    /// A per-partition error in results.
    pub error: ErrorCode,
}

impl TopicPartition {
    /// A partition with no offset (`INVALID`).
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        Self::with_offset(topic, partition, offset::INVALID)
    }

    /// A partition with an offset.
    pub fn with_offset(topic: impl Into<String>, partition: i32, offset: i64) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
            offset,
            metadata: None,
            leader_epoch: -1,
            error: ErrorCode::NONE,
        }
    }
}
