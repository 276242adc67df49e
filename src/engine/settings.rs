//! The engine's typed view of the configuration, read once when the client starts.

use std::time::Duration;

use super::assignor::{parse_strategy_list, AssignorKind};
use super::connection::NetSettings;
use crate::config::ClientConfig;
use crate::config::{ConsumerSettings, IsolationLevel};
use crate::error::{ErrorCode, KafkaError, Result};

pub(crate) use crate::config::AutoOffsetReset as OffsetReset;

/// What the fetcher needs.
#[derive(Clone, Debug)]
pub(crate) struct FetchSettings {
    pub fetch_wait_max_ms: i32,
    pub fetch_min_bytes: i32,
    pub fetch_max_bytes: i32,
    pub max_partition_fetch_bytes: i32,
    pub queued_min_messages: i64,
    pub queued_max_bytes: i64,
    pub read_committed: bool,
    pub check_crcs: bool,
    pub enable_partition_eof: bool,
    pub auto_offset_reset: OffsetReset,
    pub retry_backoff: Duration,
    pub fetch_error_backoff: Duration,
    pub client_rack: String,
}

/// What group membership needs.
#[derive(Clone, Debug)]
pub(crate) struct GroupSettings {
    pub strategies: Vec<AssignorKind>,
    pub session_timeout: Duration,
    pub heartbeat_interval: Duration,
    pub max_poll_interval: Duration,
    pub group_instance_id: Option<String>,
    pub client_rack: Option<String>,
    pub retry_backoff: Duration,
}

/// Everything the engine reads from the configuration.
#[derive(Clone, Debug)]
pub(crate) struct EngineSettings {
    pub bootstrap: Vec<String>,
    pub group_id: Option<String>,
    pub net: NetSettings,
    pub fetch: FetchSettings,
    pub group: GroupSettings,
    pub enable_auto_commit: bool,
    pub auto_commit_interval: Duration,
    pub enable_auto_offset_store: bool,
    pub metadata_refresh_interval: Duration,
    pub decompress_threads: usize,
    /// librdkafka's `debug` contexts are on: log protocol decisions to stderr.
    pub debug: bool,
    /// `statistics.interval.ms` (zero: off).
    pub statistics_interval: Duration,
    /// librdkafka's instance name (`<client.id>#consumer-<n>`).
    pub name: String,
}

impl EngineSettings {
    /// Reads the consumer-side settings (after librdkafka's finalize checks) and rejects
    /// combinations librdkafka rejects.
    pub fn from_config(c: &ClientConfig) -> Result<Self> {
        let s = ConsumerSettings::from_config(c).map_err(KafkaError::from)?;
        let bootstrap: Vec<String> = s
            .bootstrap_servers
            .iter()
            .map(|b| b.strip_prefix("PLAINTEXT://").unwrap_or(b).to_string())
            .map(|b| {
                if b.contains(':') {
                    b
                } else {
                    format!("{b}:9092")
                }
            })
            .collect();
        let strategies = parse_strategy_list(&s.rebalance_strategies)
            .map_err(|e| KafkaError::new(ErrorCode::L_INVALID_ARG, e))?;
        let rack = s.client_rack.clone().unwrap_or_default();
        Ok(EngineSettings {
            bootstrap,
            group_id: s.group_id.clone(),
            net: NetSettings {
                client_id: s.client_id.clone(),
                reconnect_backoff: s.reconnect_backoff,
                reconnect_backoff_max: s.reconnect_backoff_max,
                socket_timeout: s.socket_timeout,
                max_response_size: (s
                    .receive_message_max_bytes
                    .max(s.fetch_max_bytes.saturating_add(512)))
                    as usize,
            },
            fetch: FetchSettings {
                fetch_wait_max_ms: s.fetch_wait_max.as_millis() as i32,
                fetch_min_bytes: s.fetch_min_bytes,
                fetch_max_bytes: s.fetch_max_bytes,
                max_partition_fetch_bytes: s.max_partition_fetch_bytes,
                queued_min_messages: s.queued_min_messages as i64,
                queued_max_bytes: s.queued_max_messages_kbytes as i64 * 1024,
                read_committed: s.isolation_level == IsolationLevel::ReadCommitted,
                check_crcs: s.check_crcs,
                enable_partition_eof: s.enable_partition_eof,
                auto_offset_reset: s.auto_offset_reset,
                retry_backoff: s.retry_backoff,
                fetch_error_backoff: s.fetch_error_backoff,
                client_rack: rack,
            },
            group: GroupSettings {
                strategies,
                session_timeout: s.session_timeout,
                heartbeat_interval: s.heartbeat_interval,
                max_poll_interval: s.max_poll_interval,
                group_instance_id: s.group_instance_id.clone(),
                client_rack: s.client_rack.clone(),
                retry_backoff: s.retry_backoff,
            },
            enable_auto_commit: s.enable_auto_commit,
            auto_commit_interval: s.auto_commit_interval,
            enable_auto_offset_store: s.enable_auto_offset_store,
            metadata_refresh_interval: s
                .topic_metadata_refresh_interval
                .unwrap_or(Duration::from_secs(3600 * 24 * 365)),
            decompress_threads: 2,
            debug: !c.get_str("debug").is_empty(),
            statistics_interval: s.statistics_interval,
            name: super::stats::client_name(&s.client_id, "consumer"),
        })
    }
}
