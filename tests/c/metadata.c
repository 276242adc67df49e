/* Cluster metadata and offset queries through the C ABI, compiled against the system
 * rdkafka.h and linked once against librskafka and once against librdkafka: both runs must
 * print the same.
 *
 * usage: metadata <bootstrap> <topic> <missing-topic>
 *
 * <topic> has 2 partitions and data in partition 0. Prints the metadata of <topic> (brokers,
 * leaders, replicas, ISRs; the answering broker is checked, not printed: librdkafka picks it at
 * random), of the handle's known topics and of a missing topic, the controller and cluster id,
 * offsets by timestamp (and their errors), the cached watermarks before and after
 * consuming partition 0 to its end, and round trips of group metadata through
 * rd_kafka_consumer_group_metadata_write/_read (the bytes are private to each library); then a
 * producer's view of the same. */
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

static void print_ids(const char *what, const int32_t *ids, int cnt) {
        int i;
        printf(" %s", what);
        for (i = 0; i < cnt; i++)
                printf("%s%d", i ? "," : "", ids[i]);
}

static void print_metadata(const char *what, rd_kafka_resp_err_t err,
                           const rd_kafka_metadata_t *md) {
        int i, j, origin_ok = 0;
        char name[512];
        printf("%s: %s\n", what, rd_kafka_err2name(err));
        if (err)
                return;
        for (i = 0; i < md->broker_cnt; i++) {
                printf("  broker %d %s:%d\n", md->brokers[i].id, md->brokers[i].host,
                       md->brokers[i].port);
                snprintf(name, sizeof(name), "%s:%d/%d", md->brokers[i].host,
                         md->brokers[i].port, md->brokers[i].id);
                if (md->brokers[i].id == md->orig_broker_id &&
                    !strcmp(name, md->orig_broker_name))
                        origin_ok = 1;
        }
        printf("  origin %s\n", origin_ok ? "ok" : md->orig_broker_name);
        for (i = 0; i < md->topic_cnt; i++) {
                const rd_kafka_metadata_topic_t *t = &md->topics[i];
                printf("  topic %s: %d partitions, %s\n", t->topic, t->partition_cnt,
                       rd_kafka_err2name(t->err));
                for (j = 0; j < t->partition_cnt; j++) {
                        const rd_kafka_metadata_partition_t *p = &t->partitions[j];
                        printf("    partition %d leader %d %s", p->id, p->leader,
                               rd_kafka_err2name(p->err));
                        print_ids("replicas", p->replicas, p->replica_cnt);
                        print_ids("isrs", p->isrs, p->isr_cnt);
                        printf("\n");
                }
        }
        rd_kafka_metadata_destroy(md);
}

/* Serializes `m`, reads it back and serializes that: the two buffers must be equal. */
static void round_trip(const char *what, const rd_kafka_consumer_group_metadata_t *m) {
        void *b1 = NULL, *b2 = NULL;
        size_t n1 = 0, n2 = 0;
        rd_kafka_consumer_group_metadata_t *back = NULL;
        rd_kafka_error_t *e;
        if (!m) {
                printf("%s: NULL\n", what);
                return;
        }
        e = rd_kafka_consumer_group_metadata_write(m, &b1, &n1);
        if (!e)
                e = rd_kafka_consumer_group_metadata_read(&back, b1, n1);
        if (!e)
                e = rd_kafka_consumer_group_metadata_write(back, &b2, &n2);
        if (e) {
                printf("%s: %s\n", what, rd_kafka_error_name(e));
                rd_kafka_error_destroy(e);
        } else {
                printf("%s: round trip %s\n", what,
                       n1 > 0 && n1 == n2 && !memcmp(b1, b2, n1) ? "ok" : "differs");
        }
        rd_kafka_mem_free(NULL, b1);
        rd_kafka_mem_free(NULL, b2);
        rd_kafka_consumer_group_metadata_destroy(back);
}

static void print_list(const char *what, rd_kafka_resp_err_t err,
                       rd_kafka_topic_partition_list_t *l) {
        int i;
        printf("%s: %s\n", what, rd_kafka_err2name(err));
        for (i = 0; i < l->cnt; i++)
                printf("  %s [%d] %lld %s\n", l->elems[i].topic, l->elems[i].partition,
                       (long long)l->elems[i].offset, rd_kafka_err2name(l->elems[i].err));
}

int main(int argc, char **argv) {
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt, *missing;
        const rd_kafka_metadata_t *md;
        rd_kafka_topic_partition_list_t *l;
        rd_kafka_resp_err_t err;
        rd_kafka_message_t *m;
        char errstr[256], *cluster;
        int64_t lo = 0, hi = 0;
        int got = 0;
        time_t deadline;
        rd_kafka_consumer_group_metadata_t *cgmd;
        rd_kafka_error_t *error;
        rd_kafka_t *producer;

        if (argc != 4) {
                fprintf(stderr, "usage: %s bootstrap topic missing-topic\n", argv[0]);
                return 2;
        }
        conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", argv[1]);
        set(conf, "group.id", "metadata-c");
        set(conf, "enable.partition.eof", "true");
        set(conf, "auto.offset.reset", "earliest");
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }

        err = rd_kafka_get_watermark_offsets(rk, argv[2], 0, &lo, &hi);
        printf("cached watermarks before: %s %lld %lld\n", rd_kafka_err2name(err),
               (long long)lo, (long long)hi);

        rkt = rd_kafka_topic_new(rk, argv[2], NULL);
        err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        print_metadata("metadata of topic", err, md);
        err = rd_kafka_metadata(rk, 0, NULL, &md, 10000);
        print_metadata("metadata of known topics", err, md);
        missing = rd_kafka_topic_new(rk, argv[3], NULL);
        err = rd_kafka_metadata(rk, 0, missing, &md, 10000);
        print_metadata("metadata of missing topic", err, md);
        err = rd_kafka_metadata(rk, 1, NULL, &md, 10000);
        printf("metadata of all topics: %s, %d brokers, %s topics\n", rd_kafka_err2name(err),
               md->broker_cnt, md->topic_cnt >= 1 ? ">= 1" : "none");
        rd_kafka_metadata_destroy(md);

        printf("controller %d\n", (int)rd_kafka_controllerid(rk, 5000));
        cluster = rd_kafka_clusterid(rk, 5000);
        printf("cluster id %s\n", cluster ? "set" : "NULL");
        rd_kafka_mem_free(rk, cluster);

        l = rd_kafka_topic_partition_list_new(4);
        err = rd_kafka_offsets_for_times(rk, l, 5000);
        print_list("offsets for times of nothing", err, l);
        rd_kafka_topic_partition_list_add(l, argv[2], 0)->offset = 1000;
        rd_kafka_topic_partition_list_add(l, argv[2], 1)->offset = -2;
        err = rd_kafka_offsets_for_times(rk, l, 5000);
        print_list("offsets for times", err, l);
        rd_kafka_topic_partition_list_add(l, argv[3], 0)->offset = 1000;
        err = rd_kafka_offsets_for_times(rk, l, 5000);
        print_list("offsets for times with a missing topic", err, l);
        rd_kafka_topic_partition_list_destroy(l);
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, argv[2], 9)->offset = 1000;
        err = rd_kafka_offsets_for_times(rk, l, 5000);
        print_list("offsets for times of a missing partition", err, l);
        rd_kafka_topic_partition_list_destroy(l);

        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, argv[2], 0)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        deadline = time(NULL) + 20;
        while (time(NULL) < deadline) {
                m = rd_kafka_consumer_poll(rk, 500);
                if (!m)
                        continue;
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        rd_kafka_message_destroy(m);
                        break;
                }
                if (!m->err)
                        got++;
                rd_kafka_message_destroy(m);
        }
        printf("consumed %d\n", got);
        err = rd_kafka_get_watermark_offsets(rk, argv[2], 0, &lo, &hi);
        printf("cached watermarks after: %s %lld %lld\n", rd_kafka_err2name(err),
               (long long)lo, (long long)hi);
        err = rd_kafka_query_watermark_offsets(rk, argv[2], 0, &lo, &hi, 5000);
        printf("queried watermarks: %s %lld %lld\n", rd_kafka_err2name(err), (long long)lo,
               (long long)hi);

        cgmd = rd_kafka_consumer_group_metadata(rk);
        round_trip("group metadata of the consumer", cgmd);
        rd_kafka_consumer_group_metadata_destroy(cgmd);
        cgmd = rd_kafka_consumer_group_metadata_new("some-group");
        round_trip("new group metadata", cgmd);
        rd_kafka_consumer_group_metadata_destroy(cgmd);
        error = rd_kafka_consumer_group_metadata_read(&cgmd, "xyz", 3);
        printf("reading garbage: %s\n", error ? rd_kafka_error_name(error) : "accepted");
        if (error)
                rd_kafka_error_destroy(error);

        rd_kafka_topic_destroy(rkt);
        rd_kafka_topic_destroy(missing);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);

        conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", argv[1]);
        producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        cgmd = rd_kafka_consumer_group_metadata(producer);
        printf("group metadata of a producer: %s\n", cgmd ? "set" : "NULL");
        err = rd_kafka_get_watermark_offsets(producer, argv[2], 0, &lo, &hi);
        printf("cached watermarks of a producer: %s %lld %lld\n", rd_kafka_err2name(err),
               (long long)lo, (long long)hi);
        l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, argv[2], 1)->offset = -1;
        err = rd_kafka_offsets_for_times(producer, l, 5000);
        print_list("offsets for times from a producer", err, l);
        rd_kafka_topic_partition_list_destroy(l);
        printf("controller from a producer %d\n", (int)rd_kafka_controllerid(producer, 5000));
        err = rd_kafka_query_watermark_offsets(producer, argv[2], 0, &lo, &hi, 5000);
        printf("queried watermarks from a producer: %s %lld %lld\n", rd_kafka_err2name(err),
               (long long)lo, (long long)hi);
        rd_kafka_destroy(producer);
        printf("done\n");
        return 0;
}
