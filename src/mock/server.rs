//! The mock cluster's thread: a mio loop with one listener per broker, non-blocking client
//! connections, and the commands of the owning `MockCluster`; all logic is in [`Cluster`].

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use crossbeam_channel::Receiver;
use mio::net::{TcpListener, TcpStream};
use mio::{Events, Interest, Poll, Token};

use super::cluster::{Cluster, ConnId, Output};
use super::codec::frame_len;

/// The waker's token; listeners are 1..=N, connections above `FIRST_CONN`.
pub const WAKER: Token = Token(0);
const FIRST_CONN: usize = 1 << 20;
/// Requests larger than this close the connection (Kafka's `socket.request.max.bytes`).
const MAX_REQUEST: usize = 100 << 20;

/// What the owner asks of the cluster thread.
pub enum Command {
    /// Runs on the cluster's state (the closure sends its own reply).
    Run(Box<dyn FnOnce(&mut Cluster) + Send>),
    /// Stop serving and close every socket.
    Shutdown,
}

struct Client {
    stream: TcpStream,
    input: BytesMut,
    output: Vec<Bytes>,
    written: usize,
}

/// The listeners, connections and state of one running cluster.
pub struct Server {
    poll: Poll,
    listeners: Vec<(i32, TcpListener)>,
    clients: HashMap<ConnId, Client>,
    next_conn: usize,
    cluster: Cluster,
    commands: Receiver<Command>,
}

impl Server {
    /// A server for `cluster` on already bound `listeners` (broker id, socket).
    pub fn new(
        poll: Poll,
        listeners: Vec<(i32, std::net::TcpListener)>,
        cluster: Cluster,
        commands: Receiver<Command>,
    ) -> io::Result<Self> {
        let mut registered = Vec::new();
        for (i, (id, l)) in listeners.into_iter().enumerate() {
            l.set_nonblocking(true)?;
            let mut l = TcpListener::from_std(l);
            poll.registry()
                .register(&mut l, Token(i + 1), Interest::READABLE)?;
            registered.push((id, l));
        }
        Ok(Server {
            poll,
            listeners: registered,
            clients: HashMap::new(),
            next_conn: FIRST_CONN,
            cluster,
            commands,
        })
    }

    /// Serves until `Shutdown` (or the owner is gone).
    pub fn run(mut self) {
        let mut events = Events::with_capacity(256);
        loop {
            let now = Instant::now();
            let timeout = self
                .cluster
                .next_deadline()
                .map(|d| d.saturating_duration_since(now) + Duration::from_millis(1));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return;
            }
            for ev in events.iter() {
                match ev.token() {
                    WAKER => {}
                    Token(t) if t <= self.listeners.len() => self.accept(t - 1),
                    Token(t) => {
                        let conn = t as ConnId;
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            // A bug met by one client's request costs that connection, not the
                            // cluster (the panic message is on stderr).
                            let read = catch_unwind(AssertUnwindSafe(|| self.read(conn)));
                            if read.is_err() {
                                self.close(conn);
                            }
                        }
                    }
                }
            }
            loop {
                match self.commands.try_recv() {
                    Ok(Command::Shutdown) | Err(crossbeam_channel::TryRecvError::Disconnected) => {
                        return
                    }
                    Ok(Command::Run(f)) => f(&mut self.cluster),
                    Err(crossbeam_channel::TryRecvError::Empty) => break,
                }
            }
            let _ = catch_unwind(AssertUnwindSafe(|| self.cluster.tick(Instant::now())));
            self.flush();
        }
    }

    fn accept(&mut self, index: usize) {
        loop {
            let (broker, listener) = &self.listeners[index];
            let broker = *broker;
            match listener.accept() {
                Ok((mut stream, _)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = self.next_conn;
                    self.next_conn += 1;
                    if self
                        .poll
                        .registry()
                        .register(
                            &mut stream,
                            Token(conn),
                            Interest::READABLE | Interest::WRITABLE,
                        )
                        .is_err()
                    {
                        continue;
                    }
                    self.clients.insert(
                        conn as ConnId,
                        Client {
                            stream,
                            input: BytesMut::with_capacity(4096),
                            output: Vec::new(),
                            written: 0,
                        },
                    );
                    self.cluster.connect(conn as ConnId, broker);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn read(&mut self, conn: ConnId) {
        let Some(c) = self.clients.get_mut(&conn) else {
            return;
        };
        let mut closed = false;
        let mut chunk = [0u8; 64 * 1024];
        loop {
            match c.stream.read(&mut chunk) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => c.input.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let now = Instant::now();
        let mut frames = Vec::new();
        while let Some(len) = frame_len(&c.input) {
            if len > MAX_REQUEST {
                closed = true;
                break;
            }
            let mut frame = c.input.split_to(4 + len);
            let _ = frame.split_to(4);
            frames.push(frame.freeze());
        }
        if c.input.len() >= 4 && i32::from_be_bytes(c.input[..4].try_into().expect("4 bytes")) < 0 {
            closed = true;
        }
        for f in frames {
            self.cluster.request(conn, f, now);
        }
        if closed {
            self.close(conn);
        }
    }

    fn close(&mut self, conn: ConnId) {
        if let Some(mut c) = self.clients.remove(&conn) {
            let _ = self.poll.registry().deregister(&mut c.stream);
        }
        self.cluster.disconnect(conn);
    }

    /// Moves the cluster's output to the sockets, writing as much as they take now.
    fn flush(&mut self) {
        for out in self.cluster.take_output() {
            match out {
                Output::Send(conn, bytes) => {
                    if let Some(c) = self.clients.get_mut(&conn) {
                        c.output.push(bytes);
                    }
                }
                Output::Close(conn) => self.close(conn),
            }
        }
        let mut broken = Vec::new();
        for (&conn, c) in &mut self.clients {
            if c.output.is_empty() {
                continue;
            }
            if let Err(()) = write_out(c) {
                broken.push(conn);
            }
        }
        for conn in broken {
            self.close(conn);
        }
    }
}

/// Writes queued frames until the socket would block. `Err` when the connection is broken.
fn write_out(c: &mut Client) -> Result<(), ()> {
    while let Some(front) = c.output.first() {
        match c.stream.write(&front[c.written..]) {
            Ok(0) => return Err(()),
            Ok(n) => {
                c.written += n;
                if c.written == front.len() {
                    c.output.remove(0);
                    c.written = 0;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(()),
        }
    }
    Ok(())
}

/// Binds one loopback listener per broker on an ephemeral port.
pub fn bind(brokers: usize) -> io::Result<Vec<(std::net::TcpListener, SocketAddr)>> {
    (0..brokers)
        .map(|_| {
            let l = std::net::TcpListener::bind("127.0.0.1:0")?;
            let addr = l.local_addr()?;
            Ok((l, addr))
        })
        .collect()
}
