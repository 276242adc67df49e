//! Brokers of a handle created without `bootstrap.servers`: librdkafka's `CONFWARN` notice at
//! creation (not for a group consumer; `MOCK` instead with `test.mock.num.brokers`) and `rd_kafka_brokers_add`, which gives the engine brokers to bootstrap from.

use std::os::raw::{c_char, c_int};

use super::handle::{handle, rd_kafka_t, Kind};
use crate::broker_list;

/// Logs librdkafka's notice for a client without `bootstrap.servers` (level 5, `CONFWARN`).
///
/// # Safety
/// `rk` is a live handle.
pub(crate) unsafe fn warn_without_brokers(rk: *mut rd_kafka_t) {
    // SAFETY: per the contract.
    let Some(h) = (unsafe { handle(rk) }) else {
        return;
    };
    let mock = match &h.kind {
        Kind::Producer(p) => p.mock_cluster(),
        Kind::Consumer(c) => c.mock_cluster(),
    };
    if let Some(b) = mock.map(|m| m.bootstrap_servers()) {
        let line = format!("[thrd:app]: Mock cluster enabled: original bootstrap.servers and security.protocol ignored and replaced with {b}");
        // SAFETY: `rk` is the live handle `h`.
        unsafe { h.log(rk, 5, "MOCK", &line) };
        return;
    }
    // A group consumer has its coordinator's logical broker already, so librdkafka stays quiet.
    let config = &h.conf.config;
    let grouped = matches!(h.kind, Kind::Consumer(_))
        && !config.get("group.id").unwrap_or_default().is_empty();
    if !grouped
        && config
            .get("bootstrap.servers")
            .unwrap_or_default()
            .is_empty()
    {
        let line = "[thrd:app]: No `bootstrap.servers` configured: client will not be able to connect to Kafka cluster";
        // SAFETY: `rk` is the live handle `h`.
        unsafe { h.log(rk, 5, "CONFWARN", line) };
    }
}

/// Adds brokers from a `[proto://]host[:port],...` list; returns how many entries were
/// accepted (a broker already known counts too, as in librdkafka). An entry that does not
/// parse is logged (`BROKER`, level 4) and ends the list.
///
/// # Safety
/// `rk` is NULL or a live handle; `brokerlist` NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_brokers_add(
    rk: *mut rd_kafka_t,
    brokerlist: *const c_char,
) -> c_int {
    ffi_guard!(0, {
        // SAFETY: per the contract.
        let (Some(h), Some(list)) = (unsafe { handle(rk) }, unsafe { super::cstr(brokerlist) })
        else {
            return 0;
        };
        let proto = h
            .conf
            .config
            .get("security.protocol")
            .unwrap_or_else(|| "plaintext".into());
        let parsed = broker_list::parse(list, &proto);
        if let Some(w) = &parsed.warning {
            // SAFETY: `rk` is the live handle `h`.
            unsafe { h.log(rk, 4, "BROKER", &format!("[thrd:app]: {w}")) };
        }
        let n = parsed.addrs.len() as c_int;
        match &h.kind {
            Kind::Producer(p) => p.add_broker_addrs(parsed.addrs),
            Kind::Consumer(c) => c.add_broker_addrs(parsed.addrs),
        }
        n
    })
}
