//! Per-broker counters kept by the connection layer (requests and bytes each way, errors,
//! connects, round-trip and throttle windows) and their part of the statistics document.

use std::sync::Arc;
use std::time::Instant;

use super::json::JsonWriter;
use super::micros;
use super::window::Window;

/// librdkafka's request-type names, by API key, for the `req` object.
const REQUEST_NAMES: &[(i16, &str)] = &[
    (0, "Produce"),
    (1, "Fetch"),
    (2, "ListOffsets"),
    (3, "Metadata"),
    (8, "OffsetCommit"),
    (9, "OffsetFetch"),
    (10, "FindCoordinator"),
    (11, "JoinGroup"),
    (12, "Heartbeat"),
    (13, "LeaveGroup"),
    (14, "SyncGroup"),
    (17, "SaslHandshake"),
    (18, "ApiVersion"),
    (22, "InitProducerId"),
    (24, "AddPartitionsToTxn"),
    (25, "AddOffsetsToTxn"),
    (26, "EndTxn"),
    (28, "TxnOffsetCommit"),
    (36, "SaslAuthenticate"),
    (47, "OffsetDeleteRequest"),
    (48, "DescribeClientQuotasRequest"),
    (49, "AlterClientQuotasRequest"),
    (50, "DescribeUserScramCredentialsRequest"),
];

/// Highest API key counted (+1).
const MAX_API_KEY: usize = 64;

/// The counters of one logical broker; they outlive its connections.
#[derive(Debug)]
pub(crate) struct BrokerStats {
    /// librdkafka's broker state name (`INIT`, `CONNECT`, `APIVERSION_QUERY`, `UP`, `DOWN`).
    pub state: &'static str,
    pub state_since: Instant,
    pub tx: u64,
    pub tx_bytes: u64,
    pub tx_errs: u64,
    pub req_timeouts: u64,
    pub rx: u64,
    pub rx_bytes: u64,
    pub rx_errs: u64,
    pub rx_corrid_errs: u64,
    pub connects: u64,
    pub disconnects: u64,
    pub last_tx: Option<Instant>,
    pub last_rx: Option<Instant>,
    req: [u64; MAX_API_KEY],
    pub rtt: Window,
    pub throttle: Window,
    pub int_latency: Window,
    /// The last throttle time reported, for the throttle callback's "back to zero" rule.
    pub last_throttle_ms: i32,
}

impl BrokerStats {
    pub fn new(now: Instant) -> Self {
        BrokerStats {
            state: "INIT",
            state_since: now,
            tx: 0,
            tx_bytes: 0,
            tx_errs: 0,
            req_timeouts: 0,
            rx: 0,
            rx_bytes: 0,
            rx_errs: 0,
            rx_corrid_errs: 0,
            connects: 0,
            disconnects: 0,
            last_tx: None,
            last_rx: None,
            req: [0; MAX_API_KEY],
            rtt: Window::default(),
            throttle: Window::default(),
            int_latency: Window::default(),
            last_throttle_ms: 0,
        }
    }

    /// Moves to `state` (no change of `state_since` when it is the same).
    pub fn set_state(&mut self, state: &'static str, now: Instant) {
        if self.state != state {
            self.state = state;
            self.state_since = now;
        }
    }

    /// Counts one request of `bytes` bytes (size prefix included).
    pub fn on_sent(&mut self, api_key: i16, bytes: usize, now: Instant) {
        self.tx += 1;
        self.tx_bytes += bytes as u64;
        self.last_tx = Some(now);
        if let Some(n) = self.req.get_mut(api_key as usize) {
            *n += 1;
        }
    }

    /// Counts one response of `bytes` bytes (size prefix included) and its round trip.
    pub fn on_received(&mut self, bytes: usize, sent: Instant, now: Instant) {
        self.rx += 1;
        self.rx_bytes += bytes as u64;
        self.last_rx = Some(now);
        self.rtt.add(micros(now.saturating_duration_since(sent)));
    }

    /// Records a broker's throttle time; true when the application's throttle callback must
    /// hear of it (librdkafka: a non-zero time, or the first zero after a non-zero one).
    pub fn on_throttle(&mut self, ms: i32) -> bool {
        self.throttle.add(i64::from(ms.max(0)));
        let report = ms > 0 || self.last_throttle_ms > 0;
        self.last_throttle_ms = ms.max(0);
        report
    }

    /// Writes this broker as member `name` of `brokers` and rolls its windows.
    #[allow(clippy::too_many_arguments)]
    pub fn write(
        &mut self,
        w: &mut JsonWriter,
        name: &str,
        nodeid: i32,
        nodename: &str,
        source: &str,
        waitresp: usize,
        toppars: &[(Arc<str>, i32)],
        now: Instant,
    ) {
        let idle = |t: Option<Instant>| t.map_or(-1, |t| micros(now.saturating_duration_since(t)));
        w.open(Some(name));
        w.str("name", name);
        w.int("nodeid", i64::from(nodeid));
        w.str("nodename", nodename);
        w.str("source", source);
        w.str("state", self.state);
        w.int(
            "stateage",
            micros(now.saturating_duration_since(self.state_since)),
        );
        w.int("outbuf_cnt", 0);
        w.int("outbuf_msg_cnt", 0);
        w.uint("waitresp_cnt", waitresp as u64);
        w.int("waitresp_msg_cnt", 0);
        w.uint("tx", self.tx);
        w.uint("txbytes", self.tx_bytes);
        w.uint("txerrs", self.tx_errs);
        w.int("txretries", 0);
        w.int("txidle", idle(self.last_tx));
        w.uint("req_timeouts", self.req_timeouts);
        w.uint("rx", self.rx);
        w.uint("rxbytes", self.rx_bytes);
        w.uint("rxerrs", self.rx_errs);
        w.uint("rxcorriderrs", self.rx_corrid_errs);
        w.int("rxpartial", 0);
        w.int("rxidle", idle(self.last_rx));
        w.int("zbuf_grow", 0);
        w.int("buf_grow", 0);
        w.int("wakeups", 0);
        w.uint("connects", self.connects);
        w.uint("disconnects", self.disconnects);
        self.int_latency.write_and_roll(w, "int_latency");
        Window::default().write_and_roll(w, "outbuf_latency");
        self.rtt.write_and_roll(w, "rtt");
        self.throttle.write_and_roll(w, "throttle");
        w.open(Some("req"));
        for (key, name) in REQUEST_NAMES {
            w.uint(name, self.req[*key as usize]);
        }
        w.close();
        w.open(Some("toppars"));
        for (topic, partition) in toppars {
            w.open(Some(&format!("{topic}-{partition}")));
            w.str("topic", topic);
            w.int("partition", i64::from(*partition));
            w.close();
        }
        w.close();
        w.close();
    }
}
