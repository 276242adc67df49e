"""Consumer in a group through confluent-kafka-python: on_assign, poll, commit (sync),
committed, position, list_topics. Produces its input first. Brokers go in a section of their
own ("# brokers") that the test compares only on request. Usage: consumer.py BOOTSTRAP TOPIC
PARTITIONS GROUP"""
import sys

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition

bootstrap, topic, partitions, group = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
COUNT = 40


def tps(lst):
    return sorted((tp.topic == topic, tp.partition, tp.offset, tp.error) for tp in lst)


p = Producer({"bootstrap.servers": bootstrap})
for i in range(COUNT):
    p.produce(topic, value=b"v%d" % i, key=b"k%d" % i, partition=i % partitions,
              headers={"n": str(i)})
print("unflushed", p.flush(30))

c = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
              "auto.offset.reset": "earliest", "enable.auto.commit": False,
              "enable.partition.eof": True})


def on_assign(consumer, assigned):
    print("on_assign", tps(assigned))


c.subscribe([topic], on_assign=on_assign)
got, eofs = [], set()
while len(got) < COUNT or len(eofs) < partitions:
    m = c.poll(10)
    if m is None:
        print("poll timed out")
        break
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF:
            eofs.add(m.partition())
        else:
            print("error", m.error().name())
        continue
    got.append((m.partition(), m.offset(), m.key(), m.value(), m.headers()))
print("consumed", len(got), "eofs", sorted(eofs))
for row in sorted(got):
    print(*row)

print("commit", tps(c.commit(asynchronous=False)))
mine = [TopicPartition(topic, i) for i in range(partitions)]
print("committed", tps(c.committed(mine, timeout=10)))
print("position", tps(c.position(mine)))
print("assignment", tps(c.assignment()))

md = c.list_topics(timeout=10)
print("topics", sorted(t == topic for t in md.topics))
tmd = md.topics[topic]
print("topic error", tmd.error)
for pid, pmd in sorted(tmd.partitions.items()):
    print("partition", pid, pmd.id, pmd.error)
one = c.list_topics(topic, timeout=10)
print("one topic", list(one.topics) == [topic], sorted(one.topics[topic].partitions))

c.close()
print("closed")
print("# brokers")
hosts = bootstrap.split(",")
print("brokers", sorted((b.id, "%s:%d" % (b.host, b.port) in hosts)
                        for b in md.brokers.values()))
print("replicas and isrs", all(len(pmd.replicas) >= 1 and len(pmd.isrs) >= 1
                               for pmd in tmd.partitions.values()))
print("leaders known", all(pmd.leader in md.brokers for pmd in tmd.partitions.values()))
print("orig_broker", md.orig_broker_id in md.brokers)
print("cluster_id", md.cluster_id is not None, "controller", md.controller_id in md.brokers)
