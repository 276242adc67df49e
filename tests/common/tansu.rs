//! The `tansu` broker (0.6.0, in-memory storage) in a child process on 127.0.0.1.
//!
//! Known behaviour: no transactions; with memory storage ListOffsets "latest" is wrong;
//! each Fetch waits about half of `fetch.wait.max.ms`; no topic auto-creation.

use std::fs::File;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The `tansu` binary: on `PATH`, else `~/.cargo/bin/tansu`; `None` if not installed
/// (`scripts/install-deps.sh` installs it).
pub fn tansu_path() -> Option<&'static Path> {
    static PATH: OnceLock<Option<PathBuf>> = OnceLock::new();
    PATH.get_or_init(|| {
        let mut candidates: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).map(|d| d.join("tansu")).collect())
            .unwrap_or_default();
        if let Some(home) = std::env::var_os("HOME") {
            candidates.push(Path::new(&home).join(".cargo/bin/tansu"));
        }
        candidates.into_iter().find(|p| p.is_file())
    })
    .as_deref()
}

/// A running tansu broker. Killed in `Drop`.
pub struct Tansu {
    child: Child,
    bootstrap: String,
    log: PathBuf,
}

impl Tansu {
    /// Whether tansu is installed; tests that need it can skip when it is not.
    pub fn available() -> bool {
        tansu_path().is_some()
    }

    /// Starts tansu on a free 127.0.0.1 port with memory storage and waits until the port
    /// accepts connections. Panics if tansu is missing or does not come up within 30 s.
    pub fn start() -> Tansu {
        let bin = tansu_path().expect("tansu is not installed (run scripts/install-deps.sh)");
        // Ask the kernel for a free port, then hand it to tansu; retry if another process
        // grabbed it in between.
        for _attempt in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("finding a free port")
                .port();
            let url = format!("tcp://127.0.0.1:{port}");
            let log = std::env::temp_dir().join(format!("tansu-{}-{port}.log", std::process::id()));
            let log_file = File::create(&log).expect("creating the tansu log file");
            let child = Command::new(bin)
                .arg("broker")
                .args(["--listener-url", &url])
                .args(["--advertised-listener-url", &url])
                .args(["--storage-engine", "memory://tansu/"])
                .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
                .env_remove("SCHEMA_REGISTRY")
                .env("RUST_LOG", "warn")
                .stdin(Stdio::null())
                .stdout(log_file.try_clone().expect("cloning the log file"))
                .stderr(log_file)
                .spawn()
                .expect("spawning tansu broker");
            let mut tansu = Tansu {
                child,
                bootstrap: format!("127.0.0.1:{port}"),
                log,
            };
            if tansu.wait_ready(Duration::from_secs(30)) {
                return tansu;
            }
            eprintln!(
                "tansu did not come up on port {port}:\n{}",
                tansu.log_text()
            );
        }
        panic!("tansu did not start");
    }

    /// Polls the port until it accepts a connection; false if tansu exited or time ran out.
    fn wait_ready(&mut self, timeout: Duration) -> bool {
        let addr: SocketAddr = self.bootstrap.parse().unwrap();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// `127.0.0.1:port` for `bootstrap.servers`.
    pub fn bootstrap(&self) -> &str {
        &self.bootstrap
    }

    /// What tansu wrote to stdout/stderr so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Creates a topic (tansu does not auto-create) with `tansu topic create`.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<(), String> {
        let bin = tansu_path().expect("tansu is not installed");
        let out = Command::new(bin)
            .args(["topic", "create", name])
            .args(["--partitions", &partitions.to_string()])
            .args(["--broker", &format!("tcp://{}", self.bootstrap)])
            .output()
            .map_err(|e| format!("running tansu topic create: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "tansu topic create {name} failed ({}): {}{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}
