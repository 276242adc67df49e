//! Broker connections without sockets: addresses, the ApiVersions handshake, correlation ids,
//! in-flight requests, reconnect backoff and request timeouts.
//!
//! The runtime performs the [`IoAction`]s this module emits and reports back connects, frames and
//! closes. Kafka answers requests on one connection in order, so in-flight requests are a queue.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::StrBytes;

use crate::protocol::frame::{self, Request};
use crate::protocol::versions::ApiVersionTable;

use super::stats::broker::BrokerStats;

/// Identifies one socket for the runtime (it becomes the mio token).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct ConnId(pub usize);

/// Which logical broker a connection serves. The group coordinator gets its own connection, as in
/// librdkafka, so heartbeats never queue behind a long-polling fetch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum BrokerKey {
    /// The i-th `bootstrap.servers` entry, used until metadata names the brokers.
    Bootstrap(usize),
    /// A broker by node id.
    Node(i32),
    /// The group coordinator, by node id.
    Coordinator(i32),
}

/// What the runtime must do.
#[derive(Debug)]
pub(crate) enum IoAction {
    Connect(ConnId, String),
    Send(ConnId, Bytes),
    Close(ConnId),
}

/// A request waiting for its response.
#[derive(Debug)]
pub(crate) struct InFlight<C> {
    pub correlation_id: i32,
    pub api_key: ApiKey,
    pub version: i16,
    pub ctx: C,
    pub deadline: Instant,
    /// When the request was queued for sending (round-trip times).
    pub sent: Instant,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Connecting,
    Handshake,
    Ready,
}

struct Conn<C> {
    key: BrokerKey,
    state: State,
    versions: ApiVersionTable,
    /// The handshake's own request has no engine context (`None`).
    inflight: VecDeque<InFlight<Option<C>>>,
    /// Set while the connect or handshake must finish.
    setup_deadline: Instant,
}

#[derive(Clone, Copy, Debug)]
struct Backoff {
    failures: u32,
    retry_at: Instant,
    /// Someone asked for this connection during the backoff: `retry_at` is then a deadline.
    /// A broker nobody needs must not keep a past deadline (the driver would spin).
    wanted: bool,
}

/// Why a request could not be sent.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum SendError {
    /// No ready connection to that broker (one is being set up if the address is known).
    NotReady,
    /// The broker does not support the API at any version we speak.
    Unsupported,
}

/// Timeouts and limits for connections.
#[derive(Clone, Debug)]
pub(crate) struct NetSettings {
    pub client_id: String,
    pub reconnect_backoff: Duration,
    pub reconnect_backoff_max: Duration,
    pub socket_timeout: Duration,
    pub max_response_size: usize,
}

/// Every connection of the client, keyed by logical broker.
pub(crate) struct Net<C> {
    settings: NetSettings,
    client_id: StrBytes,
    conns: HashMap<ConnId, Conn<C>>,
    by_key: HashMap<BrokerKey, ConnId>,
    addrs: HashMap<BrokerKey, String>,
    backoff: HashMap<BrokerKey, Backoff>,
    io: VecDeque<IoAction>,
    next_conn: usize,
    next_correlation: i32,
    scratch: BytesMut,
    /// Counters per logical broker for statistics; kept across reconnects.
    stats: BTreeMap<BrokerKey, BrokerStats>,
}

/// A response matched to its request.
pub(crate) struct Response<C> {
    pub key: BrokerKey,
    pub inflight: InFlight<C>,
    pub body: Bytes,
}

/// What happened when a frame arrived.
pub(crate) enum FrameOutcome<C> {
    /// Part of connection setup; nothing for the engine.
    Handled,
    /// The connection finished its handshake.
    Ready,
    /// A response for the engine.
    Response(Response<C>),
    /// The frame made no sense; the connection was closed and these requests failed.
    Failed(BrokerKey, Vec<InFlight<C>>, String),
}

impl<C> Net<C> {
    pub fn new(settings: NetSettings) -> Self {
        Net {
            client_id: StrBytes::from_string(settings.client_id.clone()),
            settings,
            conns: HashMap::new(),
            by_key: HashMap::new(),
            addrs: HashMap::new(),
            backoff: HashMap::new(),
            io: VecDeque::new(),
            next_conn: 1,
            next_correlation: 1,
            scratch: BytesMut::with_capacity(4096),
            stats: BTreeMap::new(),
        }
    }

    /// Records where a logical broker lives. A changed address closes the old connection.
    pub fn set_address(&mut self, key: BrokerKey, addr: String, now: Instant) -> Vec<InFlight<C>> {
        let changed = self.addrs.get(&key).is_some_and(|a| *a != addr);
        self.addrs.insert(key, addr);
        if changed {
            return self.close(key, now, false);
        }
        Vec::new()
    }

    /// Adds `addr` as a bootstrap broker unless one has it already (`rd_kafka_brokers_add`).
    pub fn add_bootstrap(&mut self, addr: String) {
        let mut next = 0;
        for (k, a) in &self.addrs {
            if let BrokerKey::Bootstrap(i) = k {
                if *a == addr {
                    return;
                }
                next = next.max(i + 1);
            }
        }
        self.addrs.insert(BrokerKey::Bootstrap(next), addr);
    }

    /// Forgets a logical broker and closes its connection.
    pub fn remove(&mut self, key: BrokerKey, now: Instant) -> Vec<InFlight<C>> {
        self.addrs.remove(&key);
        self.backoff.remove(&key);
        self.close(key, now, false)
    }

    /// The address of a logical broker (`host:port`), if known.
    pub fn address(&self, key: BrokerKey) -> Option<&str> {
        self.addrs.get(&key).map(String::as_str)
    }

    /// Keys with known addresses.
    pub fn keys(&self) -> impl Iterator<Item = BrokerKey> + '_ {
        self.addrs.keys().copied()
    }

    /// True when requests can be sent to `key` now; otherwise starts connecting if allowed.
    pub fn ensure(&mut self, key: BrokerKey, now: Instant) -> bool {
        if let Some(id) = self.by_key.get(&key) {
            return self.conns[id].state == State::Ready;
        }
        let Some(addr) = self.addrs.get(&key).cloned() else {
            return false;
        };
        if let Some(b) = self.backoff.get_mut(&key).filter(|b| b.retry_at > now) {
            b.wanted = true;
            return false;
        }
        let id = ConnId(self.next_conn);
        self.next_conn += 1;
        self.conns.insert(
            id,
            Conn {
                key,
                state: State::Connecting,
                versions: ApiVersionTable::default(),
                inflight: VecDeque::new(),
                setup_deadline: now + self.settings.socket_timeout,
            },
        );
        self.by_key.insert(key, id);
        self.io.push_back(IoAction::Connect(id, addr));
        let st = self.stats_mut(key, now);
        st.connects += 1;
        st.set_state("CONNECT", now);
        false
    }

    pub fn is_ready(&self, key: BrokerKey) -> bool {
        self.by_key
            .get(&key)
            .is_some_and(|id| self.conns[id].state == State::Ready)
    }

    /// True when the connection exists (ready or being set up).
    pub fn is_connecting_or_ready(&self, key: BrokerKey) -> bool {
        self.by_key.contains_key(&key)
    }

    /// Number of requests waiting for a response on `key`.
    pub fn inflight_count(&self, key: BrokerKey) -> usize {
        self.by_key
            .get(&key)
            .map_or(0, |id| self.conns[id].inflight.len())
    }

    /// The negotiated version of `api` with `key`, if the connection is ready and shares one.
    pub fn version(&self, key: BrokerKey, api: ApiKey) -> Option<i16> {
        let id = self.by_key.get(&key)?;
        let c = &self.conns[id];
        (c.state == State::Ready)
            .then(|| c.versions.version(api))
            .flatten()
    }

    /// Encodes and queues `req` at `version` for `key`, remembering `ctx` for the response; on
    /// failure the context comes back so that the caller can retry or answer it.
    /// `extra_timeout` extends the deadline (a fetch's long-poll wait).
    pub fn send<R: Request>(
        &mut self,
        key: BrokerKey,
        req: &R,
        version: i16,
        ctx: C,
        extra_timeout: Duration,
        now: Instant,
    ) -> Result<(), (SendError, C)> {
        let Some(&id) = self.by_key.get(&key) else {
            return Err((SendError::NotReady, ctx));
        };
        if self.conns[&id].state != State::Ready {
            return Err((SendError::NotReady, ctx));
        }
        let correlation_id = self.correlation();
        self.scratch.clear();
        if frame::encode_request(
            req,
            version,
            correlation_id,
            &self.client_id,
            &mut self.scratch,
        )
        .is_err()
        {
            return Err((SendError::Unsupported, ctx));
        }
        let bytes = self.scratch.split().freeze();
        let deadline = now + self.settings.socket_timeout + extra_timeout;
        let api_key = R::KEY;
        self.stats_mut(key, now)
            .on_sent(api_key as i16, bytes.len(), now);
        let conn = self.conns.get_mut(&id).expect("connection exists");
        conn.inflight.push_back(InFlight {
            correlation_id,
            api_key,
            version,
            ctx: Some(ctx),
            deadline,
            sent: now,
        });
        self.io.push_back(IoAction::Send(id, bytes));
        Ok(())
    }

    /// Sends a request the broker does not answer (Produce with `acks=0`).
    pub fn send_no_response<R: Request>(
        &mut self,
        key: BrokerKey,
        req: &R,
        version: i16,
        now: Instant,
    ) -> Result<(), SendError> {
        let Some(&id) = self.by_key.get(&key) else {
            return Err(SendError::NotReady);
        };
        if self.conns[&id].state != State::Ready {
            return Err(SendError::NotReady);
        }
        let correlation_id = self.correlation();
        self.scratch.clear();
        frame::encode_request(
            req,
            version,
            correlation_id,
            &self.client_id,
            &mut self.scratch,
        )
        .map_err(|_| SendError::Unsupported)?;
        let bytes = self.scratch.split().freeze();
        self.stats_mut(key, now)
            .on_sent(R::KEY as i16, bytes.len(), now);
        self.io.push_back(IoAction::Send(id, bytes));
        Ok(())
    }

    fn correlation(&mut self) -> i32 {
        let c = self.next_correlation;
        self.next_correlation = self.next_correlation.wrapping_add(1).max(1);
        c
    }

    /// The runtime connected `id`: start the ApiVersions handshake.
    pub fn on_connected(&mut self, id: ConnId, now: Instant) {
        let Some(conn) = self.conns.get_mut(&id) else {
            return;
        };
        if conn.state != State::Connecting {
            return;
        }
        conn.state = State::Handshake;
        let key = conn.key;
        self.stats_mut(key, now).set_state("APIVERSION_QUERY", now);
        self.send_api_versions(id, 3, now);
    }

    fn send_api_versions(&mut self, id: ConnId, version: i16, now: Instant) {
        let correlation_id = self.correlation();
        let req = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("librskafka"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        self.scratch.clear();
        frame::encode_request(
            &req,
            version,
            correlation_id,
            &self.client_id,
            &mut self.scratch,
        )
        .expect("ApiVersions encodes");
        let bytes = self.scratch.split().freeze();
        let conn = self.conns.get_mut(&id).expect("connection exists");
        conn.setup_deadline = now + self.settings.socket_timeout;
        conn.inflight.push_front(InFlight {
            correlation_id,
            api_key: ApiKey::ApiVersions,
            version,
            ctx: None,
            deadline: conn.setup_deadline,
            sent: now,
        });
        let key = conn.key;
        self.stats_mut(key, now)
            .on_sent(ApiKey::ApiVersions as i16, bytes.len(), now);
        self.io.push_back(IoAction::Send(id, bytes));
    }

    /// A complete response frame arrived on `id`.
    pub fn on_frame(&mut self, id: ConnId, mut body: Bytes, now: Instant) -> FrameOutcome<C> {
        let Some(conn) = self.conns.get_mut(&id) else {
            return FrameOutcome::Handled;
        };
        let key = conn.key;
        let corr = frame::peek_correlation_id(&body);
        let matches = conn
            .inflight
            .front()
            .is_some_and(|f| Some(f.correlation_id) == corr);
        let frame_len = body.len() + 4;
        if !matches {
            self.stats_mut(key, now).rx_corrid_errs += 1;
            let msg = format!("response correlation id {corr:?} does not match the request sent");
            let failed = self.close(key, now, true);
            return FrameOutcome::Failed(key, failed, msg);
        }
        let inflight = conn.inflight.pop_front().expect("checked");
        self.stats_mut(key, now)
            .on_received(frame_len, inflight.sent, now);
        if let Err(e) = frame::strip_response_header(&mut body, inflight.api_key, inflight.version)
        {
            self.stats_mut(key, now).rx_errs += 1;
            let mut failed = self.close(key, now, true);
            failed.splice(0..0, with_ctx(inflight));
            return FrameOutcome::Failed(key, failed, e.to_string());
        }
        let InFlight {
            correlation_id,
            api_key,
            version,
            ctx,
            deadline,
            sent,
        } = inflight;
        match ctx {
            None => self.on_api_versions(id, key, body, version, now),
            Some(ctx) => FrameOutcome::Response(Response {
                key,
                inflight: InFlight {
                    correlation_id,
                    api_key,
                    version,
                    ctx,
                    deadline,
                    sent,
                },
                body,
            }),
        }
    }

    fn on_api_versions(
        &mut self,
        id: ConnId,
        key: BrokerKey,
        mut body: Bytes,
        version: i16,
        now: Instant,
    ) -> FrameOutcome<C> {
        match frame::decode_body::<ApiVersionsResponse>(&mut body, version) {
            Ok(resp) if resp.error_code == 35 && version > 0 => {
                // UNSUPPORTED_VERSION: the broker lists what it supports in a v0 body; retry at v0.
                self.send_api_versions(id, 0, now);
                FrameOutcome::Handled
            }
            Ok(resp) if resp.error_code == 0 => {
                let conn = self.conns.get_mut(&id).expect("connection exists");
                conn.versions = ApiVersionTable::negotiate(&resp);
                conn.state = State::Ready;
                self.backoff.remove(&key);
                self.stats_mut(key, now).set_state("UP", now);
                FrameOutcome::Ready
            }
            Ok(resp) => {
                let failed = self.close(key, now, true);
                FrameOutcome::Failed(
                    key,
                    failed,
                    format!("ApiVersions failed with error {}", resp.error_code),
                )
            }
            Err(e) => {
                let failed = self.close(key, now, true);
                FrameOutcome::Failed(key, failed, format!("ApiVersions response: {e}"))
            }
        }
    }

    /// The runtime saw `id` fail or close: returns the key and the requests that got no answer.
    pub fn on_closed(&mut self, id: ConnId, now: Instant) -> Option<(BrokerKey, Vec<InFlight<C>>)> {
        let key = self.conns.get(&id)?.key;
        Some((key, self.close(key, now, true)))
    }

    /// Closes the connection of `key`; with `failure` the next connect backs off.
    pub fn close(&mut self, key: BrokerKey, now: Instant, failure: bool) -> Vec<InFlight<C>> {
        let Some(id) = self.by_key.remove(&key) else {
            return Vec::new();
        };
        let conn = self.conns.remove(&id).expect("connection exists");
        self.io.push_back(IoAction::Close(id));
        let st = self.stats_mut(key, now);
        if conn.state != State::Connecting {
            st.disconnects += 1;
        }
        st.set_state("DOWN", now);
        if failure {
            let b = self.backoff.entry(key).or_insert(Backoff {
                failures: 0,
                retry_at: now,
                wanted: false,
            });
            b.wanted = false;
            b.failures = b.failures.saturating_add(1);
            let base = self.settings.reconnect_backoff.as_millis() as u64;
            let max = self.settings.reconnect_backoff_max.as_millis() as u64;
            let exp = base
                .saturating_mul(1u64 << (b.failures - 1).min(16))
                .min(max.max(base));
            // librdkafka adds jitter of -25%..+50%; a deterministic spread keeps tests repeatable.
            let jitter = (exp / 4) * (id.0 as u64 % 3) / 2;
            b.retry_at = now + Duration::from_millis(exp.saturating_sub(exp / 4) + jitter);
        }
        conn.inflight.into_iter().flat_map(with_ctx).collect()
    }

    /// Closes connections whose requests or setup ran past their deadlines.
    pub fn check_timeouts(&mut self, now: Instant) -> Vec<(BrokerKey, Vec<InFlight<C>>)> {
        // Backoffs that ended: whoever still wants the connection asks again now and connects.
        for b in self.backoff.values_mut().filter(|b| b.retry_at <= now) {
            b.wanted = false;
        }
        let expired: Vec<BrokerKey> = self
            .conns
            .values()
            .filter(|c| {
                (c.state != State::Ready && c.setup_deadline <= now)
                    || c.inflight.iter().any(|f| f.deadline <= now)
            })
            .map(|c| c.key)
            .collect();
        for k in &expired {
            let n = self.by_key.get(k).map_or(0, |id| {
                self.conns[id]
                    .inflight
                    .iter()
                    .filter(|f| f.deadline <= now)
                    .count()
            });
            self.stats_mut(*k, now).req_timeouts += n as u64;
        }
        expired
            .into_iter()
            .map(|k| (k, self.close(k, now, true)))
            .collect()
    }

    /// The earliest time at which a timeout or a reconnect is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        let conn = self.conns.values().flat_map(|c| {
            let setup = (c.state != State::Ready).then_some(c.setup_deadline);
            setup
                .into_iter()
                .chain(c.inflight.iter().map(|f| f.deadline))
        });
        conn.min()
    }

    /// When `key` may be connected again, if it is backing off and a connection was asked for.
    pub fn retry_at(&self, key: BrokerKey) -> Option<Instant> {
        self.backoff
            .get(&key)
            .filter(|b| b.wanted)
            .map(|b| b.retry_at)
    }

    /// Connection attempts that failed in a row for `key`.
    pub fn failures(&self, key: BrokerKey) -> u32 {
        self.backoff.get(&key).map_or(0, |b| b.failures)
    }

    /// The next action for the runtime.
    pub fn poll_io(&mut self) -> Option<IoAction> {
        self.io.pop_front()
    }

    /// The address of `key`, if known.
    pub fn addr(&self, key: BrokerKey) -> Option<&str> {
        self.addrs.get(&key).map(String::as_str)
    }

    /// The statistics counters of `key`, created on first use.
    pub fn stats_mut(&mut self, key: BrokerKey, now: Instant) -> &mut BrokerStats {
        self.stats
            .entry(key)
            .or_insert_with(|| BrokerStats::new(now))
    }

    /// Calls `f` with each known broker's key, address, requests awaiting a response and
    /// counters, in key order (bootstrap, then nodes, then coordinators).
    pub fn for_each_broker_stats(
        &mut self,
        mut f: impl FnMut(BrokerKey, &str, usize, &mut BrokerStats),
    ) {
        for (key, st) in self.stats.iter_mut() {
            let Some(addr) = self.addrs.get(key) else {
                continue;
            };
            let waitresp = self
                .by_key
                .get(key)
                .map_or(0, |id| self.conns[id].inflight.len());
            f(*key, addr, waitresp, st);
        }
    }

    /// Request and byte totals over every broker ever used: (tx, tx bytes, rx, rx bytes).
    pub fn totals(&self) -> (u64, u64, u64, u64) {
        self.stats.values().fold((0, 0, 0, 0), |t, s| {
            (t.0 + s.tx, t.1 + s.tx_bytes, t.2 + s.rx, t.3 + s.rx_bytes)
        })
    }

    /// Largest response frame accepted.
    pub fn max_response_size(&self) -> usize {
        self.settings.max_response_size
    }
}

/// The request with its engine context, or nothing for the handshake's own request.
fn with_ctx<C>(f: InFlight<Option<C>>) -> Option<InFlight<C>> {
    let InFlight {
        correlation_id,
        api_key,
        version,
        ctx,
        deadline,
        sent,
    } = f;
    ctx.map(|ctx| InFlight {
        correlation_id,
        api_key,
        version,
        ctx,
        deadline,
        sent,
    })
}
