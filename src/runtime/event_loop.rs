//! The engine thread: a mio loop that performs the engine's socket actions, forwards commands and
//! deliveries, and sleeps until the engine's next deadline. It makes no decisions of its own.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::net::ToSocketAddrs;
use std::sync::atomic::{AtomicBool, Ordering};
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
/// Bytes read from a socket per read call when no larger frame is pending.
const READ_CHUNK: usize = 64 * 1024;

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
    fn is_closed(&self) -> bool;
    fn max_frame(&self) -> usize;
}

struct Socket {
    stream: TcpStream,
    connected: bool,
    rbuf: BytesMut,
    wqueue: VecDeque<Bytes>,
}

/// The application's end of a running engine thread.
pub(crate) struct EngineThread<C> {
    pub commands: Sender<C>,
    pub waker: Arc<Waker>,
    /// Set by the engine thread while it sleeps in `poll`: only then does a command need a wake-up
    /// (a syscall), so a busy producer does not pay one per message.
    pub sleeping: Arc<AtomicBool>,
    pub thread: Option<JoinHandle<()>>,
}

impl<C> EngineThread<C> {
    /// Sends a command and wakes the engine if it sleeps; false when the engine has stopped.
    pub fn send(&self, cmd: C) -> bool {
        if self.commands.send(cmd).is_err() {
            return false;
        }
        if self.sleeping.swap(false, Ordering::SeqCst) {
            let _ = self.waker.wake();
        }
        true
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
    let sleeping = Arc::new(AtomicBool::new(false));
    let (tx, rx) = crossbeam_channel::unbounded();
    let flag = sleeping.clone();
    let thread = std::thread::Builder::new()
        .name(name)
        .spawn(move || run(poll, engine, rx, outputs, flag))?;
    Ok(EngineThread {
        commands: tx,
        waker,
        sleeping,
        thread: Some(thread),
    })
}

fn run<E: Core>(
    mut poll: Poll,
    mut engine: E,
    commands: Receiver<E::Command>,
    outputs: Sender<E::Output>,
    sleeping: Arc<AtomicBool>,
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
        // sees the flag and wakes us.
        sleeping.store(true, Ordering::SeqCst);
        let timeout = if commands.is_empty() {
            engine
                .next_deadline()
                .map(|d| d.saturating_duration_since(Instant::now()) + Duration::from_micros(200))
        } else {
            Some(Duration::ZERO)
        };
        let polled = poll.poll(&mut events, timeout);
        sleeping.store(false, Ordering::SeqCst);
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
        // SAFETY: the bytes past `len` are reserved capacity; `read` writes at most `spare` bytes
        // into them and we extend `len` only by the count it reports.
        s.rbuf.resize(len + spare, 0);
        let r = s.stream.read(&mut s.rbuf[len..]);
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
        wqueue: VecDeque::new(),
    })
}
