//! Sans-IO client state machines: they take bytes, commands and `now`, and return bytes to send,
//! events for the application and their next deadline.

pub(crate) mod assignor;
pub(crate) mod channel;
pub(crate) mod client;
pub(crate) mod connection;
pub(crate) mod fetcher;
pub(crate) mod group;
pub(crate) mod group_list;
pub(crate) mod metadata;
pub(crate) mod metadata_query;
pub(crate) mod offsets;
pub(crate) mod offsets_for_times;
pub(crate) mod partitioner;
pub(crate) mod producer;
pub(crate) mod queries;
pub(crate) mod settings;
pub(crate) mod stats;
#[cfg(test)]
mod tests;
