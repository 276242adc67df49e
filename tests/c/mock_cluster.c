/* Creates a mock cluster with rd_kafka_mock_cluster_new, produces through it, consumes in a
 * group, commits, and resumes from the committed offsets with a second consumer. Prints facts
 * that must be the same whichever library (and so whichever mock cluster) it runs on.
 * Usage: mock_cluster */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#define N 200
#define PARTS 4

static int delivered, failed;
static int64_t next_offset[PARTS];
static int bad_offsets;

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (m->err) {
                failed++;
                return;
        }
        delivered++;
        if (m->partition < 0 || m->partition >= PARTS || m->offset != next_offset[m->partition])
                bad_offsets++;
        else
                next_offset[m->partition]++;
}

static void die(const char *what, const char *why) {
        printf("FAIL %s: %s\n", what, why);
        exit(1);
}

static rd_kafka_conf_t *base_conf(const char *bootstraps) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstraps, errstr, sizeof(errstr)))
                die("conf", errstr);
        return conf;
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
        char errstr[512];
        if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)))
                die(k, errstr);
}

static void produce(const char *bootstraps, int from, int to) {
        char errstr[512], key[32], val[32], idx[16];
        rd_kafka_conf_t *conf = base_conf(bootstraps);
        rd_kafka_t *p;
        int i;
        set(conf, "enable.idempotence", "true");
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
        if (!(p = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))))
                die("producer", errstr);
        for (i = from; i < to; i++) {
                rd_kafka_resp_err_t err;
                snprintf(key, sizeof(key), "key-%d", i);
                snprintf(val, sizeof(val), "value-%d", i);
                snprintf(idx, sizeof(idx), "%d", i);
                err = rd_kafka_producev(p, RD_KAFKA_V_TOPIC("mt"), RD_KAFKA_V_PARTITION(i % PARTS),
                                        RD_KAFKA_V_KEY(key, strlen(key)),
                                        RD_KAFKA_V_VALUE(val, strlen(val)),
                                        RD_KAFKA_V_HEADER("idx", idx, (ssize_t)strlen(idx)),
                                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
                if (err)
                        die("producev", rd_kafka_err2str(err));
        }
        rd_kafka_flush(p, 30000);
        printf("produced %d-%d: delivered %d failed %d bad_offsets %d\n", from, to, delivered,
               failed, bad_offsets);
        rd_kafka_destroy(p);
}

/* Consumes `want` messages in group "mg"; checks each against its index and the per-partition
 * order; prints the first offset seen per partition; commits and closes. */
static void consume(const char *bootstraps, int want) {
        char errstr[512], key[32], val[32];
        rd_kafka_conf_t *conf = base_conf(bootstraps);
        rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_t *c;
        int got = 0, bad = 0, headers_ok = 0, polls = 0, p;
        int64_t first[PARTS], last[PARTS];
        for (p = 0; p < PARTS; p++)
                first[p] = last[p] = -1;
        set(conf, "group.id", "mg");
        set(conf, "auto.offset.reset", "earliest");
        set(conf, "enable.auto.commit", "false");
        set(conf, "session.timeout.ms", "6000");
        set(conf, "heartbeat.interval.ms", "500");
        if (!(c = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr))))
                die("consumer", errstr);
        rd_kafka_poll_set_consumer(c);
        rd_kafka_topic_partition_list_add(topics, "mt", RD_KAFKA_PARTITION_UA);
        if (rd_kafka_subscribe(c, topics))
                die("subscribe", "failed");
        rd_kafka_topic_partition_list_destroy(topics);
        while (got < want && polls++ < 600) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
                rd_kafka_headers_t *h = NULL;
                const void *v;
                size_t sz;
                int i;
                if (!m)
                        continue;
                if (m->err) {
                        rd_kafka_message_destroy(m);
                        continue;
                }
                got++;
                if (sscanf((const char *)m->key, "key-%d", &i) != 1 || i % PARTS != m->partition)
                        bad++;
                snprintf(key, sizeof(key), "key-%d", i);
                snprintf(val, sizeof(val), "value-%d", i);
                if (m->key_len != strlen(key) || memcmp(m->key, key, m->key_len) ||
                    m->len != strlen(val) || memcmp(m->payload, val, m->len))
                        bad++;
                if (last[m->partition] >= 0 && m->offset != last[m->partition] + 1)
                        bad++;
                if (first[m->partition] < 0)
                        first[m->partition] = m->offset;
                last[m->partition] = m->offset;
                if (!rd_kafka_message_headers(m, &h) && !rd_kafka_header_get_last(h, "idx", &v, &sz) &&
                    sz == strlen(key) - 4 && !memcmp(v, key + 4, sz))
                        headers_ok++;
                rd_kafka_message_destroy(m);
        }
        printf("consumed %d bad %d headers_ok %d\n", got, bad, headers_ok);
        for (p = 0; p < PARTS; p++)
                printf("  partition %d: offsets %lld..%lld\n", p, (long long)first[p],
                       (long long)last[p]);
        printf("commit: %s\n", rd_kafka_err2name(rd_kafka_commit(c, NULL, 0)));
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
}

int main(void) {
        char errstr[512];
        rd_kafka_t *rk;
        rd_kafka_mock_cluster_t *mc;
        const char *b;
        const struct rd_kafka_metadata *md;
        rd_kafka_t *probe;
        int commas = 0, i;

        if (!(rk = rd_kafka_new(RD_KAFKA_PRODUCER, rd_kafka_conf_new(), errstr, sizeof(errstr))))
                die("rd_kafka_new", errstr);
        if (!(mc = rd_kafka_mock_cluster_new(rk, 3)))
                die("rd_kafka_mock_cluster_new", "NULL");
        printf("handle kept: %d\n", rd_kafka_mock_cluster_handle(mc) == rk);
        b = rd_kafka_mock_cluster_bootstraps(mc);
        for (i = 0; b[i]; i++)
                commas += b[i] == ',';
        printf("bootstraps: %d brokers, starts with 127.0.0.1: %d\n", commas + 1,
               !strncmp(b, "127.0.0.1:", 10));
        printf("topic_create: %s\n", rd_kafka_err2name(rd_kafka_mock_topic_create(mc, "mt", PARTS, 3)));
        printf("topic_create again: %s\n",
               rd_kafka_err2name(rd_kafka_mock_topic_create(mc, "mt", PARTS, 3)));

        probe = rd_kafka_new(RD_KAFKA_PRODUCER, base_conf(b), errstr, sizeof(errstr));
        if (!probe)
                die("probe", errstr);
        if (rd_kafka_metadata(probe, 1, NULL, &md, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                printf("metadata: %d brokers, %d topics", md->broker_cnt, md->topic_cnt);
                for (i = 0; i < md->topic_cnt; i++)
                        printf(", %s with %d partitions of %d replicas", md->topics[i].topic,
                               md->topics[i].partition_cnt,
                               md->topics[i].partition_cnt ? md->topics[i].partitions[0].replica_cnt : 0);
                printf("\n");
                rd_kafka_metadata_destroy(md);
        }
        rd_kafka_destroy(probe);

        produce(b, 0, N);
        consume(b, N);
        /* Faults: the next two Produce requests fail (retried by the idempotent producer),
         * and partition 0's leadership moves. */
        rd_kafka_mock_push_request_errors(mc, 0 /* Produce */, 2,
                                          RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
                                          RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS);
        printf("set_leader: %s\n", rd_kafka_err2name(rd_kafka_mock_partition_set_leader(mc, "mt", 0, 2)));
        produce(b, N, N + 20);
        consume(b, 20);

        rd_kafka_mock_cluster_destroy(mc);
        rd_kafka_destroy(rk);
        printf("done\n");
        return 0;
}
