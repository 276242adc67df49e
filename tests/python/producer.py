"""Producer through confluent-kafka-python: per-message on_delivery callbacks, keys, headers,
explicit partitions, flush. Prints the delivery reports sorted so that librdkafka and librskafka
runs compare line by line. Usage: producer.py BOOTSTRAP TOPIC PARTITIONS"""
import sys

from confluent_kafka import Producer

bootstrap, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
reports = []


def on_delivery(err, msg):
    reports.append((msg.partition(), msg.offset(), msg.key(), msg.value(), msg.headers(),
                    msg.topic() == topic, err.name() if err else None))


p = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
for i in range(60):
    headers = [("idx", str(i).encode()), ("kind", b"python")] if i % 3 else None
    kwargs = {"partition": i % partitions} if i % 2 == 0 else {}
    p.produce(topic, value=b"value-%d" % i, key=b"key-%d" % i, headers=headers,
              on_delivery=on_delivery, **kwargs)
print("queued", len(p))
print("flush ->", p.flush(30))
print("after flush", len(p))
print("reports", len(reports))
# The keyed messages without a partition go where librdkafka's consistent_random puts them.
for partition, offset, key, value, headers, same_topic, err in sorted(
        reports, key=lambda r: (r[0], r[1])):
    print(partition, offset, key, value, headers, same_topic, err)
print("poll ->", p.poll(0))
