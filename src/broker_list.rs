//! librdkafka's broker list syntax, as `rd_kafka_brokers_add` reads it: `[proto://]host[:port]`
//! entries separated by commas (spaces between entries are skipped); port 9092 by default, an
//! empty host is `localhost`; the first entry that does not parse stops the list.

/// The security protocols librdkafka knows by name.
const PROTOCOLS: [&str; 4] = ["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"];

/// The `host:port` addresses parsed, and the warning (librdkafka's `BROKER` log line) for an
/// entry that stopped the parse.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct BrokerList {
    pub addrs: Vec<String>,
    pub warning: Option<String>,
}

/// Parses `list` for a client whose `security.protocol` is `security_protocol`.
pub(crate) fn parse(list: &str, security_protocol: &str) -> BrokerList {
    let mut out = BrokerList::default();
    let mut s = list;
    while !s.is_empty() {
        if s.starts_with([',', ' ']) {
            s = &s[1..];
            continue;
        }
        let orig = s;
        let (name, rest) = s.split_once(',').unwrap_or((s, ""));
        s = rest;
        let mut host = name;
        if let Some(i) = name.find("://") {
            let err = |why: String| Some(format!("Broker name \"{orig}\" parse error: {why}"));
            if i == 0 {
                out.warning = err("empty protocol name".into());
                break;
            }
            let proto = name[..i].to_ascii_uppercase();
            if !PROTOCOLS.contains(&proto.as_str()) {
                out.warning = err(format!("unsupported protocol \"{proto}\""));
                break;
            }
            if !proto.eq_ignore_ascii_case(security_protocol) {
                out.warning = err(format!(
                    "protocol \"{proto}\" does not match security.protocol setting \"{}\"",
                    security_protocol.to_ascii_lowercase()
                ));
                break;
            }
            host = &name[i + 3..];
            host = host.split('/').next().unwrap_or("");
        }
        let mut port = 9092u32;
        if let (Some(last), Some(first)) = (host.rfind(':'), host.find(':')) {
            if last == first || host[..last].ends_with(']') {
                port = atoi(&host[last + 1..]) as u16 as u32;
                host = &host[..last];
            }
        }
        let host = if host.is_empty() { "localhost" } else { host };
        out.addrs.push(format!("{host}:{port}"));
    }
    out
}

impl crate::Producer {
    /// Adds brokers to bootstrap from (`rd_kafka_brokers_add`): for a producer created without
    /// `bootstrap.servers`, or to add more. Returns how many entries of `list` were accepted.
    pub fn add_brokers(&self, list: &str) -> usize {
        let parsed = parse(list, "plaintext");
        let n = parsed.addrs.len();
        self.add_broker_addrs(parsed.addrs);
        n
    }

    /// Adds parsed `host:port` addresses.
    pub(crate) fn add_broker_addrs(&self, addrs: Vec<String>) {
        if !addrs.is_empty() {
            self.engine
                .send(crate::engine::producer::ProducerCommand::AddBrokers(addrs));
        }
    }
}

impl crate::Consumer {
    /// Adds brokers to bootstrap from (`rd_kafka_brokers_add`): for a consumer created without
    /// `bootstrap.servers`, or to add more. Returns how many entries of `list` were accepted.
    pub fn add_brokers(&self, list: &str) -> usize {
        let parsed = parse(list, "plaintext");
        let n = parsed.addrs.len();
        self.add_broker_addrs(parsed.addrs);
        n
    }

    /// Adds parsed `host:port` addresses.
    pub(crate) fn add_broker_addrs(&self, addrs: Vec<String>) {
        if !addrs.is_empty() {
            let _ = self.send(crate::engine::channel::Command::AddBrokers(addrs));
        }
    }
}

/// C's `atoi`: leading digits, 0 for none.
fn atoi(s: &str) -> i64 {
    let digits: String = s
        .trim_start()
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(list: &str) -> Vec<String> {
        parse(list, "plaintext").addrs
    }

    #[test]
    fn entries_ports_and_prefixes() {
        assert_eq!(
            addrs("PLAINTEXT://a:1, b:2,c,,plaintext://[::1]:3,:4"),
            ["a:1", "b:2", "c:9092", "[::1]:3", "localhost:4"]
        );
        assert_eq!(addrs("plaintext://h:5/path"), ["h:5"]);
        assert!(addrs("").is_empty());
    }

    #[test]
    fn a_bad_entry_stops_the_list_with_librdkafkas_warning() {
        let r = parse("a:1,SSL://b:2,c:3", "plaintext");
        assert_eq!(r.addrs, ["a:1"]);
        assert_eq!(
            r.warning.as_deref(),
            Some("Broker name \"SSL://b:2,c:3\" parse error: protocol \"SSL\" does not match security.protocol setting \"plaintext\"")
        );
        let r = parse("foo://x", "plaintext");
        assert_eq!(
            r.warning.as_deref(),
            Some("Broker name \"foo://x\" parse error: unsupported protocol \"FOO\"")
        );
        let r = parse("://x", "plaintext");
        assert_eq!(
            r.warning.as_deref(),
            Some("Broker name \"://x\" parse error: empty protocol name")
        );
    }
}
