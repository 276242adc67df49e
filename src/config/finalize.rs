//! The finalize cross-checks: `rd_kafka_conf_finalize()`'s checks across properties and its
//! adjustment of unset ones, run when a consumer or producer is created from a [`ClientConfig`].

use super::{find_index, find_property, invalid, ClientConfig, ConfigError, Scope, Stored, Value};

impl ClientConfig {
    /// Sets a value chosen by the library (not by the application): it does not count as set.
    fn adjust(&mut self, name: &str, value: Value) {
        let idx = find_index(self.scope, name).expect("adjusted property exists");
        let modified = self.values.get(&idx).is_some_and(|s| s.modified);
        self.values.insert(idx, Stored { value, modified });
    }

    fn topic_is_set(&self, name: &str) -> bool {
        self.default_topic.as_ref().is_some_and(|t| t.is_set(name))
    }

    /// Checks and completes the configuration for a consumer, as `rd_kafka_conf_finalize()` does:
    /// cross-property checks with librdkafka's messages, and adjustment of unset properties
    /// (`fetch.max.bytes`, `receive.message.max.bytes`, `metadata.max.age.ms`, ...).
    pub fn finalize_consumer(&mut self) -> Result<(), ConfigError> {
        if self.get_enum("group.protocol") == "classic" {
            if self.get_i64("max.poll.interval.ms") < self.get_i64("session.timeout.ms") {
                return Err(invalid(
                    "`max.poll.interval.ms`must be >= `session.timeout.ms`".into(),
                ));
            }
        } else {
            for (name, msg) in [
                (
                    "session.timeout.ms",
                    "`session.timeout.ms` is not supported for `group.protocol=consumer`. It is defined broker side",
                ),
                (
                    "partition.assignment.strategy",
                    "`partition.assignment.strategy` is not supported for `group.protocol=consumer`. Use `group.remote.assignor` instead",
                ),
                (
                    "group.protocol.type",
                    "`group.protocol.type` is not supported for `group.protocol=consumer`",
                ),
                (
                    "heartbeat.interval.ms",
                    "`heartbeat.interval.ms` is not supported for `group.protocol=consumer`. It is defined broker side",
                ),
            ] {
                if self.is_set(name) {
                    return Err(invalid(msg.into()));
                }
            }
        }
        let max_msg = self.get_i64("message.max.bytes");
        let mut fetch_max = self.get_i64("fetch.max.bytes");
        if self.is_set("fetch.max.bytes") {
            if fetch_max < max_msg {
                return Err(invalid(
                    "`fetch.max.bytes` must be >= `message.max.bytes`".into(),
                ));
            }
        } else {
            let queued = self.get_i64("queued.max.messages.kbytes") * 1024;
            fetch_max = fetch_max.min(queued).max(max_msg);
            self.adjust("fetch.max.bytes", Value::Int(fetch_max as i32));
        }
        let recv_max = self.get_i64("receive.message.max.bytes");
        if self.is_set("receive.message.max.bytes") {
            if fetch_max + 512 > recv_max {
                return Err(invalid(
                    "`receive.message.max.bytes` must be >= `fetch.max.bytes` + 512".into(),
                ));
            }
        } else {
            self.adjust(
                "receive.message.max.bytes",
                Value::Int(recv_max.max(fetch_max + 512) as i32),
            );
        }
        self.adjust("enable.idempotence", Value::Bool(false));
        self.finalize_common(false)
    }

    /// Checks and completes the configuration for a producer, as `rd_kafka_conf_finalize()` and
    /// `rd_kafka_topic_conf_finalize()` do (idempotence and transactions, `linger.ms` versus
    /// `message.timeout.ms`, sticky partitioning linger, ...).
    pub fn finalize_producer(&mut self) -> Result<(), ConfigError> {
        const IDEMP_MAX_INFLIGHT: i64 = 5;
        let transactional = self.get_opt_str("transactional.id").is_some();
        if transactional {
            if !self.get_bool("enable.idempotence") {
                if self.is_set("enable.idempotence") {
                    return Err(invalid(
                        "`transactional.id` requires `enable.idempotence=true`".into(),
                    ));
                }
                self.adjust("enable.idempotence", Value::Bool(true));
            }
            let txn_timeout = self.get_i64("transaction.timeout.ms");
            if !self.is_set("socket.timeout.ms") {
                self.adjust(
                    "socket.timeout.ms",
                    Value::Int((txn_timeout - 100).max(900) as i32),
                );
            } else if txn_timeout + 100 < self.get_i64("socket.timeout.ms") {
                return Err(invalid(
                    "`socket.timeout.ms` must be set <= `transaction.timeout.ms` + 100".into(),
                ));
            }
        }
        let idempotent = self.get_bool("enable.idempotence");
        if idempotent {
            let inflight = self.get_i64("max.in.flight");
            if self.is_set("max.in.flight") {
                if inflight > IDEMP_MAX_INFLIGHT {
                    return Err(invalid(
                        "`max.in.flight` must be set <= 5 when `enable.idempotence` is true".into(),
                    ));
                }
            } else {
                self.adjust(
                    "max.in.flight.requests.per.connection",
                    Value::Int(inflight.min(IDEMP_MAX_INFLIGHT) as i32),
                );
            }
            if self.is_set("retries") {
                if self.get_i64("retries") < 1 {
                    return Err(invalid(
                        "`retries` must be set >= 1 when `enable.idempotence` is true".into(),
                    ));
                }
            } else {
                self.adjust("message.send.max.retries", Value::Int(i32::MAX));
            }
            if self.is_set("queue.buffering.backpressure.threshold")
                && self.get_i64("queue.buffering.backpressure.threshold") > 1
            {
                return Err(invalid(
                    "`queue.buffering.backpressure.threshold` must be set to 1 when `enable.idempotence` is true"
                        .into(),
                ));
            }
            self.adjust("queue.buffering.backpressure.threshold", Value::Int(1));
        } else if self.get_bool("enable.gapless.guarantee")
            && self.is_set("enable.gapless.guarantee")
        {
            return Err(invalid(
                "`enable.gapless.guarantee` requires `enable.idempotence` to be enabled".into(),
            ));
        }
        if !self.is_set("sticky.partitioning.linger.ms") {
            let linger = self.get_f64("linger.ms");
            self.adjust(
                "sticky.partitioning.linger.ms",
                Value::Int((2.0 * linger).min(900000.0) as i32),
            );
        }
        self.finalize_common(true)
    }

    /// Consumer-side check without changing the configuration.
    pub fn validate_consumer(&self) -> Result<(), ConfigError> {
        self.clone().finalize_consumer()
    }

    /// Producer-side check without changing the configuration.
    pub fn validate_producer(&self) -> Result<(), ConfigError> {
        self.clone().finalize_producer()
    }

    fn finalize_common(&mut self, producer: bool) -> Result<(), ConfigError> {
        assert_eq!(
            self.scope,
            Scope::Global,
            "finalize needs a client configuration"
        );
        let refresh = self.get_i64("topic.metadata.refresh.interval.ms");
        if !self.is_set("metadata.max.age.ms") && refresh > 0 {
            self.adjust("metadata.max.age.ms", Value::Int((refresh * 3) as i32));
        }
        if self.get_i64("reconnect.backoff.max.ms") < self.get_i64("reconnect.backoff.ms") {
            return Err(invalid(
                "`reconnect.backoff.max.ms` must be >= `reconnect.backoff.ms`".into(),
            ));
        }
        if !self.is_set("topic.metadata.refresh.fast.interval.ms") {
            let rb = self.get_i64("retry.backoff.ms");
            self.adjust(
                "topic.metadata.refresh.fast.interval.ms",
                Value::Int(rb as i32),
            );
        }
        if !self.is_set("connections.max.idle.ms")
            && self
                .get_str("metadata.broker.list")
                .to_ascii_lowercase()
                .contains("azure")
        {
            self.adjust("connections.max.idle.ms", Value::Int((4 * 60 - 10) * 1000));
        }
        if !self.is_set("allow.auto.create.topics") {
            self.adjust("allow.auto.create.topics", Value::Bool(producer));
        }
        if self.default_topic.is_some() && producer {
            let linger = self.get_f64("linger.ms");
            let msg_timeout = self.get_i64("message.timeout.ms");
            if msg_timeout != 0 && msg_timeout as f64 <= linger {
                if self.is_set("linger.ms") {
                    return Err(invalid(
                        "`message.timeout.ms` must be greater than `linger.ms`".into(),
                    ));
                }
                self.adjust(
                    "queue.buffering.max.ms",
                    Value::Float(msg_timeout as f64 - 0.1),
                );
            }
        }
        if producer {
            self.finalize_topic_producer()?;
        }
        Ok(())
    }

    /// `rd_kafka_topic_conf_finalize()` for the default topic configuration of a producer.
    fn finalize_topic_producer(&mut self) -> Result<(), ConfigError> {
        if self.default_topic.is_none() {
            return Ok(());
        }
        let idempotent = self.get_bool("enable.idempotence");
        let transactional = self.get_opt_str("transactional.id").is_some();
        let txn_timeout = self.get_i64("transaction.timeout.ms");
        let linger = self.get_f64("linger.ms");
        let linger_set = self.is_set("linger.ms");
        let acks_set = self.topic_is_set("acks");
        let t = self.default_topic.as_mut().expect("default topic config");
        if idempotent {
            if acks_set {
                if t.get_i64("acks") != -1 {
                    return Err(invalid(
                        "`acks` must be set to `all` when `enable.idempotence` is true".into(),
                    ));
                }
            } else {
                t.adjust("request.required.acks", Value::Int(-1));
            }
            if t.is_set("queuing.strategy") {
                if t.get_enum("queuing.strategy") != "fifo" {
                    return Err(invalid(
                        "`queuing.strategy` must be set to `fifo` when `enable.idempotence` is true"
                            .into(),
                    ));
                }
            } else {
                let fifo = find_property(Scope::Topic, "queuing.strategy")
                    .and_then(|p| p.enum_values().iter().find(|e| e.name == "fifo"))
                    .expect("fifo")
                    .value;
                t.adjust("queuing.strategy", Value::Enum(fifo));
            }
            if transactional {
                if !t.is_set("message.timeout.ms") {
                    t.adjust("message.timeout.ms", Value::Int(txn_timeout as i32));
                } else if t.get_i64("message.timeout.ms") > txn_timeout {
                    return Err(invalid(
                        "`message.timeout.ms` must be set <= `transaction.timeout.ms`".into(),
                    ));
                }
            }
        }
        let msg_timeout = t.get_i64("message.timeout.ms");
        if msg_timeout != 0 && msg_timeout as f64 <= linger && linger_set {
            return Err(invalid(
                "`message.timeout.ms` must be greater than `linger.ms`".into(),
            ));
        }
        Ok(())
    }
}
