//! `mock-launcher`: third-party Kafka tooling for librskafka's tests.
//!
//! This crate links librdkafka 2.12.1 (vendored and built by `rdkafka-sys`) and never links
//! librskafka. It has three subcommands:
//!
//! # `mock-launcher cluster --brokers N [--topic NAME:PARTITIONS[:RF]]... [--initial-rebalance-delay-ms MS]`
//!
//! Starts librdkafka's mock cluster with `N` brokers (ids `1..=N`), each listening on
//! `127.0.0.1:<ephemeral port>`, creates the given topics (RF defaults to 1, and is capped at
//! `N` by the mock), and prints `BROKERS=host:port,host:port,...` as the first line on stdout.
//! `--initial-rebalance-delay-ms` sets the mock's `group.initial.rebalance.delay.ms`
//! (default 3000 ms: the first JoinGroup of a new group waits that long).
//!
//! It then reads commands from stdin, one per line, and answers each with exactly one
//! line on stdout: `ok` or `err <message>`. It exits when stdin closes or on `quit`.
//! Empty lines are ignored (no answer).
//!
//! | command | effect (librdkafka function) |
//! | --- | --- |
//! | `create_topic NAME PARTITIONS RF` | create a topic (`rd_kafka_mock_topic_create`) |
//! | `broker_down ID` | disconnect broker `ID` and refuse new connections; no leader change (`rd_kafka_mock_broker_set_down`); `-1` = all brokers |
//! | `broker_up ID` | accept connections again (`rd_kafka_mock_broker_set_up`); `-1` = all |
//! | `leader TOPIC PARTITION BROKER_ID` | move partition leadership; `-1` = leader-less (`rd_kafka_mock_partition_set_leader`) |
//! | `push_errors APIKEY ERRCODE [ERRCODE...]` | the next requests with this API key, on any broker, fail with these codes in order (`rd_kafka_mock_push_request_errors_array`); code `-195` (`_TRANSPORT`) makes the broker disconnect instead |
//! | `broker_push_errors BROKER_ID APIKEY ERRCODE[@RTT_MS] [...]` | same, for one broker only, each with an optional response delay (default 0) (`rd_kafka_mock_broker_push_request_error_rtts`); broker errors take precedence over cluster errors; code `0` with an RTT just delays |
//! | `clear_errors APIKEY` | drop the cluster-wide error stack of this API key (`rd_kafka_mock_clear_request_errors`) |
//! | `coordinator group GROUPID BROKER_ID` | fix the group coordinator (`rd_kafka_mock_coordinator_set`); `transaction TXNID BROKER_ID` also works |
//! | `rtt BROKER_ID MS` | delay every response of the broker by `MS` ms (`rd_kafka_mock_broker_set_rtt`); `-1` = all |
//! | `topic_error TOPIC ERRCODE` | Metadata (and AddPartitionsToTxn) for the topic return this error (`rd_kafka_mock_topic_set_error`); `0` clears |
//! | `apiversion APIKEY MIN MAX` | restrict the advertised version range; `-1 -1` disables the API (`rd_kafka_mock_set_apiversion`) |
//! | `quit` | answer `ok` and exit |
//!
//! Error codes are librdkafka's `rd_kafka_resp_err_t` values (Kafka protocol codes, and negative
//! internal codes); unknown values are refused with `err`.
//!
//! Known mock behaviour: the first group join waits the initial rebalance delay; only the last
//! 5 MiB of each partition are kept; a Fetch response holds at most one batch per partition;
//! CreateTopics is not implemented (use `create_topic`); topics are auto-created (4 partitions)
//! by Metadata requests for unknown topics when the client allows auto-creation.
//!
//! # `mock-launcher produce --bootstrap LIST --topic T --count N [--size S] [--codec none|gzip|snappy|lz4|zstd] [--no-idempotence] [--partitioner NAME] [--set NAME=VALUE]... [--keys FILE] [--print-partitions] [--warmup]`
//!
//! Produces `N` deterministic messages with librdkafka (idempotent producer, so per-partition
//! order holds; `linger.ms=5`; librdkafka's default partitioner `consistent_random`, i.e.
//! CRC32 of the key), waits for every delivery report, prints `produced N` and exits 0; exits 1
//! if any delivery failed. Message `i` (0-based):
//! - key: `key-{i}`
//! - value: `value-{i}-` followed by filler bytes `b'a' + (j % 26)` for `j = 0, 1, ...` until
//!   the value is `S` bytes long (default `S = 100`); if `value-{i}-` is already `S` bytes
//!   or longer, the value is exactly that prefix;
//! - headers: `idx` = `i` in decimal; then, for even `i` only, two headers with the same key:
//!   `dup` = `a` and `dup` = `b` (in that order).
//!
//! `--no-idempotence` turns idempotence off (for brokers without InitProducerId).
//!
//! Partitioner checks:
//! - `--partitioner NAME` sets librdkafka's `partitioner` property (default `consistent_random`);
//! - `--set NAME=VALUE` (repeatable) sets any other producer property, e.g.
//!   `sticky.partitioning.linger.ms=900000`;
//! - `--keys FILE` (`-` = stdin) replaces the keys: message `i` gets line `i` of the file as its
//!   key (the bytes without the `\n`; an empty line is an empty key, a line `\N` a NULL key),
//!   and `N` is the number of lines (`--count` may then be omitted; if given it must match).
//!   Values and headers stay those of message `i` above;
//! - `--warmup` first fetches the topic's metadata and produces (and flushes) one record with
//!   key and value `warmup` to each partition, not counted or printed: afterwards every
//!   partition has its leader broker attached, so librdkafka's sticky partitioner sees them all
//!   available (without it, keyless records produced in the first milliseconds hop partitions);
//! - `--print-partitions` prints `key\tpartition` for every delivered message (`\N` for a NULL
//!   key), in delivery-report order, before `produced N`.
//!
//! # `mock-launcher consume --bootstrap LIST --topic T --count N [--timeout-ms MS] [--headers] [--positions] [--until-eof]`
//!
//! Assigns all partitions of `T` from the beginning (no consumer group), and prints one line
//! `key\tvalue` per message (lossy UTF-8; with `--headers` a third column
//! `name=value,name=value,...` in header order) until `N` messages were read, then exits 0.
//! Exits 1 if fewer than `N` arrived within the timeout (default 30000 ms). A final
//! `consumed N` goes to stderr.
//!
//! `--positions` prefixes each line with `partition\toffset\t`. `--until-eof` stops instead
//! when every partition has reached its end (`--count` is then optional and an upper bound), to
//! read "whatever is on the broker".

use std::collections::HashMap;
use std::ffi::{CStr, CString};
use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{Header, Headers, Message, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{ClientContext, Offset, TopicPartitionList};
use rdkafka_sys as rd;
use rdkafka_sys::bindings::rd_kafka_resp_err_t as RespErr;

mod group;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("cluster") => cmd_cluster(&args[1..]),
        Some("produce") => cmd_produce(&args[1..]),
        Some("consume") => cmd_consume(&args[1..]),
        Some("group") => group::cmd_group(&args[1..]),
        _ => Err(USAGE.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mock-launcher: {e}");
            ExitCode::FAILURE
        }
    }
}

const USAGE: &str = "usage:
  mock-launcher cluster --brokers N [--topic NAME:PARTITIONS[:RF]]... [--initial-rebalance-delay-ms MS]
  mock-launcher produce --bootstrap LIST --topic T --count N [--size S] [--codec none|gzip|snappy|lz4|zstd] [--no-idempotence]
                        [--partitioner NAME] [--set NAME=VALUE]... [--keys FILE|-] [--print-partitions] [--warmup]
  mock-launcher consume --bootstrap LIST --topic T --count N [--timeout-ms MS] [--headers] [--positions] [--until-eof]
  mock-launcher group --bootstrap LIST --topic T --group G [--assignor NAME] [--seconds S] [--client-id ID]";

/// Parsed `--flag value` options; flags listed in `switches` take no value.
struct Opts {
    values: HashMap<String, Vec<String>>,
}

impl Opts {
    fn parse(args: &[String], with_value: &[&str], switches: &[&str]) -> Result<Opts, String> {
        let mut values: HashMap<String, Vec<String>> = HashMap::new();
        let mut it = args.iter();
        while let Some(a) = it.next() {
            let name = a
                .strip_prefix("--")
                .ok_or_else(|| format!("unexpected argument {a:?}\n{USAGE}"))?;
            if switches.contains(&name) {
                values.entry(name.to_string()).or_default();
            } else if with_value.contains(&name) {
                let v = it.next().ok_or_else(|| format!("--{name} needs a value"))?;
                values.entry(name.to_string()).or_default().push(v.clone());
            } else {
                return Err(format!("unknown option --{name}\n{USAGE}"));
            }
        }
        Ok(Opts { values })
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.values
            .get(name)
            .and_then(|v| v.last())
            .map(String::as_str)
    }

    fn all(&self, name: &str) -> &[String] {
        self.values.get(name).map(Vec::as_slice).unwrap_or(&[])
    }

    fn has(&self, name: &str) -> bool {
        self.values.contains_key(name)
    }

    fn required(&self, name: &str) -> Result<&str, String> {
        self.get(name)
            .ok_or_else(|| format!("--{name} is required\n{USAGE}"))
    }

    fn num<T: std::str::FromStr>(&self, name: &str, default: Option<T>) -> Result<T, String> {
        match self.get(name) {
            Some(v) => v.parse().map_err(|_| format!("--{name}: bad number {v:?}")),
            None => default.ok_or_else(|| format!("--{name} is required\n{USAGE}")),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// cluster
// ---------------------------------------------------------------------------------------------

/// A mock cluster and the librdkafka handle it is attached to.
struct Mock {
    mcluster: *mut rd::rd_kafka_mock_cluster_t,
    // Keeps the rd_kafka_t alive for as long as the cluster; dropped after it.
    _handle: BaseProducer,
}

impl Drop for Mock {
    fn drop(&mut self) {
        // SAFETY: mcluster was returned by rd_kafka_mock_cluster_new and is destroyed once,
        // before the rd_kafka_t it was created with.
        unsafe { rd::rd_kafka_mock_cluster_destroy(self.mcluster) };
    }
}

fn err_str(err: RespErr) -> String {
    // SAFETY: rd_kafka_err2str returns a static NUL-terminated string for any code.
    unsafe { CStr::from_ptr(rd::rd_kafka_err2str(err)) }
        .to_string_lossy()
        .into_owned()
}

fn check(err: RespErr) -> Result<(), String> {
    if err == RespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
        Ok(())
    } else {
        Err(format!("{:?}: {}", err, err_str(err)))
    }
}

fn parse_code(s: &str) -> Result<RespErr, String> {
    let n: i32 = s.parse().map_err(|_| format!("bad error code {s:?}"))?;
    RespErr::try_from(n).map_err(|_| format!("unknown error code {n}"))
}

fn parse_num<T: std::str::FromStr>(what: &str, s: &str) -> Result<T, String> {
    s.parse().map_err(|_| format!("bad {what} {s:?}"))
}

fn cstring(s: &str) -> Result<CString, String> {
    CString::new(s).map_err(|_| format!("NUL byte in {s:?}"))
}

impl Mock {
    fn new(brokers: i32) -> Result<Mock, String> {
        let handle: BaseProducer = ClientConfig::new()
            .set("log_level", "3")
            .create()
            .map_err(|e| format!("creating the librdkafka handle: {e}"))?;
        // SAFETY: the handle is a valid rd_kafka_t that outlives the cluster (see Drop).
        let mcluster =
            unsafe { rd::rd_kafka_mock_cluster_new(handle.client().native_ptr(), brokers) };
        if mcluster.is_null() {
            return Err("rd_kafka_mock_cluster_new failed".into());
        }
        Ok(Mock {
            mcluster,
            _handle: handle,
        })
    }

    fn bootstraps(&self) -> String {
        // SAFETY: returns a string owned by the cluster, valid while it lives.
        unsafe { CStr::from_ptr(rd::rd_kafka_mock_cluster_bootstraps(self.mcluster)) }
            .to_string_lossy()
            .into_owned()
    }

    fn create_topic(&self, name: &str, partitions: i32, rf: i32) -> Result<(), String> {
        let name = cstring(name)?;
        check(unsafe {
            rd::rd_kafka_mock_topic_create(self.mcluster, name.as_ptr(), partitions, rf)
        })
    }

    /// Runs one stdin command. `Ok(true)` means quit.
    fn command(&self, line: &str) -> Result<bool, String> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let argc = |n: usize, usage: &str| -> Result<(), String> {
            if words.len() == n {
                Ok(())
            } else {
                Err(format!("usage: {usage}"))
            }
        };
        let m = self.mcluster;
        // SAFETY (all calls below): m is a live mock cluster; strings are NUL-terminated
        // CStrings that outlive the call.
        match words[0] {
            "quit" => return Ok(true),
            "create_topic" => {
                argc(4, "create_topic NAME PARTITIONS RF")?;
                self.create_topic(
                    words[1],
                    parse_num("partition count", words[2])?,
                    parse_num("replication factor", words[3])?,
                )?;
            }
            "broker_down" => {
                argc(2, "broker_down ID")?;
                let id: i32 = parse_num("broker id", words[1])?;
                check(unsafe { rd::rd_kafka_mock_broker_set_down(m, id) })?;
            }
            "broker_up" => {
                argc(2, "broker_up ID")?;
                let id: i32 = parse_num("broker id", words[1])?;
                check(unsafe { rd::rd_kafka_mock_broker_set_up(m, id) })?;
            }
            "leader" => {
                argc(4, "leader TOPIC PARTITION BROKER_ID")?;
                let topic = cstring(words[1])?;
                let p: i32 = parse_num("partition", words[2])?;
                let id: i32 = parse_num("broker id", words[3])?;
                check(unsafe { rd::rd_kafka_mock_partition_set_leader(m, topic.as_ptr(), p, id) })?;
            }
            "push_errors" => {
                if words.len() < 3 {
                    return Err("usage: push_errors APIKEY ERRCODE [ERRCODE...]".into());
                }
                let key: i16 = parse_num("api key", words[1])?;
                let codes = words[2..]
                    .iter()
                    .map(|c| parse_code(c))
                    .collect::<Result<Vec<_>, _>>()?;
                unsafe {
                    rd::rd_kafka_mock_push_request_errors_array(m, key, codes.len(), codes.as_ptr())
                };
            }
            "broker_push_errors" => {
                if words.len() < 4 {
                    return Err(
                        "usage: broker_push_errors BROKER_ID APIKEY ERRCODE[@RTT_MS] [...]".into(),
                    );
                }
                let id: i32 = parse_num("broker id", words[1])?;
                let key: i16 = parse_num("api key", words[2])?;
                let mut entries = Vec::new();
                for w in &words[3..] {
                    let (code, rtt) = match w.split_once('@') {
                        Some((c, r)) => (c, parse_num::<i32>("rtt", r)?),
                        None => (*w, 0),
                    };
                    entries.push((parse_code(code)?, rtt));
                }
                // One call per entry: each appends to the broker's stack, in order.
                for (code, rtt) in entries {
                    check(unsafe {
                        rd::rd_kafka_mock_broker_push_request_error_rtts(
                            m,
                            id,
                            key,
                            1,
                            code as i32 as std::ffi::c_int,
                            rtt as std::ffi::c_int,
                        )
                    })?;
                }
            }
            "clear_errors" => {
                argc(2, "clear_errors APIKEY")?;
                let key: i16 = parse_num("api key", words[1])?;
                unsafe { rd::rd_kafka_mock_clear_request_errors(m, key) };
            }
            "coordinator" => {
                argc(4, "coordinator group|transaction KEY BROKER_ID")?;
                if words[1] != "group" && words[1] != "transaction" {
                    return Err("coordinator type must be group or transaction".into());
                }
                let kind = cstring(words[1])?;
                let key = cstring(words[2])?;
                let id: i32 = parse_num("broker id", words[3])?;
                check(unsafe {
                    rd::rd_kafka_mock_coordinator_set(m, kind.as_ptr(), key.as_ptr(), id)
                })?;
            }
            "rtt" => {
                argc(3, "rtt BROKER_ID MS")?;
                let id: i32 = parse_num("broker id", words[1])?;
                let ms: i32 = parse_num("rtt", words[2])?;
                check(unsafe { rd::rd_kafka_mock_broker_set_rtt(m, id, ms) })?;
            }
            "topic_error" => {
                argc(3, "topic_error TOPIC ERRCODE")?;
                let topic = cstring(words[1])?;
                let code = parse_code(words[2])?;
                unsafe { rd::rd_kafka_mock_topic_set_error(m, topic.as_ptr(), code) };
            }
            "apiversion" => {
                argc(4, "apiversion APIKEY MIN MAX")?;
                let key: i16 = parse_num("api key", words[1])?;
                let min: i16 = parse_num("version", words[2])?;
                let max: i16 = parse_num("version", words[3])?;
                check(unsafe { rd::rd_kafka_mock_set_apiversion(m, key, min, max) })?;
            }
            other => return Err(format!("unknown command {other:?}")),
        }
        Ok(false)
    }
}

fn cmd_cluster(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(
        args,
        &["brokers", "topic", "initial-rebalance-delay-ms"],
        &[],
    )?;
    let brokers: i32 = o.num("brokers", None)?;
    if brokers < 1 {
        return Err("--brokers must be at least 1".into());
    }
    let mock = Mock::new(brokers)?;
    if let Some(ms) = o.get("initial-rebalance-delay-ms") {
        let ms: i32 = parse_num("delay", ms)?;
        unsafe { rd::rd_kafka_mock_group_initial_rebalance_delay_ms(mock.mcluster, ms) };
    }
    for t in o.all("topic") {
        let parts: Vec<&str> = t.split(':').collect();
        let (name, partitions, rf) = match parts.as_slice() {
            [n, p] => (*n, parse_num("partition count", p)?, 1),
            [n, p, r] => (*n, parse_num("partition count", p)?, parse_num("RF", r)?),
            _ => return Err(format!("--topic {t:?}: expected NAME:PARTITIONS[:RF]")),
        };
        mock.create_topic(name, partitions, rf)
            .map_err(|e| format!("creating topic {name}: {e}"))?;
    }

    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    writeln!(out, "BROKERS={}", mock.bootstraps()).map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;

    let stdin = std::io::stdin();
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (answer, quit) = match mock.command(line) {
            Ok(quit) => ("ok".to_string(), quit),
            Err(e) => (format!("err {}", e.replace('\n', " ")), false),
        };
        if writeln!(out, "{answer}").and_then(|_| out.flush()).is_err() {
            break;
        }
        if quit {
            break;
        }
    }
    drop(mock);
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// produce
// ---------------------------------------------------------------------------------------------

/// `(key, value, headers)` of one produced message.
type TestMessage = (String, Vec<u8>, Vec<(String, Vec<u8>)>);

/// Message `i` of the deterministic sequence; see the crate documentation.
fn expected_message(i: u64, size: usize) -> TestMessage {
    let key = format!("key-{i}");
    let mut value = format!("value-{i}-").into_bytes();
    let mut j = 0usize;
    while value.len() < size {
        value.push(b'a' + (j % 26) as u8);
        j += 1;
    }
    let mut headers = vec![("idx".to_string(), i.to_string().into_bytes())];
    if i % 2 == 0 {
        headers.push(("dup".to_string(), b"a".to_vec()));
        headers.push(("dup".to_string(), b"b".to_vec()));
    }
    (key, value, headers)
}

/// `(key, partition)` of delivered messages; `None` = NULL key.
type Placements = Vec<(Option<Vec<u8>>, i32)>;

#[derive(Default)]
struct Reports {
    ok: AtomicU64,
    failed: AtomicU64,
    /// `(key, partition)` of each delivered message, when `--print-partitions` is given.
    partitions: Option<Mutex<Placements>>,
}

impl ClientContext for Reports {}

impl ProducerContext for Reports {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(m) => {
                self.ok.fetch_add(1, Ordering::Relaxed);
                if let Some(p) = &self.partitions {
                    let mut p = p.lock().unwrap_or_else(|e| e.into_inner());
                    p.push((m.key().map(<[u8]>::to_vec), m.partition()));
                }
            }
            Err((e, m)) => {
                if self.failed.fetch_add(1, Ordering::Relaxed) < 10 {
                    let key = m.key().map(String::from_utf8_lossy).unwrap_or_default();
                    eprintln!("mock-launcher: delivery of {key} failed: {e}");
                }
            }
        }
    }
}

fn cmd_produce(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(
        args,
        &[
            "bootstrap",
            "topic",
            "count",
            "size",
            "codec",
            "partitioner",
            "set",
            "keys",
        ],
        &["no-idempotence", "print-partitions", "warmup"],
    )?;
    let bootstrap = o.required("bootstrap")?;
    let topic = o.required("topic")?;
    let keys = o.get("keys").map(read_keys).transpose()?;
    let count: u64 = match &keys {
        Some(k) => {
            let n = k.len() as u64;
            if o.num("count", Some(n))? != n {
                return Err(format!("--count differs from the {n} keys of --keys"));
            }
            n
        }
        None => o.num("count", None)?,
    };
    let size: usize = o.num("size", Some(100))?;
    let codec = o.get("codec").unwrap_or("none");
    if !["none", "gzip", "snappy", "lz4", "zstd"].contains(&codec) {
        return Err(format!(
            "--codec {codec:?}: expected none|gzip|snappy|lz4|zstd"
        ));
    }
    let idempotence = if o.has("no-idempotence") {
        "false"
    } else {
        "true"
    };

    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", idempotence)
        .set("linger.ms", "5")
        .set("compression.codec", codec)
        .set("message.timeout.ms", "60000")
        .set("queue.buffering.max.messages", "1000000");
    if let Some(p) = o.get("partitioner") {
        config.set("partitioner", p);
    }
    for kv in o.all("set") {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--set {kv:?}: expected NAME=VALUE"))?;
        config.set(k, v);
    }
    let reports = Reports {
        partitions: o.has("print-partitions").then(|| Mutex::new(Vec::new())),
        ..Reports::default()
    };
    let producer: BaseProducer<Reports> = config
        .create_with_context(reports)
        .map_err(|e| format!("creating producer: {e}"))?;
    if o.has("warmup") {
        warm_up(&producer, topic)?;
    }

    for i in 0..count {
        let (key, value, headers) = expected_message(i, size);
        let key: Option<Vec<u8>> = match &keys {
            Some(k) => k[i as usize].clone(),
            None => Some(key.into_bytes()),
        };
        let mut h = OwnedHeaders::new_with_capacity(headers.len());
        for (k, v) in &headers {
            h = h.insert(Header {
                key: k,
                value: Some(v),
            });
        }
        let mut record: BaseRecord<'_, Vec<u8>, Vec<u8>> =
            BaseRecord::to(topic).payload(&value).headers(h);
        if let Some(k) = &key {
            record = record.key(k);
        }
        loop {
            match producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    record = r;
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => return Err(format!("producing message {i}: {e}")),
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer
        .flush(Duration::from_secs(120))
        .map_err(|e| format!("flush: {e}"))?;
    let ctx = producer.context();
    let ok = ctx.ok.load(Ordering::Relaxed);
    let failed = ctx.failed.load(Ordering::Relaxed);
    if failed > 0 || ok != count {
        return Err(format!("{ok} of {count} delivered, {failed} failed"));
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if let Some(p) = &ctx.partitions {
        let p = p.lock().unwrap_or_else(|e| e.into_inner());
        for (key, partition) in p.iter() {
            match key {
                Some(k) => out.write_all(k),
                None => out.write_all(b"\\N"),
            }
            .and_then(|_| writeln!(out, "\t{partition}"))
            .map_err(|e| e.to_string())?;
        }
    }
    writeln!(out, "produced {count}").map_err(|e| e.to_string())?;
    out.flush().map_err(|e| e.to_string())?;
    Ok(())
}

/// `--warmup`: one record (key and value `warmup`) to each partition of `topic`, flushed,
/// and not counted or printed. Afterwards librdkafka has a leader broker attached to every
/// partition, so its sticky partitioner sees every partition available.
fn warm_up(producer: &BaseProducer<Reports>, topic: &str) -> Result<(), String> {
    let md = producer
        .client()
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| format!("warm-up metadata: {e}"))?;
    let partitions = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .map(|t| t.partitions().len())
        .unwrap_or(0);
    if partitions == 0 {
        return Err(format!("warm-up: topic {topic} has no partitions"));
    }
    for p in 0..partitions as i32 {
        let record: BaseRecord<'_, str, str> = BaseRecord::to(topic)
            .partition(p)
            .key("warmup")
            .payload("warmup");
        producer
            .send(record)
            .map_err(|(e, _)| format!("warm-up produce: {e}"))?;
    }
    producer
        .flush(Duration::from_secs(30))
        .map_err(|e| format!("warm-up flush: {e}"))?;
    let ctx = producer.context();
    let ok = ctx.ok.swap(0, Ordering::Relaxed);
    let failed = ctx.failed.swap(0, Ordering::Relaxed);
    if failed > 0 || ok != partitions as u64 {
        return Err(format!("warm-up: {ok} of {partitions} delivered"));
    }
    if let Some(p) = &ctx.partitions {
        p.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
    Ok(())
}

/// The keys of `--keys FILE` (`-` = stdin): one per line, `\N` = NULL key.
fn read_keys(path: &str) -> Result<Vec<Option<Vec<u8>>>, String> {
    let data = if path == "-" {
        let mut d = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut d).map(|_| d)
    } else {
        std::fs::read(path)
    }
    .map_err(|e| format!("--keys {path:?}: {e}"))?;
    if data.is_empty() {
        return Ok(Vec::new());
    }
    let data = data.strip_suffix(b"\n").unwrap_or(&data);
    Ok(data
        .split(|&b| b == b'\n')
        .map(|l| (l != b"\\N").then(|| l.to_vec()))
        .collect())
}

// ---------------------------------------------------------------------------------------------
// consume
// ---------------------------------------------------------------------------------------------

fn cmd_consume(args: &[String]) -> Result<(), String> {
    let o = Opts::parse(
        args,
        &["bootstrap", "topic", "count", "timeout-ms"],
        &["headers", "positions", "until-eof"],
    )?;
    let with_headers = o.has("headers");
    let with_positions = o.has("positions");
    let until_eof = o.has("until-eof");
    let bootstrap = o.required("bootstrap")?;
    let topic = o.required("topic")?;
    let count: u64 = o.num("count", until_eof.then_some(u64::MAX))?;
    let timeout = Duration::from_millis(o.num("timeout-ms", Some(30_000))?);
    let deadline = Instant::now() + timeout;

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", "mock-launcher-consume")
        .set("enable.auto.commit", "false")
        .set(
            "enable.partition.eof",
            if until_eof { "true" } else { "false" },
        )
        .set("fetch.wait.max.ms", "100")
        .create()
        .map_err(|e| format!("creating consumer: {e}"))?;
    let md = consumer
        .fetch_metadata(Some(topic), Duration::from_secs(10))
        .map_err(|e| format!("metadata: {e}"))?;
    let mt = md
        .topics()
        .iter()
        .find(|t| t.name() == topic)
        .ok_or_else(|| format!("topic {topic} not in metadata"))?;
    if let Some(e) = mt.error() {
        return Err(format!("topic {topic}: {e:?}"));
    }
    let mut tpl = TopicPartitionList::new();
    for p in mt.partitions() {
        tpl.add_partition_offset(topic, p.id(), Offset::Beginning)
            .map_err(|e| e.to_string())?;
    }
    consumer.assign(&tpl).map_err(|e| format!("assign: {e}"))?;

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut got = 0u64;
    // Partitions whose end was reached with no message read since.
    let mut at_eof = std::collections::HashSet::new();
    let partitions = mt.partitions().len();
    while got < count && !(until_eof && at_eof.len() == partitions) {
        let now = Instant::now();
        if now >= deadline {
            out.flush().ok();
            return Err(format!("timed out: {got} of {count} messages consumed"));
        }
        match consumer.poll((deadline - now).min(Duration::from_millis(500))) {
            None => {}
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_eof.insert(p);
            }
            Some(Err(e)) => eprintln!("mock-launcher: consume: {e}"),
            Some(Ok(m)) => {
                at_eof.remove(&m.partition());
                if with_positions {
                    write!(out, "{}\t{}\t", m.partition(), m.offset())
                        .map_err(|e| e.to_string())?;
                }
                let key = m.key().map(String::from_utf8_lossy).unwrap_or_default();
                let value = m.payload().map(String::from_utf8_lossy).unwrap_or_default();
                if with_headers {
                    let mut hs = Vec::new();
                    if let Some(h) = m.headers() {
                        for hd in h.iter() {
                            let v = hd.value.map(String::from_utf8_lossy).unwrap_or_default();
                            hs.push(format!("{}={}", hd.key, v));
                        }
                    }
                    writeln!(out, "{key}\t{value}\t{}", hs.join(","))
                } else {
                    writeln!(out, "{key}\t{value}")
                }
                .map_err(|e| e.to_string())?;
                got += 1;
            }
        }
    }
    out.flush().map_err(|e| e.to_string())?;
    eprintln!("consumed {got}");
    Ok(())
}
