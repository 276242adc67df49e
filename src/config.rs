//! Client configuration with librdkafka's property names. Placeholder: filled in by its owner.

/// A set of librdkafka-style configuration properties.
#[derive(Clone, Debug, Default)]
pub struct ClientConfig {}
