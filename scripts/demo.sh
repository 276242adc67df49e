#!/usr/bin/env bash
# The main job: start a local broker, fill a topic, consume it with librskafka, print throughput.
#   bash scripts/demo.sh [--count N] [--partitions P] [--size BYTES] [--codec none|gzip|snappy|lz4|zstd] [--broker tansu|mock]
# The topic is filled by librdkafka (the mock launcher's producer) until our producer lands;
# the consumer is examples/consume.rs, a group member reading every partition.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"

COUNT=1000000 PARTITIONS=8 SIZE=100 CODEC=lz4 BROKER=tansu
while [ $# -gt 0 ]; do
    case "$1" in
        --count) COUNT=$2; shift 2 ;;
        --partitions) PARTITIONS=$2; shift 2 ;;
        --size) SIZE=$2; shift 2 ;;
        --codec) CODEC=$2; shift 2 ;;
        --broker) BROKER=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 2 ;;
    esac
done

bash scripts/install-deps.sh
cargo build --release --quiet --example consume
LAUNCHER=tests/mock-launcher/target/release/mock-launcher
WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

TOPIC=demo
if [ "$BROKER" = tansu ]; then
    PORT=$(free_port)
    env -u SCHEMA_REGISTRY -u OTEL_EXPORTER_OTLP_ENDPOINT tansu broker --listener-url "tcp://127.0.0.1:$PORT" --advertised-listener-url "tcp://127.0.0.1:$PORT" \
        --storage-engine memory://tansu/ > "$WORK/broker.log" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
    tansu topic create "$TOPIC" --partitions "$PARTITIONS" --broker "tcp://127.0.0.1:$PORT" > /dev/null
    BOOTSTRAP=127.0.0.1:$PORT
else
    mkfifo "$WORK/in"
    sleep 100000 > "$WORK/in" &
    PIDS+=($!)
    "$LAUNCHER" cluster --brokers 3 --topic "$TOPIC:$PARTITIONS" --initial-rebalance-delay-ms 0 < "$WORK/in" > "$WORK/broker.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 50); do grep -q BROKERS= "$WORK/broker.out" 2>/dev/null && break; sleep 0.1; done
    BOOTSTRAP=$(head -1 "$WORK/broker.out" | cut -d= -f2)
fi

echo "broker: $BROKER at $BOOTSTRAP; topic $TOPIC with $PARTITIONS partitions"
echo "filling the topic with $COUNT messages of $SIZE bytes ($CODEC) using librdkafka..."
"$LAUNCHER" produce --bootstrap "$BOOTSTRAP" --topic "$TOPIC" --count "$COUNT" --size "$SIZE" --codec "$CODEC"
echo "consuming with librskafka..."
./target/release/examples/consume --bootstrap "$BOOTSTRAP" --group demo-group --topic "$TOPIC" --count "$COUNT" \
    -X fetch.wait.max.ms=10
