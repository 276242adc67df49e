#!/usr/bin/python3
"""Head-to-head benchmark: librskafka against librdkafka (and rskafka) on the same brokers.

    /usr/bin/python3 scripts/compare.py [--quick] [--rounds R] [--only W1,W2] [--update-docs]

Builds benches/c/perf.c once against the system rdkafka.h and runs it with three libraries as
`librdkafka.so.1` (LD_LIBRARY_PATH picks which): Debian's librdkafka 2.0.2, librdkafka 2.12.1 as
vendored by the rdkafka-sys crate (built here as a shared library, cached under target/), and
librskafka's libkafka.so. benches/rskafka-bench runs the same produce/consume workloads through
rskafka on tokio. It starts its own tansu (memory storage) and mock cluster, runs every workload
alternately on each library for R rounds, and prints per-metric medians and ratios
ours/librdkafka; results go to benches/results/latest.md plus an SVG of CPU per million
messages (with --update-docs also to docs/ and the table in docs/ARCHITECTURE.md).
Broker CPU (from /proc/PID/stat of the broker process) is reported apart from client CPU.
"""

import argparse
import glob
import os
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "scripts"))
import compare_report  # noqa: E402  (next to this file: tables, SVG, docs)

BENCH = os.path.join(ROOT, "target", "bench")
CACHE = os.path.join(ROOT, "target", "bench-cache")
RDKAFKA_VERSION = "2.12.1"
LAUNCHER = os.path.join(ROOT, "tests", "mock-launcher", "target", "release", "mock-launcher")
RSKAFKA_BIN = os.path.join(ROOT, "target", "rskafka-bench", "release", "rskafka-bench")
TICK = os.sysconf("SC_CLK_TCK")

# The libraries perf runs on: name -> directory holding librdkafka.so.1 (filled in by prepare()).
LIBS = {}
DEBIAN, UPSTREAM, OURS, RSKAFKA = "librdkafka 2.0.2", "librdkafka 2.12.1", "librskafka", "rskafka"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def run(cmd, **kw):
    log("+ " + " ".join(cmd))
    subprocess.run(cmd, check=True, **kw)


# ---------------------------------------------------------------------------------------------
# Building


def upstream_source():
    """The librdkafka source directory rdkafka-sys vendors, fetched into the registry if missing."""
    pattern = os.path.expanduser(
        "~/.cargo/registry/src/*/rdkafka-sys-*+" + RDKAFKA_VERSION + "/librdkafka")
    if not glob.glob(pattern):
        # The mock launcher depends on rdkafka-sys: fetching its crates brings the source.
        run(["cargo", "fetch", "--manifest-path",
             os.path.join(ROOT, "tests", "mock-launcher", "Cargo.toml")])
    srcs = sorted(glob.glob(pattern))
    if not srcs:
        sys.exit("compare: no librdkafka %s source in the cargo registry" % RDKAFKA_VERSION)
    return srcs[-1]


def build_upstream():
    """librdkafka 2.12.1 from rdkafka-sys's vendored source, as a shared library in the cache."""
    out = os.path.join(CACHE, "librdkafka-" + RDKAFKA_VERSION)
    lib = os.path.join(out, "librdkafka.so.1")
    if os.path.exists(lib):
        return out
    missing = [p for p, h in (("zlib1g-dev", "zlib.h"), ("libzstd-dev", "zstd.h"),
                              ("liblz4-dev", "lz4frame.h"), ("libssl-dev", "openssl/ssl.h"))
               if not os.path.exists("/usr/include/" + h)]
    if missing:
        run(["apt-get", "update", "-q"])
        run(["apt-get", "install", "-y", "-q"] + missing)
    src = out + "-src"
    shutil.rmtree(src, ignore_errors=True)
    shutil.copytree(upstream_source(), src)
    with open(os.path.join(CACHE, "build-librdkafka.log"), "w") as f:
        run(["./configure", "--disable-gssapi", "--disable-curl"], cwd=src, stdout=f, stderr=f)
        run(["make", "-C", "src", "-j%d" % os.cpu_count(), "librdkafka.so.1"], cwd=src,
            stdout=f, stderr=f)
    os.makedirs(out, exist_ok=True)
    shutil.copy(os.path.join(src, "src", "librdkafka.so.1"), lib)
    shutil.rmtree(src, ignore_errors=True)
    return out


def link_dir(name, target):
    d = os.path.join(BENCH, "lib-" + name)
    os.makedirs(d, exist_ok=True)
    link = os.path.join(d, "librdkafka.so.1")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(target, link)
    return d


def prepare(args):
    os.makedirs(BENCH, exist_ok=True)
    perf = os.path.join(BENCH, "perf")
    if not args.no_build:
        # Debian's librdkafka-dev (the system rdkafka.h), tansu and the mock launcher.
        run(["bash", os.path.join(ROOT, "scripts", "install-deps.sh")])
        run(["cargo", "build", "--release", "--features", "capi", "--lib"], cwd=ROOT)
        run(["cargo", "build", "--release", "--manifest-path",
             os.path.join(ROOT, "benches", "rskafka-bench", "Cargo.toml"), "--target-dir",
             os.path.join(ROOT, "target", "rskafka-bench")], cwd=ROOT)
    run(["cc", "-O2", "-o", perf, os.path.join(ROOT, "benches", "c", "perf.c"), "-lrdkafka",
         "-lpthread"])
    LIBS[DEBIAN] = link_dir("debian", "/usr/lib/x86_64-linux-gnu/librdkafka.so.1")
    LIBS[UPSTREAM] = build_upstream()
    LIBS[OURS] = link_dir("ours", os.path.join(ROOT, "target", "release", "libkafka.so"))
    return perf


# ---------------------------------------------------------------------------------------------
# Brokers


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def proc_cpu_s(pid):
    """User + system CPU seconds of a process and its threads, from /proc/PID/stat."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class Tansu:
    def __init__(self, work):
        self.port = free_port()
        self.bootstrap = "127.0.0.1:%d" % self.port
        url = "tcp://" + self.bootstrap
        env = {k: v for k, v in os.environ.items()
               if k not in ("SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT")}
        env["RUST_LOG"] = "warn"
        self.bin = shutil.which("tansu") or os.path.expanduser("~/.cargo/bin/tansu")
        self.proc = subprocess.Popen(
            [self.bin, "broker", "--listener-url", url, "--advertised-listener-url", url,
             "--storage-engine", "memory://tansu/"],
            stdout=open(os.path.join(work, "tansu.log"), "w"), stderr=subprocess.STDOUT, env=env)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        sys.exit("compare: tansu did not start")

    def create_topic(self, name, partitions):
        subprocess.run([self.bin, "topic", "create", name, "--partitions", str(partitions),
                        "--broker", "tcp://" + self.bootstrap], check=True,
                       stdout=subprocess.DEVNULL)

    def cpu_s(self):
        return proc_cpu_s(self.proc.pid)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Mock:
    def __init__(self, work):
        self.proc = subprocess.Popen(
            [LAUNCHER, "cluster", "--brokers", "3", "--initial-rebalance-delay-ms", "0"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=open(os.path.join(work, "mock.log"), "w"), text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("BROKERS="):
            sys.exit("compare: mock cluster did not start: " + line)
        self.bootstrap = line.split("=", 1)[1]

    def create_topic(self, name, partitions):
        self.proc.stdin.write("create_topic %s %d 1\n" % (name, partitions))
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline().strip()
        if answer != "ok":
            sys.exit("compare: mock create_topic %s: %s" % (name, answer))

    def cpu_s(self):
        return proc_cpu_s(self.proc.pid)

    def stop(self):
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            self.proc.wait(10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()


# ---------------------------------------------------------------------------------------------
# Workloads

LINE = re.compile(r'(\w+)=("[^"]*"|\S+)')


def parse(line):
    return {k: v.strip('"') if v.startswith('"') else float(v) if re.fullmatch(
        r"-?[0-9.]+", v) else v for k, v in LINE.findall(line)}


class Bench:
    """Runs one client program against one broker, records its key=value line plus broker CPU."""

    def __init__(self, perf, sizes, rounds):
        self.perf, self.sizes, self.rounds = perf, sizes, rounds
        self.results = {}  # (workload, lib) -> [dict]
        self.raw = []
        self.seq = 0

    def unique(self, prefix):
        self.seq += 1
        return "%s-%d-%d" % (prefix, os.getpid(), self.seq)

    def run(self, workload, lib, broker, argv, timeout, record=True):
        if lib == RSKAFKA:
            cmd, env = [RSKAFKA_BIN] + argv, dict(os.environ)
        else:
            cmd = [self.perf] + argv
            env = dict(os.environ, LD_LIBRARY_PATH=LIBS[lib])
        b0 = broker.cpu_s()
        try:
            p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, timeout=timeout)
            out, err, rc = p.stdout, p.stderr, p.returncode
        except subprocess.TimeoutExpired as e:
            out, err, rc = e.stdout or "", e.stderr or "", "timeout"
            out = out.decode() if isinstance(out, bytes) else out
            err = err.decode() if isinstance(err, bytes) else err
        broker_cpu = broker.cpu_s() - b0
        line = next((x for x in out.splitlines() if x.startswith("mode=")), None)
        tag = "%s | %s |" % (workload, lib)
        if rc != 0 or line is None:
            msg = "%s FAILED rc=%s: %s" % (tag, rc, (err.strip().splitlines() or ["?"])[-1])
            log(msg)
            self.raw.append(msg)
            return None
        line += " broker_cpu_s=%.3f" % broker_cpu
        log(tag, line)
        self.raw.append(tag + " " + line)
        rec = parse(line)
        if rec.get("msgs") and isinstance(rec.get("app_thread_cpu_s"), float):
            rec["app_s_per_M"] = rec["app_thread_cpu_s"] * 1e6 / rec["msgs"]
        if record:
            self.results.setdefault((workload, lib), []).append(rec)
        return rec

    def throughput(self, broker, name, libs, codec, count):
        """Produce COUNT messages then consume them as a group member, per library."""
        fetch_wait = "fetch.wait.max.ms=%d" % self.sizes["fetch_wait_ms"]
        for lib in libs:
            topic = self.unique("t-%s-%s" % (name, codec))
            broker.create_topic(topic, self.sizes["partitions"])
            base = ["-b", broker.bootstrap, "-t", topic, "-c", str(count)]
            self.run("%s produce %s" % (name, codec), lib, broker,
                     ["produce"] + base + ["-s", "100", "-z", codec], 600)
            self.run("%s consume %s" % (name, codec), lib, broker,
                     ["consume"] + base + ["-g", self.unique("g"), "-X", fetch_wait], 600)

    def idle(self, mock, libs):
        for lib in libs:
            topic = self.unique("idle")
            mock.create_topic(topic, self.sizes["partitions"])
            self.run("mock idle", lib, mock,
                     ["idle", "-b", mock.bootstrap, "-t", topic, "-g", self.unique("g"),
                      "-d", str(self.sizes["idle_s"])], self.sizes["idle_s"] + 120)

    def assign(self, mock, topic, libs):
        for lib in libs:
            self.run("mock assign 1000", lib, mock,
                     ["assign", "-b", mock.bootstrap, "-t", topic, "-d",
                      str(self.sizes["assign_s"])], self.sizes["assign_s"] + 120)

    def latency(self, mock, libs):
        """Default settings, then the same small fetch.wait.max.ms as the throughput runs: the
        mock holds an empty fetch for the whole wait and does not answer early when records
        arrive, so with defaults it is the mock's 500 ms hold that the percentiles show."""
        n = self.sizes["latency_msgs"]
        wait = "fetch.wait.max.ms=%d" % self.sizes["fetch_wait_ms"]
        for name, extra in (("mock latency", []), ("mock latency " + wait, ["-X", wait])):
            for lib in libs:
                topic = self.unique("lat")
                mock.create_topic(topic, self.sizes["partitions"])
                self.run(name, lib, mock,
                         ["latency", "-b", mock.bootstrap, "-t", topic, "-g", self.unique("g"),
                          "-c", str(n), "-r", "1000"] + extra, n / 1000 + 180)


# ---------------------------------------------------------------------------------------------


def busy_processes():
    """Other compilers and test runs on the machine: figures taken beside them are noisy."""
    mine = {os.getpid()}
    busy = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in mine:
            continue
        try:
            with open("/proc/%s/comm" % pid) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm in ("rustc", "cargo", "cc1", "ld"):
            busy.append(comm)
    return busy


def cpu_clock():
    """(CPU seconds the whole machine spent busy, CPU seconds of this script and its children)."""
    with open("/proc/stat") as f:
        t = [int(x) for x in f.readline().split()[1:9]]
    busy = t[0] + t[1] + t[2] + t[5] + t[6] + t[7]  # user nice system irq softirq steal
    mine = sum(getattr(resource.getrusage(w), f) for w in (resource.RUSAGE_SELF,
               resource.RUSAGE_CHILDREN) for f in ("ru_utime", "ru_stime"))
    return busy / TICK, mine


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one short round: a smoke run")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", default="", help="comma-separated: tansu,mock,idle,assign,latency")
    ap.add_argument("--no-build", action="store_true", help="use the libraries already built")
    ap.add_argument("--update-docs", action="store_true",
                    help="also write docs/cpu-per-million.svg and the table in docs/ARCHITECTURE.md")
    args = ap.parse_args()
    sizes = dict(tansu_msgs=1_000_000, mock_msgs=200_000, partitions=8, fetch_wait_ms=10,
                 idle_s=30, assign_s=10, latency_msgs=10_000, rounds=args.rounds)
    if args.quick:
        sizes.update(tansu_msgs=100_000, mock_msgs=50_000, idle_s=5, assign_s=3,
                     latency_msgs=2_000, rounds=1)
    only = set(filter(None, args.only.split(","))) or {"tansu", "mock", "idle", "assign",
                                                        "latency"}
    perf = prepare(args)
    busy_before, load_before = busy_processes(), os.getloadavg()
    clock0, wall0 = cpu_clock(), time.time()
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    work = os.path.join(BENCH, "run")
    os.makedirs(work, exist_ok=True)
    tansu, mock = Tansu(work), Mock(work)
    bench = Bench(perf, sizes, sizes["rounds"])
    try:
        assign_topic = None
        if "assign" in only:
            assign_topic = bench.unique("assign")
            mock.create_topic(assign_topic, 1000)
            # Some data in every partition, so the consumer fetches rather than idles.
            bench.run("fill assign topic", UPSTREAM, mock,
                      ["produce", "-b", mock.bootstrap, "-t", assign_topic, "-c", "100000"], 300,
                      record=False)
        tansu_libs = [UPSTREAM, OURS, RSKAFKA]  # 2.0.2 misreads tansu's ApiVersions response
        mock_libs = [DEBIAN, UPSTREAM, OURS, RSKAFKA]
        for r in range(sizes["rounds"]):
            log("=== round %d of %d" % (r + 1, sizes["rounds"]))
            # Each round starts with a different library, so none always runs first.
            rot = lambda libs: libs[r % len(libs):] + libs[:r % len(libs)]  # noqa: E731
            if "tansu" in only:
                for codec in ("none", "lz4"):
                    bench.throughput(tansu, "tansu", rot(tansu_libs), codec, sizes["tansu_msgs"])
            if "mock" in only:
                bench.throughput(mock, "mock", rot(mock_libs), "none", sizes["mock_msgs"])
            if "idle" in only:
                bench.idle(mock, rot(mock_libs[:3]))
            if "assign" in only:
                bench.assign(mock, assign_topic, rot(mock_libs[:3]))
            if "latency" in only:
                bench.latency(mock, rot(mock_libs[:3]))
    finally:
        tansu.stop()
        mock.stop()
    busy_after, load_after = busy_processes(), os.getloadavg()
    clock1, wall = cpu_clock(), time.time() - wall0
    # What the rest of the machine used meanwhile, in cores: the measure of a quiet machine.
    others = ((clock1[0] - clock0[0]) - (clock1[1] - clock0[1])) / wall
    loaded = bool(busy_before or busy_after) or others > 0.1
    meta = dict(started=started, sizes=sizes, quick=args.quick, loaded=loaded, others=others,
                load=(load_before, load_after), busy=sorted(set(busy_before + busy_after)),
                versions=compare_report.versions(bench.results),
                loc=compare_report.loc(ROOT, os.path.join(upstream_source(), "src")))
    md = compare_report.markdown(bench.results, bench.raw, meta)
    print(compare_report.table(bench.results))
    out = os.path.join(ROOT, "benches", "results")
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, "latest.md"), "w") as f:
        f.write(md)
    svg = compare_report.svg(bench.results, meta)
    with open(os.path.join(out, "cpu-per-million.svg"), "w") as f:
        f.write(svg)
    log("wrote benches/results/latest.md and benches/results/cpu-per-million.svg")
    if args.update_docs:
        with open(os.path.join(ROOT, "docs", "cpu-per-million.svg"), "w") as f:
            f.write(svg)
        compare_report.update_architecture(os.path.join(ROOT, "docs", "ARCHITECTURE.md"),
                                           compare_report.table(bench.results), meta)
        log("updated docs/cpu-per-million.svg and docs/ARCHITECTURE.md")
    if loaded:
        log("NOTE: other processes were busy (%s; %.2f cores used by others): figures are noisy"
            % (", ".join(meta["busy"]) or "-", others))
    else:
        log("quiet machine: other processes used %.2f cores meanwhile" % others)


if __name__ == "__main__":
    main()
