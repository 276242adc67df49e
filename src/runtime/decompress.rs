//! The decompression pool: a few named worker threads that decompress record batches off the
//! engine thread.
//!
//! ```text
//! engine thread --submit(codec, payload)--> [jobs channel] --> rskafka-decomp-0..N
//!      ^                                                          | decompress (catch_unwind)
//!      +---- Pending::try_get / wait <-- one-shot channel --------+  then notify()
//! ```
//! Order is the caller's business: each job has its own `Pending`, so the engine keeps them in a
//! per-partition queue and delivers in submission order whatever order they complete in.

// The runtime wires the pool in separately; until then only the tests below use it.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread::JoinHandle;

use bytes::Bytes;
use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::protocol::compression::{self, Compression};
use crate::protocol::records::RecordError;

/// The decompression function the workers run; replaceable in tests.
type DecodeFn = fn(Compression, &[u8], usize) -> Result<Vec<u8>, RecordError>;
/// Called by a worker after each answered job, e.g. to wake the engine's `mio::Poll`.
pub(crate) type Notify = Arc<dyn Fn() + Send + Sync>;

type JobResult = Result<Bytes, RecordError>;

struct Job {
    codec: Compression,
    payload: Bytes,
    max_size: usize,
    reply: Sender<JobResult>,
}

/// A fixed set of decompression threads fed by one channel. Dropping it lets the workers finish
/// the jobs already queued, then joins them.
pub(crate) struct DecompressPool {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    decode: DecodeFn,
}

/// The answer to one submitted job, to be waited for or polled once.
pub(crate) struct Pending {
    state: PendingState,
}

#[cfg_attr(not(test), allow(dead_code))]
enum PendingState {
    Waiting(Receiver<JobResult>),
    Ready(JobResult),
    Taken,
}

const POOL_GONE: RecordError = RecordError::Pool("decompression pool shut down");
const WORKER_PANICKED: RecordError = RecordError::Pool("decompression worker panicked");

/// Decompresses one payload; uncompressed payloads come back as the same shared slice.
fn run(decode: DecodeFn, codec: Compression, payload: Bytes, max_size: usize) -> JobResult {
    if codec == Compression::None {
        if payload.len() > max_size {
            return Err(RecordError::TooLarge);
        }
        return Ok(payload);
    }
    match catch_unwind(AssertUnwindSafe(|| decode(codec, &payload, max_size))) {
        Ok(result) => result.map(Bytes::from),
        Err(_) => Err(WORKER_PANICKED),
    }
}

impl DecompressPool {
    /// Starts `threads` workers named `rskafka-decomp-N`. With 0 threads, `submit` decompresses
    /// in the caller's thread.
    pub(crate) fn new(threads: usize) -> std::io::Result<Self> {
        Self::spawn(threads, compression::decompress, None)
    }

    /// Like [`DecompressPool::new`], calling `notify` after each answered job (for a driver that
    /// polls results instead of blocking; the consumer blocks in `Pending::wait`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn with_notify(threads: usize, notify: Notify) -> std::io::Result<Self> {
        Self::spawn(threads, compression::decompress, Some(notify))
    }

    fn spawn(threads: usize, decode: DecodeFn, notify: Option<Notify>) -> std::io::Result<Self> {
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let mut pool = DecompressPool {
            jobs: Some(tx),
            workers: Vec::with_capacity(threads),
            decode,
        };
        for n in 0..threads {
            let rx = rx.clone();
            let notify = notify.clone();
            let handle = std::thread::Builder::new()
                .name(format!("rskafka-decomp-{n}"))
                .spawn(move || {
                    // Ends when the pool drops its sender and the queue is drained.
                    for job in rx {
                        let result = run(decode, job.codec, job.payload, job.max_size);
                        // The waiter may have given up; that is not our problem.
                        let _ = job.reply.send(result);
                        if let Some(notify) = &notify {
                            notify();
                        }
                    }
                })?;
            // On a spawn error, `pool` drops here and joins the workers already started.
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Number of worker threads.
    pub(crate) fn threads(&self) -> usize {
        self.workers.len()
    }

    /// Queues `payload` (a batch's compressed records section) for decompression, bounded by
    /// `max_size`. Uncompressed payloads and pools without threads answer at once.
    pub(crate) fn submit(&self, codec: Compression, payload: Bytes, max_size: usize) -> Pending {
        let jobs = match &self.jobs {
            Some(jobs) if codec != Compression::None && !self.workers.is_empty() => jobs,
            _ => return Pending::ready(run(self.decode, codec, payload, max_size)),
        };
        let (reply, rx) = crossbeam_channel::bounded(1);
        match jobs.send(Job {
            codec,
            payload,
            max_size,
            reply,
        }) {
            Ok(()) => Pending {
                state: PendingState::Waiting(rx),
            },
            Err(_) => Pending::ready(Err(POOL_GONE)),
        }
    }
}

impl Drop for DecompressPool {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            // Workers catch decoder panics, so a join error would be a bug in the loop itself;
            // there is nothing better to do with it while dropping.
            let _ = worker.join();
        }
    }
}

impl Pending {
    fn ready(result: JobResult) -> Self {
        Pending {
            state: PendingState::Ready(result),
        }
    }

    /// Blocks until the job is answered.
    pub(crate) fn wait(self) -> Result<Bytes, RecordError> {
        match self.state {
            PendingState::Waiting(rx) => rx.recv().unwrap_or(Err(POOL_GONE)),
            PendingState::Ready(result) => result,
            PendingState::Taken => Err(RecordError::Pool("result already taken")),
        }
    }

    /// The result if the job is done (once: afterwards `None` again), `None` while it runs.
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) fn try_get(&mut self) -> Option<Result<Bytes, RecordError>> {
        let result = match std::mem::replace(&mut self.state, PendingState::Taken) {
            PendingState::Waiting(rx) => match rx.try_recv() {
                Ok(result) => result,
                Err(TryRecvError::Disconnected) => Err(POOL_GONE),
                Err(TryRecvError::Empty) => {
                    self.state = PendingState::Waiting(rx);
                    return None;
                }
            },
            PendingState::Ready(result) => result,
            PendingState::Taken => return None,
        };
        Some(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::{Duration, Instant};

    fn compressed(codec: Compression, data: &[u8]) -> Bytes {
        let mut out = Vec::new();
        compression::compress(codec, data, None, &mut out).unwrap();
        Bytes::from(out)
    }

    #[test]
    fn decompresses_in_submission_handles() {
        let pool = DecompressPool::new(3).unwrap();
        assert_eq!(pool.threads(), 3);
        let inputs: Vec<Vec<u8>> = (0..40u8)
            .map(|i| vec![i; 1000 + usize::from(i) * 100])
            .collect();
        let codecs = [
            Compression::Gzip,
            Compression::Snappy,
            Compression::Lz4,
            Compression::Zstd,
        ];
        let pending: Vec<Pending> = inputs
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let c = codecs[i % 4];
                pool.submit(c, compressed(c, d), 1 << 20)
            })
            .collect();
        for (p, d) in pending.into_iter().zip(&inputs) {
            assert_eq!(&p.wait().unwrap()[..], &d[..]);
        }
    }

    #[test]
    fn uncompressed_payload_is_returned_without_copy() {
        let pool = DecompressPool::new(1).unwrap();
        let payload = Bytes::from(vec![7u8; 100]);
        let mut p = pool.submit(Compression::None, payload.clone(), 100);
        let out = p.try_get().unwrap().unwrap();
        assert_eq!(out.as_ptr(), payload.as_ptr());
        assert!(p.try_get().is_none());
        assert!(matches!(
            pool.submit(Compression::None, payload, 99).wait(),
            Err(RecordError::TooLarge)
        ));
    }

    #[test]
    fn errors_and_size_limits_reach_the_waiter() {
        let pool = DecompressPool::new(2).unwrap();
        let p = pool.submit(
            Compression::Lz4,
            Bytes::from_static(b"not lz4 at all"),
            1 << 20,
        );
        assert!(matches!(p.wait(), Err(RecordError::BadCompression(_))));
        let big = compressed(Compression::Zstd, &[0u8; 10_000]);
        assert!(matches!(
            pool.submit(Compression::Zstd, big, 9_999).wait(),
            Err(RecordError::TooLarge)
        ));
    }

    #[test]
    fn try_get_polls_until_done_and_notify_fires() {
        let count = Arc::new(AtomicUsize::new(0));
        let c = count.clone();
        let pool = DecompressPool::with_notify(
            1,
            Arc::new(move || {
                c.fetch_add(1, Ordering::SeqCst);
            }),
        )
        .unwrap();
        let mut p = pool.submit(Compression::Gzip, compressed(Compression::Gzip, b"abc"), 10);
        let deadline = Instant::now() + Duration::from_secs(10);
        let result = loop {
            if let Some(r) = p.try_get() {
                break r;
            }
            assert!(Instant::now() < deadline);
            std::thread::sleep(Duration::from_millis(1));
        };
        assert_eq!(&result.unwrap()[..], b"abc");
        drop(pool);
        assert_eq!(count.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn zero_threads_decompress_inline() {
        let pool = DecompressPool::new(0).unwrap();
        let p = pool.submit(
            Compression::Snappy,
            compressed(Compression::Snappy, b"xyz"),
            10,
        );
        assert_eq!(&p.wait().unwrap()[..], b"xyz");
    }

    #[test]
    fn a_panicking_decoder_does_not_hang_the_waiter() {
        fn boom(_: Compression, _: &[u8], _: usize) -> Result<Vec<u8>, RecordError> {
            panic!("decoder bug");
        }
        let pool = DecompressPool::spawn(1, boom, None).unwrap();
        let p = pool.submit(Compression::Lz4, Bytes::from_static(b"x"), 10);
        assert_eq!(p.wait(), Err(WORKER_PANICKED));
        // The worker survives the panic and serves the next job.
        let p = pool.submit(Compression::Lz4, Bytes::from_static(b"x"), 10);
        assert_eq!(p.wait(), Err(WORKER_PANICKED));
        assert_eq!(pool.threads(), 1);
    }

    #[test]
    fn drop_finishes_queued_jobs_and_joins() {
        let pool = DecompressPool::new(1).unwrap();
        let pending: Vec<Pending> = (0..20)
            .map(|_| {
                pool.submit(
                    Compression::Zstd,
                    compressed(Compression::Zstd, &[1; 50_000]),
                    1 << 20,
                )
            })
            .collect();
        drop(pool);
        for p in pending {
            assert_eq!(p.wait().unwrap().len(), 50_000);
        }
    }
}
