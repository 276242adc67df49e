//! Drives one [`Engine`] in simulated time, as the mio loop would, and lets a test answer the
//! requests it sends with hand-built responses. Not a broker: connects and the ApiVersions
//! handshake complete on their own, everything else waits until the test answers it.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Buf, BufMut, Bytes, BytesMut};
use crossbeam_channel::Receiver;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse};
use kafka_protocol::protocol::{Decodable, Encodable};

use crate::config::ClientConfig;
use crate::engine::channel::{
    ClientShared, Command, ConsumerEvent, Delivery, FetchedBatch, PartitionShared, Reply,
};
use crate::engine::client::Engine;
use crate::engine::connection::{ConnId, IoAction};
use crate::engine::settings::EngineSettings;
use crate::protocol::versions::CLIENT_VERSIONS;
use crate::topic_partition::TopicPartition;

/// One request the engine sent, with its header decoded.
#[derive(Clone, Debug)]
pub(crate) struct Sent {
    pub conn: ConnId,
    /// Address of the connection it went out on (`host:port`).
    pub addr: String,
    pub api: ApiKey,
    pub version: i16,
    pub correlation_id: i32,
    /// The request body after the header.
    pub body: Bytes,
}

impl Sent {
    /// The request body decoded at the version sent.
    pub fn decode<R: Decodable>(&self) -> R {
        R::decode(&mut self.body.clone(), self.version)
            .unwrap_or_else(|e| panic!("{:?} v{} does not decode: {e}", self.api, self.version))
    }
}

pub(crate) struct Harness {
    pub engine: Engine,
    pub shared: Arc<ClientShared>,
    pub start: Instant,
    pub now: Instant,
    /// Open connections and their addresses.
    pub conns: HashMap<ConnId, String>,
    /// Every request ever sent, in order (ApiVersions excluded).
    pub log: Vec<Sent>,
    /// Requests not answered yet, in the order sent.
    pub pending: Vec<Sent>,
    pub events: Vec<ConsumerEvent>,
    pub batches: Vec<FetchedBatch>,
    /// The application's atomics for each partition it assigned.
    pub parts: HashMap<(String, i32), Arc<PartitionShared>>,
}

impl Harness {
    /// An engine for `bootstrap.servers=boot:9092` plus `props`, started like the runtime does.
    pub fn new(props: &[(&str, &str)]) -> Self {
        let mut config = ClientConfig::new();
        config.set("bootstrap.servers", "boot:9092").unwrap();
        for (k, v) in props {
            config.set(k, v).unwrap();
        }
        let settings = EngineSettings::from_config(&config).unwrap();
        let shared = Arc::new(ClientShared::default());
        let start = Instant::now();
        let engine = Engine::new(settings, shared.clone(), start, start).unwrap();
        let mut h = Harness {
            engine,
            shared,
            start,
            now: start,
            conns: HashMap::new(),
            log: Vec::new(),
            pending: Vec::new(),
            events: Vec::new(),
            batches: Vec::new(),
            parts: HashMap::new(),
        };
        h.engine.handle_timeout(h.now);
        h.pump();
        h
    }

    /// Performs the engine's I/O actions until it has none left and collects its deliveries.
    pub fn pump(&mut self) {
        loop {
            let mut progressed = false;
            while let Some(action) = self.engine.poll_io() {
                match action {
                    IoAction::Connect(id, addr) => {
                        self.conns.insert(id, addr);
                        self.engine.handle_connected(id, self.now);
                        progressed = true;
                    }
                    IoAction::Send(id, frame) => progressed |= self.on_send(id, frame),
                    IoAction::Close(id) => {
                        self.conns.remove(&id);
                        self.pending.retain(|s| s.conn != id);
                    }
                }
            }
            if !progressed {
                break;
            }
            self.engine.handle_timeout(self.now);
        }
        while let Some(d) = self.engine.poll_delivery() {
            match d {
                Delivery::Event(e) => self.events.push(e),
                Delivery::Batch(b) => self.batches.push(b),
            }
        }
    }

    /// Records a request; answers the handshake's ApiVersions at once (returns true then).
    fn on_send(&mut self, conn: ConnId, mut frame: Bytes) -> bool {
        let size = frame.get_i32() as usize;
        assert_eq!(size, frame.len(), "size prefix");
        let api = ApiKey::try_from(frame.get_i16()).expect("known api key");
        let version = frame.get_i16();
        let correlation_id = frame.get_i32();
        let client_id_len = frame.get_i16();
        frame.advance(client_id_len.max(0) as usize);
        if api.request_header_version(version) >= 2 {
            assert_eq!(frame.get_u8(), 0, "no tagged fields in request headers");
        }
        let addr = self.conns[&conn].clone();
        let sent = Sent {
            conn,
            addr,
            api,
            version,
            correlation_id,
            body: frame,
        };
        if api == ApiKey::ApiVersions {
            let keys = CLIENT_VERSIONS
                .iter()
                .map(|(k, min, max)| {
                    ApiVersion::default()
                        .with_api_key(*k as i16)
                        .with_min_version(*min)
                        .with_max_version(*max)
                })
                .collect();
            let resp = ApiVersionsResponse::default().with_api_keys(keys);
            self.deliver(&sent, encode(&sent, &resp));
            return true;
        }
        self.log.push(sent.clone());
        self.pending.push(sent);
        false
    }

    /// Takes the oldest unanswered request for `api`; panics with what is pending if none.
    pub fn expect(&mut self, api: ApiKey) -> Sent {
        match self.pending.iter().position(|s| s.api == api) {
            Some(i) => self.pending.remove(i),
            None => panic!(
                "no {api:?} request pending; pending: {:?}",
                self.pending_apis()
            ),
        }
    }

    /// Takes the oldest unanswered request for `api`, if any.
    pub fn take(&mut self, api: ApiKey) -> Option<Sent> {
        let i = self.pending.iter().position(|s| s.api == api)?;
        Some(self.pending.remove(i))
    }

    /// What is waiting for an answer, as (api, address).
    pub fn pending_apis(&self) -> Vec<(ApiKey, String)> {
        self.pending
            .iter()
            .map(|s| (s.api, s.addr.clone()))
            .collect()
    }

    /// Answers `req` with `resp`, encoded at the request's version with the right header.
    pub fn respond<R: Encodable>(&mut self, req: &Sent, resp: &R) {
        self.respond_raw(req, encode(req, resp));
    }

    /// Answers `req` with a response header followed by `body` as given.
    pub fn respond_body(&mut self, req: &Sent, body: &[u8]) {
        let mut frame = header(req);
        frame.put_slice(body);
        self.respond_raw(req, frame.freeze());
    }

    fn respond_raw(&mut self, req: &Sent, frame: Bytes) {
        self.pending
            .retain(|s| s.correlation_id != req.correlation_id);
        // A broker answers in order: answering out of order is a mistake in the test.
        let earlier: Vec<_> = self.pending.iter().filter(|s| s.conn == req.conn).collect();
        assert!(
            earlier
                .iter()
                .all(|s| s.correlation_id > req.correlation_id),
            "{:?} answered before earlier requests on its connection: {earlier:?}",
            req.api
        );
        self.deliver(req, frame);
        self.engine.handle_timeout(self.now);
        self.pump();
    }

    fn deliver(&mut self, req: &Sent, frame: Bytes) {
        self.engine.handle_frame(req.conn, frame, self.now);
    }

    /// The runtime saw the connection of `req` close.
    pub fn close_conn(&mut self, conn: ConnId, why: &str) {
        self.conns.remove(&conn);
        self.pending.retain(|s| s.conn != conn);
        self.engine.handle_closed(conn, why, self.now);
        self.pump();
    }

    /// Moves the clock to `at`; the application is polling, so `max.poll.interval.ms` holds.
    pub fn advance_to(&mut self, at: Instant) {
        assert!(at >= self.now, "time goes forward");
        self.now = at;
        let ms = at.duration_since(self.start).as_millis() as u64;
        self.shared.last_poll_ms.store(ms, Ordering::Relaxed);
        self.engine.handle_timeout(self.now);
        self.pump();
    }

    pub fn advance(&mut self, d: Duration) {
        self.advance_to(self.now + d);
    }

    /// Sleeps until the engine's next deadline, as the runtime does; returns the time slept.
    pub fn sleep(&mut self) -> Duration {
        let at = self
            .engine
            .next_deadline()
            .expect("the engine has a deadline");
        // handle_timeout(now) just ran: a deadline not after now makes the driver spin.
        assert!(
            at > self.now,
            "busy loop: next deadline is not in the future"
        );
        let slept = at - self.now;
        self.advance_to(at);
        slept
    }

    /// The deadline relative to now.
    pub fn deadline_in(&self) -> Option<Duration> {
        self.engine
            .next_deadline()
            .map(|d| d.saturating_duration_since(self.now))
    }

    /// Sends a command and returns the channel its reply comes on.
    pub fn command<T>(
        &mut self,
        cmd: impl FnOnce(Reply<T>) -> Command,
    ) -> Receiver<crate::error::Result<T>> {
        let (tx, rx) = crossbeam_channel::bounded(1);
        self.engine.handle_command(cmd(tx), self.now);
        self.engine.handle_timeout(self.now);
        self.pump();
        rx
    }

    pub fn subscribe(&mut self, topics: &[&str]) {
        let topics = topics.iter().map(|t| t.to_string()).collect();
        self.command(|r| Command::Subscribe(topics, r))
            .try_recv()
            .unwrap()
            .unwrap();
    }

    /// `assign` (`incremental` None), `incremental_assign` (Some(true)) or
    /// `incremental_unassign` (Some(false)); `None` partitions is `unassign`.
    pub fn assign(&mut self, partitions: Option<&[TopicPartition]>, incremental: Option<bool>) {
        let list = partitions.map(|ps| {
            ps.iter()
                .map(|tp| {
                    let key = (tp.topic.clone(), tp.partition);
                    let shared = self.parts.entry(key).or_insert_with(PartitionShared::new);
                    (tp.clone(), shared.clone())
                })
                .collect()
        });
        self.command(|reply| Command::Assign {
            partitions: list,
            incremental,
            reply,
        })
        .try_recv()
        .unwrap()
        .unwrap();
    }
}

/// The response header for `req`: correlation id, and an empty tag buffer when flexible.
fn header(req: &Sent) -> BytesMut {
    let mut buf = BytesMut::new();
    buf.put_i32(req.correlation_id);
    if req.api.response_header_version(req.version) >= 1 {
        buf.put_u8(0);
    }
    buf
}

fn encode<R: Encodable>(req: &Sent, resp: &R) -> Bytes {
    let mut buf = header(req);
    resp.encode(&mut buf, req.version).unwrap_or_else(|e| {
        panic!(
            "{:?} v{} response does not encode: {e}",
            req.api, req.version
        )
    });
    buf.freeze()
}
