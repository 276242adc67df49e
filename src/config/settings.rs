//! Typed views of a finalized [`ClientConfig`] for the engine.

use std::time::Duration;

use super::{ClientConfig, ConfigError};

fn ms(c: &ClientConfig, name: &str) -> Duration {
    Duration::from_millis(c.get_i64(name).max(0) as u64)
}

fn brokers(c: &ClientConfig) -> Vec<String> {
    c.get_str("metadata.broker.list")
        .split(',')
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Where a consumer starts when it has no committed offset or its offset is out of range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AutoOffsetReset {
    /// `smallest`, `earliest`, `beginning`.
    Earliest,
    /// `largest`, `latest`, `end`.
    Latest,
    /// `error`: report `_AUTO_OFFSET_RESET`.
    Error,
}

/// Which transactional messages a consumer returns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IsolationLevel {
    ReadUncommitted,
    ReadCommitted,
}

/// The producer's compression codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(dead_code)] // read by the producer engine
pub(crate) enum CompressionCodec {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

#[allow(dead_code)]
impl CompressionCodec {
    fn from_name(s: &str) -> Self {
        match s {
            "gzip" => CompressionCodec::Gzip,
            "snappy" => CompressionCodec::Snappy,
            "lz4" => CompressionCodec::Lz4,
            "zstd" => CompressionCodec::Zstd,
            _ => CompressionCodec::None,
        }
    }
}

/// What a consumer's engine reads from the configuration, with librdkafka's defaults.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ConsumerSettings {
    pub bootstrap_servers: Vec<String>,
    pub client_id: String,
    pub group_id: Option<String>,
    pub group_instance_id: Option<String>,
    pub session_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub max_poll_interval: Duration,
    /// `partition.assignment.strategy`, unparsed.
    pub rebalance_strategies: String,
    pub enable_auto_commit: bool,
    pub auto_commit_interval: Duration,
    pub enable_auto_offset_store: bool,
    pub auto_offset_reset: AutoOffsetReset,
    pub enable_partition_eof: bool,
    pub check_crcs: bool,
    pub isolation_level: IsolationLevel,
    pub fetch_wait_max: Duration,
    pub fetch_min_bytes: i32,
    pub fetch_max_bytes: i32,
    pub max_partition_fetch_bytes: i32,
    pub fetch_error_backoff: Duration,
    pub fetch_queue_backoff: Duration,
    pub queued_min_messages: i32,
    pub queued_max_messages_kbytes: i32,
    pub message_max_bytes: i32,
    pub receive_message_max_bytes: i32,
    pub reconnect_backoff: Duration,
    pub reconnect_backoff_max: Duration,
    /// Timeout of network requests (`socket.timeout.ms`); consumers have no `request.timeout.ms`.
    pub socket_timeout: Duration,
    pub metadata_max_age: Duration,
    /// `topic.metadata.refresh.interval.ms`; `None` when disabled (-1).
    pub topic_metadata_refresh_interval: Option<Duration>,
    pub retry_backoff: Duration,
    pub retry_backoff_max: Duration,
    pub api_version_request: bool,
    pub client_rack: Option<String>,
    pub allow_auto_create_topics: bool,
    /// `statistics.interval.ms`; zero disables statistics.
    pub statistics_interval: Duration,
}

impl ConsumerSettings {
    /// Finalizes a copy of `config` for a consumer and reads it.
    pub fn from_config(config: &ClientConfig) -> Result<Self, ConfigError> {
        let mut c = config.clone();
        c.finalize_consumer()?;
        let refresh = c.get_i64("topic.metadata.refresh.interval.ms");
        Ok(ConsumerSettings {
            bootstrap_servers: brokers(&c),
            client_id: c.get_str("client.id"),
            group_id: c.get_opt_str("group.id"),
            group_instance_id: c.get_opt_str("group.instance.id"),
            session_timeout: ms(&c, "session.timeout.ms"),
            heartbeat_interval: ms(&c, "heartbeat.interval.ms"),
            max_poll_interval: ms(&c, "max.poll.interval.ms"),
            rebalance_strategies: c.get_str("partition.assignment.strategy"),
            enable_auto_commit: c.get_bool("enable.auto.commit"),
            auto_commit_interval: ms(&c, "auto.commit.interval.ms"),
            enable_auto_offset_store: c.get_bool("enable.auto.offset.store"),
            auto_offset_reset: match c.get_enum("auto.offset.reset").as_str() {
                "smallest" | "earliest" | "beginning" => AutoOffsetReset::Earliest,
                "error" => AutoOffsetReset::Error,
                _ => AutoOffsetReset::Latest,
            },
            enable_partition_eof: c.get_bool("enable.partition.eof"),
            check_crcs: c.get_bool("check.crcs"),
            isolation_level: if c.get_enum("isolation.level") == "read_uncommitted" {
                IsolationLevel::ReadUncommitted
            } else {
                IsolationLevel::ReadCommitted
            },
            fetch_wait_max: ms(&c, "fetch.wait.max.ms"),
            fetch_min_bytes: c.get_i64("fetch.min.bytes") as i32,
            fetch_max_bytes: c.get_i64("fetch.max.bytes") as i32,
            max_partition_fetch_bytes: c.get_i64("fetch.message.max.bytes") as i32,
            fetch_error_backoff: ms(&c, "fetch.error.backoff.ms"),
            fetch_queue_backoff: ms(&c, "fetch.queue.backoff.ms"),
            queued_min_messages: c.get_i64("queued.min.messages") as i32,
            queued_max_messages_kbytes: c.get_i64("queued.max.messages.kbytes") as i32,
            message_max_bytes: c.get_i64("message.max.bytes") as i32,
            receive_message_max_bytes: c.get_i64("receive.message.max.bytes") as i32,
            reconnect_backoff: ms(&c, "reconnect.backoff.ms"),
            reconnect_backoff_max: ms(&c, "reconnect.backoff.max.ms"),
            socket_timeout: ms(&c, "socket.timeout.ms"),
            metadata_max_age: ms(&c, "metadata.max.age.ms"),
            topic_metadata_refresh_interval: (refresh >= 0)
                .then(|| Duration::from_millis(refresh as u64)),
            retry_backoff: ms(&c, "retry.backoff.ms"),
            retry_backoff_max: ms(&c, "retry.backoff.max.ms"),
            api_version_request: c.get_bool("api.version.request"),
            client_rack: c.get_opt_str("client.rack"),
            allow_auto_create_topics: c.get_bool("allow.auto.create.topics"),
            statistics_interval: ms(&c, "statistics.interval.ms"),
        })
    }
}

/// What a producer's engine reads from the configuration, with librdkafka's defaults.
#[derive(Clone, Debug, PartialEq)]
#[allow(dead_code)] // read by the producer engine
pub(crate) struct ProducerSettings {
    pub bootstrap_servers: Vec<String>,
    pub client_id: String,
    /// `linger.ms` (a float in librdkafka: sub-millisecond values are allowed).
    pub linger: Duration,
    pub batch_size: i32,
    pub batch_num_messages: i32,
    pub message_max_bytes: i32,
    pub receive_message_max_bytes: i32,
    /// The topic-level codec when set (not `inherit`), else the global one.
    pub compression_codec: CompressionCodec,
    /// -1 is the codec's default level.
    pub compression_level: i32,
    /// -1 = all, 0 = none, n = n acknowledgements.
    pub acks: i16,
    pub request_timeout: Duration,
    /// `message.timeout.ms`; `None` for 0 (infinite).
    pub message_timeout: Option<Duration>,
    pub retries: i32,
    pub retry_backoff: Duration,
    pub retry_backoff_max: Duration,
    pub max_in_flight: i32,
    pub enable_idempotence: bool,
    pub queue_buffering_max_messages: i32,
    pub queue_buffering_max_kbytes: i32,
    pub partitioner: String,
    pub sticky_partitioning_linger: Duration,
    pub delivery_report_only_error: bool,
    pub socket_timeout: Duration,
    pub reconnect_backoff: Duration,
    pub reconnect_backoff_max: Duration,
    pub metadata_max_age: Duration,
    pub topic_metadata_refresh_interval: Option<Duration>,
    pub api_version_request: bool,
    pub allow_auto_create_topics: bool,
    pub statistics_interval: Duration,
    /// `transactional.id`: `Some` makes the producer transactional.
    pub transactional_id: Option<String>,
    /// `transaction.timeout.ms`, sent to the coordinator in InitProducerId.
    pub transaction_timeout: Duration,
}

#[allow(dead_code)]
impl ProducerSettings {
    /// Finalizes a copy of `config` for a producer and reads it.
    pub fn from_config(config: &ClientConfig) -> Result<Self, ConfigError> {
        let mut c = config.clone();
        c.finalize_producer()?;
        let topic_codec = c.get_enum("compression.codec");
        // On a client config, "compression.codec" resolves to the global property; the topic one
        // lives in the default topic configuration.
        let topic_level = c
            .default_topic_conf()
            .map(|t| t.get_enum("compression.codec"))
            .unwrap_or_else(|| "inherit".to_string());
        let codec = if topic_level == "inherit" {
            topic_codec
        } else {
            topic_level
        };
        let refresh = c.get_i64("topic.metadata.refresh.interval.ms");
        let msg_timeout = c.get_i64("message.timeout.ms");
        Ok(ProducerSettings {
            bootstrap_servers: brokers(&c),
            client_id: c.get_str("client.id"),
            linger: Duration::from_secs_f64(c.get_f64("linger.ms").max(0.0) / 1000.0),
            batch_size: c.get_i64("batch.size") as i32,
            batch_num_messages: c.get_i64("batch.num.messages") as i32,
            message_max_bytes: c.get_i64("message.max.bytes") as i32,
            receive_message_max_bytes: c.get_i64("receive.message.max.bytes") as i32,
            compression_codec: CompressionCodec::from_name(&codec),
            compression_level: c.get_i64("compression.level") as i32,
            acks: c.get_i64("request.required.acks") as i16,
            request_timeout: ms(&c, "request.timeout.ms"),
            message_timeout: (msg_timeout > 0).then(|| Duration::from_millis(msg_timeout as u64)),
            retries: c.get_i64("message.send.max.retries") as i32,
            retry_backoff: ms(&c, "retry.backoff.ms"),
            retry_backoff_max: ms(&c, "retry.backoff.max.ms"),
            max_in_flight: c.get_i64("max.in.flight.requests.per.connection") as i32,
            enable_idempotence: c.get_bool("enable.idempotence"),
            queue_buffering_max_messages: c.get_i64("queue.buffering.max.messages") as i32,
            queue_buffering_max_kbytes: c.get_i64("queue.buffering.max.kbytes") as i32,
            partitioner: c.get_str("partitioner"),
            sticky_partitioning_linger: ms(&c, "sticky.partitioning.linger.ms"),
            delivery_report_only_error: c.get_bool("delivery.report.only.error"),
            socket_timeout: ms(&c, "socket.timeout.ms"),
            reconnect_backoff: ms(&c, "reconnect.backoff.ms"),
            reconnect_backoff_max: ms(&c, "reconnect.backoff.max.ms"),
            metadata_max_age: ms(&c, "metadata.max.age.ms"),
            topic_metadata_refresh_interval: (refresh >= 0)
                .then(|| Duration::from_millis(refresh as u64)),
            api_version_request: c.get_bool("api.version.request"),
            allow_auto_create_topics: c.get_bool("allow.auto.create.topics"),
            statistics_interval: ms(&c, "statistics.interval.ms"),
            transactional_id: c.get_opt_str("transactional.id"),
            transaction_timeout: ms(&c, "transaction.timeout.ms"),
        })
    }
}
