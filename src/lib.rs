//! librskafka: a Kafka client with one engine thread, usable from Rust and, with the `capi` feature,
//! through librdkafka's C ABI.
//!
//! ```text
//! application thread(s)          engine thread (mio)                 decompression pool
//!   Consumer::poll  --commands-->  sockets, metadata, groups,  <-jobs/results->  gzip/snappy/lz4/zstd
//!                  <--messages---  fetch positions, offsets
//! ```
//! The protocol (`protocol`) and client logic (`engine`) are sans-IO state machines; `runtime` is the
//! thin mio driver around them.

#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]

pub(crate) mod broker_list;
#[cfg(feature = "capi")]
pub mod capi;
pub mod config;
pub mod consumer;
pub mod error;
pub mod group_metadata;
pub mod message;
pub mod metadata;
pub mod mock;
pub mod producer;
pub mod topic_partition;
pub mod transaction;

pub(crate) mod engine;
pub mod protocol;
pub(crate) mod runtime;

/// The producer's partitioners, exposed only for the placement-compatibility test
/// (`tests/partitioner_compat.rs`); not a stable API.
#[doc(hidden)]
pub mod partitioner {
    pub use crate::engine::partitioner::{
        crc32, default_sticky_linger, fnv1a, murmur2, Partitioner, StickyPartition, PARTITION_UA,
    };
}

pub use config::ClientConfig;
pub use consumer::{CommitMode, Consumer, Rebalance, RebalanceType};
pub use engine::channel::ConsumerEvent;
pub use error::{ErrorCode, KafkaError, Result};
pub use group_metadata::ConsumerGroupMetadata;
pub use message::{Message, TimestampType};
pub use metadata::{
    GroupInfo, GroupMemberInfo, Metadata, MetadataBroker, MetadataPartition, MetadataTopic,
};
pub use producer::{DeliveryFuture, DeliveryReport, Producer, Record, Throttle};
pub use protocol::records::Header;
pub use topic_partition::{offset, TopicPartition};
pub use transaction::{TxnError, TxnResult, TxnState};
