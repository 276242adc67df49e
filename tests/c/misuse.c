/* Misuse of the C API: NULL handles, topics, messages and lists, consumer calls on a producer and
 * producer calls on a consumer, invalid configuration values, oversized messages, partition list
 * misuse. Compiled against the system rdkafka.h and linked once against librskafka and once
 * against the system librdkafka: tests/capi_misuse.rs checks both print the same, and runs the
 * librskafka build under valgrind.
 *
 * Cases librdkafka itself crashes on (it dereferences or asserts on the argument) are not compared:
 * they run only on librskafka, after the "librskafka only" line, and check librskafka's
 * documented convention (src/capi/mod.rs: INVALID_ARG, NULL, -1 or nothing, never a crash). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

static char errstr[512];

static void show_err(const char *what, rd_kafka_resp_err_t err) {
        printf("%s -> %s\n", what, rd_kafka_err2name(err));
}

static void show_error(const char *what, rd_kafka_error_t *error) {
        if (!error) {
                printf("%s -> (no error)\n", what);
                return;
        }
        printf("%s -> %s \"%s\"\n", what, rd_kafka_err2name(rd_kafka_error_code(error)),
               rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
}

static void show_list(const char *what, const rd_kafka_topic_partition_list_t *l) {
        int i;
        printf("%s:", what);
        if (!l) {
                printf(" (null)\n");
                return;
        }
        for (i = 0; i < l->cnt; i++)
                printf(" %s[%" PRId32 "]@%" PRId64 ":%s", l->elems[i].topic, l->elems[i].partition,
                       l->elems[i].offset, rd_kafka_err2name(l->elems[i].err));
        printf("\n");
}

static void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value) {
        rd_kafka_conf_res_t r;
        errstr[0] = '\0';
        r = rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr));
        printf("conf_set %s=%s -> %d \"%s\"\n", name ? name : "(null)", value ? value : "(null)",
               (int)r, r == RD_KAFKA_CONF_OK ? "" : errstr);
}

static void topic_conf_set(rd_kafka_topic_conf_t *conf, const char *name, const char *value) {
        rd_kafka_conf_res_t r;
        errstr[0] = '\0';
        r = rd_kafka_topic_conf_set(conf, name, value, errstr, sizeof(errstr));
        printf("topic_conf_set %s=%s -> %d \"%s\"\n", name, value ? value : "(null)", (int)r,
               r == RD_KAFKA_CONF_OK ? "" : errstr);
}

static rd_kafka_t *new_handle(rd_kafka_type_t type, const char *group, const char *max_bytes) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:9", NULL, 0);
        rd_kafka_conf_set(conf, "log_level", "0", NULL, 0);
        if (group)
                rd_kafka_conf_set(conf, "group.id", group, NULL, 0);
        if (max_bytes)
                rd_kafka_conf_set(conf, "message.max.bytes", max_bytes, NULL, 0);
        rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
        if (!rk) {
                printf("rd_kafka_new failed: %s\n", errstr);
                exit(1);
        }
        return rk;
}

static void config_misuse(void) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_conf_t *tconf = rd_kafka_topic_conf_new();
        rd_kafka_t *rk;
        char buf[64];
        size_t sz = sizeof(buf);

        conf_set(conf, "no.such.property", "1");
        conf_set(conf, "linger.ms", "abc");
        conf_set(conf, "linger.ms", "-1");
        conf_set(conf, "linger.ms", "900001");
        conf_set(conf, "message.max.bytes", "999");
        conf_set(conf, "compression.codec", "bogus");
        conf_set(conf, "enable.idempotence", "maybe");
        conf_set(conf, "acks", "7");
        conf_set(conf, "acks", "");
        conf_set(conf, "partitioner", "nope");
        conf_set(conf, "auto.offset.reset", "sometimes");
        conf_set(conf, "bootstrap.servers", "");
        conf_set(conf, "client.id", NULL);
        printf("conf_get unknown -> %d\n", (int)rd_kafka_conf_get(conf, "no.such", buf, &sz));
        topic_conf_set(tconf, "no.such.property", "1");
        topic_conf_set(tconf, "request.required.acks", "x");
        topic_conf_set(tconf, "message.timeout.ms", "-5");
        topic_conf_set(tconf, "partitioner", "nope");
        rd_kafka_topic_conf_destroy(tconf);

        /* An invalid client type: librdkafka fails and leaves the conf to the caller. */
        conf_set(conf, "bootstrap.servers", "127.0.0.1:9");
        rd_kafka_conf_destroy(conf);
        conf = rd_kafka_conf_new();
        rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:9", NULL, 0);
        /* Inconsistent configuration is refused by rd_kafka_new. */
        rd_kafka_conf_set(conf, "enable.idempotence", "true", NULL, 0);
        rd_kafka_conf_set(conf, "acks", "1", NULL, 0);
        errstr[0] = '\0';
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        printf("new idempotence+acks=1 -> %s \"%s\"\n", rk ? "handle" : "NULL", rk ? "" : errstr);
        if (rk)
                rd_kafka_destroy(rk);
        else
                rd_kafka_conf_destroy(conf);
}

static void produce_misuse(rd_kafka_t *producer) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(producer, "misuse", NULL);
        char big[2000], key[40];
        rd_kafka_message_t batch[3];
        int r, i;

        memset(big, 'x', sizeof(big));
        memset(key, 'k', sizeof(key));
        r = rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, big, 1000, NULL, 0, NULL);
        printf("produce 1000 bytes (max 1000) -> %d %s\n", r,
               r ? rd_kafka_err2name(rd_kafka_last_error()) : "");
        r = rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, big, 900, NULL, 0, NULL);
        printf("produce 900 bytes -> %d\n", r);
        r = rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, big, 1001, NULL, 0, NULL);
        printf("produce 1001 bytes -> %d %s errno %d\n", r, rd_kafka_err2name(rd_kafka_last_error()),
               errno);
        r = rd_kafka_produce(rkt, 0, RD_KAFKA_MSG_F_COPY, big, 980, key, 40, NULL);
        printf("produce 980+40 key bytes -> %d %s\n", r, rd_kafka_err2name(rd_kafka_last_error()));
        show_err("producev 2000 bytes",
                 rd_kafka_producev(producer, RD_KAFKA_V_TOPIC("misuse"),
                                   RD_KAFKA_V_VALUE(big, sizeof(big)),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END));
        show_err("producev no topic",
                 rd_kafka_producev(producer, RD_KAFKA_V_VALUE("v", 1),
                                   RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END));
        memset(batch, 0, sizeof(batch));
        for (i = 0; i < 3; i++) {
                batch[i].payload = big;
                batch[i].len = i == 1 ? sizeof(big) : 10;
        }
        r = rd_kafka_produce_batch(rkt, 1, RD_KAFKA_MSG_F_COPY, batch, 3);
        printf("produce_batch 3 (one oversized) -> %d [%s %s %s]\n", r,
               rd_kafka_err2name(batch[0].err), rd_kafka_err2name(batch[1].err),
               rd_kafka_err2name(batch[2].err));
        r = rd_kafka_produce_batch(rkt, 1, RD_KAFKA_MSG_F_COPY, NULL, 0);
        printf("produce_batch 0 -> %d\n", r);
        r = rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY | RD_KAFKA_MSG_F_FREE,
                             "v", 1, NULL, 0, NULL);
        printf("produce F_COPY|F_FREE -> %d %s\n", r, rd_kafka_err2name(rd_kafka_last_error()));
        show_err("purge all", rd_kafka_purge(producer, RD_KAFKA_PURGE_F_QUEUE |
                                                           RD_KAFKA_PURGE_F_INFLIGHT));
        rd_kafka_poll(producer, 0);
        printf("outq_len after purge + poll -> %d\n", rd_kafka_outq_len(producer));
        rd_kafka_topic_destroy(rkt);
        rkt = rd_kafka_topic_new(producer, "", NULL);
        printf("topic_new \"\" -> %s\n", rkt ? "topic" : "NULL");
        if (rkt)
                rd_kafka_topic_destroy(rkt);
}

static void consumer_calls_on(const char *kind, rd_kafka_t *rk) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1), *out = NULL;
        rd_kafka_message_t *m;
        char what[128];
        char *memberid;

        rd_kafka_topic_partition_list_add(l, "misuse", 0)->offset = 5;
#define W(name) (snprintf(what, sizeof(what), "%s %s", kind, name), what)
        show_err(W("subscribe"), rd_kafka_subscribe(rk, l));
        show_err(W("unsubscribe"), rd_kafka_unsubscribe(rk));
        show_err(W("assign NULL"), rd_kafka_assign(rk, NULL));
        show_err(W("subscription"), rd_kafka_subscription(rk, &out));
        if (out) {
                show_list(W("subscription list"), out);
                rd_kafka_topic_partition_list_destroy(out);
                out = NULL;
        }
        m = rd_kafka_consumer_poll(rk, 0);
        printf("%s consumer_poll -> %s\n", kind,
               m ? rd_kafka_err2name(m->err) : "NULL");
        if (m)
                rd_kafka_message_destroy(m);
        show_err(W("poll_set_consumer"), rd_kafka_poll_set_consumer(rk));
        show_err(W("commit NULL async"), rd_kafka_commit(rk, NULL, 1));
        show_err(W("commit NULL sync"), rd_kafka_commit(rk, NULL, 0));
        show_err(W("commit list async"), rd_kafka_commit(rk, l, 1));
        show_err(W("commit_queue NULL"), rd_kafka_commit_queue(rk, NULL, NULL, NULL, NULL));
        show_err(W("assignment"), rd_kafka_assignment(rk, &out));
        if (out) {
                show_list(W("assignment list"), out);
                rd_kafka_topic_partition_list_destroy(out);
                out = NULL;
        }
        printf("%s assignment_lost -> %d\n", kind, rd_kafka_assignment_lost(rk));
        printf("%s rebalance_protocol -> %s\n", kind,
               rd_kafka_rebalance_protocol(rk) ? rd_kafka_rebalance_protocol(rk) : "NULL");
        memberid = rd_kafka_memberid(rk);
        printf("%s memberid -> %s\n", kind, memberid ? (*memberid ? "set" : "\"\"") : "NULL");
        if (memberid)
                rd_kafka_mem_free(rk, memberid);
        show_err(W("position"), rd_kafka_position(rk, l));
        show_list(W("position list"), l);
        l->elems[0].offset = 5;
        show_err(W("pause"), rd_kafka_pause_partitions(rk, l));
        show_list(W("pause list"), l);
        show_err(W("resume"), rd_kafka_resume_partitions(rk, l));
        show_err(W("offsets_store"), rd_kafka_offsets_store(rk, l));
        show_list(W("offsets_store list"), l);
        l->elems[0].err = 0;
        show_error(W("seek_partitions"), rd_kafka_seek_partitions(rk, l, 0));
        l->elems[0].err = 0;
        show_error(W("incremental_assign NULL"), rd_kafka_incremental_assign(rk, NULL));
        show_error(W("incremental_unassign NULL"), rd_kafka_incremental_unassign(rk, NULL));
        printf("%s consumer_closed -> %d\n", kind, rd_kafka_consumer_closed(rk));
        rd_kafka_topic_partition_list_destroy(l);
}

static void producer_calls_on_consumer(rd_kafka_t *consumer) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(consumer, "misuse", NULL);
        show_err("consumer flush", rd_kafka_flush(consumer, 0));
        show_err("consumer purge", rd_kafka_purge(consumer, RD_KAFKA_PURGE_F_QUEUE));
        rd_kafka_topic_destroy(rkt);
}

static void group_misuse(rd_kafka_t *consumer) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(2);
        rd_kafka_topic_partition_list_t *empty = rd_kafka_topic_partition_list_new(0);

        show_err("subscribe empty list", rd_kafka_subscribe(consumer, empty));
        rd_kafka_topic_partition_list_add(l, "misuse", 0);
        rd_kafka_topic_partition_list_add(l, "misuse", 0);
        show_error("incremental_assign duplicate", rd_kafka_incremental_assign(consumer, l));
        rd_kafka_topic_partition_list_del(l, "misuse", 0);
        l->elems[0].offset = -1500; /* logical, not a tail offset: invalid */
        show_error("incremental_assign bad offset", rd_kafka_incremental_assign(consumer, l));
        show_error("incremental_unassign not assigned", rd_kafka_incremental_unassign(consumer, l));
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_topic_partition_list_destroy(empty);
}

static void list_misuse(void) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(0), *c;
        rd_kafka_topic_partition_t *p;

        rd_kafka_topic_partition_list_add(l, "b", 2);
        rd_kafka_topic_partition_list_add(l, "a", 1);
        rd_kafka_topic_partition_list_add_range(l, "r", 5, 3);
        rd_kafka_topic_partition_list_add_range(l, "r", 1, 2);
        show_list("list", l);
        printf("del missing -> %d\n", rd_kafka_topic_partition_list_del(l, "zz", 0));
        printf("del_by_idx -1 -> %d\n", rd_kafka_topic_partition_list_del_by_idx(l, -1));
        printf("del_by_idx 99 -> %d\n", rd_kafka_topic_partition_list_del_by_idx(l, 99));
        p = rd_kafka_topic_partition_list_find(l, "zz", 1);
        printf("find missing -> %s\n", p ? "found" : "NULL");
        show_err("set_offset missing", rd_kafka_topic_partition_list_set_offset(l, "zz", 0, 1));
        rd_kafka_topic_partition_list_sort(l, NULL, NULL);
        show_list("sorted", l);
        c = rd_kafka_topic_partition_list_copy(l);
        rd_kafka_topic_partition_list_destroy(l);
        show_list("copy", c);
        rd_kafka_topic_partition_list_destroy(c);
}

static void headers_misuse(void) {
        rd_kafka_headers_t *h = rd_kafka_headers_new(0);
        const void *v;
        size_t sz;
        const char *name;

        show_err("header_add NULL value", rd_kafka_header_add(h, "k", -1, NULL, 5));
        show_err("header_get_all 5", rd_kafka_header_get_all(h, 5, &name, &v, &sz));
        show_err("header_get_last missing", rd_kafka_header_get_last(h, "nope", &v, &sz));
        show_err("header_remove missing", rd_kafka_header_remove(h, "nope"));
        printf("header_cnt -> %zu\n", rd_kafka_header_cnt(h));
        rd_kafka_headers_destroy(h);
}

static void show_message(const char *what, rd_kafka_message_t *m) {
        rd_kafka_timestamp_type_t tstype = RD_KAFKA_TIMESTAMP_CREATE_TIME;
        rd_kafka_headers_t *h = NULL;
        int64_t ts = rd_kafka_message_timestamp(m, &tstype);
        printf("%s: err %s errstr \"%s\" ts %" PRId64 "/%d latency %" PRId64 " broker %d\n", what,
               rd_kafka_err2name(m->err), rd_kafka_message_errstr(m), ts, (int)tstype,
               rd_kafka_message_latency(m), (int)rd_kafka_message_broker_id(m));
        show_err("message_headers", rd_kafka_message_headers(m, &h));
        show_err("message_detach_headers", rd_kafka_message_detach_headers(m, &h));
}

/* Handle-level calls with the wrong handle type or state, partitioners, and an error message
 * from consumer_poll on a producer. */
static void handle_misuse(rd_kafka_t *producer, rd_kafka_t *consumer) {
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(producer, "misuse", NULL);
        rd_kafka_message_t *m;
        rd_kafka_headers_t *h = rd_kafka_headers_new(2), *hc;
        char buf[128];

        printf("type producer %d consumer %d\n", (int)rd_kafka_type(producer),
               (int)rd_kafka_type(consumer));
        printf("opaque %s conf %s\n", rd_kafka_opaque(producer) ? "set" : "NULL",
               rd_kafka_conf(producer) ? "set" : "NULL");
        buf[0] = '\0';
        show_err("fatal_error", rd_kafka_fatal_error(producer, buf, sizeof(buf)));
        printf("err2str -12345 \"%s\" err2name \"%s\"\n", rd_kafka_err2str(-12345),
               rd_kafka_err2name(-12345));
        printf("partitioners NULL key: consistent %d fnv1a %d murmur2 %d\n",
               (int)rd_kafka_msg_partitioner_consistent(rkt, NULL, 0, 7, NULL, NULL),
               (int)rd_kafka_msg_partitioner_fnv1a(rkt, NULL, 0, 7, NULL, NULL),
               (int)rd_kafka_msg_partitioner_murmur2(rkt, NULL, 0, 7, NULL, NULL));
        printf("partitioners one partition: %d %d %d\n",
               (int)rd_kafka_msg_partitioner_consistent(rkt, "key", 3, 1, NULL, NULL),
               (int)rd_kafka_msg_partitioner_fnv1a(rkt, "key", 3, 1, NULL, NULL),
               (int)rd_kafka_msg_partitioner_murmur2(rkt, "key", 3, 1, NULL, NULL));
        printf("partition_available unknown -> %d\n", rd_kafka_topic_partition_available(rkt, 3));
        /* Not compared: librdkafka runs the legacy consumer (consume_start_queue, consume_stop,
         * offset_store) and watermark queries on producer handles too; librskafka refuses them
         * there (_INVALID_ARG, _NOT_IMPLEMENTED). */
        m = rd_kafka_consumer_poll(producer, 0);
        if (m) {
                show_message("producer consumer_poll message", m);
                rd_kafka_message_destroy(m);
        }
        rd_kafka_header_add(h, "a", -1, "1", 1);
        rd_kafka_header_add(h, "b", -1, NULL, 0);
        hc = rd_kafka_headers_copy(h);
        printf("headers_copy cnt %zu\n", rd_kafka_header_cnt(hc));
        rd_kafka_headers_destroy(hc);
        rd_kafka_headers_destroy(h);
        rd_kafka_topic_destroy(rkt);
}

static int wrong = 0;
#define CHECK(name, cond)                                                                          \
        do {                                                                                       \
                int ok_ = (cond);                                                                  \
                printf("%s %s\n", name, ok_ ? "ok" : "WRONG");                                     \
                wrong += !ok_;                                                                     \
        } while (0)

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
}

/* More NULL arguments librdkafka crashes on: conf setters, dumps, legacy consumer, messages,
 * error objects. */
static void null_misuse_librskafka2(void) {
        size_t cnt = 7;
        int64_t lo, hi;
        rd_kafka_message_t *msgs[1];
        rd_kafka_headers_t *h = NULL;

        rd_kafka_conf_set_dr_msg_cb(NULL, dr_msg_cb);
        rd_kafka_conf_set_error_cb(NULL, NULL);
        rd_kafka_conf_set_log_cb(NULL, NULL);
        rd_kafka_conf_set_rebalance_cb(NULL, NULL);
        rd_kafka_conf_set_offset_commit_cb(NULL, NULL);
        rd_kafka_conf_set_stats_cb(NULL, NULL);
        rd_kafka_conf_set_throttle_cb(NULL, NULL);
        rd_kafka_conf_set_opaque(NULL, NULL);
        rd_kafka_conf_set_events(NULL, 0);
        rd_kafka_conf_set_background_event_cb(NULL, NULL);
        rd_kafka_conf_set_oauthbearer_token_refresh_cb(NULL, NULL);
        rd_kafka_conf_enable_sasl_queue(NULL, 1);
        rd_kafka_conf_set_default_topic_conf(NULL, NULL);
        rd_kafka_topic_conf_set_opaque(NULL, NULL);
        rd_kafka_topic_conf_set_partitioner_cb(NULL, NULL);
        CHECK("conf_dump NULL", rd_kafka_conf_dump(NULL, &cnt) == NULL && cnt == 0);
        cnt = 7;
        CHECK("topic_conf_dump NULL", rd_kafka_topic_conf_dump(NULL, &cnt) == NULL && cnt == 0);
        rd_kafka_conf_dump_free(NULL, 0);
        CHECK("conf_get_default_topic_conf NULL", rd_kafka_conf_get_default_topic_conf(NULL) == NULL);
        CHECK("opaque NULL", rd_kafka_opaque(NULL) == NULL);
        CHECK("fatal_error NULL",
              rd_kafka_fatal_error(NULL, NULL, 0) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("consume_start_queue NULL",
              rd_kafka_consume_start_queue(NULL, 0, 0, NULL) == -1 &&
                  rd_kafka_last_error() == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("consume_stop NULL", rd_kafka_consume_stop(NULL, 0) == -1);
        CHECK("consume_batch_queue NULL", rd_kafka_consume_batch_queue(NULL, 0, msgs, 1) == -1);
        CHECK("consume_callback_queue NULL",
              rd_kafka_consume_callback_queue(NULL, 0, NULL, NULL) == -1);
        CHECK("seek NULL", rd_kafka_seek(NULL, 0, 0, 0) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("offset_store NULL", rd_kafka_offset_store(NULL, 0, 0) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("query_watermark_offsets NULL",
              rd_kafka_query_watermark_offsets(NULL, "t", 0, &lo, &hi, 0) ==
                  RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("partition_available NULL", rd_kafka_topic_partition_available(NULL, 0) == 0);
        CHECK("message_latency NULL", rd_kafka_message_latency(NULL) == -1);
        CHECK("message_broker_id NULL", rd_kafka_message_broker_id(NULL) == -1);
        CHECK("message_detach_headers NULL",
              rd_kafka_message_detach_headers(NULL, &h) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("headers_copy NULL", rd_kafka_headers_copy(NULL) == NULL);
        CHECK("error_is_fatal NULL", rd_kafka_error_is_fatal(NULL) == 0);
        CHECK("error_is_retriable NULL", rd_kafka_error_is_retriable(NULL) == 0);
        CHECK("error_txn_requires_abort NULL", rd_kafka_error_txn_requires_abort(NULL) == 0);
        CHECK("queue_new NULL", rd_kafka_queue_new(NULL) == NULL);
        rd_kafka_queue_destroy(NULL);
        rd_kafka_metadata_destroy(NULL);
}

/* Things librdkafka crashes on: checked on librskafka only (see the top of the file). */

static void null_misuse_librskafka(rd_kafka_t *producer) {
        rd_kafka_t *rk;
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *out = NULL;
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        size_t sz = 0;
        const void *v;
        const char *name;

        CHECK("conf_set NULL conf",
              rd_kafka_conf_set(NULL, "acks", "1", errstr, sizeof(errstr)) == RD_KAFKA_CONF_INVALID);
        CHECK("conf_set NULL name",
              rd_kafka_conf_set(conf, NULL, "1", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK);
        CHECK("conf_get NULL conf", rd_kafka_conf_get(NULL, "acks", NULL, &sz) != RD_KAFKA_CONF_OK);
        rd_kafka_conf_destroy(NULL);
        rd_kafka_conf_destroy(conf);
        /* No errstr buffer, no bootstrap.servers: created with a CONFWARN notice on stderr. */
        conf = rd_kafka_conf_new();
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, NULL, 0);
        CHECK("new NULL errstr", 1);
        if (rk)
                rd_kafka_destroy(rk);
        else
                rd_kafka_conf_destroy(conf);
        CHECK("name NULL", rd_kafka_name(NULL) == NULL);
        CHECK("poll NULL", rd_kafka_poll(NULL, 0) == 0);
        CHECK("flush NULL", rd_kafka_flush(NULL, 0) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("outq_len NULL", rd_kafka_outq_len(NULL) == 0);
        CHECK("purge NULL", rd_kafka_purge(NULL, 0) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        /* Unknown flags: librdkafka 2.0.2 ignores them, later versions refuse them. */
        CHECK("purge bad flags", rd_kafka_purge(producer, 0x100) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("topic_new NULL rk", rd_kafka_topic_new(NULL, "t", NULL) == NULL);
        CHECK("topic_new NULL name", rd_kafka_topic_new(producer, NULL, NULL) == NULL);
        CHECK("topic_name NULL", rd_kafka_topic_name(NULL) == NULL);
        rd_kafka_topic_destroy(NULL);
        CHECK("produce NULL topic",
              rd_kafka_produce(NULL, 0, RD_KAFKA_MSG_F_COPY, "v", 1, NULL, 0, NULL) == -1 &&
                  rd_kafka_last_error() == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("produce_batch NULL topic",
              rd_kafka_produce_batch(NULL, 0, RD_KAFKA_MSG_F_COPY, NULL, 0) == -1 ||
                  rd_kafka_produce_batch(NULL, 0, RD_KAFKA_MSG_F_COPY, NULL, 0) == 0);
        CHECK("producev NULL rk",
              rd_kafka_producev(NULL, RD_KAFKA_V_TOPIC("t"), RD_KAFKA_V_END) ==
                  RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("subscribe NULL rk", rd_kafka_subscribe(NULL, l) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("subscribe NULL list",
              rd_kafka_subscribe(producer, NULL) != RD_KAFKA_RESP_ERR_NO_ERROR);
        CHECK("assignment NULL out",
              rd_kafka_assignment(NULL, &out) == RD_KAFKA_RESP_ERR__INVALID_ARG && out == NULL);
        CHECK("consumer_poll NULL", rd_kafka_consumer_poll(NULL, 0) == NULL);
        CHECK("commit NULL rk", rd_kafka_commit(NULL, NULL, 0) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("commit_message NULL msg",
              rd_kafka_commit_message(producer, NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR);
        CHECK("committed NULL list",
              rd_kafka_committed(producer, NULL, 0) != RD_KAFKA_RESP_ERR_NO_ERROR);
        CHECK("position NULL list", rd_kafka_position(producer, NULL) != RD_KAFKA_RESP_ERR_NO_ERROR);
        CHECK("pause NULL list",
              rd_kafka_pause_partitions(producer, NULL) != RD_KAFKA_RESP_ERR_NO_ERROR);
        CHECK("consumer_close NULL",
              rd_kafka_consumer_close(NULL) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("memberid NULL", rd_kafka_memberid(NULL) == NULL);
        CHECK("list_add NULL list", rd_kafka_topic_partition_list_add(NULL, "t", 0) == NULL);
        CHECK("list_add NULL topic", rd_kafka_topic_partition_list_add(l, NULL, 0) == NULL);
        CHECK("list_copy NULL", rd_kafka_topic_partition_list_copy(NULL) == NULL);
        CHECK("list_find NULL", rd_kafka_topic_partition_list_find(NULL, "t", 0) == NULL);
        CHECK("list_del NULL", rd_kafka_topic_partition_list_del(NULL, "t", 0) == 0);
        rd_kafka_topic_partition_list_destroy(NULL);
        rd_kafka_topic_partition_list_sort(NULL, NULL, NULL);
        CHECK("header_add NULL headers",
              rd_kafka_header_add(NULL, "k", -1, "v", 1) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        CHECK("header_cnt NULL", rd_kafka_header_cnt(NULL) == 0);
        CHECK("header_get_all NULL",
              rd_kafka_header_get_all(NULL, 0, &name, &v, &sz) != RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_headers_destroy(NULL);
        rd_kafka_message_destroy(NULL);
        CHECK("message_errstr NULL", rd_kafka_message_errstr(NULL) == NULL);
        CHECK("message_timestamp NULL", rd_kafka_message_timestamp(NULL, NULL) == -1);
        CHECK("message_headers NULL",
              rd_kafka_message_headers(NULL, NULL) == RD_KAFKA_RESP_ERR__INVALID_ARG);
        rd_kafka_error_destroy(NULL);
        CHECK("error_code NULL", rd_kafka_error_code(NULL) == RD_KAFKA_RESP_ERR_NO_ERROR);
        rd_kafka_destroy(NULL);
        rd_kafka_destroy_flags(NULL, 0);
        rd_kafka_topic_partition_list_destroy(l);
        null_misuse_librskafka2();
}

int main(void) {
        rd_kafka_t *producer, *consumer, *plain;
        int ours = strstr(rd_kafka_version_str(), "librskafka") != NULL;

        setvbuf(stdout, NULL, _IONBF, 0);

        config_misuse();
        producer = new_handle(RD_KAFKA_PRODUCER, NULL, "1000");
        consumer = new_handle(RD_KAFKA_CONSUMER, "misuse-group", NULL);
        plain = new_handle(RD_KAFKA_CONSUMER, NULL, NULL);
        produce_misuse(producer);
        consumer_calls_on("producer", producer);
        consumer_calls_on("consumer-without-group", plain);
        producer_calls_on_consumer(consumer);
        group_misuse(consumer);
        list_misuse();
        headers_misuse();
        handle_misuse(producer, consumer);
        if (ours) {
                printf("librskafka only\n");
                null_misuse_librskafka(producer);
        }
        rd_kafka_destroy(plain);
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
        rd_kafka_destroy(producer);
        printf("wait_destroyed -> %d\n", rd_kafka_wait_destroyed(5000));
        printf("done, %d wrong\n", wrong);
        return wrong != 0;
}
