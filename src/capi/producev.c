/* rd_kafka_producev(rk, ...): walks the RD_KAFKA_V_*() argument list into an rd_kafka_vu_t
 * array and produces it with rd_kafka_produceva(). Exported from Rust as rd_kafka_producev
 * (see produce.rs), which jumps here with the caller's arguments untouched.
 *
 * The argument types per vtype are those of rdkafka.h's RD_KAFKA_V_* macros. This file does not
 * include rdkafka.h (it need not be installed to build); the struct below has the header's
 * rd_kafka_vu_t layout (an int vtype, then a union padded to 64 bytes). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/types.h>

typedef struct vu {
        int vtype;
        union {
                const char *cstr;
                void *rkt;
                int i;
                int32_t i32;
                int64_t i64;
                struct {
                        void *ptr;
                        size_t size;
                } mem;
                struct {
                        const char *name;
                        const void *val;
                        ssize_t size;
                } header;
                void *headers;
                void *ptr;
                char _pad[64];
        } u;
} vu_t;

enum {
        VT_END, VT_TOPIC, VT_RKT, VT_PARTITION, VT_VALUE, VT_KEY, VT_OPAQUE, VT_MSGFLAGS,
        VT_TIMESTAMP, VT_HEADER, VT_HEADERS
};

#define ERR__FAIL (-196)
#define ERR__INVALID_ARG (-186)

void *rd_kafka_produceva(void *rk, const vu_t *vus, size_t cnt);
int rd_kafka_error_code(const void *error);
void rd_kafka_error_destroy(void *error);

int rskafka_producev_impl(void *rk, ...) {
        va_list ap;
        vu_t stackbuf[16];
        vu_t *vus = stackbuf;
        size_t cnt = 0, cap = sizeof(stackbuf) / sizeof(stackbuf[0]);
        int err = 0;

        va_start(ap, rk);
        for (;;) {
                int vtype = va_arg(ap, int);
                vu_t *vu;
                if (vtype == VT_END)
                        break;
                if (cnt == cap) {
                        vu_t *n = malloc(2 * cap * sizeof(*n));
                        if (!n) {
                                err = ERR__FAIL;
                                break;
                        }
                        for (size_t i = 0; i < cnt; i++)
                                n[i] = vus[i];
                        if (vus != stackbuf)
                                free(vus);
                        vus = n;
                        cap *= 2;
                }
                vu = &vus[cnt++];
                vu->vtype = vtype;
                switch (vtype) {
                case VT_TOPIC:
                        vu->u.cstr = va_arg(ap, const char *);
                        break;
                case VT_RKT:
                        vu->u.rkt = va_arg(ap, void *);
                        break;
                case VT_PARTITION:
                        vu->u.i32 = va_arg(ap, int32_t);
                        break;
                case VT_VALUE:
                case VT_KEY:
                        vu->u.mem.ptr = va_arg(ap, void *);
                        vu->u.mem.size = va_arg(ap, size_t);
                        break;
                case VT_OPAQUE:
                        vu->u.ptr = va_arg(ap, void *);
                        break;
                case VT_MSGFLAGS:
                        vu->u.i = va_arg(ap, int);
                        break;
                case VT_TIMESTAMP:
                        vu->u.i64 = va_arg(ap, int64_t);
                        break;
                case VT_HEADER:
                        vu->u.header.name = va_arg(ap, const char *);
                        vu->u.header.val = va_arg(ap, const void *);
                        vu->u.header.size = va_arg(ap, ssize_t);
                        break;
                case VT_HEADERS:
                        vu->u.headers = va_arg(ap, void *);
                        break;
                default:
                        /* The remaining arguments' types are unknown: stop reading. */
                        err = ERR__INVALID_ARG;
                        break;
                }
                if (err)
                        break;
        }
        va_end(ap);

        if (!err) {
                void *error = rd_kafka_produceva(rk, vus, cnt);
                if (error) {
                        err = rd_kafka_error_code(error);
                        rd_kafka_error_destroy(error);
                }
        }
        if (vus != stackbuf)
                free(vus);
        return err;
}
