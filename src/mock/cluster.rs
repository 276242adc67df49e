//! The cluster as a sans-IO state machine: request frames in (per connection, in order), response
//! frames out, `now` passed in. Handlers live next to the state they own (`topics`, `produce`,
//! `fetch`, `group`, `offsets`); this file owns connections, ordering and parked requests.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, ApiVersionsResponse, FetchRequest, RequestKind};
use kafka_protocol::protocol::Encodable;

use super::codec::{self, Incoming, SERVED_VERSIONS};
use super::faults::{self, Faults};
use super::group::Coordinator;
use super::produce::ProducerIds;
use super::topics::Topics;

/// Identifies one client connection to one of the brokers.
pub type ConnId = u64;

/// Kafka error codes the mock answers with.
pub mod err {
    pub(crate) const NONE: i16 = 0;
    pub(crate) const OFFSET_OUT_OF_RANGE: i16 = 1;
    pub(crate) const CORRUPT_MESSAGE: i16 = 2;
    pub(crate) const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
    pub(crate) const LEADER_NOT_AVAILABLE: i16 = 5;
    pub(crate) const NOT_LEADER_OR_FOLLOWER: i16 = 6;
    pub(crate) const COORDINATOR_NOT_AVAILABLE: i16 = 15;
    pub(crate) const NOT_COORDINATOR: i16 = 16;
    pub(crate) const INVALID_TOPIC_EXCEPTION: i16 = 17;
    pub(crate) const BROKER_NOT_AVAILABLE: i16 = 8;
    pub(crate) const ILLEGAL_GENERATION: i16 = 22;
    pub(crate) const INCONSISTENT_GROUP_PROTOCOL: i16 = 23;
    pub(crate) const UNKNOWN_MEMBER_ID: i16 = 25;
    pub(crate) const INVALID_REQUIRED_ACKS: i16 = 21;
    pub(crate) const INVALID_SESSION_TIMEOUT: i16 = 26;
    pub(crate) const REBALANCE_IN_PROGRESS: i16 = 27;
    pub(crate) const UNSUPPORTED_VERSION: i16 = 35;
    pub(crate) const TOPIC_ALREADY_EXISTS: i16 = 36;
    pub(crate) const INVALID_PARTITIONS: i16 = 37;
    pub(crate) const INVALID_REPLICATION_FACTOR: i16 = 38;
    pub(crate) const UNSUPPORTED_FOR_MESSAGE_FORMAT: i16 = 43;
    pub(crate) const OUT_OF_ORDER_SEQUENCE_NUMBER: i16 = 45;
    pub(crate) const INVALID_PRODUCER_EPOCH: i16 = 47;
    pub(crate) const FENCED_INSTANCE_ID: i16 = 82;
}

/// A broker's identity and where clients reach it.
#[derive(Clone, Debug)]
pub struct BrokerAddr {
    /// Node id, 1..N.
    pub id: i32,
    /// Advertised host.
    pub host: String,
    /// Advertised port.
    pub port: u16,
}

/// What the cluster starts with.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The brokers, ids 1..N.
    pub brokers: Vec<BrokerAddr>,
    /// Partitions of auto-created topics (librdkafka's mock: 4).
    pub default_partitions: i32,
    /// Replication factor of auto-created topics (librdkafka's mock: min(3, brokers)).
    pub default_replication: i32,
    /// How long the first JoinGroup of an empty group waits for more members (3 s, as Kafka).
    pub initial_rebalance_delay: Duration,
    /// Reported in Metadata responses.
    pub cluster_id: String,
}

/// Something the I/O driver must do.
#[derive(Debug, PartialEq, Eq)]
pub enum Output {
    /// Write this size-prefixed frame to the connection.
    Send(ConnId, Bytes),
    /// Close the connection (a request the mock cannot parse, as Kafka does).
    Close(ConnId),
}

/// A request answered later by whoever completes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pending {
    /// The connection that waits.
    pub conn: ConnId,
    /// The request's correlation id.
    pub correlation_id: i32,
    /// The request's version (the response is encoded at it).
    pub version: i16,
}

impl Pending {
    /// Encodes `body` as the answer to this request.
    pub fn answer<R: Encodable>(&self, api: ApiKey, body: &R) -> (ConnId, Bytes) {
        (
            self.conn,
            codec::encode_response(api, self.version, self.correlation_id, body),
        )
    }
}

/// How a handler answered.
pub(super) enum Reply {
    /// A response frame, now.
    Now(Bytes),
    /// No response at all (Produce with acks=0).
    Nothing,
    /// Answered later; the connection serves nothing else until then.
    Parked,
    /// Close the connection.
    Close,
}

struct Conn {
    broker: i32,
    busy: bool,
    backlog: VecDeque<Bytes>,
    /// When its last delayed response goes out (responses keep their order under RTT changes).
    last_release: Option<Instant>,
}

/// A Fetch long-polling until data arrives or its deadline passes.
struct ParkedFetch {
    pending: Pending,
    broker: i32,
    request: FetchRequest,
    deadline: Instant,
}

/// The whole cluster's state.
pub struct Cluster {
    pub(super) settings: Settings,
    pub(super) topics: Topics,
    pub(super) producer_ids: ProducerIds,
    pub(super) coordinator: Coordinator,
    pub(super) faults: Faults,
    conns: HashMap<ConnId, Conn>,
    fetches: Vec<ParkedFetch>,
    /// Responses held back by a broker's RTT: (release time, connection, frame).
    delayed: Vec<(Instant, ConnId, Bytes)>,
    out: Vec<Output>,
}

impl Cluster {
    /// A cluster with no topics and no groups.
    pub fn new(settings: Settings) -> Self {
        let coordinator = Coordinator::new(settings.initial_rebalance_delay);
        Cluster {
            settings,
            topics: Topics::default(),
            producer_ids: ProducerIds::default(),
            coordinator,
            faults: Faults::default(),
            conns: HashMap::new(),
            fetches: Vec::new(),
            delayed: Vec::new(),
            out: Vec::new(),
        }
    }

    /// The broker ids, in order.
    pub fn broker_ids(&self) -> Vec<i32> {
        self.settings.brokers.iter().map(|b| b.id).collect()
    }

    /// Changes how long the first member of an empty group waits for others.
    pub fn set_initial_rebalance_delay(&mut self, delay: Duration) {
        self.coordinator.initial_delay = delay;
    }

    /// Creates a topic as `rd_kafka_mock_topic_create` does (the replication factor capped at
    /// the broker count); `Err` is a Kafka error code.
    pub fn create_topic(
        &mut self,
        name: &str,
        partitions: i32,
        replication: i32,
    ) -> Result<(), i16> {
        let brokers = self.broker_ids();
        let replication = replication.min(brokers.len() as i32);
        self.topics.create(name, partitions, replication, &brokers)
    }

    /// Takes broker `id` down (its connections closed, new ones refused) or up again; false for
    /// an unknown broker. Leadership does not move, as in librdkafka's mock.
    pub fn set_broker_up(&mut self, id: i32, up: bool) -> bool {
        if !self.broker_ids().contains(&id) {
            return false;
        }
        if up {
            self.faults.down.remove(&id);
        } else if self.faults.down.insert(id) {
            let conns: Vec<ConnId> = self
                .conns
                .iter()
                .filter(|(_, c)| c.broker == id)
                .map(|(&conn, _)| conn)
                .collect();
            for conn in conns {
                self.out.push(Output::Close(conn));
                self.disconnect(conn);
            }
        }
        true
    }

    /// Moves the leadership of `topic` [`partition`] to `broker` (-1: no leader), creating the
    /// topic with the defaults if needed; `Err` is a Kafka error code.
    pub fn set_leader(&mut self, topic: &str, partition: i32, broker: i32) -> Result<(), i16> {
        if broker != -1 && !self.broker_ids().contains(&broker) {
            return Err(err::BROKER_NOT_AVAILABLE);
        }
        self.auto_create(topic);
        let part = self
            .topics
            .get_mut(topic)
            .and_then(|parts| {
                usize::try_from(partition)
                    .ok()
                    .and_then(|i| parts.get_mut(i))
            })
            .ok_or(err::UNKNOWN_TOPIC_OR_PARTITION)?;
        part.leader = broker;
        part.leader_epoch += 1;
        Ok(())
    }

    /// A client connected to broker `broker` (closed at once when the broker is down).
    pub fn connect(&mut self, conn: ConnId, broker: i32) {
        if self.faults.down.contains(&broker) {
            self.out.push(Output::Close(conn));
            return;
        }
        self.conns.insert(
            conn,
            Conn {
                broker,
                busy: false,
                backlog: VecDeque::new(),
                last_release: None,
            },
        );
    }

    /// The connection is gone: its queued and parked requests are dropped.
    pub fn disconnect(&mut self, conn: ConnId) {
        self.conns.remove(&conn);
        self.fetches.retain(|f| f.pending.conn != conn);
    }

    /// One request frame (without its size prefix) arrived on `conn`. Requests on a connection
    /// are answered in order: one waits while an earlier one is parked.
    pub fn request(&mut self, conn: ConnId, frame: Bytes, now: Instant) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.backlog.push_back(frame);
        self.pump(conn, now);
    }

    /// Serves timers: fetch long-polls, rebalance deadlines, session expiry.
    pub fn tick(&mut self, now: Instant) {
        let done = self.coordinator.tick(now);
        self.complete(done, now);
        self.serve_fetches(now);
        self.release(now);
    }

    /// When `tick` has work next.
    pub fn next_deadline(&self) -> Option<Instant> {
        let fetch = self.fetches.iter().map(|f| f.deadline);
        let delayed = self.delayed.iter().map(|(at, _, _)| *at);
        fetch
            .chain(delayed)
            .chain(self.coordinator.next_deadline())
            .min()
    }

    /// Takes what the driver must write or close.
    pub fn take_output(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.out)
    }

    fn pump(&mut self, conn: ConnId, now: Instant) {
        loop {
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            if c.busy {
                return;
            }
            let Some(frame) = c.backlog.pop_front() else {
                return;
            };
            let broker = c.broker;
            match self.handle(conn, broker, frame, now) {
                Reply::Now(bytes) => {
                    if !self.send(conn, bytes, now) {
                        return;
                    }
                }
                Reply::Nothing => {}
                Reply::Parked => {
                    if let Some(c) = self.conns.get_mut(&conn) {
                        c.busy = true;
                    }
                    // A handler may complete its own parked request at once (the last member
                    // of a rebalance); `complete` already cleared `busy` then.
                    let done = std::mem::take(&mut self.coordinator.done);
                    self.complete(done, now);
                }
                Reply::Close => {
                    self.out.push(Output::Close(conn));
                    self.disconnect(conn);
                    return;
                }
            }
        }
    }

    /// Sends the answers to parked requests and resumes their connections.
    fn complete(&mut self, done: Vec<(ConnId, Bytes)>, now: Instant) {
        for (conn, bytes) in done {
            let Some(c) = self.conns.get_mut(&conn) else {
                continue;
            };
            c.busy = false;
            if self.send(conn, bytes, now) {
                self.pump(conn, now);
            }
        }
    }

    /// Queues a response frame; an empty one (it did not encode) closes the connection.
    /// A broker with an RTT holds it back that long (`rd_kafka_mock_broker_set_rtt`).
    fn send(&mut self, conn: ConnId, bytes: Bytes, now: Instant) -> bool {
        if bytes.is_empty() {
            self.out.push(Output::Close(conn));
            self.disconnect(conn);
            return false;
        }
        let Some(c) = self.conns.get_mut(&conn) else {
            return false;
        };
        match self.faults.rtt.get(&c.broker) {
            Some(&rtt) if !rtt.is_zero() => {
                let at = (now + rtt).max(c.last_release.unwrap_or(now));
                c.last_release = Some(at);
                self.delayed.push((at, conn, bytes));
            }
            _ if c.last_release.is_some_and(|t| t > now) => {
                // Behind responses still held back: keep the order.
                let at = c.last_release.unwrap_or(now);
                self.delayed.push((at, conn, bytes));
            }
            _ => self.out.push(Output::Send(conn, bytes)),
        }
        true
    }

    /// Sends the held-back responses whose time has come, in the order they were made.
    fn release(&mut self, now: Instant) {
        if self.delayed.is_empty() {
            return;
        }
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.delayed)
            .into_iter()
            .partition(|(at, _, _)| *at <= now);
        self.delayed = later;
        for (_, conn, bytes) in due {
            if self.conns.contains_key(&conn) {
                self.out.push(Output::Send(conn, bytes));
            }
        }
    }

    fn handle(&mut self, conn: ConnId, broker: i32, frame: Bytes, now: Instant) -> Reply {
        let Some(req) = codec::decode_request(frame) else {
            return Reply::Close;
        };
        let pending = Pending {
            conn,
            correlation_id: req.correlation_id,
            version: req.version,
        };
        if req.api == Some(ApiKey::ApiVersions) {
            return Reply::Now(api_versions(&req));
        }
        let Some(body) = req.body else {
            eprintln!(
                "%4|MOCK|librskafka mock cluster: closing connection: {:?} v{} not served or not decodable",
                req.api, req.version
            );
            return Reply::Close;
        };
        if let Some(code) = req.api.and_then(|api| self.faults.next(api as i16)) {
            return match (code, &body) {
                (faults::TRANSPORT, _) => Reply::Close,
                (_, RequestKind::Produce(p)) if p.acks == 0 => Reply::Nothing,
                _ => match faults::error_response(&body, code) {
                    Some(resp) => Reply::Now(codec::encode_response_kind(
                        req.version,
                        req.correlation_id,
                        &resp,
                    )),
                    None => Reply::Close,
                },
            };
        }
        let answer = |api: ApiKey, body: &dyn ErasedEncode| -> Reply {
            Reply::Now(body.encode_response(api, req.version, req.correlation_id))
        };
        match body {
            RequestKind::Metadata(r) => answer(ApiKey::Metadata, &self.metadata(r, req.version)),
            RequestKind::CreateTopics(r) => answer(ApiKey::CreateTopics, &self.create_topics(r)),
            RequestKind::Produce(r) => {
                let acks = r.acks;
                let resp = self.produce(broker, r);
                self.serve_fetches(now);
                if acks == 0 {
                    Reply::Nothing
                } else {
                    answer(ApiKey::Produce, &resp)
                }
            }
            RequestKind::InitProducerId(r) => {
                answer(ApiKey::InitProducerId, &self.producer_ids.init(&r))
            }
            RequestKind::Fetch(r) => {
                let (resp, bytes, errors) = self.fetch(broker, &r);
                if bytes > 0 || errors || r.max_wait_ms <= 0 {
                    return answer(ApiKey::Fetch, &resp);
                }
                let wait = Duration::from_millis(r.max_wait_ms as u64);
                self.fetches.push(ParkedFetch {
                    pending,
                    broker,
                    request: r,
                    deadline: now + wait,
                });
                Reply::Parked
            }
            RequestKind::ListOffsets(r) => {
                answer(ApiKey::ListOffsets, &self.list_offsets(broker, r))
            }
            RequestKind::FindCoordinator(r) => {
                answer(ApiKey::FindCoordinator, &self.find_coordinator(r))
            }
            RequestKind::JoinGroup(r) => {
                let brokers = self.settings.brokers.len();
                match self
                    .coordinator
                    .join(broker, brokers, r, &req.client_id, pending, now)
                {
                    Some(resp) => answer(ApiKey::JoinGroup, &resp),
                    None => Reply::Parked,
                }
            }
            RequestKind::SyncGroup(r) => {
                let brokers = self.settings.brokers.len();
                match self.coordinator.sync(broker, brokers, r, pending, now) {
                    Some(resp) => answer(ApiKey::SyncGroup, &resp),
                    None => Reply::Parked,
                }
            }
            RequestKind::Heartbeat(r) => {
                let brokers = self.settings.brokers.len();
                let resp = self.coordinator.heartbeat(broker, brokers, r, now);
                answer(ApiKey::Heartbeat, &resp)
            }
            RequestKind::LeaveGroup(r) => {
                let brokers = self.settings.brokers.len();
                let resp = self.coordinator.leave(broker, brokers, r, now);
                let done = std::mem::take(&mut self.coordinator.done);
                let reply = answer(ApiKey::LeaveGroup, &resp);
                self.complete(done, now);
                reply
            }
            RequestKind::OffsetCommit(r) => {
                let brokers = self.settings.brokers.len();
                let topics = &self.topics;
                let exists = |t: &str, p: i32| {
                    topics
                        .get(t)
                        .is_some_and(|parts| (0..parts.len() as i32).contains(&p))
                };
                let resp = self.coordinator.offset_commit(broker, brokers, r, exists);
                answer(ApiKey::OffsetCommit, &resp)
            }
            RequestKind::OffsetFetch(r) => {
                let brokers = self.settings.brokers.len();
                answer(
                    ApiKey::OffsetFetch,
                    &self.coordinator.offset_fetch(broker, brokers, r),
                )
            }
            RequestKind::DescribeGroups(r) => {
                let brokers = self.settings.brokers.len();
                answer(
                    ApiKey::DescribeGroups,
                    &self.coordinator.describe(broker, brokers, r),
                )
            }
            RequestKind::ListGroups(_) => {
                let brokers = self.settings.brokers.len();
                answer(ApiKey::ListGroups, &self.coordinator.list(broker, brokers))
            }
            _ => Reply::Close,
        }
    }

    /// Answers the parked fetches that now have data or whose wait is over.
    fn serve_fetches(&mut self, now: Instant) {
        if self.fetches.is_empty() {
            return;
        }
        let parked = std::mem::take(&mut self.fetches);
        let mut done = Vec::new();
        for f in parked {
            let (resp, bytes, errors) = self.fetch(f.broker, &f.request);
            let min = f.request.min_bytes.max(1) as usize;
            if bytes >= min || errors || now >= f.deadline {
                done.push(f.pending.answer(ApiKey::Fetch, &resp));
            } else {
                self.fetches.push(f);
            }
        }
        self.complete(done, now);
    }
}

/// Encoding a response without naming its type at the call site.
trait ErasedEncode {
    fn encode_response(&self, api: ApiKey, version: i16, correlation_id: i32) -> Bytes;
}

impl<T: Encodable> ErasedEncode for T {
    fn encode_response(&self, api: ApiKey, version: i16, correlation_id: i32) -> Bytes {
        codec::encode_response(api, version, correlation_id, self)
    }
}

/// The ApiVersions response: every served API, or UNSUPPORTED_VERSION (at v0, which every
/// client can read) for a version newer than served.
fn api_versions(req: &Incoming) -> Bytes {
    use kafka_protocol::messages::api_versions_response::ApiVersion;
    let supported = codec::serves(ApiKey::ApiVersions, req.version) && req.body.is_some();
    let mut resp = ApiVersionsResponse::default();
    resp.api_keys = SERVED_VERSIONS
        .iter()
        .filter(|(k, _, _)| supported || *k == ApiKey::ApiVersions)
        .map(|&(k, lo, hi)| {
            ApiVersion::default()
                .with_api_key(k as i16)
                .with_min_version(lo)
                .with_max_version(hi)
        })
        .collect();
    let version = if supported {
        req.version
    } else {
        resp.error_code = err::UNSUPPORTED_VERSION;
        0
    };
    codec::encode_response(ApiKey::ApiVersions, version, req.correlation_id, &resp)
}

/// The broker that coordinates `key` (a group or transactional id): a stable hash over the
/// brokers, as Kafka's partition-of-`__consumer_offsets` choice is.
pub fn coordinator_for(key: &str, brokers: usize) -> i32 {
    let h = key
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    (h % brokers.max(1) as u32) as i32 + 1
}
