//! Test harness shared by the integration tests (`mod common;` in each `tests/*.rs`).
//!
//! Real brokers that we did not write, each in its own process, on 127.0.0.1 only:
//! - [`MockCluster`]: librdkafka 2.12.1's mock cluster, run by `tests/mock-launcher`, with fault
//!   injection over the launcher's stdin;
//! - [`Tansu`]: the `tansu` broker (0.6.0) with in-memory storage.
//!
//! Plus a third-party producer/consumer (librdkafka 2.12.1, also via the launcher):
//! [`produce_with_librdkafka`], [`consume_with_librdkafka`], and the content of the messages
//! it produces, [`expected_message`].
#![allow(dead_code, unused_imports)]

pub mod capi;
pub mod consumer_util;
mod launcher;
mod mock;
pub mod producer_util;
mod tansu;

pub use launcher::{
    consume_all_with_librdkafka, consume_with_librdkafka, expected_message, launcher_path,
    produce_with_librdkafka, ConsumedMessage, ExpectedMessage,
};
pub use mock::{MockCluster, MockClusterBuilder};
pub use tansu::{tansu_path, Tansu};
