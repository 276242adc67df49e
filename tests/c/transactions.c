/* The transactional producer API: misuse first (begin before init, commit without begin,
 * producing outside a transaction, a non-transactional producer, a consumer handle), then
 * commit 1000 messages with a consumer's offsets (send_offsets_to_transaction), abort 500, commit
 * 1000 more. Prints facts that must be the same
 * whichever library it is linked against.
 * Usage: transactions BOOTSTRAP TOPIC TRANSACTIONAL_ID */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

static int delivered, failed_purge, failed_other;

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (!m->err)
                delivered++;
        else if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE)
                failed_purge++;
        else
                failed_other++;
}

/* Prints what an API call returned and frees it. */
static void show(const char *what, rd_kafka_error_t *e) {
        if (!e) {
                printf("%s: ok\n", what);
                return;
        }
        printf("%s: %s \"%s\" fatal=%d retriable=%d abort=%d\n", what, rd_kafka_error_name(e),
               rd_kafka_error_string(e), rd_kafka_error_is_fatal(e),
               rd_kafka_error_is_retriable(e), rd_kafka_error_txn_requires_abort(e));
        rd_kafka_error_destroy(e);
}

/* send_offsets_to_transaction with `n` offsets of `topic` (partition i at offset 10 * i - 5,
 * so partition 0's is invalid and skipped) for group "txn-c-group". */
static rd_kafka_error_t *send_offsets(rd_kafka_t *rk, const char *topic, int n) {
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
        for (int i = 0; i < n; i++)
                rd_kafka_topic_partition_list_add(l, topic, i)->offset = 10 * i - 5;
        rd_kafka_consumer_group_metadata_t *g = rd_kafka_consumer_group_metadata_new("txn-c-group");
        rd_kafka_error_t *e = rd_kafka_send_offsets_to_transaction(rk, l, g, 30000);
        rd_kafka_consumer_group_metadata_destroy(g);
        rd_kafka_topic_partition_list_destroy(l);
        return e;
}

static rd_kafka_t *new_client(rd_kafka_type_t type, const char *bootstrap, const char *txn_id) {
        char errstr[512];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap, errstr, sizeof(errstr)) ||
            (txn_id && rd_kafka_conf_set(conf, "transactional.id", txn_id, errstr,
                                         sizeof(errstr))) ||
            rd_kafka_conf_set(conf, "linger.ms", "5", errstr, sizeof(errstr))) {
                fprintf(stderr, "conf: %s\n", errstr);
                exit(1);
        }
        if (type == RD_KAFKA_PRODUCER)
                rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
        else
                rd_kafka_conf_set(conf, "group.id", "txn-c", errstr, sizeof(errstr));
        rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                exit(1);
        }
        return rk;
}

/* Produces messages [from, to) and reports how many were refused, with the first error. */
static void produce(rd_kafka_t *rk, const char *topic, int from, int to) {
        int refused = 0;
        rd_kafka_resp_err_t first = 0;
        for (int i = from; i < to; i++) {
                char key[32], val[32];
                snprintf(key, sizeof(key), "key-%d", i);
                snprintf(val, sizeof(val), "value-%d", i);
                rd_kafka_resp_err_t err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_KEY(key, strlen(key)),
                    RD_KAFKA_V_VALUE(val, strlen(val)), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_END);
                if (err) {
                        if (!refused)
                                first = err;
                        refused++;
                }
                rd_kafka_poll(rk, 0);
        }
        printf("produce %d..%d: refused %d%s%s\n", from, to, refused, refused ? " first " : "",
               refused ? rd_kafka_err2name(first) : "");
}

int main(int argc, char **argv) {
        if (argc != 4) {
                fprintf(stderr, "usage: %s BOOTSTRAP TOPIC TRANSACTIONAL_ID\n", argv[0]);
                return 2;
        }
        const char *bootstrap = argv[1], *topic = argv[2];
        rd_kafka_t *rk = new_client(RD_KAFKA_PRODUCER, bootstrap, argv[3]);

        show("begin before init", rd_kafka_begin_transaction(rk));
        show("commit before init", rd_kafka_commit_transaction(rk, 1000));
        show("abort before init", rd_kafka_abort_transaction(rk, 1000));
        produce(rk, topic, 0, 1);
        show("offsets before init", send_offsets(rk, topic, 2));
        show("no valid offsets before init", send_offsets(rk, topic, 1));
        show("NULL offsets", rd_kafka_send_offsets_to_transaction(rk, NULL, NULL, 1000));
        show("init", rd_kafka_init_transactions(rk, 30000));
        show("init again", rd_kafka_init_transactions(rk, 30000));
        show("commit without begin", rd_kafka_commit_transaction(rk, 1000));
        show("abort without begin", rd_kafka_abort_transaction(rk, 1000));
        produce(rk, topic, 0, 1);
        show("offsets without begin", send_offsets(rk, topic, 4));

        show("begin 1", rd_kafka_begin_transaction(rk));
        show("begin twice", rd_kafka_begin_transaction(rk));
        produce(rk, topic, 0, 1000);
        show("offsets 1", send_offsets(rk, topic, 4));
        show("offsets 1 again", send_offsets(rk, topic, 3));
        show("commit 1", rd_kafka_commit_transaction(rk, 30000));
        printf("after commit 1: delivered %d purged %d failed %d outq %d\n", delivered,
               failed_purge, failed_other, rd_kafka_outq_len(rk));

        show("begin 2", rd_kafka_begin_transaction(rk));
        produce(rk, topic, 1000, 1500);
        show("abort 2", rd_kafka_abort_transaction(rk, 30000));
        printf("after abort 2: reports %d failed %d outq %d\n", delivered + failed_purge,
               failed_other, rd_kafka_outq_len(rk));

        show("begin 3", rd_kafka_begin_transaction(rk));
        produce(rk, topic, 1500, 2500);
        show("commit 3", rd_kafka_commit_transaction(rk, 30000));
        printf("after commit 3: reports %d failed %d outq %d\n", delivered + failed_purge,
               failed_other, rd_kafka_outq_len(rk));
        show("commit again", rd_kafka_commit_transaction(rk, 1000));
        char errstr[256];
        printf("fatal: %s\n", rd_kafka_err2name(rd_kafka_fatal_error(rk, errstr, sizeof(errstr))));
        rd_kafka_destroy(rk);

        rd_kafka_t *plain = new_client(RD_KAFKA_PRODUCER, bootstrap, NULL);
        show("plain init", rd_kafka_init_transactions(plain, 1000));
        show("plain begin", rd_kafka_begin_transaction(plain));
        show("plain offsets", send_offsets(plain, topic, 2));
        rd_kafka_destroy(plain);

        rd_kafka_t *consumer = new_client(RD_KAFKA_CONSUMER, bootstrap, NULL);
        show("consumer init", rd_kafka_init_transactions(consumer, 1000));
        show("consumer offsets", send_offsets(consumer, topic, 2));
        rd_kafka_destroy(consumer);
        printf("done\n");
        return 0;
}
