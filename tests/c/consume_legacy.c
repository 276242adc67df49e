/* The legacy (simple) consumer through the C ABI, compiled against the system rdkafka.h and
 * linked once against librskafka and once against librdkafka: both runs must print the same.
 *
 * usage: consume_legacy <bootstrap> <topic> <count>
 *
 * Reads the partition count from rd_kafka_metadata, starts every partition from the beginning
 * on one queue, reads with rd_kafka_consume_batch_queue and rd_kafka_consume_queue until every
 * partition reported its end, seeks partition 0 back to offset 10, reads the next message, and
 * stops. No consumer group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
        char errstr[256];
        if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s: %s\n", k, errstr);
                exit(1);
        }
}

int main(int argc, char **argv) {
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt;
        rd_kafka_queue_t *q;
        const rd_kafka_metadata_t *md;
        rd_kafka_message_t *batch[64];
        char errstr[256];
        int count, nparts, got = 0, eofs = 0, bad = 0, i, p;
        long long *eof_at;
        time_t deadline;
        rd_kafka_resp_err_t err;

        if (argc != 4) {
                fprintf(stderr, "usage: %s bootstrap topic count\n", argv[0]);
                return 2;
        }
        count = atoi(argv[3]);
        conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", argv[1]);
        set(conf, "enable.partition.eof", "true");
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        rkt = rd_kafka_topic_new(rk, argv[2], NULL);
        err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        printf("metadata %s\n", rd_kafka_err2name(err));
        if (err)
                return 1;
        printf("topics %d: %s err %s partitions %d\n", md->topic_cnt, md->topics[0].topic,
               rd_kafka_err2name(md->topics[0].err), md->topics[0].partition_cnt);
        nparts = md->topics[0].partition_cnt;
        for (i = 0; i < nparts; i++)
                if (md->topics[0].partitions[i].id != i)
                        bad++;
        rd_kafka_metadata_destroy(md);
        eof_at = calloc((size_t)nparts, sizeof(*eof_at));

        q = rd_kafka_queue_new(rk);
        for (p = 0; p < nparts; p++) {
                eof_at[p] = -1;
                if (rd_kafka_consume_start_queue(rkt, p, RD_KAFKA_OFFSET_BEGINNING, q) == -1)
                        printf("start [%d]: %s\n", p, rd_kafka_err2name(rd_kafka_last_error()));
        }

        deadline = time(NULL) + 60;
        while ((got < count || eofs < nparts) && time(NULL) < deadline) {
                ssize_t n;
                rd_kafka_message_t *one = NULL;
                if (got % 2) {
                        one = rd_kafka_consume_queue(q, 200);
                        n = one ? 1 : 0;
                        batch[0] = one;
                } else {
                        n = rd_kafka_consume_batch_queue(q, 200, batch, 64);
                }
                for (i = 0; i < n; i++) {
                        rd_kafka_message_t *m = batch[i];
                        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                                if (m->partition < 0 || m->partition >= nparts)
                                        bad++;
                                else if (eof_at[m->partition] < 0) {
                                        eof_at[m->partition] = m->offset;
                                        eofs++;
                                }
                        } else if (m->err) {
                                fprintf(stderr, "error %s\n", rd_kafka_err2name(m->err));
                        } else {
                                if (strcmp(rd_kafka_topic_name(m->rkt), argv[2]))
                                        bad++;
                                got++;
                        }
                        rd_kafka_message_destroy(m);
                }
        }
        printf("consumed %d bad %d eofs %d\n", got, bad, eofs);
        for (p = 0; p < nparts; p++)
                printf("eof [%d] at %lld\n", p, eof_at[p]);

        for (p = 0; p < nparts; p++) {
                int64_t lo = -5, hi = -5;
                err = rd_kafka_query_watermark_offsets(rk, argv[2], p, &lo, &hi, 5000);
                printf("watermarks [%d] %s %lld %lld\n", p, rd_kafka_err2name(err),
                       (long long)lo, (long long)hi);
        }
        printf("seek %s\n", rd_kafka_err2name(rd_kafka_seek(rkt, 0, 10, 5000)));
        deadline = time(NULL) + 30;
        while (time(NULL) < deadline) {
                rd_kafka_message_t *m = rd_kafka_consume_queue(q, 200);
                if (!m)
                        continue;
                if (!m->err) {
                        printf("after seek [%d] offset %lld\n", m->partition, (long long)m->offset);
                        rd_kafka_message_destroy(m);
                        break;
                }
                rd_kafka_message_destroy(m);
        }

        for (p = 0; p < nparts; p++)
                if (rd_kafka_consume_stop(rkt, p) == -1)
                        printf("stop [%d]: %s\n", p, rd_kafka_err2name(rd_kafka_last_error()));
        rd_kafka_queue_destroy(q);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        free(eof_at);
        printf("done\n");
        return 0;
}
