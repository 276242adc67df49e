/* Produces 1000 messages with rd_kafka_producev (key, value, headers, opaque) and 1000 with
 * rd_kafka_produce, counts the delivery reports, flushes and destroys. Prints facts that must be
 * the same whichever library it is linked against.
 * Usage: produce BOOTSTRAP TOPIC */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#define N 1000
#define MAXP 64
#define MAXOFF (4 * N)
#define BATCH 100
#define TOTAL (2 * N + BATCH)

static int delivered, failed, bad_content, bad_opaque, bad_topic, dup_offsets;
static int seen[TOTAL];
static unsigned char used[MAXP][MAXOFF];
static const char *topic_name;
static void *app_opaque = (void *)0x1234;
static int wrong_app_opaque, dr_headers_ok;

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        char key[32], val[32];
        long idx = (long)(intptr_t)m->_private - 1;
        (void)rk;
        if (opaque != app_opaque)
                wrong_app_opaque++;
        if (m->err) {
                failed++;
                fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(m->err));
                return;
        }
        delivered++;
        if (idx < 0 || idx >= TOTAL || seen[idx]++) {
                bad_opaque++;
                return;
        }
        snprintf(key, sizeof(key), "key-%ld", idx);
        snprintf(val, sizeof(val), "value-%ld", idx);
        if (m->key_len != strlen(key) || memcmp(m->key, key, m->key_len) ||
            m->len != strlen(val) || memcmp(m->payload, val, m->len))
                bad_content++;
        if (idx < N) {
                rd_kafka_headers_t *h = NULL;
                const void *v;
                size_t sz;
                char want[16];
                snprintf(want, sizeof(want), "%ld", idx);
                if (!rd_kafka_message_headers(m, &h) && rd_kafka_header_cnt(h) == 2 &&
                    !rd_kafka_header_get_last(h, "idx", &v, &sz) && sz == strlen(want) &&
                    !memcmp(v, want, sz))
                        dr_headers_ok++;
        }
        if (!m->rkt || strcmp(rd_kafka_topic_name(m->rkt), topic_name))
                bad_topic++;
        if (m->partition < 0 || m->partition >= MAXP || m->offset < 0 || m->offset >= MAXOFF ||
            used[m->partition][m->offset]++)
                dup_offsets++;
}

int main(int argc, char **argv) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt, *rkt2;
        rd_kafka_resp_err_t err;
        int i, queue_full = 0, missing = 0;
        char *big;

        if (argc != 3) {
                fprintf(stderr, "usage: %s BOOTSTRAP TOPIC\n", argv[0]);
                return 2;
        }
        topic_name = argv[2];
        setvbuf(stdout, NULL, _IONBF, 0);

        /* A failing rd_kafka_new leaves conf with the caller. */
        if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr)) ||
            rd_kafka_conf_set(conf, "queue.buffering.max.messages", "500", errstr,
                              sizeof(errstr))) {
                fprintf(stderr, "conf: %s\n", errstr);
                return 1;
        }
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
        rd_kafka_conf_set_opaque(conf, app_opaque);

        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        printf("type %d\n", rd_kafka_type(rk));
        printf("name_prefix %s\n",
               strncmp(rd_kafka_name(rk), "rdkafka#producer-", 17) ? "other" : "rdkafka#producer-");
        printf("opaque_ok %d\n", rd_kafka_opaque(rk) == app_opaque);

        rkt = rd_kafka_topic_new(rk, topic_name, NULL);
        rkt2 = rd_kafka_topic_new(rk, topic_name, NULL);
        printf("topic_name %s\n", rd_kafka_topic_name(rkt));
        printf("topic_same_name %d\n", !strcmp(rd_kafka_topic_name(rkt2), topic_name));
        rd_kafka_topic_destroy(rkt2);

        for (i = 0; i < N; i++) {
                char key[32], val[32], idx[16];
                snprintf(key, sizeof(key), "key-%d", i);
                snprintf(val, sizeof(val), "value-%d", i);
                snprintf(idx, sizeof(idx), "%d", i);
                for (;;) {
                        if (i % 2 == 0) {
                                err = rd_kafka_producev(
                                    rk, RD_KAFKA_V_TOPIC(topic_name),
                                    RD_KAFKA_V_KEY(key, strlen(key)),
                                    RD_KAFKA_V_VALUE(val, strlen(val)),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_HEADER("idx", idx, -1),
                                    RD_KAFKA_V_HEADER("kind", "producev", 8),
                                    RD_KAFKA_V_OPAQUE((void *)(intptr_t)(i + 1)), RD_KAFKA_V_END);
                        } else {
                                rd_kafka_headers_t *h = rd_kafka_headers_new(2);
                                rd_kafka_header_add(h, "idx", -1, idx, -1);
                                rd_kafka_header_add(h, "kind", -1, "headers", -1);
                                err = rd_kafka_producev(
                                    rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(RD_KAFKA_PARTITION_UA),
                                    RD_KAFKA_V_KEY(key, strlen(key)),
                                    RD_KAFKA_V_VALUE(val, strlen(val)), RD_KAFKA_V_HEADERS(h),
                                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                    RD_KAFKA_V_OPAQUE((void *)(intptr_t)(i + 1)), RD_KAFKA_V_END);
                                if (err)
                                        rd_kafka_headers_destroy(h);
                        }
                        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                break;
                        queue_full++;
                        rd_kafka_poll(rk, 10);
                }
                if (err) {
                        fprintf(stderr, "producev %d: %s\n", i, rd_kafka_err2str(err));
                        return 1;
                }
                rd_kafka_poll(rk, 0);
        }

        for (i = N; i < 2 * N; i++) {
                char key[32];
                char *val = malloc(32);
                snprintf(key, sizeof(key), "key-%d", i);
                snprintf(val, 32, "value-%d", i);
                for (;;) {
                        /* F_FREE: the library frees val once done with it. */
                        if (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_FREE, val,
                                             strlen(val), key, strlen(key),
                                             (void *)(intptr_t)(i + 1)) == 0)
                                break;
                        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL ||
                            errno != ENOBUFS) {
                                fprintf(stderr, "produce %d: %s\n", i,
                                        rd_kafka_err2str(rd_kafka_last_error()));
                                return 1;
                        }
                        queue_full++;
                        rd_kafka_poll(rk, 10);
                }
                rd_kafka_poll(rk, 0);
        }
        /* Timing-dependent (how fast deliveries free the 500-message queue): not compared. */
        fprintf(stderr, "queue_full_seen %d\n", queue_full);

        /* A batch, each message with its own partition (F_PARTITION) and opaque. */
        {
                static rd_kafka_message_t batch[BATCH];
                static char keys[BATCH][32], vals[BATCH][32];
                int queued = 0, j;
                memset(batch, 0, sizeof(batch));
                for (j = 0; j < BATCH; j++) {
                        snprintf(keys[j], 32, "key-%d", 2 * N + j);
                        snprintf(vals[j], 32, "value-%d", 2 * N + j);
                        batch[j].partition = j % 4;
                        batch[j].key = keys[j];
                        batch[j].key_len = strlen(keys[j]);
                        batch[j].payload = vals[j];
                        batch[j].len = strlen(vals[j]);
                        batch[j]._private = (void *)(intptr_t)(2 * N + j + 1);
                }
                rd_kafka_flush(rk, 10000); /* room for the whole batch */
                queued = rd_kafka_produce_batch(rkt, RD_KAFKA_PARTITION_UA,
                                                RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_PARTITION,
                                                batch, BATCH);
                for (j = 0; j < BATCH; j++)
                        if (batch[j].err)
                                queued = -1000;
                printf("batch_queued %d\n", queued);
        }

        /* The built-in partitioner functions. */
        printf("partitioners murmur2 %d consistent %d fnv1a %d murmur2_null %d\n",
               rd_kafka_msg_partitioner_murmur2(rkt, "key-1", 5, 7, NULL, NULL),
               rd_kafka_msg_partitioner_consistent(rkt, "key-1", 5, 7, NULL, NULL),
               rd_kafka_msg_partitioner_fnv1a(rkt, "key-1", 5, 7, NULL, NULL),
               rd_kafka_msg_partitioner_murmur2(rkt, NULL, 0, 7, NULL, NULL));
        printf("fatal %s\n", rd_kafka_err2name(rd_kafka_fatal_error(rk, errstr, sizeof(errstr))));

        /* Synchronous failure: larger than message.max.bytes. */
        big = calloc(1, 2000000);
        i = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, big, 2000000, NULL,
                             0, NULL);
        err = rd_kafka_last_error();
        printf("too_large %d last_error %s errno_EMSGSIZE %d\n", i, rd_kafka_err2name(err),
               errno == EMSGSIZE);
        free(big);

        err = rd_kafka_flush(rk, 30000);
        printf("flush %s\n", rd_kafka_err2name(err));
        printf("outq_len %d\n", rd_kafka_outq_len(rk));
        printf("poll_after_flush %d\n", rd_kafka_poll(rk, 0));
        for (i = 0; i < TOTAL; i++)
                missing += !seen[i];
        printf("delivered %d failed %d missing %d\n", delivered, failed, missing);
        printf("bad_content %d bad_opaque %d bad_topic %d dup_offsets %d wrong_app_opaque %d\n",
               bad_content, bad_opaque, bad_topic, dup_offsets, wrong_app_opaque);
        printf("dr_headers_ok %d\n", dr_headers_ok);
        printf("purge %s\n", rd_kafka_err2name(rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE)));

        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        printf("done\n");
        return 0;
}
