"""Errors through confluent-kafka-python: the error callback with an unreachable bootstrap
server, configuration errors, an oversized message, and a consumer call on a producer-only
property. Usage: errors.py"""
import sys
import time

from confluent_kafka import Consumer, KafkaError, KafkaException, Producer

seen = []


def error_cb(err):
    seen.append(err.name())


p = Producer({"bootstrap.servers": "127.0.0.1:1", "error_cb": error_cb,
              "reconnect.backoff.ms": 100, "message.max.bytes": 2000})
deadline = time.time() + 10
while "_ALL_BROKERS_DOWN" not in seen and time.time() < deadline:
    p.poll(0.2)
print("error_cb", sorted(set(seen)))

try:
    p.produce("t", value=b"x" * 5000)
except KafkaException as e:
    print("too large", e.args[0].name(), e.args[0].str())
p.produce("t", value=b"small")
print("queued", len(p))
print("flush ->", p.flush(0.5))

for conf in ({"no.such.property": 1}, {"acks": "maybe"}, {"linger.ms": -5}):
    try:
        Producer(conf)
        print("accepted", conf)
    except KafkaException as e:
        print("refused", e.args[0].name(), e.args[0].str())

try:
    Consumer({"bootstrap.servers": "127.0.0.1:1"})
except (KafkaException, ValueError) as e:
    print("consumer without group.id", type(e).__name__, e)
sys.stdout.flush()
