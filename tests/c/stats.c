/* Statistics through the C ABI, compiled against the system rdkafka.h and linked once against
 * librskafka and once against librdkafka: both runs must print the same, and the JSON documents
 * they write are compared by key paths (tests/capi_stats.rs).
 *
 * usage: stats <bootstrap> <topic> <group> <outdir>
 *
 * A producer (statistics.interval.ms=100, stats_cb returning 0: the library frees the JSON)
 * produces 50 messages to partition 0, flushes, and waits for a document whose txmsgs is 50.
 * A consumer in <group> (stats_cb returning 1: the program keeps the JSON and frees it with
 * rd_kafka_mem_free) consumes them, commits synchronously, and waits for a document whose
 * partition 0 shows committed_offset 50. The last documents go to <outdir>/producer.json and
 * <outdir>/consumer.json. Only timing-independent facts go to stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <librdkafka/rdkafka.h>

#define COUNT 50

static char *last_json;
static int stats_calls;
static int bad_len;
static int bad_opaque;

static int stats_cb_common(rd_kafka_t *rk, char *json, size_t json_len, void *opaque, int keep) {
        (void)rk;
        stats_calls++;
        if (opaque != (void *)&stats_calls)
                bad_opaque++;
        if (strlen(json) != json_len)
                bad_len++;
        if (keep) {
                if (last_json)
                        rd_kafka_mem_free(NULL, last_json);
                last_json = json;
                return 1;
        }
        free(last_json);
        last_json = strdup(json);
        return 0;
}

static int producer_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
        return stats_cb_common(rk, json, len, opaque, 0);
}

static int consumer_stats_cb(rd_kafka_t *rk, char *json, size_t len, void *opaque) {
        return stats_cb_common(rk, json, len, opaque, 1);
}

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void set(rd_kafka_conf_t *conf, const char *k, const char *v) {
        char err[256];
        if (rd_kafka_conf_set(conf, k, v, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
                printf("conf %s: %s\n", k, err);
                exit(1);
        }
}

static void save(const char *dir, const char *name) {
        char path[1024];
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        f = fopen(path, "w");
        if (!f || !last_json) {
                printf("cannot write %s\n", name);
                exit(1);
        }
        fputs(last_json, f);
        fclose(f);
}

/* Polls `poll` until the last document contains `needle` or 20 s pass. */
static int wait_for(rd_kafka_t *rk, int consumer, const char *needle) {
        double end = now_s() + 20;
        while (now_s() < end) {
                if (consumer) {
                        rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 50);
                        if (m)
                                rd_kafka_message_destroy(m);
                } else
                        rd_kafka_poll(rk, 50);
                if (last_json && strstr(last_json, needle))
                        return 1;
        }
        return 0;
}

int main(int argc, char **argv) {
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk;
        char err[256];
        int i, got = 0, before;
        double end;
        rd_kafka_topic_partition_list_t *sub;

        if (argc != 5) {
                fprintf(stderr, "usage: stats <bootstrap> <topic> <group> <outdir>\n");
                return 2;
        }

        conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", argv[1]);
        set(conf, "statistics.interval.ms", "100");
        set(conf, "client.id", "stats-test");
        rd_kafka_conf_set_stats_cb(conf, producer_stats_cb);
        rd_kafka_conf_set_opaque(conf, &stats_calls);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!rk) {
                printf("producer: %s\n", err);
                return 1;
        }
        for (i = 0; i < COUNT; i++) {
                char v[32];
                snprintf(v, sizeof(v), "value-%d", i);
                if (rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(argv[2]), RD_KAFKA_V_PARTITION(0),
                                      RD_KAFKA_V_VALUE(v, strlen(v)),
                                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END))
                        printf("produce failed\n");
        }
        printf("flush %s\n", rd_kafka_err2name(rd_kafka_flush(rk, 10000)));
        printf("producer stats txmsgs %d\n", wait_for(rk, 0, "\"txmsgs\":50,"));
        printf("producer stats type %d\n", strstr(last_json, "\"producer\"") != NULL);
        save(argv[4], "producer.json");
        rd_kafka_destroy(rk);
        printf("producer callbacks %d bad_len %d bad_opaque %d\n", stats_calls > 0, bad_len,
               bad_opaque);

        free(last_json);
        last_json = NULL;
        before = stats_calls;
        conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", argv[1]);
        set(conf, "group.id", argv[3]);
        set(conf, "auto.offset.reset", "earliest");
        set(conf, "enable.auto.commit", "false");
        set(conf, "statistics.interval.ms", "100");
        set(conf, "client.id", "stats-test");
        rd_kafka_conf_set_stats_cb(conf, consumer_stats_cb);
        rd_kafka_conf_set_opaque(conf, &stats_calls);
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (!rk) {
                printf("consumer: %s\n", err);
                return 1;
        }
        rd_kafka_poll_set_consumer(rk);
        sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, argv[2], RD_KAFKA_PARTITION_UA);
        printf("subscribe %s\n", rd_kafka_err2name(rd_kafka_subscribe(rk, sub)));
        rd_kafka_topic_partition_list_destroy(sub);
        end = now_s() + 30;
        while (got < COUNT && now_s() < end) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                if (!m->err)
                        got++;
                rd_kafka_message_destroy(m);
        }
        printf("consumed %d\n", got);
        printf("commit %s\n", rd_kafka_err2name(rd_kafka_commit(rk, NULL, 0)));
        printf("consumer stats committed %d\n",
               wait_for(rk, 1, "\"committed_offset\":50,"));
        printf("consumer stats type %d\n", strstr(last_json, "\"consumer\"") != NULL);
        save(argv[4], "consumer.json");
        printf("consumer close %s\n", rd_kafka_err2name(rd_kafka_consumer_close(rk)));
        rd_kafka_destroy(rk);
        printf("consumer callbacks %d bad_len %d bad_opaque %d\n", stats_calls > before, bad_len,
               bad_opaque);
        rd_kafka_mem_free(NULL, last_json);
        printf("done\n");
        return 0;
}
