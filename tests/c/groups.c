/* rd_kafka_list_groups through the C ABI, compiled against the system rdkafka.h.
 *
 * usage: groups <bootstrap> [group]
 *
 * Lists the groups (all, or the one named) from a producer handle and prints each with its
 * coordinator, state, protocol and members. */
#include <stdio.h>
#include <librdkafka/rdkafka.h>

int main(int argc, char **argv) {
        char errstr[256];
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        rd_kafka_t *rk;
        const struct rd_kafka_group_list *gl = NULL;
        rd_kafka_resp_err_t err;
        int i, j;

        if (argc < 2) {
                fprintf(stderr, "usage: %s bootstrap [group]\n", argv[0]);
                return 2;
        }
        if (rd_kafka_conf_set(conf, "bootstrap.servers", argv[1], errstr, sizeof(errstr))) {
                fprintf(stderr, "%s\n", errstr);
                return 1;
        }
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk) {
                fprintf(stderr, "rd_kafka_new: %s\n", errstr);
                return 1;
        }
        err = rd_kafka_list_groups(rk, argc > 2 ? argv[2] : NULL, &gl, 10000);
        printf("list_groups: %s, list %s\n", rd_kafka_err2name(err), gl ? "set" : "NULL");
        for (i = 0; gl && i < gl->group_cnt; i++) {
                const struct rd_kafka_group_info *g = &gl->groups[i];
                printf("group %s: %s, broker %d at %s:%d, state %s, type %s, protocol %s, "
                       "%d members\n",
                       g->group, rd_kafka_err2name(g->err), g->broker.id, g->broker.host,
                       g->broker.port, g->state, g->protocol_type, g->protocol, g->member_cnt);
                for (j = 0; j < g->member_cnt; j++) {
                        const struct rd_kafka_group_member_info *m = &g->members[j];
                        printf("  member client %s, id %s, metadata %s, assignment %s\n",
                               m->client_id, m->member_id[0] ? "set" : "empty",
                               m->member_metadata_size > 0 ? "set" : "empty",
                               m->member_assignment_size > 0 ? "set" : "empty");
                }
        }
        if (gl)
                rd_kafka_group_list_destroy(gl);
        rd_kafka_destroy(rk);
        return 0;
}
