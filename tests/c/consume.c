/* The high-level consumer through the C ABI, compiled against the system rdkafka.h and linked
 * once against librskafka and once against librdkafka: both runs must print the same.
 *
 * usage: consume <bootstrap> <topic> <group> <count> <partitions> [cooperative]
 *
 * Subscribes with a rebalance callback that prints and applies each rebalance, consumes <count>
 * messages written by the mock launcher (key "key-<i>", value "value-<i>-..."), waits for the
 * end-of-partition event of every partition, commits synchronously, reads the committed offsets
 * and positions back, closes and destroys. Only timing-independent facts go to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

static int rebalances;

static int cmp_tp(const void *a, const void *b) {
        const rd_kafka_topic_partition_t *x = a, *y = b;
        int c = strcmp(x->topic, y->topic);
        return c ? c : x->partition - y->partition;
}

static void print_list(const char *what, rd_kafka_topic_partition_list_t *l, int offsets) {
        int i;
        qsort(l->elems, (size_t)l->cnt, sizeof(*l->elems), cmp_tp);
        printf("%s %d:", what, l->cnt);
        for (i = 0; i < l->cnt; i++) {
                if (offsets)
                        printf(" [%d]@%lld/%s", l->elems[i].partition,
                               (long long)l->elems[i].offset,
                               rd_kafka_err2name(l->elems[i].err));
                else
                        printf(" [%d]", l->elems[i].partition);
        }
        printf("\n");
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque) {
        rd_kafka_topic_partition_list_t *copy = rd_kafka_topic_partition_list_copy(parts);
        rebalances++;
        if (opaque != (void *)&rebalances)
                printf("bad opaque in rebalance_cb\n");
        printf("rebalance %s protocol %s lost %d\n", rd_kafka_err2name(err),
               rd_kafka_rebalance_protocol(rk), rd_kafka_assignment_lost(rk));
        print_list("  partitions", copy, 0);
        rd_kafka_topic_partition_list_destroy(copy);
        if (!strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE")) {
                rd_kafka_error_t *e = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
                                          ? rd_kafka_incremental_assign(rk, parts)
                                          : rd_kafka_incremental_unassign(rk, parts);
                printf("  incremental %s -> %s\n",
                       err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "assign" : "unassign",
                       e ? rd_kafka_error_name(e) : "OK");
                if (e)
                        rd_kafka_error_destroy(e);
        } else if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
                printf("  assign -> %s\n", rd_kafka_err2name(rd_kafka_assign(rk, parts)));
        else
                printf("  unassign -> %s\n", rd_kafka_err2name(rd_kafka_assign(rk, NULL)));
}

static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque) {
        (void)rk;
        (void)opaque;
        printf("offset_commit_cb %s (%d partitions)\n", rd_kafka_err2name(err),
                offsets ? offsets->cnt : -1);
}

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
        rd_kafka_topic_partition_list_t *topics, *sub, *asg, *committed, *pos;
        char errstr[256];
        int count, nparts, got = 0, eofs = 0, dups = 0, bad = 0, i;
        char *seen;
        long long *eof_at;
        time_t deadline;

        if (argc != 6 && argc != 7) {
                fprintf(stderr, "usage: %s bootstrap topic group count partitions\n", argv[0]);
                return 2;
        }
        count = atoi(argv[4]);
        nparts = atoi(argv[5]);
        seen = calloc((size_t)count, 1);
        eof_at = calloc((size_t)nparts, sizeof(*eof_at));
        for (i = 0; i < nparts; i++)
                eof_at[i] = -1;

        conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", argv[1]);
        set(conf, "group.id", argv[3]);
        set(conf, "auto.offset.reset", "earliest");
        set(conf, "enable.auto.commit", "false");
        set(conf, "enable.partition.eof", "true");
        if (argc == 7)
                set(conf, "partition.assignment.strategy", "cooperative-sticky");
        rd_kafka_conf_set_rebalance_cb(conf, rebalance_cb);
        rd_kafka_conf_set_offset_commit_cb(conf, commit_cb);
        rd_kafka_conf_set_opaque(conf, &rebalances);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        printf("type consumer %d\n", rd_kafka_type(rk) == RD_KAFKA_CONSUMER);
        printf("poll_set_consumer %s\n", rd_kafka_err2name(rd_kafka_poll_set_consumer(rk)));
        printf("protocol before join %s\n", rd_kafka_rebalance_protocol(rk));

        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, argv[2], RD_KAFKA_PARTITION_UA);
        printf("subscribe %s\n", rd_kafka_err2name(rd_kafka_subscribe(rk, topics)));
        rd_kafka_topic_partition_list_destroy(topics);
        if (rd_kafka_subscription(rk, &sub) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                printf("subscription %d: %s [%d]\n", sub->cnt, sub->cnt ? sub->elems[0].topic : "",
                       sub->cnt ? sub->elems[0].partition : 0);
                rd_kafka_topic_partition_list_destroy(sub);
        }

        deadline = time(NULL) + 60;
        while ((got < count || eofs < nparts) && time(NULL) < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);
                if (!m)
                        continue;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (!m->rkt || strcmp(rd_kafka_topic_name(m->rkt), argv[2]) ||
                            m->partition < 0 || m->partition >= nparts)
                                bad++;
                        else if (eof_at[m->partition] < 0) {
                                eof_at[m->partition] = m->offset;
                                eofs++;
                        }
                } else if (m->err) {
                        fprintf(stderr, "consumer error %s: %s\n", rd_kafka_err2name(m->err),
                                rd_kafka_message_errstr(m));
                } else {
                        char key[32];
                        int idx = -1;
                        if (m->key_len < sizeof(key)) {
                                memcpy(key, m->key, m->key_len);
                                key[m->key_len] = 0;
                                if (sscanf(key, "key-%d", &idx) != 1)
                                        idx = -1;
                        }
                        if (idx < 0 || idx >= count || strcmp(rd_kafka_topic_name(m->rkt), argv[2]))
                                bad++;
                        else {
                                char want[32];
                                snprintf(want, sizeof(want), "value-%d-", idx);
                                if (m->len < strlen(want) || memcmp(m->payload, want, strlen(want)))
                                        bad++;
                                if (seen[idx])
                                        dups++;
                                seen[idx] = 1;
                        }
                        got++;
                }
                rd_kafka_message_destroy(m);
        }
        printf("consumed %d dups %d bad %d eofs %d\n", got, dups, bad, eofs);
        for (i = 0; i < nparts; i++)
                printf("eof [%d] at %lld\n", i, eof_at[i]);

        printf("commit %s\n", rd_kafka_err2name(rd_kafka_commit(rk, NULL, 0)));
        if (rd_kafka_assignment(rk, &asg) == RD_KAFKA_RESP_ERR_NO_ERROR) {
                print_list("assignment", asg, 0);
                committed = rd_kafka_topic_partition_list_copy(asg);
                printf("committed %s\n",
                       rd_kafka_err2name(rd_kafka_committed(rk, committed, 10000)));
                print_list("  offsets", committed, 1);
                pos = rd_kafka_topic_partition_list_copy(asg);
                printf("position %s\n", rd_kafka_err2name(rd_kafka_position(rk, pos)));
                print_list("  offsets", pos, 1);
                rd_kafka_topic_partition_list_destroy(committed);
                rd_kafka_topic_partition_list_destroy(pos);
                rd_kafka_topic_partition_list_destroy(asg);
        }

        printf("closed before %d\n", rd_kafka_consumer_closed(rk));
        printf("close %s\n", rd_kafka_err2name(rd_kafka_consumer_close(rk)));
        printf("closed after %d\n", rd_kafka_consumer_closed(rk));
        rd_kafka_destroy(rk);
        printf("wait_destroyed %d\n", rd_kafka_wait_destroyed(5000));
        free(seen);
        free(eof_at);
        printf("done\n");
        return 0;
}
