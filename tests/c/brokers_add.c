/* Clients created without bootstrap.servers: the CONFWARN notice, a metadata request with no
 * broker, rd_kafka_brokers_add (bad protocol, PLAINTEXT:// prefixes, a repeat), then a producer
 * delivers and a group consumer reads what it produced. Prints facts that must be the same
 * whichever library it is linked against.
 * Usage: brokers_add "BROKER1,BROKER2,BROKER3" TOPIC GROUP */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

static int delivered;

/* Only the lines this program is about (other log lines differ between the libraries). */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf) {
        (void)rk;
        if (!strcmp(fac, "CONFWARN") || !strcmp(fac, "BROKER"))
                printf("log %d %s %s\n", level, fac, buf);
}

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (!m->err)
                delivered++;
}

static rd_kafka_t *new_client(rd_kafka_type_t type, const char *group) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_conf_set_log_cb(conf, log_cb);
        if (group && (rd_kafka_conf_set(conf, "group.id", group, errstr, sizeof(errstr)) ||
                      rd_kafka_conf_set(conf, "auto.offset.reset", "earliest", errstr,
                                        sizeof(errstr)))) {
                fprintf(stderr, "conf: %s\n", errstr);
                exit(1);
        }
        if (type == RD_KAFKA_PRODUCER)
                rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
        rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
        printf("new %s: %s\n", type == RD_KAFKA_PRODUCER ? "producer" : "consumer",
               rk ? "ok" : errstr);
        if (!rk)
                exit(1);
        return rk;
}

/* brokers_add with the list, the first broker "PLAINTEXT://"-prefixed and a space after each
 * comma. */
static void add_brokers(rd_kafka_t *rk, const char *brokers) {
        char list[1024] = "PLAINTEXT://";
        for (const char *p = brokers; *p && strlen(list) < sizeof(list) - 2; p++) {
                size_t n = strlen(list);
                list[n] = *p;
                list[n + 1] = '\0';
                if (*p == ',')
                        strcat(list, " ");
        }
        printf("add empty: %d\n", rd_kafka_brokers_add(rk, ""));
        printf("add ssl: %d\n", rd_kafka_brokers_add(rk, "SSL://127.0.0.1:1"));
        printf("add: %d\n", rd_kafka_brokers_add(rk, list));
        printf("add again: %d\n", rd_kafka_brokers_add(rk, list));
}

int main(int argc, char **argv) {
        if (argc != 4) {
                fprintf(stderr, "usage: %s BROKERS TOPIC GROUP\n", argv[0]);
                return 2;
        }
        const char *brokers = argv[1], *topic = argv[2];
        const struct rd_kafka_metadata *md;

        rd_kafka_t *p = new_client(RD_KAFKA_PRODUCER, NULL);
        rd_kafka_resp_err_t err = rd_kafka_metadata(p, 1, NULL, &md, 1000);
        printf("metadata without brokers: %s\n", rd_kafka_err2name(err));
        add_brokers(p, brokers);
        err = rd_kafka_metadata(p, 1, NULL, &md, 10000);
        printf("metadata: %s, %d brokers\n", rd_kafka_err2name(err), err ? -1 : md->broker_cnt);
        if (!err)
                rd_kafka_metadata_destroy(md);
        for (int i = 0; i < 10; i++) {
                char val[32];
                snprintf(val, sizeof(val), "value-%d", i);
                rd_kafka_producev(p, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_VALUE(val, strlen(val)),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        }
        err = rd_kafka_flush(p, 10000);
        printf("flush: %s, delivered %d\n", rd_kafka_err2name(err), delivered);
        rd_kafka_destroy(p);

        /* No notice for a group consumer (librdkafka has its coordinator's logical broker). */
        rd_kafka_t *c = new_client(RD_KAFKA_CONSUMER, argv[3]);
        rd_kafka_poll_set_consumer(c);
        printf("add: %d\n", rd_kafka_brokers_add(c, brokers));
        rd_kafka_topic_partition_list_t *sub = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(sub, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_subscribe(c, sub);
        rd_kafka_topic_partition_list_destroy(sub);
        int got = 0;
        for (int i = 0; i < 300 && got < 10; i++) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
                if (m && !m->err)
                        got++;
                if (m)
                        rd_kafka_message_destroy(m);
        }
        printf("consumed %d\n", got);
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        printf("done\n");
        return 0;
}
