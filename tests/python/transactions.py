"""Consume-transform-produce through confluent-kafka-python: a group consumer (auto-commit off)
reads what a plain producer wrote, a transactional producer writes it upper-cased to another topic
and sends the consumer's positions to the transaction; send_offsets misuse first.
Usage: transactions.py BOOTSTRAP TOPIC_IN TOPIC_OUT GROUP"""
import sys
import time

from confluent_kafka import Consumer, KafkaException, Producer

bootstrap, topic_in, topic_out, group = sys.argv[1:5]
N = 30

plain = Producer({"bootstrap.servers": bootstrap})
for i in range(N):
    plain.produce(topic_in, key=b"key-%d" % i, value=b"value-%d" % i)
print("plain flush ->", plain.flush(10))

c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
              "enable.auto.commit": False, "auto.offset.reset": "earliest"})
c.subscribe([topic_in])
msgs = []
deadline = time.time() + 30
while len(msgs) < N and time.time() < deadline:
    m = c.poll(0.2)
    if m is not None and m.error() is None:
        msgs.append(m)
print("consumed", len(msgs))

p = Producer({"bootstrap.servers": bootstrap, "transactional.id": group + "-tx"})


def attempt(what, f):
    try:
        f()
        print(what, "ok")
    except KafkaException as e:
        err = e.args[0]
        print(what, err.name(), err.str(), "retriable", err.retriable(),
              "abort", err.txn_requires_abort(), "fatal", err.fatal())


positions = c.position(c.assignment())
meta = c.consumer_group_metadata()
attempt("offsets before init", lambda: p.send_offsets_to_transaction(positions, meta, 5))
attempt("init", lambda: p.init_transactions(30))
attempt("offsets before begin", lambda: p.send_offsets_to_transaction(positions, meta, 5))
attempt("begin", p.begin_transaction)
for m in msgs:
    p.produce(topic_out, key=m.key(), value=m.value().upper())
attempt("send offsets", lambda: p.send_offsets_to_transaction(positions, meta, 30))
attempt("commit", lambda: p.commit_transaction(30))
print("positions", sorted((tp.partition, tp.offset) for tp in positions))
c.close()
