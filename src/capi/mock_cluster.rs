//! librdkafka's mock cluster API (`rdkafka_mock.h`) over [`crate::mock::MockCluster`]:
//! create/destroy, the bootstrap list, topic creation, the initial rebalance delay, and the
//! faults: request errors, brokers down/up, leader moves, pinned coordinators, topic errors.

use std::ffi::CString;
use std::os::raw::{c_char, c_int};
use std::sync::Mutex;
use std::time::Duration;

use super::ctypes::*;
use super::errcodes::*;
use super::handle::{handle, Kind};
use crate::mock::{MockCluster, WeakMockCluster};
use crate::ErrorCode;

/// What an `rd_kafka_mock_cluster_t *` points to: a cluster from `rd_kafka_mock_cluster_new`
/// (owned: destroy stops it), or the view `rd_kafka_handle_mock_cluster` gives of a handle's
/// `test.mock.num.brokers` cluster (borrowed: the handle owns it; destroy ignores the view).
struct CMockCluster {
    held: Held,
    bootstraps: CString,
    rk: *mut rd_kafka_t,
}

enum Held {
    Owned(MockCluster),
    Borrowed(WeakMockCluster),
}

impl CMockCluster {
    fn new(held: Held, bootstrap: &str, rk: *mut rd_kafka_t) -> Option<Box<Self>> {
        let bootstraps = CString::new(bootstrap).ok()?;
        Some(Box::new(CMockCluster {
            held,
            bootstraps,
            rk,
        }))
    }

    fn get(&self) -> Option<MockCluster> {
        match &self.held {
            Held::Owned(c) => Some(c.clone()),
            Held::Borrowed(w) => w.upgrade(),
        }
    }
}

// SAFETY: `rk` is only handed back to the application, never dereferenced here.
unsafe impl Send for CMockCluster {}

/// Views given out by `rd_kafka_handle_mock_cluster`, by handle address; a view whose cluster
/// is gone (its handle destroyed) is dropped at the next call.
static HANDLE_VIEWS: Mutex<Vec<(usize, Box<CMockCluster>)>> = Mutex::new(Vec::new());

/// Borrows the view behind a C pointer.
///
/// # Safety
/// `mc` is NULL or a live pointer from `rd_kafka_mock_cluster_new` or
/// `rd_kafka_handle_mock_cluster`.
unsafe fn view<'a>(mc: *const rd_kafka_mock_cluster_t) -> Option<&'a CMockCluster> {
    // SAFETY: per the contract, a non-NULL `mc` is a `CMockCluster` we boxed.
    unsafe { mc.cast::<CMockCluster>().as_ref() }
}

/// The running cluster behind a C pointer (`None`: NULL, or a handle's cluster that is gone).
///
/// # Safety
/// As [`view`].
unsafe fn cluster(mc: *const rd_kafka_mock_cluster_t) -> Option<MockCluster> {
    // SAFETY: per the contract.
    unsafe { view(mc) }.and_then(CMockCluster::get)
}

/// Starts a mock cluster of `broker_cnt` brokers on 127.0.0.1 ephemeral ports, served by its
/// own thread. `rk` (only remembered, as librdkafka uses it for logging) must be a live handle.
/// Returns NULL for a NULL `rk`, a count below 1, or when the sockets cannot be bound. The
/// caller frees the cluster with `rd_kafka_mock_cluster_destroy` before destroying `rk`.
///
/// # Safety
/// `rk` is NULL or a live handle from `rd_kafka_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_cluster_new(
    rk: *mut rd_kafka_t,
    broker_cnt: c_int,
) -> *mut rd_kafka_mock_cluster_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        if unsafe { handle(rk) }.is_none() || broker_cnt < 1 {
            return std::ptr::null_mut();
        }
        let Ok(cluster) = MockCluster::new(broker_cnt as usize) else {
            return std::ptr::null_mut();
        };
        let bootstrap = cluster.bootstrap_servers().to_string();
        CMockCluster::new(Held::Owned(cluster), &bootstrap, rk)
            .map_or(std::ptr::null_mut(), |b| Box::into_raw(b).cast())
    })
}

/// The cluster's `bootstrap.servers` list, `127.0.0.1:port,...`. The string belongs to the
/// cluster and lives until `rd_kafka_mock_cluster_destroy`. NULL for a NULL cluster.
///
/// # Safety
/// `mcluster` is NULL or a live cluster from `rd_kafka_mock_cluster_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_cluster_bootstraps(
    mcluster: *const rd_kafka_mock_cluster_t,
) -> *const c_char {
    ffi_guard!(std::ptr::null(), {
        // SAFETY: per the contract.
        unsafe { view(mcluster) }.map_or(std::ptr::null(), |c| c.bootstraps.as_ptr())
    })
}

/// Stops the cluster's thread, closes its sockets and frees it. NULL, and the view of a handle's
/// own cluster (`rd_kafka_handle_mock_cluster`, which the handle frees), are ignored.
///
/// # Safety
/// `mcluster` is NULL or a live cluster from `rd_kafka_mock_cluster_new`, not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_cluster_destroy(mcluster: *mut rd_kafka_mock_cluster_t) {
    ffi_guard!((), {
        // SAFETY: per the contract.
        if let Some(Held::Owned(_)) = unsafe { view(mcluster) }.map(|v| &v.held) {
            // SAFETY: an owned view came from `Box::into_raw` and is given back once.
            drop(unsafe { Box::from_raw(mcluster.cast::<CMockCluster>()) });
        }
    })
}

/// The mock cluster `test.mock.num.brokers` started for `rk`, NULL if none. The cluster belongs
/// to the handle and goes with it; do not destroy it.
///
/// # Safety
/// `rk` is NULL or a live handle from `rd_kafka_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_handle_mock_cluster(
    rk: *const rd_kafka_t,
) -> *mut rd_kafka_mock_cluster_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        let Some(h) = (unsafe { handle(rk) }) else {
            return std::ptr::null_mut();
        };
        let mock = match &h.kind {
            Kind::Producer(p) => p.mock_cluster(),
            Kind::Consumer(c) => c.mock_cluster(),
        };
        let Some(mock) = mock else {
            return std::ptr::null_mut();
        };
        let mut views = HANDLE_VIEWS.lock().unwrap_or_else(|e| e.into_inner());
        views.retain(|(_, v)| v.get().is_some());
        let key = rk as usize;
        if let Some((_, v)) = views.iter().find(|(k, v)| {
            *k == key && v.bootstraps.to_bytes() == mock.bootstrap_servers().as_bytes()
        }) {
            return (&**v as *const CMockCluster).cast_mut().cast();
        }
        let Some(v) = CMockCluster::new(
            Held::Borrowed(mock.downgrade()),
            mock.bootstrap_servers(),
            rk.cast_mut(),
        ) else {
            return std::ptr::null_mut();
        };
        let ptr = (&*v as *const CMockCluster).cast_mut().cast();
        views.push((key, v));
        ptr
    })
}

/// The handle the cluster was created with.
///
/// # Safety
/// `mcluster` is NULL or a live cluster from `rd_kafka_mock_cluster_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_cluster_handle(
    mcluster: *const rd_kafka_mock_cluster_t,
) -> *mut rd_kafka_t {
    ffi_guard!(std::ptr::null_mut(), {
        // SAFETY: per the contract.
        unsafe { view(mcluster) }.map_or(std::ptr::null_mut(), |c| c.rk)
    })
}

/// Creates `topic` with `partition_cnt` partitions of `replication_factor` replicas (capped at
/// the broker count). Errors as librdkafka's: `TOPIC_ALREADY_EXISTS`, `TOPIC_EXCEPTION` for
/// anything else wrong, `_INVALID_ARG` for NULL arguments.
///
/// # Safety
/// `mcluster` is NULL or a live cluster; `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_topic_create(
    mcluster: *mut rd_kafka_mock_cluster_t,
    topic: *const c_char,
    partition_cnt: c_int,
    replication_factor: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the contract.
        let (Some(c), Some(name)) = (unsafe { cluster(mcluster) }, unsafe { super::cstr(topic) })
        else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        match c.create_topic(name, partition_cnt, replication_factor) {
            Ok(()) => RD_KAFKA_RESP_ERR_NO_ERROR,
            Err(ErrorCode::TOPIC_ALREADY_EXISTS) => RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
            Err(_) => RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION,
        }
    })
}

/// Sets how long the first JoinGroup of an empty group waits for more members (3000 ms by
/// default, as Kafka's `group.initial.rebalance.delay.ms`). Negative values count as 0.
///
/// # Safety
/// `mcluster` is NULL or a live cluster from `rd_kafka_mock_cluster_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_group_initial_rebalance_delay_ms(
    mcluster: *mut rd_kafka_mock_cluster_t,
    delay_ms: i32,
) {
    ffi_guard!((), {
        // SAFETY: per the contract.
        if let Some(c) = unsafe { cluster(mcluster) } {
            c.set_initial_rebalance_delay(Duration::from_millis(delay_ms.max(0) as u64));
        }
    })
}

/// Closes broker `broker_id`'s connections and refuses new ones until
/// `rd_kafka_mock_broker_set_up`; leadership does not move. `_UNKNOWN_BROKER` for a bad id,
/// `_INVALID_ARG` for a NULL cluster.
///
/// # Safety
/// `mcluster` is NULL or a live cluster from `rd_kafka_mock_cluster_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_broker_set_down(
    mcluster: *mut rd_kafka_mock_cluster_t,
    broker_id: i32,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the contract.
        unsafe { cluster(mcluster) }.map_or(RD_KAFKA_RESP_ERR__INVALID_ARG, |c| {
            code(c.broker_down(broker_id))
        })
    })
}

/// Lets broker `broker_id` accept connections again. Errors as `rd_kafka_mock_broker_set_down`.
///
/// # Safety
/// `mcluster` is NULL or a live cluster from `rd_kafka_mock_cluster_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_broker_set_up(
    mcluster: *mut rd_kafka_mock_cluster_t,
    broker_id: i32,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the contract.
        unsafe { cluster(mcluster) }.map_or(RD_KAFKA_RESP_ERR__INVALID_ARG, |c| {
            code(c.broker_up(broker_id))
        })
    })
}

/// Delays every response of broker `broker_id` (-1: all brokers) by `rtt_ms` milliseconds.
/// `_UNKNOWN_BROKER` for a bad id, `_INVALID_ARG` for a NULL cluster.
///
/// # Safety
/// `mcluster` is NULL or a live cluster from `rd_kafka_mock_cluster_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_broker_set_rtt(
    mcluster: *mut rd_kafka_mock_cluster_t,
    broker_id: i32,
    rtt_ms: c_int,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the contract.
        let Some(c) = (unsafe { cluster(mcluster) }) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        code(c.broker_rtt(broker_id, Duration::from_millis(rtt_ms.max(0) as u64)))
    })
}

/// Moves the leadership of `topic` [`partition`] to `broker_id` (-1: no leader), creating the
/// topic with the defaults if needed. `BROKER_NOT_AVAILABLE` for an unknown broker,
/// `UNKNOWN_TOPIC_OR_PART` for a partition the topic lacks.
///
/// # Safety
/// `mcluster` is NULL or a live cluster; `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_partition_set_leader(
    mcluster: *mut rd_kafka_mock_cluster_t,
    topic: *const c_char,
    partition: i32,
    broker_id: i32,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the contract.
        let (Some(c), Some(topic)) = (unsafe { cluster(mcluster) }, unsafe { super::cstr(topic) })
        else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        code(c.partition_leader(topic, partition, broker_id))
    })
}

/// Pins the coordinator of `key` to `broker_id`; `key_type` is `"group"` or `"transaction"`
/// (anything else: `_INVALID_ARG`).
///
/// # Safety
/// `mcluster` is NULL or a live cluster; `key_type` and `key` are NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_coordinator_set(
    mcluster: *mut rd_kafka_mock_cluster_t,
    key_type: *const c_char,
    key: *const c_char,
    broker_id: i32,
) -> rd_kafka_resp_err_t {
    ffi_guard!(RD_KAFKA_RESP_ERR__INVALID_ARG, {
        // SAFETY: per the contract.
        let (Some(c), Some(kind), Some(key)) = (
            unsafe { cluster(mcluster) },
            unsafe { super::cstr(key_type) },
            unsafe { super::cstr(key) },
        ) else {
            return RD_KAFKA_RESP_ERR__INVALID_ARG;
        };
        let kind = match kind {
            "group" => 0,
            "transaction" => 1,
            _ => return RD_KAFKA_RESP_ERR__INVALID_ARG,
        };
        c.set_coordinator(kind, key, broker_id);
        RD_KAFKA_RESP_ERR_NO_ERROR
    })
}

/// Makes Metadata answer `err` for `topic` (`RD_KAFKA_RESP_ERR_NO_ERROR` clears it).
///
/// # Safety
/// `mcluster` is NULL or a live cluster; `topic` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_topic_set_error(
    mcluster: *mut rd_kafka_mock_cluster_t,
    topic: *const c_char,
    err: rd_kafka_resp_err_t,
) {
    ffi_guard!((), {
        // SAFETY: per the contract.
        if let (Some(c), Some(topic)) =
            (unsafe { cluster(mcluster) }, unsafe { super::cstr(topic) })
        {
            c.topic_error(topic, ErrorCode(err));
        }
    })
}

/// The next `cnt` requests of API `ApiKey`, on any broker, fail with `errors[0..cnt]` in order
/// without being executed; `RD_KAFKA_RESP_ERR__TRANSPORT` closes the connection instead.
///
/// # Safety
/// `mcluster` is NULL or a live cluster; `errors` is NULL or points to `cnt` error codes.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_push_request_errors_array(
    mcluster: *mut rd_kafka_mock_cluster_t,
    ApiKey: i16,
    cnt: usize,
    errors: *const rd_kafka_resp_err_t,
) {
    ffi_guard!((), {
        // SAFETY: per the contract.
        let Some(c) = (unsafe { cluster(mcluster) }) else {
            return;
        };
        if errors.is_null() || cnt == 0 {
            return;
        }
        // SAFETY: `errors` points to `cnt` codes per the contract.
        let errors = unsafe { std::slice::from_raw_parts(errors, cnt) };
        let errors: Vec<ErrorCode> = errors.iter().map(|&e| ErrorCode(e)).collect();
        c.push_request_errors(ApiKey, &errors);
    })
}

/// `rd_kafka_mock_push_request_errors(mcluster, ApiKey, cnt, ...)`: jumps to `mock_errors.c`,
/// which gathers the `cnt` variadic error codes for `rd_kafka_mock_push_request_errors_array`.
///
/// # Safety
/// Called from C with a NULL or live cluster, an API key, `cnt` and `cnt` error codes.
#[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
#[unsafe(naked)]
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_push_request_errors() {
    #[cfg(target_arch = "x86_64")]
    core::arch::naked_asm!("jmp {}", sym rskafka_mock_push_request_errors_impl);
    #[cfg(target_arch = "aarch64")]
    core::arch::naked_asm!("b {}", sym rskafka_mock_push_request_errors_impl);
}

extern "C" {
    /// `mock_errors.c`.
    fn rskafka_mock_push_request_errors_impl(
        mcluster: *mut std::os::raw::c_void,
        ApiKey: i16,
        cnt: usize,
        ...
    );
}

/// Drops the errors still queued for API `ApiKey`.
///
/// # Safety
/// `mcluster` is NULL or a live cluster from `rd_kafka_mock_cluster_new`.
#[no_mangle]
pub unsafe extern "C" fn rd_kafka_mock_clear_request_errors(
    mcluster: *mut rd_kafka_mock_cluster_t,
    ApiKey: i16,
) {
    ffi_guard!((), {
        // SAFETY: per the contract.
        if let Some(c) = unsafe { cluster(mcluster) } {
            c.clear_request_errors(ApiKey);
        }
    })
}

/// A mock control result as an `rd_kafka_resp_err_t`.
fn code(r: Result<(), ErrorCode>) -> rd_kafka_resp_err_t {
    r.err().map_or(RD_KAFKA_RESP_ERR_NO_ERROR, |e| e.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capi::conf::{rd_kafka_conf_new, rd_kafka_conf_set};
    use crate::capi::handle::{rd_kafka_destroy, rd_kafka_new};
    use crate::capi::types::*;

    #[test]
    fn null_arguments_are_refused_without_crashing() {
        // SAFETY: NULLs and a handle of ours, destroyed once; strings are NUL-terminated.
        unsafe {
            assert!(rd_kafka_mock_cluster_new(std::ptr::null_mut(), 3).is_null());
            assert!(rd_kafka_mock_cluster_bootstraps(std::ptr::null()).is_null());
            assert!(rd_kafka_mock_cluster_handle(std::ptr::null()).is_null());
            rd_kafka_mock_cluster_destroy(std::ptr::null_mut());
            rd_kafka_mock_group_initial_rebalance_delay_ms(std::ptr::null_mut(), 0);
            let topic = c"t".as_ptr();
            let null = std::ptr::null_mut();
            assert_eq!(
                rd_kafka_mock_topic_create(null, topic, 1, 1),
                RD_KAFKA_RESP_ERR__INVALID_ARG
            );

            let conf = rd_kafka_conf_new();
            let mut errstr = [0 as c_char; 128];
            let r = rd_kafka_conf_set(
                conf,
                c"bootstrap.servers".as_ptr(),
                c"127.0.0.1:1".as_ptr(),
                errstr.as_mut_ptr(),
                128,
            );
            assert_eq!(r, RD_KAFKA_CONF_OK);
            let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.as_mut_ptr(), 128);
            assert!(!rk.is_null());
            assert!(rd_kafka_mock_cluster_new(rk, 0).is_null());
            let mc = rd_kafka_mock_cluster_new(rk, 2);
            assert!(!mc.is_null());
            assert_eq!(rd_kafka_mock_cluster_handle(mc), rk);
            let b = std::ffi::CStr::from_ptr(rd_kafka_mock_cluster_bootstraps(mc))
                .to_str()
                .unwrap();
            assert_eq!(b.split(',').count(), 2);
            assert_eq!(
                rd_kafka_mock_topic_create(mc, std::ptr::null(), 1, 1),
                RD_KAFKA_RESP_ERR__INVALID_ARG
            );
            assert_eq!(
                rd_kafka_mock_topic_create(mc, topic, 2, 5),
                RD_KAFKA_RESP_ERR_NO_ERROR
            );
            assert_eq!(
                rd_kafka_mock_topic_create(mc, topic, 2, 1),
                RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS
            );
            assert_eq!(
                rd_kafka_mock_topic_create(mc, c"u".as_ptr(), 0, 1),
                RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION
            );
            assert_eq!(
                rd_kafka_mock_broker_set_down(null, 1),
                RD_KAFKA_RESP_ERR__INVALID_ARG
            );
            assert_eq!(
                rd_kafka_mock_broker_set_down(mc, 3),
                RD_KAFKA_RESP_ERR__UNKNOWN_BROKER
            );
            assert_eq!(
                rd_kafka_mock_broker_set_down(mc, 2),
                RD_KAFKA_RESP_ERR_NO_ERROR
            );
            assert_eq!(
                rd_kafka_mock_broker_set_up(mc, 2),
                RD_KAFKA_RESP_ERR_NO_ERROR
            );
            assert_eq!(
                rd_kafka_mock_broker_set_rtt(mc, -1, 5),
                RD_KAFKA_RESP_ERR_NO_ERROR
            );
            assert_eq!(
                rd_kafka_mock_broker_set_rtt(mc, 4, 5),
                RD_KAFKA_RESP_ERR__UNKNOWN_BROKER
            );
            assert_eq!(
                rd_kafka_mock_broker_set_rtt(mc, 1, 0),
                RD_KAFKA_RESP_ERR_NO_ERROR
            );
            let leader = |t, p, b| rd_kafka_mock_partition_set_leader(mc, t, p, b);
            assert_eq!(leader(topic, 1, 1), RD_KAFKA_RESP_ERR_NO_ERROR);
            assert_eq!(leader(topic, 7, 1), RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART);
            assert_eq!(leader(topic, 0, 5), RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE);
            assert_eq!(
                leader(std::ptr::null(), 0, 1),
                RD_KAFKA_RESP_ERR__INVALID_ARG
            );
            let coord =
                |k: &std::ffi::CStr| rd_kafka_mock_coordinator_set(mc, k.as_ptr(), topic, 1);
            assert_eq!(coord(c"group"), RD_KAFKA_RESP_ERR_NO_ERROR);
            assert_eq!(coord(c"transaction"), RD_KAFKA_RESP_ERR_NO_ERROR);
            assert_eq!(coord(c"other"), RD_KAFKA_RESP_ERR__INVALID_ARG);
            rd_kafka_mock_topic_set_error(mc, std::ptr::null(), 3);
            rd_kafka_mock_push_request_errors_array(mc, 0, 3, std::ptr::null());
            let errs = [6, 19];
            rd_kafka_mock_push_request_errors_array(mc, 0, 2, errs.as_ptr());
            let variadic: unsafe extern "C" fn(*mut rd_kafka_mock_cluster_t, i16, usize, ...) =
                std::mem::transmute(rd_kafka_mock_push_request_errors as *const ());
            variadic(mc, 0, 3, 6, 19, 7);
            assert_eq!(cluster(mc).unwrap().queued_request_errors(0), 5);
            rd_kafka_mock_clear_request_errors(mc, 0);
            assert_eq!(cluster(mc).unwrap().queued_request_errors(0), 0);
            rd_kafka_mock_clear_request_errors(null, 0);
            rd_kafka_mock_cluster_destroy(mc);
            rd_kafka_destroy(rk);
        }
    }
}

#[cfg(test)]
mod handle_tests {
    use super::*;
    use crate::capi::conf::{rd_kafka_conf_new, rd_kafka_conf_set};
    use crate::capi::handle::{rd_kafka_destroy, rd_kafka_new};
    use crate::capi::types::*;

    /// A producer handle with `props` set.
    unsafe fn producer(props: &[(&std::ffi::CStr, &std::ffi::CStr)]) -> *mut rd_kafka_t {
        // SAFETY: our own configuration; NUL-terminated strings.
        unsafe {
            let conf = rd_kafka_conf_new();
            let mut errstr = [0 as c_char; 128];
            for (k, v) in props {
                let r = rd_kafka_conf_set(conf, k.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 128);
                assert_eq!(r, RD_KAFKA_CONF_OK);
            }
            rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.as_mut_ptr(), 128)
        }
    }

    #[test]
    fn a_handle_shows_its_test_mock_cluster() {
        // SAFETY: handles of ours, destroyed once; views not used after their handle is gone.
        unsafe {
            let plain = producer(&[(c"bootstrap.servers", c"127.0.0.1:1")]);
            assert!(rd_kafka_handle_mock_cluster(plain).is_null());
            assert!(rd_kafka_handle_mock_cluster(std::ptr::null()).is_null());
            let rk = producer(&[(c"test.mock.num.brokers", c"2")]);
            let mc = rd_kafka_handle_mock_cluster(rk);
            assert!(!mc.is_null());
            assert_eq!(rd_kafka_handle_mock_cluster(rk), mc, "one view per handle");
            assert_eq!(rd_kafka_mock_cluster_handle(mc), rk);
            let b = std::ffi::CStr::from_ptr(rd_kafka_mock_cluster_bootstraps(mc));
            assert_eq!(b.to_str().unwrap().split(',').count(), 2);
            let r = rd_kafka_mock_topic_create(mc, c"t".as_ptr(), 3, 1);
            assert_eq!(r, RD_KAFKA_RESP_ERR_NO_ERROR);
            rd_kafka_mock_cluster_destroy(mc);
            let r = rd_kafka_mock_topic_create(mc, c"t".as_ptr(), 3, 1);
            assert_eq!(
                r, RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
                "destroy ignores a handle's view"
            );
            rd_kafka_destroy(rk);
            rd_kafka_destroy(plain);
        }
    }
}
