use super::*;
use std::time::Duration;

fn err(name: &str, value: &str) -> ConfigError {
    ClientConfig::new()
        .set(name, value)
        .map(|_| ())
        .unwrap_err()
}

#[test]
fn unknown_property() {
    let e = err("foo", "1");
    assert_eq!(
        e,
        ConfigError::Unknown("No such configuration property: \"foo\"".into())
    );
    assert_eq!(e.code(), conf_res::UNKNOWN);
    let k: KafkaError = e.into();
    assert_eq!(k.code, ErrorCode::L_INVALID_ARG);
    // The "topic." prefix is stripped for the topic-level attempt, as librdkafka does.
    assert_eq!(
        err("topic.foo", "1").errstr(),
        "No such configuration property: \"foo\""
    );
}

#[test]
fn invalid_integer_and_range() {
    let e = err("fetch.wait.max.ms", "abc");
    assert_eq!(
        e.errstr(),
        "Invalid value for configuration property \"fetch.wait.max.ms\""
    );
    assert_eq!(e.code(), conf_res::INVALID);
    let e = err("fetch.wait.max.ms", "999999999");
    assert_eq!(
        e.errstr(),
        "Configuration property \"fetch.wait.max.ms\" value 999999999 is outside allowed range 0..300000\n"
    );
    assert_eq!(
        e.to_string(),
        "Configuration property \"fetch.wait.max.ms\" value 999999999 is outside allowed range 0..300000"
    );
    assert_eq!(
        err("fetch.wait.max.ms", "").errstr(),
        "Integer configuration property \"fetch.wait.max.ms\" cannot be set to empty value"
    );
    // strtol semantics: hex, and a numeric prefix.
    let mut c = ClientConfig::new();
    c.set("fetch.wait.max.ms", "0x10").unwrap();
    assert_eq!(c.get("fetch.wait.max.ms").unwrap(), "16");
    c.set("fetch.wait.max.ms", "12ms").unwrap();
    assert_eq!(c.get_i64("fetch.wait.max.ms"), 12);
    // Symbolic integer values.
    c.set("acks", "all").unwrap();
    assert_eq!(c.get("acks").unwrap(), "-1");
}

#[test]
fn floats() {
    let mut c = ClientConfig::new();
    assert_eq!(c.get("linger.ms").unwrap(), "5");
    c.set("linger.ms", "0.5").unwrap();
    assert_eq!(c.get("queue.buffering.max.ms").unwrap(), "0.5");
    assert_eq!(
        err("linger.ms", "1000000").errstr(),
        "Configuration property \"queue.buffering.max.ms\" value 1e+06 is outside allowed range 0..900000\n"
    );
    assert_eq!(format_g(123456.0), "123456");
    assert_eq!(format_g(0.0001), "0.0001");
    assert_eq!(format_g(1234567.0), "1.23457e+06");
}

#[test]
fn enums_and_aliases() {
    let mut c = ClientConfig::new();
    assert_eq!(c.get("auto.offset.reset").unwrap(), "largest");
    c.set("auto.offset.reset", "earliest").unwrap();
    assert_eq!(c.get("auto.offset.reset").unwrap(), "smallest");
    c.set("auto.offset.reset", "END").unwrap();
    assert_eq!(c.get_enum("auto.offset.reset"), "largest");
    assert_eq!(
        err("auto.offset.reset", "foo").errstr(),
        "Invalid value \"foo\" for configuration property \"auto.offset.reset\""
    );
    assert_eq!(
        err("isolation.level", "").errstr(),
        "Configuration property \"isolation.level\" cannot be set to empty value"
    );
    c.set("compression.type", "lz4").unwrap();
    assert_eq!(c.get("compression.codec").unwrap(), "lz4");
    c.set("bootstrap.servers", "a:9092,b:9092").unwrap();
    assert_eq!(c.get("metadata.broker.list").unwrap(), "a:9092,b:9092");
    c.set("metadata.broker.list", "c:1").unwrap();
    assert_eq!(c.get("bootstrap.servers").unwrap(), "c:1");
    for (alias, canon, v) in [
        ("linger.ms", "queue.buffering.max.ms", "7"),
        (
            "max.in.flight",
            "max.in.flight.requests.per.connection",
            "3",
        ),
        ("retries", "message.send.max.retries", "4"),
        (
            "max.partition.fetch.bytes",
            "fetch.message.max.bytes",
            "4096",
        ),
        ("acks", "request.required.acks", "1"),
        ("delivery.timeout.ms", "message.timeout.ms", "1234"),
        ("sasl.mechanism", "sasl.mechanisms", "PLAIN"),
    ] {
        c.set(alias, v).unwrap();
        assert_eq!(c.get(canon).unwrap(), v, "{alias}");
        assert!(c.is_set(canon) && c.is_set(alias));
    }
}

#[test]
fn booleans() {
    let mut c = ClientConfig::new();
    for (v, want) in [
        ("true", true),
        ("T", true),
        ("1", true),
        ("FALSE", false),
        ("f", false),
        ("0", false),
    ] {
        c.set("enable.partition.eof", v).unwrap();
        assert_eq!(c.get_bool("enable.partition.eof"), want, "{v}");
    }
    assert_eq!(
        err("enable.partition.eof", "yes").errstr(),
        "Expected bool value for \"enable.partition.eof\": true or false"
    );
    assert_eq!(
        err("enable.partition.eof", "").errstr(),
        "Bool configuration property \"enable.partition.eof\" cannot be set to empty value"
    );
}

#[test]
fn strings_flags_and_special_kinds() {
    let mut c = ClientConfig::new();
    assert_eq!(c.get("client.id").unwrap(), "rdkafka");
    c.set("client.id", "  me").unwrap();
    assert_eq!(c.get("client.id").unwrap(), "me");
    c.set("client.id", "").unwrap();
    assert_eq!(c.get("client.id").unwrap(), "rdkafka");
    assert_eq!(c.get("group.id"), None);
    assert_eq!(
        err("partitioner", "foo").errstr(),
        "Invalid value for configuration property \"partitioner\": foo"
    );
    c.set("partitioner", "murmur2_random").unwrap();
    assert_eq!(c.get("partitioner").unwrap(), "murmur2_random");
    assert!(c.get("debug").is_none());
    c.set("debug", "broker, topic").unwrap();
    c.set("debug", "-topic,+msg").unwrap();
    assert_eq!(c.get("debug").unwrap(), "broker,msg");
    assert_eq!(
        err("debug", "broker,nope").errstr(),
        "Invalid value \"nope\" for configuration property \"debug\""
    );
    assert_eq!(
        err("error_cb", "x").errstr(),
        "Property \"error_cb\" must be set through dedicated .._set_..() function"
    );
    assert_eq!(
        err("interceptors", "x").errstr(),
        "Internal property \"interceptors\" not settable"
    );
    assert!(err("sasl.jaas.config", "x")
        .errstr()
        .starts_with("Java JAAS configuration"));
    assert!(err("ssl.key.location", "/k")
        .errstr()
        .starts_with("Configuration property \"ssl.key.location\" not supported in this build: "));
    assert!(err("security.protocol", "ssl").errstr().starts_with(
        "Unsupported value \"ssl\" for configuration property \"security.protocol\": "
    ));
    c.set("compression.codec", "zstd").unwrap();
    c.set("compression.codec", "gzip").unwrap();
    c.set("compression.codec", "snappy").unwrap();
    assert_eq!(
        c.get("builtin.features").unwrap(),
        "gzip,snappy,sasl,regex,lz4,sasl_plain,zstd"
    );
}

#[test]
fn topic_properties_on_client_config() {
    let mut c = ClientConfig::new();
    assert!(c.default_topic_conf().is_none());
    assert_eq!(c.get("request.timeout.ms").unwrap(), "30000");
    c.set("request.timeout.ms", "1000").unwrap();
    c.set("topic.message.timeout.ms", "2000").unwrap();
    assert_eq!(
        c.default_topic_conf()
            .unwrap()
            .get("request.timeout.ms")
            .unwrap(),
        "1000"
    );
    assert_eq!(c.get_i64("message.timeout.ms"), 2000);
    // Same name at both levels: the client one wins on a client config.
    c.set("compression.codec", "lz4").unwrap();
    assert_eq!(c.get("compression.codec").unwrap(), "lz4");
    assert_eq!(
        c.default_topic_conf()
            .unwrap()
            .get("compression.codec")
            .unwrap(),
        "inherit"
    );
    let mut t = ClientConfig::new_topic();
    assert_eq!(t.get("auto.commit.interval.ms").unwrap(), "60000");
    assert_eq!(
        ClientConfig::new().get("auto.commit.interval.ms").unwrap(),
        "5000"
    );
    assert!(t.set("group.id", "g").is_err());
    t.set("acks", "0").unwrap();
    c.set_default_topic_conf(t);
    assert_eq!(c.get("acks").unwrap(), "0");
}

#[test]
fn dump_has_every_valued_property() {
    let c = ClientConfig::new();
    let d = c.dump();
    for p in PROPERTIES.iter().filter(|p| p.scope == Scope::Global) {
        let listed = d.iter().any(|(n, _)| n == p.name);
        let expect = !matches!(p.ty, PropertyType::Alias(_) | PropertyType::Invalid(_))
            && p.default.is_some();
        assert_eq!(listed, expect, "{}", p.name);
    }
    assert!(d.contains(&("fetch.wait.max.ms".into(), "500".into())));
    assert!(!d.iter().any(|(n, _)| n == "bootstrap.servers"));
    let t = c.dump_topic();
    assert!(t.contains(&("auto.offset.reset".into(), "largest".into())));
    assert!(t.contains(&("partitioner".into(), "consistent_random".into())));
}

#[test]
fn librdkafka_defaults() {
    let c = ClientConfig::new();
    for (name, want) in [
        ("fetch.wait.max.ms", "500"),
        ("session.timeout.ms", "45000"),
        ("heartbeat.interval.ms", "3000"),
        ("max.poll.interval.ms", "300000"),
        ("auto.commit.interval.ms", "5000"),
        ("queued.min.messages", "100000"),
        ("queued.max.messages.kbytes", "65536"),
        ("fetch.max.bytes", "52428800"),
        ("max.partition.fetch.bytes", "1048576"),
        ("linger.ms", "5"),
        ("partition.assignment.strategy", "range,roundrobin"),
        ("enable.partition.eof", "false"),
        ("partitioner", "consistent_random"),
        ("message.max.bytes", "1000000"),
        ("batch.size", "1000000"),
        ("batch.num.messages", "10000"),
        ("retries", "2147483647"),
        ("acks", "-1"),
        ("isolation.level", "read_committed"),
        ("queuing.strategy", "fifo"),
        ("compression.level", "-1"),
        ("sticky.partitioning.linger.ms", "10"),
        ("security.protocol", "plaintext"),
        ("group.protocol", "classic"),
        ("client.rack", ""),
    ] {
        assert_eq!(c.get(name).as_deref(), Some(want), "{name}");
    }
}

#[test]
fn consumer_settings_defaults() {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", "h1:9092, h2:9093").unwrap();
    let s = ConsumerSettings::from_config(&c).unwrap();
    assert_eq!(s.bootstrap_servers, vec!["h1:9092", "h2:9093"]);
    assert_eq!(s.client_id, "rdkafka");
    assert_eq!(s.group_id, None);
    assert_eq!(s.session_timeout, Duration::from_millis(45000));
    assert_eq!(s.heartbeat_interval, Duration::from_millis(3000));
    assert_eq!(s.max_poll_interval, Duration::from_millis(300000));
    assert_eq!(s.rebalance_strategies, "range,roundrobin");
    assert!(s.enable_auto_commit && s.enable_auto_offset_store);
    assert_eq!(s.auto_commit_interval, Duration::from_millis(5000));
    assert_eq!(s.auto_offset_reset, AutoOffsetReset::Latest);
    assert!(!s.enable_partition_eof && !s.check_crcs);
    assert_eq!(s.isolation_level, IsolationLevel::ReadCommitted);
    assert_eq!(s.fetch_wait_max, Duration::from_millis(500));
    assert_eq!((s.fetch_min_bytes, s.fetch_max_bytes), (1, 52428800));
    assert_eq!(s.max_partition_fetch_bytes, 1048576);
    assert_eq!(s.receive_message_max_bytes, 100000000);
    assert_eq!(s.fetch_error_backoff, Duration::from_millis(500));
    assert_eq!(
        (s.queued_min_messages, s.queued_max_messages_kbytes),
        (100000, 65536)
    );
    assert_eq!(s.reconnect_backoff, Duration::from_millis(100));
    assert_eq!(s.reconnect_backoff_max, Duration::from_millis(10000));
    assert_eq!(s.socket_timeout, Duration::from_millis(60000));
    assert_eq!(s.metadata_max_age, Duration::from_millis(900000));
    assert_eq!(
        s.topic_metadata_refresh_interval,
        Some(Duration::from_millis(300000))
    );
    assert_eq!(s.retry_backoff, Duration::from_millis(100));
    assert_eq!(s.retry_backoff_max, Duration::from_millis(1000));
    assert!(s.api_version_request && !s.allow_auto_create_topics);
    assert_eq!(s.client_rack, None);
    assert_eq!(s.statistics_interval, Duration::ZERO);

    c.set("auto.offset.reset", "beginning").unwrap();
    c.set("queued.max.messages.kbytes", "1024").unwrap();
    let s = ConsumerSettings::from_config(&c).unwrap();
    assert_eq!(s.auto_offset_reset, AutoOffsetReset::Earliest);
    // fetch.max.bytes is lowered to the queue bound, but not below message.max.bytes.
    assert_eq!(s.fetch_max_bytes, 1048576);
}

#[test]
fn consumer_cross_checks() {
    let mut c = ClientConfig::new();
    c.set("max.poll.interval.ms", "1000").unwrap();
    assert_eq!(
        c.validate_consumer().unwrap_err().errstr(),
        "`max.poll.interval.ms`must be >= `session.timeout.ms`"
    );
    let mut c = ClientConfig::new();
    c.set("fetch.max.bytes", "1000").unwrap();
    assert_eq!(
        c.validate_consumer().unwrap_err().errstr(),
        "`fetch.max.bytes` must be >= `message.max.bytes`"
    );
    let mut c = ClientConfig::new();
    c.set("receive.message.max.bytes", "1000").unwrap();
    assert!(c.validate_consumer().is_err());
    let mut c = ClientConfig::new();
    c.set("reconnect.backoff.max.ms", "10").unwrap();
    assert_eq!(
        c.validate_consumer().unwrap_err().errstr(),
        "`reconnect.backoff.max.ms` must be >= `reconnect.backoff.ms`"
    );
    let mut c = ClientConfig::new();
    c.set("group.protocol", "consumer").unwrap();
    c.set("session.timeout.ms", "10000").unwrap();
    assert!(c
        .validate_consumer()
        .unwrap_err()
        .errstr()
        .starts_with("`session.timeout.ms` is not supported"));
}

#[test]
fn producer_settings_and_checks() {
    let c = ClientConfig::new();
    let s = ProducerSettings::from_config(&c).unwrap();
    assert_eq!(s.linger, Duration::from_millis(5));
    assert_eq!(
        (s.batch_size, s.batch_num_messages, s.message_max_bytes),
        (1000000, 10000, 1000000)
    );
    assert_eq!(
        (s.compression_codec, s.compression_level),
        (CompressionCodec::None, -1)
    );
    assert_eq!(s.acks, -1);
    assert_eq!(s.request_timeout, Duration::from_millis(30000));
    assert_eq!(s.message_timeout, Some(Duration::from_millis(300000)));
    assert_eq!((s.retries, s.max_in_flight), (i32::MAX, 1000000));
    assert!(!s.enable_idempotence && s.allow_auto_create_topics);
    assert_eq!(
        (s.queue_buffering_max_messages, s.queue_buffering_max_kbytes),
        (100000, 1048576)
    );
    assert_eq!(s.partitioner, "consistent_random");
    assert_eq!(s.sticky_partitioning_linger, Duration::from_millis(10));

    let mut c = ClientConfig::new();
    c.set("enable.idempotence", "true").unwrap();
    c.set("compression.type", "zstd").unwrap();
    let s = ProducerSettings::from_config(&c).unwrap();
    assert_eq!((s.max_in_flight, s.acks), (5, -1));
    assert_eq!(s.compression_codec, CompressionCodec::Zstd);
    c.set("topic.compression.codec", "lz4").unwrap();
    assert_eq!(
        ProducerSettings::from_config(&c).unwrap().compression_codec,
        CompressionCodec::Lz4
    );
    c.set("acks", "1").unwrap();
    assert_eq!(
        c.validate_producer().unwrap_err().errstr(),
        "`acks` must be set to `all` when `enable.idempotence` is true"
    );
    let mut c = ClientConfig::new();
    c.set("enable.idempotence", "true").unwrap();
    c.set("max.in.flight", "6").unwrap();
    assert_eq!(
        c.validate_producer().unwrap_err().errstr(),
        "`max.in.flight` must be set <= 5 when `enable.idempotence` is true"
    );
    let mut c = ClientConfig::new();
    c.set("linger.ms", "100").unwrap();
    c.set("message.timeout.ms", "50").unwrap();
    assert_eq!(
        c.validate_producer().unwrap_err().errstr(),
        "`message.timeout.ms` must be greater than `linger.ms`"
    );
    let mut c = ClientConfig::new();
    c.set("transactional.id", "tx").unwrap();
    c.set("enable.idempotence", "false").unwrap();
    assert_eq!(
        c.validate_producer().unwrap_err().errstr(),
        "`transactional.id` requires `enable.idempotence=true`"
    );
}

#[test]
fn table_is_consistent() {
    use std::collections::HashSet;
    let mut seen = HashSet::new();
    for p in PROPERTIES {
        assert!(seen.insert((p.scope, p.name)), "duplicate {}", p.name);
        match p.ty {
            PropertyType::Alias(target) => {
                let t = find_property(p.scope, target).expect("alias target");
                assert!(!matches!(t.ty, PropertyType::Alias(_)));
                assert!(p.default.is_none() && !p.acted_on);
            }
            PropertyType::Integer { min, max, .. } => {
                let d: i32 = p.default.unwrap().parse().unwrap();
                assert!(min <= d && d <= max, "{}", p.name);
            }
            PropertyType::Float { min, max } => {
                let d: f64 = p.default.unwrap().parse().unwrap();
                assert!(min <= d && d <= max, "{}", p.name);
            }
            PropertyType::Boolean => assert!(matches!(p.default, Some("true" | "false"))),
            PropertyType::Enum(v) => {
                let d = p.default.unwrap();
                assert!(v.iter().any(|e| e.name == d), "{}", p.name);
            }
            _ => {}
        }
        // Every default is accepted by the property's own parser.
        if let (
            Some(d),
            PropertyType::Integer { .. }
            | PropertyType::Float { .. }
            | PropertyType::Boolean
            | PropertyType::Enum(_),
        ) = (p.default, p.ty)
        {
            let mut c = if p.scope == Scope::Global {
                ClientConfig::new()
            } else {
                ClientConfig::new_topic()
            };
            if p.requires.is_none() {
                c.set(p.name, d)
                    .unwrap_or_else(|e| panic!("{}: {e}", p.name));
                assert_eq!(c.get(p.name).as_deref(), Some(d), "{}", p.name);
            }
        }
    }
    // The engines act on the consumer's and the producer's properties.
    let acted: Vec<&str> = PROPERTIES
        .iter()
        .filter(|p| p.acted_on)
        .map(|p| p.name)
        .collect();
    assert!(acted.contains(&"fetch.wait.max.ms") && acted.contains(&"debug"));
    assert!(acted.contains(&"partitioner") && acted.contains(&"transactional.id"));
}

#[test]
fn important_librdkafka_names_present() {
    const NAMES: &[&str] = &[
        "builtin.features",
        "client.id",
        "metadata.broker.list",
        "bootstrap.servers",
        "message.max.bytes",
        "receive.message.max.bytes",
        "max.in.flight",
        "topic.metadata.refresh.interval.ms",
        "metadata.max.age.ms",
        "debug",
        "socket.timeout.ms",
        "socket.keepalive.enable",
        "broker.address.family",
        "reconnect.backoff.ms",
        "reconnect.backoff.max.ms",
        "statistics.interval.ms",
        "log_level",
        "api.version.request",
        "broker.version.fallback",
        "allow.auto.create.topics",
        "security.protocol",
        "sasl.mechanisms",
        "sasl.username",
        "sasl.password",
        "group.id",
        "group.instance.id",
        "partition.assignment.strategy",
        "session.timeout.ms",
        "heartbeat.interval.ms",
        "group.protocol",
        "max.poll.interval.ms",
        "enable.auto.commit",
        "auto.commit.interval.ms",
        "enable.auto.offset.store",
        "queued.min.messages",
        "queued.max.messages.kbytes",
        "fetch.wait.max.ms",
        "fetch.message.max.bytes",
        "max.partition.fetch.bytes",
        "fetch.max.bytes",
        "fetch.min.bytes",
        "isolation.level",
        "enable.partition.eof",
        "check.crcs",
        "client.rack",
        "transactional.id",
        "enable.idempotence",
        "queue.buffering.max.messages",
        "queue.buffering.max.kbytes",
        "linger.ms",
        "retries",
        "retry.backoff.ms",
        "compression.codec",
        "compression.type",
        "batch.num.messages",
        "batch.size",
        "sticky.partitioning.linger.ms",
        "acks",
        "request.timeout.ms",
        "message.timeout.ms",
        "delivery.timeout.ms",
        "partitioner",
        "compression.level",
        "auto.offset.reset",
        "client.software.name",
        "client.software.version",
    ];
    let c = ClientConfig::new();
    for n in NAMES {
        assert!(c.resolve(n).is_some(), "{n}");
    }
}

/// Compares the table with librdkafka's CONFIGURATION.md when a fetched copy is available
/// (set `LIBRDKAFKA_CONFIGURATION_MD` to its path); skipped otherwise.
#[test]
fn matches_librdkafka_configuration_md() {
    let Ok(path) = std::env::var("LIBRDKAFKA_CONFIGURATION_MD") else {
        eprintln!("LIBRDKAFKA_CONFIGURATION_MD not set; skipping");
        return;
    };
    let text = std::fs::read_to_string(path).expect("readable CONFIGURATION.md");
    let mut scope = Scope::Global;
    let mut n = 0;
    for line in text.lines() {
        if line.starts_with("## Topic") {
            scope = Scope::Topic;
        }
        let cols: Vec<&str> = line.split('|').map(str::trim).collect();
        if cols.len() < 6 || cols[0] == "Property" || cols[0].starts_with('-') {
            continue;
        }
        let p = PROPERTIES
            .iter()
            .find(|p| p.scope == scope && p.name == cols[0])
            .unwrap_or_else(|| panic!("{} missing", cols[0]));
        n += 1;
        assert!(!p.hidden, "{}", p.name);
        let default = cols[3];
        let ours = match p.ty {
            // librdkafka's documentation shows an alias with the client-level target when one exists.
            PropertyType::Alias(t) => {
                find_property(Scope::Global, t)
                    .or_else(|| find_property(scope, t))
                    .unwrap()
                    .default
            }
            _ => p.default,
        };
        // A default that wraps onto the next line in the markdown is compared by prefix.
        if let Some(prefix) = default.strip_suffix('\\') {
            assert!(
                ours.unwrap_or("").starts_with(prefix.trim_end()),
                "{}",
                p.name
            );
        } else if !matches!(p.ty, PropertyType::Flags(_) | PropertyType::Pointer) {
            assert_eq!(ours.unwrap_or(""), default, "{}", p.name);
        }
    }
    // librdkafka does not document hidden properties nor the refused Java-client names.
    let documented = PROPERTIES
        .iter()
        .filter(|p| !p.hidden && !matches!(p.ty, PropertyType::Invalid(_)))
        .count();
    assert_eq!(n, documented);
}

#[test]
fn producer_allows_auto_create_by_default() {
    let c = ClientConfig::new();
    let p = super::ProducerSettings::from_config(&c).unwrap();
    assert!(p.allow_auto_create_topics);
    let s = super::ConsumerSettings::from_config(&c).unwrap();
    assert!(!s.allow_auto_create_topics);
}
