/* Compiled against librskafka's generated include/rdkafka.h (not the system one) to show that the
 * header is usable from C: types, constants and prototypes. Driven by tests/capi_header.rs. */
#include <stdio.h>
#include "rdkafka.h"

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        printf("%d %zu\n", m->err, m->len);
}

int main(void) {
        char errstr[128];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_metadata_t *md2 = NULL;
        rd_kafka_topic_partition_t *p;

        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        if (rd_kafka_conf_set(conf, "client.id", "x", errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK)
                return 1;
        p = rd_kafka_topic_partition_list_add(l, "t", 0);
        p->offset = RD_KAFKA_OFFSET_BEGINNING;
        printf("%s %d %p %p\n", rd_kafka_err2str(RD_KAFKA_RESP_ERR__PARTITION_EOF), l->cnt,
               (const void *)md, (void *)md2);
        rd_kafka_topic_partition_list_destroy(l);
        rd_kafka_conf_destroy(conf);
        return rd_kafka_version() == RD_KAFKA_VERSION ? 0 : 1;
}
