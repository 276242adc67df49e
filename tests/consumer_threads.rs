//! `thread_count()` is exactly the number of threads a consumer starts (engine + decompression
//! pool), counted in /proc/self/task. A test binary of its own with a single test, so that no
//! other test's threads come or go meanwhile.

use std::time::{Duration, Instant};

use kafka::{ClientConfig, Consumer};

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

#[test]
fn thread_count_matches_the_threads_started() {
    let before = threads();
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", "127.0.0.1:1").unwrap();
    let consumer = Consumer::new(&c).unwrap();
    let n = consumer.thread_count();
    assert!(n >= 1);
    // Threads may still be starting: wait until the count settles.
    let deadline = Instant::now() + Duration::from_secs(5);
    while threads() < before + n && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(threads() - before, n, "new threads vs thread_count()");
    eprintln!("thread_count() = {n} (engine + {} decompression)", n - 1);
    consumer.close().unwrap();
    drop(consumer);
    let deadline = Instant::now() + Duration::from_secs(5);
    while threads() > before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(threads(), before, "all threads gone after close");
}
