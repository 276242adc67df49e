//! A consumed message: key, value and headers are shared slices of the fetched data, not copies.

use bytes::Bytes;
use std::sync::Arc;

use crate::protocol::records::Header;

/// How a message's timestamp was set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimestampType {
    /// Not available.
    NotAvailable,
    /// Set by the producer.
    CreateTime,
    /// Set by the broker when it appended the message.
    LogAppendTime,
}

/// A message read from a partition.
#[derive(Clone, Debug)]
pub struct Message {
    pub(crate) topic: Arc<str>,
    /// Partition number.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// Timestamp in milliseconds since the epoch.
    pub timestamp: i64,
    /// How the timestamp was set.
    pub timestamp_type: TimestampType,
    /// The key, if any.
    pub key: Option<Bytes>,
    /// The value (payload), if any.
    pub value: Option<Bytes>,
    /// Headers in wire order; duplicate keys are kept.
    pub headers: Vec<Header>,
    /// The leader epoch of the batch the message came in.
    pub leader_epoch: i32,
}

impl Message {
    /// The topic name.
    pub fn topic(&self) -> &str {
        &self.topic
    }

    /// The key as bytes, if any.
    pub fn key(&self) -> Option<&[u8]> {
        self.key.as_deref()
    }

    /// The value as bytes, if any.
    pub fn payload(&self) -> Option<&[u8]> {
        self.value.as_deref()
    }

    /// The value of the last header with this key, as librdkafka's `rd_kafka_header_get_last`.
    pub fn header_last(&self, key: &str) -> Option<Option<&[u8]>> {
        self.headers
            .iter()
            .rev()
            .find(|h| &h.key[..] == key.as_bytes())
            .map(|h| h.value.as_deref())
    }
}
