//! Tests of the queues: forwarding, batching, notifications, NULL handling, and queues of real
//! handles (log queue, consumer errors).

mod pure {
    use super::super::*;
    use crate::KafkaError;

    fn err_op(msg: &str) -> Op {
        Op::Error(KafkaError::new(
            crate::ErrorCode(RD_KAFKA_RESP_ERR__FAIL),
            msg,
        ))
    }

    fn text(op: Option<Op>) -> String {
        match op {
            Some(Op::Error(e)) => e.message,
            _ => "none".into(),
        }
    }

    #[test]
    fn forwarding_moves_waiting_ops_and_routes_new_ones() {
        let (a, b) = (EvQueue::new(0), EvQueue::new(0));
        a.push(err_op("1"));
        a.forward(Some(Arc::clone(&b)));
        a.push(err_op("2"));
        assert_eq!((a.len(), b.len()), (0, 2));
        assert!(Arc::ptr_eq(&a.resolve(), &b));
        // A cycle is refused.
        b.forward(Some(Arc::clone(&a)));
        assert!(Arc::ptr_eq(&a.resolve(), &b));
        a.forward(None);
        a.push(err_op("3"));
        assert_eq!((a.len(), b.len()), (1, 2));
        assert_eq!(text(b.pop()), "1");
        assert_eq!(text(b.pop()), "2");
        assert_eq!(text(a.pop()), "3");
        assert!(a.pop().is_none());
    }

    #[test]
    fn deliveries_split_into_one_op_per_partition_run() {
        let dr = |p: i32, off: i64, failed: bool| crate::producer::DeliveryReport {
            topic: "t".into(),
            partition: p,
            offset: off,
            timestamp: -1,
            error: failed.then(|| crate::KafkaError::new(crate::ErrorCode::L_MSG_TIMED_OUT, "x")),
            opaque: 0,
            key: None,
            value: None,
        };
        let reports = vec![
            dr(0, 0, false),
            dr(0, 1, false),
            dr(1, 0, false),
            dr(1, 1, true),
            dr(0, 2, false),
        ];
        let runs = crate::capi::ops::batches(reports);
        let shape: Vec<(i32, usize)> = runs.iter().map(|r| (r[0].partition, r.len())).collect();
        assert_eq!(shape, [(0, 2), (1, 1), (1, 1), (0, 1)]);
        assert_eq!(runs[0][1].offset, 1);
        assert!(runs[2][0].error.is_some());
        let q = EvQueue::new(0);
        for run in runs {
            q.push(Op::Deliveries(run));
        }
        assert_eq!(q.len(), 4);
        let Some(Op::Deliveries(first)) = q.pop() else {
            panic!("no reports");
        };
        assert_eq!(first.len(), 2);
    }

    static CALLS: AtomicUsize = AtomicUsize::new(0);
    unsafe extern "C" fn count_call(_rk: *mut rd_kafka_t, opaque: *mut c_void) {
        assert_eq!(opaque as usize, 7);
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    #[test]
    fn event_callback_fires_when_the_queue_turns_non_empty() {
        let q = EvQueue::new(0);
        let r = Queue::into_raw(std::ptr::null_mut(), Arc::clone(&q));
        // SAFETY: a live queue of ours, destroyed once.
        unsafe {
            rd_kafka_queue_cb_event_enable(r, Some(count_call), 7 as *mut c_void);
            q.push(err_op("a"));
            q.push(err_op("b"));
            assert_eq!(CALLS.load(Ordering::SeqCst), 1);
            q.pop();
            q.pop();
            q.push(err_op("c"));
            assert_eq!(CALLS.load(Ordering::SeqCst), 2);
            assert_eq!(rd_kafka_queue_length(r), 1);
            rd_kafka_queue_cb_event_enable(r, None, std::ptr::null_mut());
            q.pop();
            q.push(err_op("d"));
            assert_eq!(CALLS.load(Ordering::SeqCst), 2);
            rd_kafka_queue_destroy(r);
        }
    }

    #[test]
    fn null_queues_are_refused_without_crashing() {
        let (rk, q) = (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: NULL is allowed everywhere.
        unsafe {
            assert!(rd_kafka_queue_new(rk).is_null());
            assert!(rd_kafka_queue_get_main(rk).is_null());
            assert!(rd_kafka_queue_get_consumer(rk).is_null());
            assert!(rd_kafka_queue_poll(q, 0).is_null());
            assert_eq!(rd_kafka_queue_length(q), 0);
            rd_kafka_queue_forward(q, q);
            rd_kafka_queue_cb_event_enable(q, None, std::ptr::null_mut());
            rd_kafka_queue_io_event_enable(q, -1, std::ptr::null(), 0);
            rd_kafka_queue_destroy(q);
            assert_eq!(
                rd_kafka_set_log_queue(rk, q),
                RD_KAFKA_RESP_ERR__INVALID_ARG
            );
            assert_eq!(
                rd_kafka_poll_set_consumer(rk),
                RD_KAFKA_RESP_ERR__UNKNOWN_GROUP
            );
        }
    }

    #[test]
    fn log_lines_reach_the_log_queue_as_events() {
        use crate::capi::conf::{rd_kafka_conf_new, rd_kafka_conf_set};
        use crate::capi::event::*;
        use crate::capi::handle::{rd_kafka_destroy, rd_kafka_new};
        use crate::capi::types::*;
        // SAFETY: a configuration and handle of ours, destroyed once; strings are NUL-terminated.
        unsafe {
            let conf = rd_kafka_conf_new();
            let mut errstr = [0 as std::os::raw::c_char; 128];
            for (k, v) in [
                (c"bootstrap.servers", c"127.0.0.1:1"),
                (c"log.queue", c"true"),
            ] {
                let r = rd_kafka_conf_set(conf, k.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 128);
                assert_eq!(r, RD_KAFKA_CONF_OK);
            }
            let rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr.as_mut_ptr(), 128);
            assert!(!rk.is_null());
            let main = rd_kafka_queue_get_main(rk);
            assert_eq!(
                rd_kafka_set_log_queue(rk, std::ptr::null_mut()),
                RD_KAFKA_RESP_ERR_NO_ERROR
            );
            (*rk).log(rk, 6, "FAC", "hello");
            // The unreachable broker's connection errors may come first: skip ERROR events.
            let next_non_error = |timeout_ms| loop {
                let ev = rd_kafka_queue_poll(main, timeout_ms);
                if ev.is_null() || rd_kafka_event_type(ev) != RD_KAFKA_EVENT_ERROR {
                    break ev;
                }
                rd_kafka_event_destroy(ev);
            };
            let ev = next_non_error(1000);
            assert_eq!(rd_kafka_event_type(ev), RD_KAFKA_EVENT_LOG);
            let (mut fac, mut line, mut level) = (std::ptr::null(), std::ptr::null(), 0);
            assert_eq!(rd_kafka_event_log(ev, &mut fac, &mut line, &mut level), 0);
            assert_eq!(std::ffi::CStr::from_ptr(line).to_str(), Ok("hello"));
            assert_eq!(level, 6);
            rd_kafka_event_destroy(ev);
            assert!(next_non_error(0).is_null());
            assert!(rd_kafka_queue_get_consumer(rk).is_null());
            rd_kafka_queue_destroy(main);
            rd_kafka_destroy(rk);
        }
    }
}

mod clients {
    use super::super::*;
    use crate::capi::conf::{rd_kafka_conf_new, rd_kafka_conf_set, rd_kafka_conf_set_events};
    use crate::capi::consumer::rd_kafka_subscribe;
    use crate::capi::event::*;
    use crate::capi::handle::{rd_kafka_destroy_flags, rd_kafka_new};
    use crate::capi::partition_list::*;
    use crate::capi::types::*;

    #[test]
    fn consumer_errors_arrive_as_error_events_on_the_consumer_queue() {
        // SAFETY: a configuration, list and handle of ours, destroyed once; strings are
        // NUL-terminated.
        unsafe {
            let conf = rd_kafka_conf_new();
            let mut errstr = [0 as std::os::raw::c_char; 128];
            for (k, v) in [(c"bootstrap.servers", c"127.0.0.1:1"), (c"group.id", c"g")] {
                let r = rd_kafka_conf_set(conf, k.as_ptr(), v.as_ptr(), errstr.as_mut_ptr(), 128);
                assert_eq!(r, RD_KAFKA_CONF_OK);
            }
            rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_ERROR | RD_KAFKA_EVENT_REBALANCE);
            let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr.as_mut_ptr(), 128);
            assert!(!rk.is_null());
            assert_eq!(rd_kafka_poll_set_consumer(rk), RD_KAFKA_RESP_ERR_NO_ERROR);
            let topics = rd_kafka_topic_partition_list_new(1);
            rd_kafka_topic_partition_list_add(topics, c"t".as_ptr(), RD_KAFKA_PARTITION_UA);
            assert_eq!(rd_kafka_subscribe(rk, topics), RD_KAFKA_RESP_ERR_NO_ERROR);
            rd_kafka_topic_partition_list_destroy(topics);
            let cq = rd_kafka_queue_get_consumer(rk);
            let ev = rd_kafka_queue_poll(cq, 10_000);
            assert_eq!(rd_kafka_event_type(ev), RD_KAFKA_EVENT_ERROR);
            assert_eq!(
                rd_kafka_event_error(ev),
                RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN
            );
            assert!(!rd_kafka_event_error_string(ev).is_null());
            assert_eq!(rd_kafka_event_error_is_fatal(ev), 0);
            assert!(rd_kafka_event_message_next(ev).is_null());
            assert!(rd_kafka_event_topic_partition(ev).is_null());
            assert!(rd_kafka_event_topic_partition_list(ev).is_null());
            rd_kafka_event_destroy(ev);
            rd_kafka_queue_destroy(cq);
            rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        }
    }
}

mod partitions {
    use super::super::*;
    use crate::capi::conf::{rd_kafka_conf_new, rd_kafka_conf_set};
    use crate::capi::handle::{rd_kafka_destroy_flags, rd_kafka_new};
    use crate::capi::types::*;

    #[test]
    fn an_unsplit_partition_queue_gives_nothing_until_its_timeout() {
        // SAFETY: a configuration and handle of ours, destroyed once; strings are NUL-terminated.
        unsafe {
            let conf = rd_kafka_conf_new();
            let mut errstr = [0 as std::os::raw::c_char; 128];
            let r = rd_kafka_conf_set(
                conf,
                c"bootstrap.servers".as_ptr(),
                c"127.0.0.1:1".as_ptr(),
                errstr.as_mut_ptr(),
                128,
            );
            assert_eq!(r, RD_KAFKA_CONF_OK);
            // No group: the partition queue leads nowhere and is not split.
            let rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr.as_mut_ptr(), 128);
            assert!(!rk.is_null());
            assert!(rd_kafka_queue_get_partition(rk, std::ptr::null(), 0).is_null());
            let pq = rd_kafka_queue_get_partition(rk, c"t".as_ptr(), 0);
            assert!(!pq.is_null());
            let start = Instant::now();
            assert!(rd_kafka_queue_poll(pq, 200).is_null());
            assert!(start.elapsed() >= Duration::from_millis(200));
            assert_eq!(rd_kafka_queue_length(pq), 0);
            rd_kafka_queue_destroy(pq);
            rd_kafka_destroy_flags(rk, RD_KAFKA_DESTROY_F_NO_CONSUMER_CLOSE);
        }
    }
}
