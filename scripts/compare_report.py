"""What scripts/compare.py makes of its runs: median tables, the markdown report, the SVG of CPU
per million messages, and the measured table inside docs/ARCHITECTURE.md."""

import statistics

LIB_ORDER = ["librdkafka 2.0.2", "librdkafka 2.12.1", "librskafka", "rskafka"]
OURS = "librskafka"
REFS = ["librdkafka 2.12.1", "librdkafka 2.0.2"]
# For each kind of workload, the metrics worth a row, with their label.
METRICS = {
    "produce": [("msgs_per_s", "msgs/s"), ("cpu_s_per_M", "CPU s per M msgs"),
                ("app_s_per_M", "of which the application thread"),
                ("maxrss_kb", "peak RSS KiB"), ("threads", "threads"),
                ("broker_cpu_s", "broker CPU s")],
    "consume": [("msgs_per_s", "msgs/s"), ("cpu_s_per_M", "CPU s per M msgs"),
                ("app_s_per_M", "of which the application thread"),
                ("maxrss_kb", "peak RSS KiB"), ("threads", "threads"),
                ("broker_cpu_s", "broker CPU s")],
    "idle": [("cpu_s", "CPU s"), ("wakeups", "wake-ups (voluntary ctx switches)"),
             ("threads", "threads"), ("maxrss_kb", "peak RSS KiB")],
    "assign": [("maxrss_kb", "peak RSS KiB"), ("threads", "threads"), ("cpu_s", "CPU s"),
               ("msgs", "msgs fetched")],
    "latency": [("p50_us", "p50 latency us"), ("p99_us", "p99 latency us"),
                ("cpu_s", "CPU s (producer + consumer)"), ("threads", "threads")],
}
BEGIN, END = "<!-- compare.py:begin -->", "<!-- compare.py:end -->"


def kind(workload):
    for k in METRICS:
        if " %s" % k in workload:
            return k
    return None


def median(results, workload, lib, metric):
    vals = [r[metric] for r in results.get((workload, lib), []) if isinstance(
        r.get(metric), float)]
    return statistics.median(vals) if vals else None


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return "{:,.0f}".format(v)
    if abs(v) >= 10 or v == int(v):
        return "%.0f" % v if v == int(v) else "%.1f" % v
    return "%.3f" % v


def versions(results):
    """Library name -> the version string it reported."""
    out = {}
    for (_, lib), recs in results.items():
        if recs and "lib" in recs[0]:
            out[lib] = recs[0]["lib"]
    return out


def table(results):
    """Markdown table: one row per workload and metric, medians per library, ratios ours/ref."""
    workloads = []
    for w, _ in results:
        if w not in workloads and kind(w):
            workloads.append(w)
    libs = [lib for lib in LIB_ORDER if any(lib == x for _, x in results)]
    refs = [r for r in REFS if r in libs]
    head = ["workload", "metric"] + libs + ["ours / %s" % r.replace("librdkafka ", "")
                                            for r in refs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for w in workloads:
        for metric, label in METRICS[kind(w)]:
            vals = [median(results, w, lib, metric) for lib in libs]
            if all(v is None for v in vals):
                continue
            ours = median(results, w, OURS, metric)
            ratios = []
            for r in refs:
                ref = median(results, w, r, metric)
                ratios.append("%.2f" % (ours / ref) if ours is not None and ref else "-")
            lines.append("| " + " | ".join([w, label] + [fmt(v) for v in vals] + ratios) + " |")
    return "\n".join(lines) + "\n"


def loc_line(c):
    return ("Lines of code: librskafka %s in src/ (plus %s of unit tests and %s generated C ABI "
            "stubs); librdkafka %s in src/ (plus %s of bundled third-party code and %s of its "
            "mock cluster)." % tuple("{:,}".format(c[k]) for k in (
                "ours", "ours_tests", "ours_generated", "librdkafka", "librdkafka_third_party",
                "librdkafka_mock")))


def markdown(results, raw, meta):
    s = meta["sizes"]
    out = ["# Head-to-head benchmark: latest run", ""]
    if meta["loaded"]:
        out += ["**Taken under load**: other processes were busy on the machine (%s; they used "
                "%.2f cores on average during the run), so these figures are noisy." % (
                    ", ".join(meta["busy"]) or "-", meta["others"]), ""]
    else:
        out += ["Taken on a quiet machine: other processes used %.2f cores on average during "
                "the run." % meta["others"], ""]
    out += ["Made by `/usr/bin/python3 scripts/compare.py%s` on %s, %d round(s); medians over "
            "rounds. Throughput: %s messages of 100 B on tansu (memory storage), %s on the "
            "3-broker mock cluster, %d partitions, every consumer with `fetch.wait.max.ms=%d`; "
            "idle consumer %d s; assign: 1,000 partitions for %d s; latency: %s messages at "
            "1,000 msg/s, default settings." % (
                " --quick" if meta["quick"] else "", meta["started"], s["rounds"],
                "{:,}".format(s["tansu_msgs"]), "{:,}".format(s["mock_msgs"]), s["partitions"],
                s["fetch_wait_ms"], s["idle_s"], s["assign_s"], "{:,}".format(s["latency_msgs"])),
            "", "Libraries: " + "; ".join("%s = `%s`" % kv for kv in meta["versions"].items()),
            "", table(results), loc_line(meta["loc"]), "", "## Raw lines", "", "```"] + raw + [
                "```", ""]
    return "\n".join(out)


COLORS = {"librdkafka 2.12.1": "#4c72b0", "librskafka": "#dd8452", "rskafka": "#55a868"}
LABELS = {"librdkafka 2.12.1": "librdkafka 2.12.1 (main thread + thread per broker)",
          "librskafka": "librskafka (one engine thread, sans-IO)",
          "rskafka": "rskafka 0.6 (async/await on tokio)"}


def svg(results, meta):
    """Grouped bars of client CPU seconds per million messages, one group per workload."""
    groups = [w for w in ("tansu produce none", "tansu produce lz4", "tansu consume none",
                          "tansu consume lz4", "mock produce none", "mock consume none")
              if any((w, lib) in results for lib in COLORS)]
    libs = list(COLORS)
    vals = {(w, lib): median(results, w, lib, "cpu_s_per_M") for w in groups for lib in libs}
    top = max([v for v in vals.values() if v] + [0.1])
    width, height, left, bottom, plot_h = 860, 420, 60, 90, 260
    gw = (width - left - 20) / max(len(groups), 1)
    bw = gw * 0.8 / len(libs)
    title = "Client CPU seconds per million 100-byte messages (lower is better)"
    if meta.get("loaded"):
        title += " - taken under load"
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'font-family="sans-serif" font-size="12">' % (width, height),
           '<rect width="100%" height="100%" fill="white"/>',
           '<text x="%d" y="22" font-size="15">%s</text>' % (left, title)]
    base = 40 + plot_h
    for i in range(5):
        v = top * i / 4
        y = base - plot_h * i / 4
        out.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (
            left, width - 20, y, y))
        out.append('<text x="%d" y="%.1f" text-anchor="end">%.2f</text>' % (left - 6, y + 4, v))
    for gi, w in enumerate(groups):
        x0 = left + gi * gw + gw * 0.1
        for li, lib in enumerate(libs):
            v = vals[(w, lib)]
            x = x0 + li * bw
            if v is None:
                out.append('<text x="%.1f" y="%.1f" text-anchor="middle" fill="#999">n/a</text>'
                           % (x + bw / 2, base - 4))
                continue
            h = plot_h * v / top
            out.append('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>' % (
                x, base - h, bw - 2, h, COLORS[lib]))
            out.append('<text x="%.1f" y="%.1f" text-anchor="middle" font-size="10">%s</text>'
                       % (x + bw / 2, base - h - 3, fmt(v)))
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%s</text>' % (
            left + gi * gw + gw / 2, base + 18, w))
    out.append('<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="black"/>' % (
        left, width - 20, base, base))
    for li, lib in enumerate(libs):
        y = base + 42 + li * 16
        out.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/>' % (
            left, y - 10, COLORS[lib]))
        out.append('<text x="%d" y="%d">%s</text>' % (left + 18, y, LABELS[lib]))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def update_architecture(path, tbl, meta):
    """Replaces the table between the markers in docs/ARCHITECTURE.md with this run's."""
    with open(path) as f:
        text = f.read()
    a, b = text.index(BEGIN) + len(BEGIN), text.index(END)
    note = "Measured %s, %d round(s)%s (other processes used %.2f cores meanwhile).\n\n" % (
        meta["started"], meta["sizes"]["rounds"],
        "; **taken under load**: noisy" if meta["loaded"] else " on a quiet machine",
        meta["others"])
    with open(path, "w") as f:
        f.write(text[:a] + "\n" + note + tbl + "\n" + loc_line(meta["loc"]) + "\n" + text[b:])


# Files in librdkafka's src/ that are bundled third-party code, not the client.
THIRD_PARTY = ("lz4", "snappy", "cJSON", "regexp", "crc32c", "rdxxhash", "tinycthread", "queue.h",
               "rdhdrhistogram", "rdwin32", "win32_config", "nanopb/", "opentelemetry/")
GENERATED = ("src/capi/stubs.rs", "src/capi/pending.rs", "src/capi/ctypes.rs",
             "src/capi/errcodes.rs")


def _lines(path):
    with open(path, errors="replace") as f:
        return f.read().splitlines()


def loc(root, rdkafka_src):
    """Lines of code: ours (src/, without generated files; unit tests apart) and librdkafka's
    src/ (without bundled third-party code; its mock cluster apart)."""
    import os
    ours = tests = generated = 0
    for d, _, files in os.walk(os.path.join(root, "src")):
        for name in files:
            if not name.endswith((".rs", ".c")):
                continue
            path = os.path.join(d, name)
            rel = os.path.relpath(path, root)
            lines = _lines(path)
            if rel in GENERATED:
                generated += len(lines)
                continue
            cut = next((i for i, x in enumerate(lines) if x.strip() == "#[cfg(test)]"), None)
            if name == "tests.rs" or d.endswith("/tests"):
                cut = 0
            ours += len(lines) if cut is None else cut
            tests += 0 if cut is None else len(lines) - cut
    theirs = third = mock = 0
    for d, _, files in os.walk(rdkafka_src):
        for name in files:
            if not name.endswith((".c", ".h")):
                continue
            path = os.path.join(d, name)
            rel = os.path.relpath(path, rdkafka_src)
            n = len(_lines(path))
            if rel.startswith(THIRD_PARTY) or any(rel.startswith(t) for t in THIRD_PARTY):
                third += n
            elif name.startswith("rdkafka_mock"):
                mock += n
            else:
                theirs += n
    return dict(ours=ours, ours_tests=tests, ours_generated=generated, librdkafka=theirs,
                librdkafka_third_party=third, librdkafka_mock=mock)
