/* Built with `pkg-config --cflags --libs rdkafka` against an installed librskafka (its own
 * rdkafka.h): prints the library's version and makes a producer, so that tests/install_layout.rs
 * sees which library the program loaded and that the installed header is usable. */
#include <stdio.h>
#include <librdkafka/rdkafka.h>

int main(void) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;

        printf("version_str: %s\n", rd_kafka_version_str());
        printf("version: 0x%08x\n", (unsigned)rd_kafka_version());
        if (rd_kafka_conf_set(conf, "client.id", "installed", errstr, sizeof(errstr)) !=
                RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "bootstrap.servers", "127.0.0.1:9", errstr, sizeof(errstr)) !=
                RD_KAFKA_CONF_OK) {
                printf("conf_set failed: %s\n", errstr);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                printf("rd_kafka_new failed: %s\n", errstr);
                return 1;
        }
        printf("name: %s\n", rd_kafka_name(rk));
        rd_kafka_destroy(rk);
        printf("err2str: %s\n", rd_kafka_err2str(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE));
        return 0;
}
