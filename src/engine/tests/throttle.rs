//! Fetch throttle times and statistics in simulated time: librdkafka's throttle_cb rule (every
//! non-zero time, then one zero when throttling ends) and the per-broker throttle window.

use kafka_protocol::messages::ApiKey;

use super::harness::Harness;
use super::*;
use crate::engine::stats::Throttle;

fn throttles(h: &mut Harness) -> Vec<Throttle> {
    let mut out = Vec::new();
    h.events.retain(|e| match e {
        ConsumerEvent::Throttle(t) => {
            out.push(t.clone());
            false
        }
        _ => true,
    });
    out
}

#[test]
fn fetch_throttle_reports_non_zero_times_then_one_zero() {
    let mut h = Harness::new(&[("statistics.interval.ms", "1000")]);
    let md = h.expect(ApiKey::Metadata);
    h.respond(&md, &metadata(&[1], &[("t", &[1])]));
    h.assign(Some(&[tp_at("t", 0, 0)]), None);
    for ms in [0, 120, 80, 0, 0] {
        let f = h.expect(ApiKey::Fetch);
        let resp = fetch_response(vec![fetched("t", 0, 0, 0, None)]).with_throttle_time_ms(ms);
        h.respond(&f, &resp);
    }
    let got: Vec<(String, i32, i32)> = throttles(&mut h)
        .into_iter()
        .map(|t| (t.broker_name, t.broker_id, t.throttle_time_ms))
        .collect();
    let b1 = "b1:9092/1".to_string();
    assert_eq!(
        got,
        vec![(b1.clone(), 1, 120), (b1.clone(), 1, 80), (b1, 1, 0)]
    );

    // The next statistics document carries the window of the five throttle times.
    let _ = h.take(ApiKey::Fetch);
    h.advance(std::time::Duration::from_millis(1000));
    let doc = h
        .events
        .iter()
        .find_map(|e| match e {
            ConsumerEvent::Stats(s) => Some(s.clone()),
            _ => None,
        })
        .expect("a statistics document after statistics.interval.ms");
    assert!(
        doc.contains("\"throttle\":{\"min\":0,\"max\":120,\"avg\":40,\"sum\":200,"),
        "{doc}"
    );
    assert!(doc.contains("\"name\":\"b1:9092/1\",\"nodeid\":1,\"nodename\":\"b1:9092\""));
}
