/* INCRBYFLOAT and HINCRBYFLOAT arithmetic, done as Redis does it: strtold,
 * long double addition, and ld2string's human format ("%.17Lf" with trailing
 * zeroes removed). Rust has no long double, and the results must be the
 * same digits Redis gives (0.1 + 0.2 is "0.3" there), so this one function
 * is C. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LONG_DOUBLE_CHARS 5 * 1024

/* Redis's string2ld (util.c). */
static int string2ld(const char *s, size_t slen, long double *dp) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    long double value;
    char *eptr;

    if (slen == 0 || slen >= sizeof(buf)) return 0;
    memcpy(buf, s, slen);
    buf[slen] = '\0';

    errno = 0;
    value = strtold(buf, &eptr);
    if (isspace((unsigned char)buf[0]) || eptr[0] != '\0' || (size_t)(eptr - buf) != slen ||
        (errno == ERANGE && (value == HUGE_VAL || value == -HUGE_VAL || fpclassify(value) == FP_ZERO)) ||
        errno == EINVAL || isnan(value))
        return 0;

    if (dp) *dp = value;
    return 1;
}

/* Redis's ld2string in LD_STR_HUMAN mode (util.c). Returns the length, 0 when
 * the number does not fit (Redis then stores an empty string). */
static size_t ld2string_human(char *buf, size_t len, long double value) {
    size_t l = 0;
    if (isinf(value)) {
        if (value > 0) {
            memcpy(buf, "inf", 3);
            l = 3;
        } else {
            memcpy(buf, "-inf", 4);
            l = 4;
        }
    } else {
        int n = snprintf(buf, len, "%.17Lf", value);
        if (n < 0 || (size_t)n + 1 > len) return 0;
        l = (size_t)n;
        if (strchr(buf, '.') != NULL) {
            char *p = buf + l - 1;
            while (*p == '0') {
                p--;
                l--;
            }
            if (*p == '.') l--;
        }
        if (l == 2 && buf[0] == '-' && buf[1] == '0') {
            buf[0] = '0';
            l = 1;
        }
    }
    buf[l] = '\0';
    return l;
}

/* Adds `incr` to `cur` (NULL means 0). Results:
 * 0 ok, the sum's text in out[0..*outlen]; 1 cur is not a float;
 * 2 incr is not a float; 3 the sum is NaN or infinite;
 * 4 incr is NaN or infinite (checked only when check_incr is set). */
int gostore_ld_incr(const char *cur, size_t curlen, const char *incr, size_t incrlen, int check_incr,
                    char *out, size_t outcap, size_t *outlen) {
    long double value = 0, by;
    if (check_incr) {
        if (!string2ld(incr, incrlen, &by)) return 2;
        if (isnan(by) || isinf(by)) return 4;
        if (cur && !string2ld(cur, curlen, &value)) return 1;
    } else {
        if (cur && !string2ld(cur, curlen, &value)) return 1;
        if (!string2ld(incr, incrlen, &by)) return 2;
    }
    value += by;
    if (isnan(value) || isinf(value)) return 3;
    *outlen = ld2string_human(out, outcap, value);
    return 0;
}

/* Validates an increment: 0 ok, 1 not a float, 2 NaN or infinite. */
int gostore_ld_check(const char *s, size_t len) {
    long double v;
    if (!string2ld(s, len, &v)) return 1;
    if (isnan(v) || isinf(v)) return 2;
    return 0;
}

/* A blocking command's timeout in seconds, as Redis's
 * getTimeoutFromObjectOrReply(..., UNIT_SECONDS) reads it: string2ld, then
 * (long long)(value * 1000). A product out of range converts to LLONG_MIN,
 * as x86-64 does (so 1e100 and inf are "negative" there too). Returns 0
 * with the milliseconds in *ms, 1 when it is not a float, 2 when the
 * result is negative. */
int gostore_timeout_ms(const char *s, size_t len, long long *ms) {
    long double v;
    if (!string2ld(s, len, &v)) return 1;
    long double t = v * 1000.0L;
    long long r;
    if (!(t >= -9223372036854775808.0L && t < 9223372036854775808.0L))
        r = (-9223372036854775807LL - 1);
    else
        r = (long long)t;
    if (r < 0) return 2;
    *ms = r;
    return 0;
}
