/*
 * perf: one benchmark program for librdkafka and librskafka, using only rdkafka.h, in the spirit
 * of librdkafka's rdkafka_performance. The same binary runs on either library (LD_LIBRARY_PATH
 * picks librdkafka.so.1), so every difference in the figures is the library's.
 *
 *   perf produce -b BROKERS -t TOPIC -c COUNT [-s SIZE] [-z CODEC] [-X prop=val]...
 *   perf consume -b BROKERS -t TOPIC -c COUNT [-g GROUP] [-X prop=val]...
 *   perf latency -b BROKERS -t TOPIC -c COUNT [-r MSGS_PER_S] [-g GROUP] [-X prop=val]...
 *   perf idle    -b BROKERS -t TOPIC [-d SECONDS] [-g GROUP] [-X prop=val]...
 *   perf assign  -b BROKERS -t TOPIC [-d SECONDS] [-X prop=val]...
 *
 * Prints one line of `key=value` fields: what was done (msgs, bytes, secs, msgs_per_s, mb_per_s),
 * the process's CPU seconds (user + sys from getrusage) and the application thread's alone, peak
 * RSS (VmHWM), threads, voluntary context switches of all threads (wake-ups), and for latency
 * the end-to-end percentiles in microseconds.
 * `-X` properties apply to every handle the mode creates (producer and consumer alike).
 */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>

#define MAX_PROPS 64

static const char *brokers, *topic, *group = "perf-group", *codec = "none";
static long count = 1000000, size = 100, rate = 1000, seconds = 30;
static const char *props[MAX_PROPS][2];
static int nprops;

static double now_s(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int64_t now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void die(const char *what, const char *why) {
        fprintf(stderr, "perf: %s: %s\n", what, why);
        exit(1);
}

static void set(rd_kafka_conf_t *conf, const char *name, const char *value) {
        char err[512];
        if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK)
                die(name, err);
}

static rd_kafka_conf_t *base_conf(void) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", brokers);
        for (int i = 0; i < nprops; i++)
                set(conf, props[i][0], props[i][1]);
        return conf;
}

static rd_kafka_t *new_handle(rd_kafka_type_t type, rd_kafka_conf_t *conf) {
        char err[512];
        rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof(err));
        if (!rk)
                die("rd_kafka_new", err);
        return rk;
}

/* Sum of voluntary context switches over all threads of the process, and the thread count. */
static void sched_stats(long *vcsw, int *threads) {
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        *vcsw = 0;
        *threads = 0;
        if (!d)
                return;
        while ((e = readdir(d))) {
                char path[300], line[256];
                FILE *f;
                if (e->d_name[0] == '.')
                        continue;
                (*threads)++;
                snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
                if (!(f = fopen(path, "r")))
                        continue;
                while (fgets(line, sizeof(line), f))
                        if (!strncmp(line, "voluntary_ctxt_switches:", 24))
                                *vcsw += atol(line + 24);
                fclose(f);
        }
        closedir(d);
}

/* Peak RSS of this program in KiB: VmHWM belongs to the address space, so unlike getrusage's
 * ru_maxrss it does not carry the parent's peak across fork and exec (a Python harness's RSS
 * would otherwise hide every figure below its own). */
static long peak_rss_kb(void) {
        FILE *f = fopen("/proc/self/status", "r");
        char line[256];
        long kb = -1;
        if (!f)
                return -1;
        while (fgets(line, sizeof(line), f))
                if (!strncmp(line, "VmHWM:", 6))
                        kb = atol(line + 6);
        fclose(f);
        return kb;
}

static double rusage_s(int who) {
        struct rusage ru;
        getrusage(who, &ru);
        return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
}

/* CPU seconds of the whole process, and of the calling (application) thread alone: the
 * difference is what the library's own threads spent. */
static double cpu_s(void) {
        return rusage_s(RUSAGE_SELF);
}

static double main_cpu_s(void) {
        return rusage_s(RUSAGE_THREAD);
}

/* Prints the common fields; `cpu0` and `main0` are the process's and the application thread's
 * CPU time at the start of the measured part. */
static void report(const char *mode, long msgs, long bytes, double secs, double cpu0,
                   double main0, const char *extra) {
        long vcsw;
        int threads;
        double cpu = cpu_s() - cpu0, app = main_cpu_s() - main0;
        sched_stats(&vcsw, &threads);
        printf("mode=%s lib=\"%s\" msgs=%ld bytes=%ld secs=%.3f msgs_per_s=%.0f mb_per_s=%.2f "
               "cpu_s=%.3f cpu_s_per_M=%.3f app_thread_cpu_s=%.3f maxrss_kb=%ld threads=%d "
               "vcsw=%ld%s%s\n",
               mode, rd_kafka_version_str(), msgs, bytes, secs, secs > 0 ? msgs / secs : 0,
               secs > 0 ? bytes / secs / 1e6 : 0, cpu, msgs > 0 ? cpu * 1e6 / msgs : 0, app,
               peak_rss_kb(), threads, vcsw, extra ? " " : "", extra ? extra : "");
        fflush(stdout);
}

/* ----------------------------------------------------------------------------------------- */
/* produce                                                                                    */

static long delivered, failed;

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque) {
        (void)rk;
        (void)opaque;
        if (m->err)
                failed++;
        else
                delivered++;
}

static int do_produce(void) {
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", brokers);
        set(conf, "compression.codec", codec);
        for (int i = 0; i < nprops; i++)
                set(conf, props[i][0], props[i][1]);
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_t *rk = new_handle(RD_KAFKA_PRODUCER, conf);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        char *payload = malloc(size + 1);
        for (long i = 0; i < size; i++)
                payload[i] = 'a' + i % 26;
        double cpu0 = cpu_s(), main0 = main_cpu_s(), t0 = now_s();
        for (long i = 0; i < count; i++) {
                char key[32];
                int klen = snprintf(key, sizeof(key), "%ld", i % 1000);
                while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload,
                                        size, key, klen, NULL) == -1) {
                        if (rd_kafka_last_error() != RD_KAFKA_RESP_ERR__QUEUE_FULL)
                                die("produce", rd_kafka_err2str(rd_kafka_last_error()));
                        rd_kafka_poll(rk, 10);
                }
                if ((i & 1023) == 0)
                        rd_kafka_poll(rk, 0);
        }
        while (delivered + failed < count)
                if (rd_kafka_flush(rk, 60000) == RD_KAFKA_RESP_ERR__TIMED_OUT)
                        die("flush", "timed out");
        double secs = now_s() - t0;
        char extra[64];
        snprintf(extra, sizeof(extra), "failed=%ld", failed);
        report("produce", delivered, delivered * size, secs, cpu0, main0, extra);
        free(payload);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_destroy(rk);
        return failed ? 1 : 0;
}

/* ----------------------------------------------------------------------------------------- */
/* consume / idle                                                                             */

static rd_kafka_t *new_consumer(void) {
        rd_kafka_conf_t *conf = base_conf();
        set(conf, "group.id", group);
        set(conf, "auto.offset.reset", "earliest");
        set(conf, "enable.partition.eof", "false");
        rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, conf);
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        if (err)
                die("subscribe", rd_kafka_err2str(err));
        return rk;
}

static int do_consume(void) {
        rd_kafka_t *rk = new_consumer();
        long got = 0, bytes = 0;
        double cpu0 = 0, main0 = 0, t0 = 0, last = now_s();
        while (got < count) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
                if (!m) {
                        if (now_s() - last > 60)
                                die("consume", "no message for 60 s");
                        continue;
                }
                if (m->err) {
                        fprintf(stderr, "perf: consume: %s\n", rd_kafka_message_errstr(m));
                } else {
                        if (got == 0) {
                                /* The clock starts at the first message: group join time is
                                 * the broker's, not the client's. */
                                cpu0 = cpu_s();
                                main0 = main_cpu_s();
                                t0 = now_s();
                        }
                        got++;
                        bytes += m->len;
                        last = now_s();
                }
                rd_kafka_message_destroy(m);
        }
        report("consume", got, bytes, now_s() - t0, cpu0, main0, NULL);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}

static int do_idle(void) {
        rd_kafka_t *rk = new_consumer();
        /* Wait for the assignment first: the idle period is a member's steady state. */
        double t_end = now_s() + 60;
        rd_kafka_topic_partition_list_t *a = NULL;
        while (now_s() < t_end) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (m)
                        rd_kafka_message_destroy(m);
                if (rd_kafka_assignment(rk, &a) == 0 && a->cnt > 0)
                        break;
                if (a)
                        rd_kafka_topic_partition_list_destroy(a);
                a = NULL;
        }
        int parts = a ? a->cnt : 0;
        if (a)
                rd_kafka_topic_partition_list_destroy(a);
        long vcsw0;
        int threads;
        sched_stats(&vcsw0, &threads);
        double cpu0 = cpu_s(), main0 = main_cpu_s(), t0 = now_s();
        while (now_s() - t0 < seconds) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 1000);
                if (m)
                        rd_kafka_message_destroy(m);
        }
        long vcsw1;
        sched_stats(&vcsw1, &threads);
        char extra[128];
        snprintf(extra, sizeof(extra), "assigned=%d wakeups=%ld", parts, vcsw1 - vcsw0);
        report("idle", 0, 0, now_s() - t0, cpu0, main0, extra);
        rd_kafka_consumer_close(rk);
        rd_kafka_destroy(rk);
        return 0;
}

/* A consumer assigned every partition of the topic (no group), fetching for `seconds`: peak RSS
 * with many partitions. */
static int do_assign(void) {
        rd_kafka_conf_t *conf = base_conf();
        set(conf, "group.id", group);
        set(conf, "auto.offset.reset", "earliest");
        rd_kafka_t *rk = new_handle(RD_KAFKA_CONSUMER, conf);
        rd_kafka_poll_set_consumer(rk);
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        const struct rd_kafka_metadata *md;
        rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, 10000);
        if (err)
                die("metadata", rd_kafka_err2str(err));
        int n = md->topic_cnt ? md->topics[0].partition_cnt : 0;
        rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
        for (int p = 0; p < n; p++)
                rd_kafka_topic_partition_list_add(l, topic, p)->offset = RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(rk, l);
        rd_kafka_topic_partition_list_destroy(l);
        long got = 0, bytes = 0;
        double cpu0 = cpu_s(), main0 = main_cpu_s(), t0 = now_s();
        while (now_s() - t0 < seconds) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 100);
                if (!m)
                        continue;
                if (!m->err) {
                        got++;
                        bytes += m->len;
                }
                rd_kafka_message_destroy(m);
        }
        char extra[64];
        snprintf(extra, sizeof(extra), "assigned=%d", n);
        report("assign", got, bytes, now_s() - t0, cpu0, main0, extra);
        rd_kafka_destroy(rk);
        return 0;
}

/* ----------------------------------------------------------------------------------------- */
/* latency                                                                                    */

static volatile int producing = 1;

static void *latency_producer(void *arg) {
        rd_kafka_t *rk = arg;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        int64_t t0 = now_us(), interval = 1000000 / (rate > 0 ? rate : 1);
        for (long i = 0; i < count && producing; i++) {
                int64_t due = t0 + i * interval, now;
                while ((now = now_us()) < due) {
                        rd_kafka_poll(rk, 0);
                        int64_t wait = due - now;
                        if (wait > 1000)
                                wait = 1000;
                        struct timespec ts = {0, wait * 1000};
                        nanosleep(&ts, NULL);
                }
                char payload[32];
                int len = snprintf(payload, sizeof(payload), "%" PRId64, now_us());
                while (rd_kafka_produce(rkt, RD_KAFKA_PARTITION_UA, RD_KAFKA_MSG_F_COPY, payload,
                                        len, NULL, 0, NULL) == -1)
                        rd_kafka_poll(rk, 10);
        }
        rd_kafka_flush(rk, 30000);
        rd_kafka_topic_destroy(rkt);
        return NULL;
}

static int cmp_i64(const void *a, const void *b) {
        int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
        return x < y ? -1 : x > y;
}

static int do_latency(void) {
        rd_kafka_t *c = new_consumer();
        /* Start producing once the consumer owns partitions and has reached their end. */
        rd_kafka_topic_partition_list_t *a = NULL;
        double t_end = now_s() + 60;
        while (now_s() < t_end) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
                if (m)
                        rd_kafka_message_destroy(m);
                if (rd_kafka_assignment(c, &a) == 0 && a->cnt > 0)
                        break;
                if (a)
                        rd_kafka_topic_partition_list_destroy(a);
                a = NULL;
        }
        if (!a)
                die("latency", "no assignment within 60 s");
        rd_kafka_topic_partition_list_destroy(a);
        for (double t = now_s(); now_s() - t < 2;) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
                if (m)
                        rd_kafka_message_destroy(m);
        }
        rd_kafka_conf_t *pconf = base_conf();
        rd_kafka_t *p = new_handle(RD_KAFKA_PRODUCER, pconf);
        int64_t *lat = calloc(count, sizeof(*lat));
        long got = 0;
        pthread_t thr;
        double cpu0 = cpu_s(), main0 = main_cpu_s(), t0 = now_s();
        pthread_create(&thr, NULL, latency_producer, p);
        double last = now_s();
        while (got < count && now_s() - last < 30) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(c, 100);
                if (!m)
                        continue;
                if (!m->err && m->len < 32) {
                        char buf[32];
                        memcpy(buf, m->payload, m->len);
                        buf[m->len] = 0;
                        lat[got++] = now_us() - strtoll(buf, NULL, 10);
                        last = now_s();
                }
                rd_kafka_message_destroy(m);
        }
        producing = 0;
        pthread_join(thr, NULL);
        double secs = now_s() - t0;
        qsort(lat, got, sizeof(*lat), cmp_i64);
        char extra[160];
        snprintf(extra, sizeof(extra), "rate=%ld p50_us=%" PRId64 " p99_us=%" PRId64
                 " max_us=%" PRId64, rate, got ? lat[got / 2] : -1,
                 got ? lat[got * 99 / 100] : -1, got ? lat[got - 1] : -1);
        report("latency", got, got * 16, secs, cpu0, main0, extra);
        free(lat);
        rd_kafka_destroy(p);
        rd_kafka_consumer_close(c);
        rd_kafka_destroy(c);
        return got == count ? 0 : 1;
}

/* ----------------------------------------------------------------------------------------- */

static void usage(void) {
        fprintf(stderr,
                "usage: perf produce|consume|latency|idle|assign -b BROKERS -t TOPIC [-c COUNT] "
                "[-s SIZE] [-z CODEC] [-g GROUP] [-r RATE] [-d SECONDS] [-X prop=val]...\n");
        exit(2);
}

int main(int argc, char **argv) {
        if (argc < 2)
                usage();
        const char *mode = argv[1];
        int opt;
        optind = 2;
        while ((opt = getopt(argc, argv, "b:t:c:s:z:g:r:d:X:")) != -1) {
                switch (opt) {
                case 'b': brokers = optarg; break;
                case 't': topic = optarg; break;
                case 'c': count = atol(optarg); break;
                case 's': size = atol(optarg); break;
                case 'z': codec = optarg; break;
                case 'g': group = optarg; break;
                case 'r': rate = atol(optarg); break;
                case 'd': seconds = atol(optarg); break;
                case 'X': {
                        char *eq = strchr(optarg, '=');
                        if (!eq || nprops == MAX_PROPS)
                                usage();
                        *eq = 0;
                        props[nprops][0] = optarg;
                        props[nprops][1] = eq + 1;
                        nprops++;
                        break;
                }
                default: usage();
                }
        }
        if (!brokers || !topic)
                usage();
        if (!strcmp(mode, "produce"))
                return do_produce();
        if (!strcmp(mode, "consume"))
                return do_consume();
        if (!strcmp(mode, "latency"))
                return do_latency();
        if (!strcmp(mode, "idle"))
                return do_idle();
        if (!strcmp(mode, "assign"))
                return do_assign();
        usage();
        return 2;
}
