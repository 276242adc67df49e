/* rd_kafka_mock_push_request_errors(mcluster, ApiKey, cnt, ...): gathers the cnt error codes
 * (passed as int, the promoted type of the rd_kafka_resp_err_t enum) into an array for
 * rd_kafka_mock_push_request_errors_array (mock_cluster.rs). Exported from Rust as
 * rd_kafka_mock_push_request_errors, which jumps here with the caller's arguments untouched. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

void rd_kafka_mock_push_request_errors_array(void *mcluster, int16_t ApiKey, size_t cnt,
                                             const int *errors);

void rskafka_mock_push_request_errors_impl(void *mcluster, int16_t ApiKey, size_t cnt, ...) {
        va_list ap;
        size_t i;
        int *errors;
        if (cnt == 0)
                return;
        errors = malloc(cnt * sizeof(*errors));
        if (!errors)
                return;
        va_start(ap, cnt);
        for (i = 0; i < cnt; i++)
                errors[i] = va_arg(ap, int);
        va_end(ap);
        rd_kafka_mock_push_request_errors_array(mcluster, ApiKey, cnt, errors);
        free(errors);
}
