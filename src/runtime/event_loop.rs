//! The engine thread: a mio loop that performs the engine's socket actions, forwards commands and
//! deliveries, and sleeps until the engine's next deadline. It makes no decisions of its own.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use crossbeam_channel::{Receiver, Sender, TryRecvError};
use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token, Waker};

use crate::engine::connection::{ConnId, IoAction};
use crate::protocol::frame::split_frame;

const WAKER: Token = Token(0);
/// Bytes reserved in a socket's read buffer when it runs low.
const READ_CHUNK: usize = 64 * 1024;
/// Bounds of the adaptive read window (`Socket::window`).
const MIN_READ_WINDOW: usize = 4 * 1024;
const MAX_READ_WINDOW: usize = 1024 * 1024;

/// A sans-IO engine the loop can drive: the consumer's `Engine` or the producer's.
pub(crate) trait Core: Send + 'static {
    /// What the application sends in.
    type Command: Send + 'static;
    /// What the engine hands out.
    type Output: Send + 'static;
    fn handle_command(&mut self, cmd: Self::Command, now: Instant);
    fn handle_connected(&mut self, conn: ConnId, now: Instant);
    fn handle_frame(&mut self, conn: ConnId, frame: Bytes, now: Instant);
    fn handle_closed(&mut self, conn: ConnId, reason: &str, now: Instant);
    fn handle_timeout(&mut self, now: Instant);
    fn poll_io(&mut self) -> Option<IoAction>;
    fn poll_output(&mut self) -> Option<Self::Output>;
    /// Called after outputs were handed to the application (to wake a waiting reader).
    fn outputs_sent(&self) {}
    fn next_deadline(&self) -> Option<Instant>;
    /// How long new messages may wait in the command queue unseen (the producer's `linger.ms`
    /// while batches linger): a sleep no longer than this needs no wake-up per message.
    fn lazy_window(&self) -> Option<Duration> {
        None
    }
    fn is_closed(&self) -> bool;
    fn max_frame(&self) -> usize;
}

struct Socket {
    stream: TcpStream,
    connected: bool,
    rbuf: BytesMut,
    /// Bytes the next read asks for: doubled when a read fills it, halved when reads come back
    /// much smaller.
    window: usize,
    wqueue: VecDeque<Bytes>,
}

/// The engine thread is running (commands are seen before it sleeps again).
const AWAKE: u8 = 0;
/// Sleeping until its next deadline: any command wakes it.
const ASLEEP: u8 = 1;
/// Sleeping no longer than its lazy window: only urgent commands, or enough unseen messages to
/// fill a batch, wake it (librdkafka likewise wakes its broker thread only when a batch fills).
const LINGERING: u8 = 2;
/// Unseen messages count in the high bits of `Sleep::unseen`, their bytes in the low ones.
const UNSEEN_MSG: u64 = 1 << 40;

/// What the engine thread tells senders about its sleep, so that a busy producer pays no
/// wake-up syscall per message.
pub(crate) struct Sleep {
    state: AtomicU8,
    /// Messages (x `UNSEEN_MSG`) plus bytes sent lazily since the engine went to sleep.
    unseen: AtomicU64,
    /// A lazy send wakes a lingering engine past this many unseen messages or bytes.
    max_msgs: AtomicU64,
    max_bytes: AtomicU64,
}

/// The application's end of a running engine thread.
pub(crate) struct EngineThread<C> {
    pub commands: Sender<C>,
    pub waker: Arc<Waker>,
    pub sleep: Arc<Sleep>,
    pub thread: Option<JoinHandle<()>>,
}

impl<C> EngineThread<C> {
    /// Sends a command and wakes the engine if it sleeps; false when the engine has stopped.
    pub fn send(&self, cmd: C) -> bool {
        if self.commands.send(cmd).is_err() {
            return false;
        }
        if self.sleep.state.load(Ordering::SeqCst) != AWAKE
            && self.sleep.state.swap(AWAKE, Ordering::SeqCst) != AWAKE
        {
            let _ = self.waker.wake();
        }
        true
    }

    /// Sends a message of `bytes` that may wait for a lingering engine's own wake-up (at most
    /// its lazy window); wakes it when the unseen messages would fill a batch.
    pub fn send_lazy(&self, cmd: C, bytes: usize) -> bool {
        if self.commands.send(cmd).is_err() {
            return false;
        }
        match self.sleep.state.load(Ordering::SeqCst) {
            AWAKE => {}
            LINGERING => {
                let add = UNSEEN_MSG + bytes as u64;
                let n = self.sleep.unseen.fetch_add(add, Ordering::Relaxed) + add;
                if (n / UNSEEN_MSG >= self.sleep.max_msgs.load(Ordering::Relaxed)
                    || n % UNSEEN_MSG >= self.sleep.max_bytes.load(Ordering::Relaxed))
                    && self.sleep.state.swap(AWAKE, Ordering::SeqCst) != AWAKE
                {
                    let _ = self.waker.wake();
                }
            }
            _ => {
                if self.sleep.state.swap(AWAKE, Ordering::SeqCst) != AWAKE {
                    let _ = self.waker.wake();
                }
            }
        }
        true
    }

    /// Sets how many unseen messages or bytes wake a lingering engine (a batch's worth).
    pub fn set_lazy_limits(&self, msgs: usize, bytes: usize) {
        self.sleep
            .max_msgs
            .store(msgs.max(1) as u64, Ordering::Relaxed);
        let bytes = (bytes as u64).clamp(1, UNSEEN_MSG - 1);
        self.sleep.max_bytes.store(bytes, Ordering::Relaxed);
    }
}

/// Starts the engine thread. Outputs go to `outputs`.
pub(crate) fn spawn<E: Core>(
    engine: E,
    outputs: Sender<E::Output>,
    name: String,
) -> io::Result<EngineThread<E::Command>> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    let sleep = Arc::new(Sleep {
        state: AtomicU8::new(AWAKE),
        unseen: AtomicU64::new(0),
        max_msgs: AtomicU64::new(1),
        max_bytes: AtomicU64::new(1),
    });
    let (tx, rx) = crossbeam_channel::unbounded();
    let flag = sleep.clone();
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || run(poll, engine, rx, outputs, flag))?;
    Ok(EngineThread {
        commands: tx,
        waker,
        sleep,
        thread: Some(thread),
    })
}

fn run<E: Core>(
    mut poll: Poll,
    mut engine: E,
    commands: Receiver<E::Command>,
    outputs: Sender<E::Output>,
    sleep: Arc<Sleep>,
) {
    let mut events = Events::with_capacity(256);
    let mut sockets: HashMap<ConnId, Socket> = HashMap::new();
    engine.handle_timeout(Instant::now());
    loop {
        perform_io(&mut poll, &mut engine, &mut sockets);
        let mut sent = false;
        while let Some(d) = engine.poll_output() {
            if outputs.send(d).is_err() {
                return;
            }
            sent = true;
        }
        if sent {
            engine.outputs_sent();
        }
        if engine.is_closed() {
            return;
        }
        // Announce the sleep before the last look at the queue: a command sent after that look
        // sees the state and wakes us (lazy sends only when a batch's worth is unseen).
        let until = engine
            .next_deadline()
            .map(|d| d.saturating_duration_since(Instant::now()));
        let lazy = engine
            .lazy_window()
            .is_some_and(|w| until.is_some_and(|u| u <= w));
        let timeout = until.map(|u| u + Duration::from_micros(200));
        sleep.unseen.store(0, Ordering::Relaxed);
        sleep
            .state
            .store(if lazy { LINGERING } else { ASLEEP }, Ordering::SeqCst);
        let timeout = if commands.is_empty() {
            timeout
        } else {
            Some(Duration::ZERO)
        };
        let polled = poll.poll(&mut events, timeout);
        sleep.state.store(AWAKE, Ordering::SeqCst);
        if let Err(e) = polled {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        let now = Instant::now();
        loop {
            match commands.try_recv() {
                Ok(cmd) => engine.handle_command(cmd, now),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        for ev in events.iter() {
            match ev.token() {
                WAKER => {}
                Token(n) => {
                    let id = ConnId(n);
                    if ev.is_writable() || ev.is_error() || ev.is_read_closed() {
                        check_connected(&mut engine, &mut sockets, id, now);
                    }
                    if ev.is_readable() || ev.is_read_closed() {
                        read_socket(&mut engine, &mut sockets, id, now);
                    }
                    if ev.is_writable() {
                        if let Some(s) = sockets.get_mut(&id) {
                            if let Err(e) = flush(s) {
                                close(
                                    &mut poll,
                                    &mut engine,
                                    &mut sockets,
                                    id,
                                    &e.to_string(),
                                    now,
                                );
                            }
                        }
                    }
                }
            }
        }
        engine.handle_timeout(now);
    }
}

fn check_connected<E: Core>(
    engine: &mut E,
    sockets: &mut HashMap<ConnId, Socket>,
    id: ConnId,
    now: Instant,
) {
    let Some(s) = sockets.get_mut(&id) else {
        return;
    };
    if s.connected {
        return;
    }
    match s.stream.take_error() {
        Ok(None) => {}
        Ok(Some(e)) | Err(e) => {
            sockets.remove(&id);
            engine.handle_closed(id, &format!("Connect failed: {e}"), now);
            return;
        }
    }
    match s.stream.peer_addr() {
        Ok(_) => {
            s.connected = true;
            let _ = s.stream.set_nodelay(true);
            engine.handle_connected(id, now);
        }
        Err(e) if e.kind() == io::ErrorKind::NotConnected => {}
        Err(e) => {
            sockets.remove(&id);
            engine.handle_closed(id, &format!("Connect failed: {e}"), now);
        }
    }
}

fn read_socket<E: Core>(
    engine: &mut E,
    sockets: &mut HashMap<ConnId, Socket>,
    id: ConnId,
    now: Instant,
) {
    let max = engine.max_frame();
    loop {
        let Some(s) = sockets.get_mut(&id) else {
            return;
        };
        if !s.connected {
            return;
        }
        if s.rbuf.capacity() - s.rbuf.len() < 4096 {
            s.rbuf.reserve(READ_CHUNK);
        }
        let spare = s.rbuf.capacity() - s.rbuf.len();
        let len = s.rbuf.len();
        // The read window is zero-filled first; sizing it to what reads return keeps a small
        // response (and the final WouldBlock read) from clearing 64 KiB each time.
        let want = s.window.min(spare);
        s.rbuf.resize(len + want, 0);
        let r = s.stream.read(&mut s.rbuf[len..]);
        if let Ok(n) = r {
            s.window = if n == want {
                (want * 2).min(MAX_READ_WINDOW)
            } else if n < want / 4 {
                (s.window / 2).max(MIN_READ_WINDOW)
            } else {
                s.window
            };
        }
        match r {
            Ok(0) => {
                s.rbuf.truncate(len);
                sockets.remove(&id);
                engine.handle_closed(id, "Disconnected", now);
                return;
            }
            Ok(n) => {
                s.rbuf.truncate(len + n);
                loop {
                    let Some(s) = sockets.get_mut(&id) else {
                        return;
                    };
                    match split_frame(&mut s.rbuf, max) {
                        Ok(Some(frame)) => engine.handle_frame(id, frame, now),
                        Ok(None) => break,
                        Err(e) => {
                            sockets.remove(&id);
                            engine.handle_closed(id, &format!("Invalid response: {e}"), now);
                            return;
                        }
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                s.rbuf.truncate(len);
                return;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => s.rbuf.truncate(len),
            Err(e) => {
                sockets.remove(&id);
                engine.handle_closed(id, &format!("Receive failed: {e}"), now);
                return;
            }
        }
    }
}

fn flush(s: &mut Socket) -> io::Result<()> {
    while let Some(front) = s.wqueue.front_mut() {
        match s.stream.write(front) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "socket closed")),
            Ok(n) if n == front.len() => {
                s.wqueue.pop_front();
            }
            Ok(n) => {
                let _ = front.split_to(n);
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn close<E: Core>(
    poll: &mut Poll,
    engine: &mut E,
    sockets: &mut HashMap<ConnId, Socket>,
    id: ConnId,
    why: &str,
    now: Instant,
) {
    if let Some(mut s) = sockets.remove(&id) {
        let _ = poll.registry().deregister(&mut s.stream);
    }
    engine.handle_closed(id, why, now);
}

/// Carries out the engine's socket actions until it has none.
fn perform_io<E: Core>(poll: &mut Poll, engine: &mut E, sockets: &mut HashMap<ConnId, Socket>) {
    while let Some(action) = engine.poll_io() {
        let now = Instant::now();
        match action {
            IoAction::Connect(id, addr) => match connect(poll, id, &addr) {
                Ok(s) => {
                    sockets.insert(id, s);
                }
                Err(e) => {
                    engine.handle_closed(id, &format!("Failed to connect to {addr}: {e}"), now)
                }
            },
            IoAction::Send(id, bytes) => {
                let Some(s) = sockets.get_mut(&id) else {
                    continue;
                };
                s.wqueue.push_back(bytes);
                if s.connected {
                    if let Err(e) = flush(s) {
                        close(poll, engine, sockets, id, &format!("Send failed: {e}"), now);
                    }
                }
            }
            IoAction::Close(id) => {
                if let Some(mut s) = sockets.remove(&id) {
                    let _ = poll.registry().deregister(&mut s.stream);
                }
            }
        }
    }
}

fn connect(poll: &mut Poll, id: ConnId, addr: &str) -> io::Result<Socket> {
    let sa = addr.to_socket_addrs()?.next().ok_or_else(|| {
        io::Error::new(io::ErrorKind::NotFound, format!("could not resolve {addr}"))
    })?;
    let mut stream = TcpStream::connect(sa)?;
    poll.registry().register(
        &mut stream,
        Token(id.0),
        Interest::READABLE | Interest::WRITABLE,
    )?;
    Ok(Socket {
        stream,
        connected: false,
        rbuf: BytesMut::with_capacity(READ_CHUNK),
        window: MIN_READ_WINDOW,
        wqueue: VecDeque::new(),
    })
}
