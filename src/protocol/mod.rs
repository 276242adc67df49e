//! The Kafka wire protocol without sockets or clocks: framing, request headers, version negotiation
//! and our zero-copy record-batch codec.

pub mod compression;
pub mod frame;
pub mod records;
pub mod versions;
