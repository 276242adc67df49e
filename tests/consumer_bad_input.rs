//! Configuration and API misuse: librdkafka's error messages, and no consumer or group without
//! what it needs.

mod common;

use kafka::{ClientConfig, Consumer, ErrorCode};

#[test]
fn unknown_property_is_rejected_with_librdkafkas_message() {
    let err = ClientConfig::new().set("foo.bar", "1").unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"No such configuration property: "foo.bar""#
    );
    assert_eq!(err.code(), -2, "RD_KAFKA_CONF_UNKNOWN");
}

#[test]
fn invalid_value_names_the_property() {
    for (k, v) in [
        ("session.timeout.ms", "not-a-number"),
        ("auto.offset.reset", "sometimes"),
        ("enable.auto.commit", "maybe"),
        ("fetch.wait.max.ms", "-5"),
    ] {
        let err = ClientConfig::new().set(k, v).unwrap_err();
        assert_eq!(err.code(), -1, "RD_KAFKA_CONF_INVALID for {k}={v}");
        assert!(
            err.to_string().contains(k),
            "error for {k}={v} does not name the property: {err}"
        );
    }
}

/// As librdkafka: created without `bootstrap.servers`, it reaches no broker (requests fail)
/// until `add_brokers` gives it some.
#[test]
fn consumer_without_bootstrap_servers_has_no_broker() {
    let mut c = ClientConfig::new();
    c.set("group.id", "g").unwrap();
    let consumer = Consumer::new(&c).expect("created without brokers");
    let t = std::time::Instant::now();
    let err = consumer
        .fetch_metadata(None, std::time::Duration::from_millis(500))
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::L_TRANSPORT, "{err}");
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    assert_eq!(
        consumer.add_brokers("PLAINTEXT://127.0.0.1:1, :2,SSL://x:3"),
        2
    );
    consumer.close().unwrap();
}

#[test]
fn subscribe_without_group_id_fails() {
    let mut c = ClientConfig::new();
    // Nothing listens there: subscribe must fail before any network traffic matters.
    c.set("bootstrap.servers", "127.0.0.1:1").unwrap();
    let consumer = Consumer::new(&c).unwrap();
    let err = consumer.subscribe(&["t"]).unwrap_err();
    assert_eq!(err.code, ErrorCode::L_UNKNOWN_GROUP, "{err}");
    let err = consumer
        .committed(
            &[kafka::TopicPartition::new("t", 0)],
            std::time::Duration::from_secs(1),
        )
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::L_UNKNOWN_GROUP, "{err}");
    consumer.close().unwrap();
}
