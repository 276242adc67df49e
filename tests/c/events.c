/* librdkafka's queue and event API, compiled against the system rdkafka.h and linked once
 * against librskafka and once against librdkafka: both runs must print the same.
 *
 * usage: events <bootstrap> <topic> <group> <count> <partitions> [cooperative]
 *
 * Producer (DR and ERROR events, no callbacks): produces <count> messages (message i to
 * partition i % partitions) and takes their delivery reports as DR events from the main queue
 * (message arrays, offsets, opaques); queue lengths; forwarding the main queue to an application
 * queue; a queue event callback and an io event; purged messages reported with _PURGE_QUEUE.
 * Consumer (REBALANCE, OFFSET_COMMIT, ERROR events): poll_set_consumer, polls the consumer queue,
 * assigns from REBALANCE events, reads FETCH events and end-of-partition ERROR events, commits
 * through rd_kafka_commit_queue (event on an application queue, and callback), closes with
 * rd_kafka_consumer_close_queue. Only timing-independent facts go to stdout. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <librdkafka/rdkafka.h>

static int count, nparts;
static long long *next_off; /* per partition: the offset the next delivery must have */

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
        char errstr[256];
        if (rd_kafka_conf_set(conf, k, v, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
                fprintf(stderr, "%s: %s\n", k, errstr);
                exit(1);
        }
}

static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
        char errstr[256];
        rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                exit(1);
        }
        return rk;
}

static rd_kafka_t *new_producer(const char *bootstrap, const char *linger) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", bootstrap);
        set(conf, "linger.ms", linger);
        rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR);
        return new_client(RD_KAFKA_PRODUCER, conf);
}

static void produce_one(rd_kafka_t *rk, const char *topic, int part, int i) {
        char key[32], val[64];
        rd_kafka_resp_err_t err;
        snprintf(key, sizeof(key), "key-%d", i);
        snprintf(val, sizeof(val), "value-%d", i);
        err = rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(part),
                                RD_KAFKA_V_KEY(key, strlen(key)),
                                RD_KAFKA_V_VALUE(val, strlen(val)),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_OPAQUE((void *)(intptr_t)(i + 1)), RD_KAFKA_V_END);
        if (err) {
                fprintf(stderr, "producev: %s\n", rd_kafka_err2name(err));
                exit(1);
        }
}

/* Checks one delivered message: no error, its opaque, key, partition and next offset. */
static int check_delivery(const rd_kafka_message_t *m) {
        char key[32];
        int i = (int)(intptr_t)m->_private - 1;
        if (m->err || i < 0 || i > count + 3 || m->partition != i % nparts)
                return 1;
        snprintf(key, sizeof(key), "key-%d", i);
        if (m->key_len != strlen(key) || memcmp(m->key, key, m->key_len))
                return 1;
        if (m->offset != next_off[m->partition])
                return 1;
        next_off[m->partition]++;
        return 0;
}

/* Polls `q` for the next DR event (up to 10 s); NULL if none came. */
static rd_kafka_event_t *next_dr(rd_kafka_queue_t *q) {
        time_t deadline = time(NULL) + 10;
        while (time(NULL) < deadline) {
                rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 500);
                if (!ev)
                        continue;
                if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_DR)
                        return ev;
                printf("unexpected event %s\n", rd_kafka_event_name(ev));
                rd_kafka_event_destroy(ev);
        }
        return NULL;
}

static int event_cb_calls;
static void event_cb(rd_kafka_t *rk, void *opaque) {
        (void)rk;
        if (opaque == &event_cb_calls)
                event_cb_calls++;
}

static void producer_part(const char *bootstrap, const char *topic) {
        rd_kafka_t *rk = new_producer(bootstrap, "5");
        rd_kafka_queue_t *mainq = rd_kafka_queue_get_main(rk), *appq, *cq;
        rd_kafka_event_t *ev;
        const rd_kafka_message_t **msgs;
        const char *fac, *str;
        int level, i, delivered = 0, events = 0, bad = 0, after = 0, fds[2];
        size_t n, got;
        char buf[8];
        time_t deadline;

        cq = rd_kafka_queue_get_consumer(rk);
        printf("producer: consumer queue %s\n", cq ? "set" : "NULL");
        cq = rd_kafka_queue_get_partition(rk, topic, 0);
        printf("producer: partition queue %s\n", cq ? "set" : "NULL");
        printf("producer: poll_set_consumer %s\n",
               rd_kafka_err2name(rd_kafka_poll_set_consumer(rk)));
        printf("producer: set_log_queue without log.queue %s\n",
               rd_kafka_err2name(rd_kafka_set_log_queue(rk, NULL)));
        printf("producer: main queue length %d\n", (int)rd_kafka_queue_length(mainq));

        for (i = 0; i < count; i++)
                produce_one(rk, topic, i % nparts, i);
        deadline = time(NULL) + 30;
        while (delivered < count && time(NULL) < deadline) {
                ev = rd_kafka_queue_poll(mainq, 500);
                if (!ev)
                        continue;
                if (rd_kafka_event_type(ev) != RD_KAFKA_EVENT_DR) {
                        printf("unexpected event %s\n", rd_kafka_event_name(ev));
                        rd_kafka_event_destroy(ev);
                        continue;
                }
                if (!events)
                        printf("dr event: name %s error %s log %d partitions %s opaque %s\n",
                               rd_kafka_event_name(ev),
                               rd_kafka_err2name(rd_kafka_event_error(ev)),
                               rd_kafka_event_log(ev, &fac, &str, &level),
                               rd_kafka_event_topic_partition_list(ev) ? "set" : "NULL",
                               rd_kafka_event_opaque(ev) ? "set" : "NULL");
                events++;
                n = rd_kafka_event_message_count(ev);
                msgs = malloc((n ? n : 1) * sizeof(*msgs));
                got = rd_kafka_event_message_array(ev, msgs, n);
                if (got != n || n == 0)
                        bad++;
                after += (int)rd_kafka_event_message_count(ev);
                if (rd_kafka_event_message_next(ev))
                        bad++;
                for (i = 0; i < (int)got; i++) {
                        bad += check_delivery(msgs[i]);
                        delivered++;
                }
                free(msgs);
                rd_kafka_event_destroy(ev);
        }
        printf("dr events: delivered %d bad %d count after array %d batches %s\n", delivered, bad,
               after, events >= 1 && events <= count ? "ok" : "wrong");

        /* A delivery report waits in the main queue until polled. */
        produce_one(rk, topic, count % nparts, count);
        deadline = time(NULL) + 10;
        while (rd_kafka_queue_length(mainq) == 0 && time(NULL) < deadline)
                usleep(10 * 1000);
        printf("main queue length with a report %d, outq_len %d, flush(0) %s\n",
               (int)rd_kafka_queue_length(mainq), rd_kafka_outq_len(rk),
               rd_kafka_err2name(rd_kafka_flush(rk, 0)));
        ev = next_dr(mainq);
        if (ev) {
                const rd_kafka_message_t *m = rd_kafka_event_message_next(ev);
                printf("report: count %d bad %d\n", m ? 1 : 0, m ? check_delivery(m) : 1);
                rd_kafka_event_destroy(ev);
        }
        printf("main queue length after poll %d, outq_len %d, flush(0) %s\n",
               (int)rd_kafka_queue_length(mainq), rd_kafka_outq_len(rk),
               rd_kafka_err2name(rd_kafka_flush(rk, 0)));

        /* Forwarding: the main queue's reports land in the application queue, which has an
         * event callback, then an io event instead. */
        appq = rd_kafka_queue_new(rk);
        if (pipe(fds) || fcntl(fds[0], F_SETFL, O_NONBLOCK)) {
                perror("pipe");
                exit(1);
        }
        rd_kafka_queue_cb_event_enable(appq, event_cb, &event_cb_calls);
        rd_kafka_queue_forward(mainq, appq);
        for (i = 1; i <= 2; i++) {
                if (i == 2)
                        rd_kafka_queue_io_event_enable(appq, fds[1], "X", 1);
                produce_one(rk, topic, (count + i) % nparts, count + i);
                ev = next_dr(appq);
                if (ev) {
                        const rd_kafka_message_t *m = rd_kafka_event_message_next(ev);
                        printf("forwarded report: count %d bad %d\n", m ? 1 : 0,
                               m ? check_delivery(m) : 1);
                        rd_kafka_event_destroy(ev);
                }
                printf("forwarded: event_cb called %d, io event %d byte(s)\n", event_cb_calls,
                       (int)read(fds[0], buf, sizeof(buf)));
        }
        printf("forwarded: main queue poll %s\n", rd_kafka_queue_poll(mainq, 0) ? "event" : "NULL");
        rd_kafka_queue_cb_event_enable(appq, NULL, NULL);
        rd_kafka_queue_io_event_enable(appq, -1, NULL, 0);
        rd_kafka_queue_forward(mainq, NULL);
        rd_kafka_queue_destroy(appq);
        close(fds[0]);
        close(fds[1]);
        rd_kafka_queue_destroy(mainq);
        rd_kafka_destroy(rk);

        /* Purged messages come back as DR events with _PURGE_QUEUE. */
        rk = new_producer(bootstrap, "60000");
        mainq = rd_kafka_queue_get_main(rk);
        for (i = 0; i < 3; i++)
                produce_one(rk, topic, 0, count + 3 + i);
        printf("purge %s\n", rd_kafka_err2name(rd_kafka_purge(rk, RD_KAFKA_PURGE_F_QUEUE)));
        delivered = 0;
        bad = 0;
        while (delivered < 3 && (ev = next_dr(mainq))) {
                const rd_kafka_message_t *m;
                if (rd_kafka_event_error(ev) != RD_KAFKA_RESP_ERR__PURGE_QUEUE)
                        bad++;
                while ((m = rd_kafka_event_message_next(ev))) {
                        delivered++;
                        if (m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE ||
                            rd_kafka_message_status(m) != RD_KAFKA_MSG_STATUS_NOT_PERSISTED)
                                bad++;
                }
                rd_kafka_event_destroy(ev);
        }
        printf("purged reports %d bad %d\n", delivered, bad);
        printf("flush %s\n", rd_kafka_err2name(rd_kafka_flush(rk, 5000)));
        rd_kafka_queue_destroy(mainq);
        rd_kafka_destroy(rk);
}

static int cmp_tp(const void *a, const void *b) {
        const rd_kafka_topic_partition_t *x = a, *y = b;
        return x->partition - y->partition;
}

static void print_list(const char *what, const rd_kafka_topic_partition_list_t *l) {
        rd_kafka_topic_partition_list_t *c = rd_kafka_topic_partition_list_copy(l);
        int i;
        qsort(c->elems, (size_t)c->cnt, sizeof(*c->elems), cmp_tp);
        printf("%s %d:", what, c->cnt);
        for (i = 0; i < c->cnt; i++)
                printf(" [%d]", c->elems[i].partition);
        printf("\n");
        rd_kafka_topic_partition_list_destroy(c);
}

static int commit_marker;
static void commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque) {
        (void)rk;
        printf("commit_queue callback %s %d partition(s) offset %lld opaque %s\n",
               rd_kafka_err2name(err), offsets ? offsets->cnt : -1,
               offsets && offsets->cnt ? (long long)offsets->elems[0].offset : -1LL,
               opaque == &commit_marker ? "ok" : "wrong");
}

/* A REBALANCE event: prints it and applies it as the application must. */
static void rebalance(rd_kafka_t *rk, rd_kafka_event_t *ev, const char *when) {
        rd_kafka_resp_err_t err = rd_kafka_event_error(ev);
        rd_kafka_topic_partition_list_t *l = rd_kafka_event_topic_partition_list(ev);
        printf("%s rebalance %s protocol %s\n", when, rd_kafka_err2name(err),
               rd_kafka_rebalance_protocol(rk));
        print_list("  partitions", l);
        if (!strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE")) {
                rd_kafka_error_t *e = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS
                                          ? rd_kafka_incremental_assign(rk, l)
                                          : rd_kafka_incremental_unassign(rk, l);
                printf("  incremental %s -> %s\n",
                       err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS ? "assign" : "unassign",
                       e ? rd_kafka_error_name(e) : "OK");
                if (e)
                        rd_kafka_error_destroy(e);
        } else if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
                printf("  assign -> %s\n", rd_kafka_err2name(rd_kafka_assign(rk, l)));
        else
                printf("  unassign -> %s\n", rd_kafka_err2name(rd_kafka_assign(rk, NULL)));
}

static void consumer_part(const char *bootstrap, const char *topic, const char *group,
                          int cooperative) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        rd_kafka_queue_t *cq, *appq;
        rd_kafka_topic_partition_list_t *topics, *offs;
        rd_kafka_event_t *ev;
        rd_kafka_error_t *error;
        int total = count + 3, got = 0, dups = 0, bad = 0, eofs = 0, others = 0, i;
        char *seen = calloc((size_t)total, 1);
        long long *eof_at = calloc((size_t)nparts, sizeof(*eof_at));
        time_t deadline;

        set(conf, "bootstrap.servers", bootstrap);
        set(conf, "group.id", group);
        set(conf, "auto.offset.reset", "earliest");
        set(conf, "enable.auto.commit", "false");
        set(conf, "enable.partition.eof", "true");
        set(conf, "log.queue", "true");
        if (cooperative)
                set(conf, "partition.assignment.strategy", "cooperative-sticky");
        rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_REBALANCE | RD_KAFKA_EVENT_OFFSET_COMMIT |
                                           RD_KAFKA_EVENT_ERROR);
        rk = new_client(RD_KAFKA_CONSUMER, conf);
        printf("consumer: set_log_queue %s\n", rd_kafka_err2name(rd_kafka_set_log_queue(rk, NULL)));
        printf("consumer: poll_set_consumer %s\n",
               rd_kafka_err2name(rd_kafka_poll_set_consumer(rk)));
        cq = rd_kafka_queue_get_consumer(rk);
        printf("consumer: consumer queue %s, closed %d\n", cq ? "set" : "NULL",
               rd_kafka_consumer_closed(rk));
        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
        printf("subscribe %s\n", rd_kafka_err2name(rd_kafka_subscribe(rk, topics)));
        rd_kafka_topic_partition_list_destroy(topics);

        /* As rust-rdkafka's StreamConsumer: poll once, then wait for the queue's event
         * callback before polling again. */
        event_cb_calls = 0;
        rd_kafka_queue_cb_event_enable(cq, event_cb, &event_cb_calls);
        ev = rd_kafka_queue_poll(cq, 0);
        if (ev) {
                printf("first poll: event %s\n", rd_kafka_event_name(ev));
                rd_kafka_event_destroy(ev);
        }
        deadline = time(NULL) + 20;
        while (!event_cb_calls && time(NULL) < deadline)
                usleep(10 * 1000);
        printf("consumer queue event_cb before polling: %s\n", event_cb_calls ? "yes" : "no");
        rd_kafka_queue_cb_event_enable(cq, NULL, NULL);

        deadline = time(NULL) + 60;
        while ((got < total || eofs < nparts) && time(NULL) < deadline) {
                ev = rd_kafka_queue_poll(cq, 500);
                if (!ev)
                        continue;
                switch (rd_kafka_event_type(ev)) {
                case RD_KAFKA_EVENT_REBALANCE:
                        rebalance(rk, ev, "event:");
                        break;
                case RD_KAFKA_EVENT_FETCH: {
                        const rd_kafka_message_t *m = rd_kafka_event_message_next(ev);
                        char key[32];
                        int idx;
                        if (!m || rd_kafka_event_message_count(ev) != 1 ||
                            rd_kafka_event_message_next(ev) || m->err) {
                                bad++;
                                break;
                        }
                        idx = m->key_len > 4 ? atoi((const char *)m->key + 4) : -1;
                        snprintf(key, sizeof(key), "key-%d", idx);
                        if (idx < 0 || idx >= total || m->key_len != strlen(key) ||
                            memcmp(m->key, key, m->key_len) || m->partition != idx % nparts)
                                bad++;
                        else if (seen[idx]++)
                                dups++;
                        else
                                got++;
                        break;
                }
                case RD_KAFKA_EVENT_ERROR:
                        if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                                rd_kafka_topic_partition_t *tp =
                                    rd_kafka_event_topic_partition(ev);
                                if (!tp || tp->partition < 0 || tp->partition >= nparts ||
                                    rd_kafka_event_error_is_fatal(ev)) {
                                        bad++;
                                } else {
                                        if (eof_at[tp->partition] == 0)
                                                eofs++;
                                        eof_at[tp->partition] = tp->offset;
                                }
                                if (tp)
                                        rd_kafka_topic_partition_destroy(tp);
                        } else
                                printf("error event %s\n",
                                       rd_kafka_err2name(rd_kafka_event_error(ev)));
                        break;
                default:
                        others++;
                        printf("unexpected event %s\n", rd_kafka_event_name(ev));
                }
                rd_kafka_event_destroy(ev);
        }
        printf("consumed %d dups %d bad %d eofs %d\n", got, dups, bad, eofs);
        printf("eof offsets:");
        for (i = 0; i < nparts; i++)
                printf(" %lld%s", eof_at[i], eof_at[i] == next_off[i] ? "" : "(wrong)");
        printf("\n");

        /* No OFFSET_COMMIT event for an asynchronous commit without offset_commit_cb. */
        printf("async commit %s\n", rd_kafka_err2name(rd_kafka_commit(rk, NULL, 1)));
        deadline = time(NULL) + 2;
        while (time(NULL) < deadline) {
                ev = rd_kafka_queue_poll(cq, 200);
                if (ev) {
                        printf("after async commit: event %s\n", rd_kafka_event_name(ev));
                        rd_kafka_event_destroy(ev);
                }
        }

        /* rd_kafka_commit_queue: the result as an event on our queue, then to a callback. */
        offs = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(offs, topic, 0)->offset = eof_at[0] - 1;
        appq = rd_kafka_queue_new(rk);
        printf("commit_queue with queue %s\n",
               rd_kafka_err2name(rd_kafka_commit_queue(rk, offs, appq, NULL, &commit_marker)));
        ev = rd_kafka_queue_poll(appq, 10000);
        if (ev) {
                rd_kafka_topic_partition_list_t *l = rd_kafka_event_topic_partition_list(ev);
                printf("commit event %s %s %d partition(s) offset %lld opaque %s\n",
                       rd_kafka_event_name(ev), rd_kafka_err2name(rd_kafka_event_error(ev)),
                       l ? l->cnt : -1, l && l->cnt ? (long long)l->elems[0].offset : -1LL,
                       rd_kafka_event_opaque(ev) == &commit_marker ? "ok" : "wrong");
                rd_kafka_event_destroy(ev);
        } else
                printf("commit event missing\n");
        printf("app queue length after %d\n", (int)rd_kafka_queue_length(appq));
        offs->elems[0].offset = eof_at[0];
        printf("commit_queue with callback %s\n",
               rd_kafka_err2name(rd_kafka_commit_queue(rk, offs, NULL, commit_cb, &commit_marker)));
        printf("committed %s", rd_kafka_err2name(rd_kafka_committed(rk, offs, 10000)));
        printf(" offset %lld\n", (long long)offs->elems[0].offset);
        rd_kafka_topic_partition_list_destroy(offs);
        rd_kafka_queue_destroy(appq);

        /* Close through the consumer queue: the revoke comes as an event. */
        error = rd_kafka_consumer_close_queue(rk, NULL);
        printf("close_queue(NULL) %s\n", error ? rd_kafka_error_name(error) : "OK");
        if (error)
                rd_kafka_error_destroy(error);
        error = rd_kafka_consumer_close_queue(rk, cq);
        printf("close_queue %s\n", error ? rd_kafka_error_name(error) : "OK");
        if (error)
                rd_kafka_error_destroy(error);
        deadline = time(NULL) + 20;
        while (!rd_kafka_consumer_closed(rk) && time(NULL) < deadline) {
                ev = rd_kafka_queue_poll(cq, 100);
                if (!ev)
                        continue;
                if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_REBALANCE)
                        rebalance(rk, ev, "close:");
                else
                        printf("close: event %s\n", rd_kafka_event_name(ev));
                rd_kafka_event_destroy(ev);
        }
        printf("closed %d\n", rd_kafka_consumer_closed(rk));
        ev = rd_kafka_queue_poll(cq, 200);
        printf("after close: poll %s\n", ev ? rd_kafka_event_name(ev) : "NULL");
        if (ev)
                rd_kafka_event_destroy(ev);
        rd_kafka_queue_destroy(cq);
        rd_kafka_destroy(rk);
        free(seen);
        free(eof_at);
}

/* A partition queue split off the consumer queue: that partition's messages and end of
 * partition come only from it, the others from the consumer queue. */
static void split_part(const char *bootstrap, const char *topic, const char *group) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        rd_kafka_queue_t *cq, *pq;
        rd_kafka_topic_partition_list_t *topics;
        rd_kafka_event_t *ev;
        int *main_n = calloc((size_t)nparts, sizeof(int)), *pq_n = calloc((size_t)nparts, sizeof(int));
        int total = count + 3, got = 0, eof_main = 0, eof_pq = 0, i;
        time_t deadline;

        set(conf, "bootstrap.servers", bootstrap);
        set(conf, "group.id", group);
        set(conf, "auto.offset.reset", "earliest");
        set(conf, "enable.partition.eof", "true");
        rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_REBALANCE | RD_KAFKA_EVENT_ERROR);
        rk = new_client(RD_KAFKA_CONSUMER, conf);
        rd_kafka_poll_set_consumer(rk);
        cq = rd_kafka_queue_get_consumer(rk);
        pq = rd_kafka_queue_get_partition(rk, topic, 0);
        printf("split: partition queue %s\n", pq ? "set" : "NULL");
        if (!pq)
                exit(1);
        rd_kafka_queue_forward(pq, NULL);
        topics = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(rk, topics);
        rd_kafka_topic_partition_list_destroy(topics);
        deadline = time(NULL) + 60;
        while ((got < total || eof_main + eof_pq < nparts) && time(NULL) < deadline) {
                if ((ev = rd_kafka_queue_poll(cq, 100))) {
                        switch (rd_kafka_event_type(ev)) {
                        case RD_KAFKA_EVENT_REBALANCE:
                                if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS)
                                        rd_kafka_assign(rk, rd_kafka_event_topic_partition_list(ev));
                                else
                                        rd_kafka_assign(rk, NULL);
                                break;
                        case RD_KAFKA_EVENT_FETCH:
                                main_n[rd_kafka_event_message_next(ev)->partition]++;
                                got++;
                                break;
                        case RD_KAFKA_EVENT_ERROR:
                                if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                        eof_main++;
                                else
                                        printf("split: error %s\n",
                                               rd_kafka_err2name(rd_kafka_event_error(ev)));
                                break;
                        default:
                                printf("split: event %s\n", rd_kafka_event_name(ev));
                        }
                        rd_kafka_event_destroy(ev);
                }
                while ((ev = rd_kafka_queue_poll(pq, 0))) {
                        if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_FETCH) {
                                pq_n[rd_kafka_event_message_next(ev)->partition]++;
                                got++;
                        } else if (rd_kafka_event_error(ev) == RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                eof_pq++;
                        else
                                printf("split: partition queue event %s\n", rd_kafka_event_name(ev));
                        rd_kafka_event_destroy(ev);
                }
        }
        printf("split: consumer queue");
        for (i = 0; i < nparts; i++)
                printf(" %d", main_n[i]);
        printf(" eofs %d\nsplit: partition queue", eof_main);
        for (i = 0; i < nparts; i++)
                printf(" %d", pq_n[i]);
        printf(" eofs %d, length %d\n", eof_pq, (int)rd_kafka_queue_length(pq));
        rd_kafka_queue_destroy(pq);
        printf("split: close %s\n", rd_kafka_err2name(rd_kafka_consumer_close(rk)));
        rd_kafka_queue_destroy(cq);
        rd_kafka_destroy(rk);
        free(main_n);
        free(pq_n);
}

int main(int argc, char **argv) {
        if (argc != 6 && argc != 7) {
                fprintf(stderr, "usage: %s bootstrap topic group count partitions [cooperative]\n",
                        argv[0]);
                return 2;
        }
        count = atoi(argv[4]);
        nparts = atoi(argv[5]);
        next_off = calloc((size_t)nparts, sizeof(*next_off));
        printf("NULL event: type %d name %s\n", rd_kafka_event_type(NULL),
               rd_kafka_event_name(NULL));
        rd_kafka_event_destroy(NULL);
        producer_part(argv[1], argv[2]);
        consumer_part(argv[1], argv[2], argv[3], argc == 7);
        if (argc == 6) {
                char group[256];
                snprintf(group, sizeof(group), "%s-split", argv[3]);
                split_part(argv[1], argv[2], group);
        }
        free(next_off);
        printf("done\n");
        return 0;
}
