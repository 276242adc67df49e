/* Exercises the handle-free part of the librdkafka C API: configuration, topic partition lists,
 * headers, error codes and rd_kafka_error_t. Compiled against the system's rdkafka.h and linked
 * once against librskafka and once against the system librdkafka; tests/capi_smoke.rs checks that
 * both print the same (except the "version:" line). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <librdkafka/rdkafka.h>

static void conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, size_t errsz) {
        char errstr[512];
        rd_kafka_conf_res_t r;
        memset(errstr, 'X', sizeof(errstr));
        errstr[0] = '\0';
        r = rd_kafka_conf_set(conf, name, value, errstr, errsz);
        printf("conf_set %s=%s -> %d \"%s\"\n", name, value ? value : "(null)", (int)r,
               r == RD_KAFKA_CONF_OK ? "" : errstr);
}

static void conf_get(const rd_kafka_conf_t *conf, const char *name) {
        char buf[256];
        size_t sz = 0;
        rd_kafka_conf_res_t r = rd_kafka_conf_get(conf, name, NULL, &sz);
        printf("conf_get_size %s -> %d %zu\n", name, (int)r, sz);
        sz = sizeof(buf);
        r = rd_kafka_conf_get(conf, name, buf, &sz);
        printf("conf_get %s -> %d \"%s\" %zu\n", name, (int)r, r == RD_KAFKA_CONF_OK ? buf : "", sz);
        sz = 3;
        r = rd_kafka_conf_get(conf, name, buf, &sz);
        printf("conf_get_small %s -> %d %zu\n", name, (int)r, sz);
}

static void topic_conf_get(const rd_kafka_topic_conf_t *conf, const char *name) {
        char buf[256];
        size_t sz = sizeof(buf);
        rd_kafka_conf_res_t r = rd_kafka_topic_conf_get(conf, name, buf, &sz);
        printf("topic_conf_get %s -> %d \"%s\"\n", name, (int)r, r == RD_KAFKA_CONF_OK ? buf : "");
}

static void print_list(const char *what, const rd_kafka_topic_partition_list_t *l) {
        int i;
        printf("%s: cnt=%d\n", what, l->cnt);
        for (i = 0; i < l->cnt; i++) {
                const rd_kafka_topic_partition_t *p = &l->elems[i];
                printf("  %s [%" PRId32 "] offset=%" PRId64 " err=%d metadata=%.*s\n", p->topic,
                       p->partition, p->offset, (int)p->err, (int)p->metadata_size,
                       p->metadata ? (const char *)p->metadata : "");
        }
}

static int cmp_desc(const void *a, const void *b, void *opaque) {
        const rd_kafka_topic_partition_t *x = a, *y = b;
        int c = strcmp(y->topic, x->topic);
        (void)opaque;
        return c ? c : (int)(y->partition - x->partition);
}

static void print_header(const char *what, rd_kafka_resp_err_t err, const void *v, size_t sz) {
        if (err)
                printf("%s -> %s\n", what, rd_kafka_err2name(err));
        else
                printf("%s -> %.*s (%zu)%s\n", what, (int)sz, v ? (const char *)v : "", sz,
                       v ? "" : " NULL");
}

int main(void) {
        rd_kafka_conf_t *conf, *dup;
        rd_kafka_topic_conf_t *tconf;
        const char **arr;
        size_t cnt, i;
        int code;
        rd_kafka_topic_partition_list_t *l, *copy;
        rd_kafka_topic_partition_t *p;
        rd_kafka_headers_t *h, *h2;
        const void *v;
        const char *name;
        size_t sz;
        const struct rd_kafka_err_desc *descs;
        rd_kafka_error_t *error;

        printf("version: %s 0x%x\n", rd_kafka_version_str(), rd_kafka_version());

        /* Configuration. */
        conf = rd_kafka_conf_new();
        conf_set(conf, "bootstrap.servers", "localhost:9092", 512);
        conf_set(conf, "no.such.property", "1", 512);
        conf_set(conf, "no.such.property", "1", 10);
        conf_set(conf, "session.timeout.ms", "0", 512);
        conf_set(conf, "enable.auto.commit", "maybe", 512);
        conf_set(conf, "compression.codec", "lz5", 512);
        conf_set(conf, "queue.buffering.max.ms", "5", 512);
        conf_set(conf, "linger.ms", "7.5", 512);
        conf_set(conf, "auto.offset.reset", "earliest", 512);
        conf_set(conf, "topic.auto.offset.reset", "latest", 512);
        conf_set(conf, "group.id", "g1", 512);
        conf_get(conf, "bootstrap.servers");
        conf_get(conf, "client.id");
        conf_get(conf, "queue.buffering.max.ms");
        conf_get(conf, "linger.ms");
        conf_get(conf, "metadata.broker.list");
        conf_get(conf, "group.id");
        conf_get(conf, "auto.offset.reset");
        conf_get(conf, "no.such.property");
        conf_get(conf, "enable.auto.commit");
        conf_get(conf, "compression.codec");

        arr = rd_kafka_conf_dump(conf, &cnt);
        printf("dump even=%d\n", (int)(cnt % 2 == 0));
        for (i = 0; i + 1 < cnt; i += 2)
                if (!strcmp(arr[i], "bootstrap.servers") || !strcmp(arr[i], "client.id") ||
                    !strcmp(arr[i], "group.id") || !strcmp(arr[i], "queue.buffering.max.ms"))
                        printf("dump %s=%s\n", arr[i], arr[i + 1]);
        rd_kafka_conf_dump_free(arr, cnt);

        dup = rd_kafka_conf_dup(conf);
        conf_get(dup, "bootstrap.servers");
        rd_kafka_conf_destroy(dup);

        tconf = rd_kafka_conf_get_default_topic_conf(conf);
        printf("default topic conf %s\n", tconf ? "set" : "NULL");
        if (tconf)
                topic_conf_get(tconf, "auto.offset.reset");

        tconf = rd_kafka_topic_conf_new();
        printf("topic_conf_set -> %d\n",
               (int)rd_kafka_topic_conf_set(tconf, "message.timeout.ms", "1234", NULL, 0));
        {
                char errstr[256];
                rd_kafka_conf_res_t r = rd_kafka_topic_conf_set(tconf, "bootstrap.servers", "x",
                                                                errstr, sizeof(errstr));
                printf("topic_conf_set global -> %d \"%s\"\n", (int)r, errstr);
        }
        topic_conf_get(tconf, "message.timeout.ms");
        topic_conf_get(tconf, "request.required.acks");
        arr = rd_kafka_topic_conf_dump(tconf, &cnt);
        for (i = 0; i + 1 < cnt; i += 2)
                if (!strcmp(arr[i], "message.timeout.ms"))
                        printf("topic dump %s=%s\n", arr[i], arr[i + 1]);
        rd_kafka_conf_dump_free(arr, cnt);
        rd_kafka_conf_set_default_topic_conf(conf, tconf);
        tconf = rd_kafka_conf_get_default_topic_conf(conf);
        topic_conf_get(tconf, "message.timeout.ms");
        rd_kafka_conf_destroy(conf);

        /* Topic partition lists. */
        l = rd_kafka_topic_partition_list_new(0);
        rd_kafka_topic_partition_list_add(l, "b", 1);
        p = rd_kafka_topic_partition_list_add(l, "a", 2);
        p->offset = 42;
        p->metadata = strdup("meta");
        p->metadata_size = 4;
        rd_kafka_topic_partition_list_add(l, "a", 0)->err = RD_KAFKA_RESP_ERR__PARTITION_EOF;
        rd_kafka_topic_partition_list_add_range(l, "c", 0, 2);
        print_list("added", l);
        printf("set_offset a/0 -> %d\n", (int)rd_kafka_topic_partition_list_set_offset(l, "a", 0, 7));
        printf("set_offset z/0 -> %d\n", (int)rd_kafka_topic_partition_list_set_offset(l, "z", 0, 7));
        p = rd_kafka_topic_partition_list_find(l, "c", 1);
        printf("find c/1 -> %s %" PRId32 "\n", p ? p->topic : "NULL", p ? p->partition : -1);
        p = rd_kafka_topic_partition_list_find(l, "c", 9);
        printf("find c/9 -> %s\n", p ? "found" : "NULL");
        printf("del c/1 -> %d\n", rd_kafka_topic_partition_list_del(l, "c", 1));
        printf("del c/1 -> %d\n", rd_kafka_topic_partition_list_del(l, "c", 1));
        rd_kafka_topic_partition_list_sort(l, NULL, NULL);
        print_list("sorted", l);
        copy = rd_kafka_topic_partition_list_copy(l);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_topic_partition_list_sort(copy, cmp_desc, NULL);
        print_list("copy sorted desc", copy);
        printf("del_by_idx 0 -> %d\n", rd_kafka_topic_partition_list_del_by_idx(copy, 0));
        printf("del_by_idx 99 -> %d\n", rd_kafka_topic_partition_list_del_by_idx(copy, 99));
        print_list("after del_by_idx", copy);
        rd_kafka_topic_partition_list_destroy(copy);

        /* Headers. */
        h = rd_kafka_headers_new(2);
        rd_kafka_header_add(h, "k1", -1, "v1", -1);
        rd_kafka_header_add(h, "k2", 2, "value2", 3);
        rd_kafka_header_add(h, "k1", -1, "v1b", -1);
        rd_kafka_header_add(h, "knull", -1, NULL, 0);
        printf("header_cnt %zu\n", rd_kafka_header_cnt(h));
        print_header("get_last k1", rd_kafka_header_get_last(h, "k1", &v, &sz), v, sz);
        print_header("get_last knull", rd_kafka_header_get_last(h, "knull", &v, &sz), v, sz);
        print_header("get_last nope", rd_kafka_header_get_last(h, "nope", &v, &sz), v, sz);
        print_header("get 0 k1", rd_kafka_header_get(h, 0, "k1", &v, &sz), v, sz);
        print_header("get 1 k1", rd_kafka_header_get(h, 1, "k1", &v, &sz), v, sz);
        print_header("get 2 k1", rd_kafka_header_get(h, 2, "k1", &v, &sz), v, sz);
        for (i = 0; rd_kafka_header_get_all(h, i, &name, &v, &sz) == 0; i++) {
                printf("get_all %zu %s ", i, name);
                print_header("", 0, v, sz);
        }
        h2 = rd_kafka_headers_copy(h);
        printf("remove k1 -> %s\n", rd_kafka_err2name(rd_kafka_header_remove(h, "k1")));
        printf("remove k1 -> %s\n", rd_kafka_err2name(rd_kafka_header_remove(h, "k1")));
        printf("header_cnt %zu copy %zu\n", rd_kafka_header_cnt(h), rd_kafka_header_cnt(h2));
        rd_kafka_headers_destroy(h);
        rd_kafka_headers_destroy(h2);

        /* Error codes: every code librdkafka 2.0.2 knows. */
        for (code = -201; code <= 98; code++) {
                if (code > -100 && code < -1)
                        continue;
                printf("err %d %s \"%s\"\n", code, rd_kafka_err2name((rd_kafka_resp_err_t)code),
                       rd_kafka_err2str((rd_kafka_resp_err_t)code));
        }
        printf("err 12345 %s \"%s\"\n", rd_kafka_err2name(12345), rd_kafka_err2str(12345));
        rd_kafka_get_err_descs(&descs, &cnt);
        for (i = 0; i < cnt && descs[i].code <= 97; i++)
                if (descs[i].name)
                        printf("desc %zu %d %s \"%s\"\n", i, (int)descs[i].code, descs[i].name,
                               descs[i].desc ? descs[i].desc : "(null)");
        for (code = 0; code < 130; code += 1)
                if (rd_kafka_errno2err(code) != RD_KAFKA_RESP_ERR__FAIL)
                        printf("errno2err %d -> %s\n", code, rd_kafka_err2name(rd_kafka_errno2err(code)));

        error = rd_kafka_error_new(RD_KAFKA_RESP_ERR__TIMED_OUT, "took %d ms on %s", 1500, "broker");
        printf("error %d %s \"%s\" fatal=%d retriable=%d abort=%d\n", (int)rd_kafka_error_code(error),
               rd_kafka_error_name(error), rd_kafka_error_string(error), rd_kafka_error_is_fatal(error),
               rd_kafka_error_is_retriable(error), rd_kafka_error_txn_requires_abort(error));
        rd_kafka_error_destroy(error);
        printf("null error %d %s \"%s\"\n", (int)rd_kafka_error_code(NULL), rd_kafka_error_name(NULL),
               rd_kafka_error_string(NULL));
        printf("done\n");
        return 0;
}
