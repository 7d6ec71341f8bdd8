/* Async-signal-safe formatting into a caller's buffer: no malloc, no locale,
 * no stdio. Output is truncated, never overflowed. */
#include <netinet/in.h>
#include <string.h>
#include <time.h>

#include "event.h"
#include "fmt.h"
#include "sys.h"

static void put(struct fmtbuf *b, char c)
{
    if (b->len + 1 < b->cap)
        b->buf[b->len++] = c;
    b->buf[b->len < b->cap ? b->len : b->cap - 1] = '\0';
}

void fmt_str(struct fmtbuf *b, const char *s)
{
    while (*s)
        put(b, *s++);
}

void fmt_ulong(struct fmtbuf *b, unsigned long long v)
{
    char digits[24];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n)
        put(b, digits[--n]);
}

void fmt_long(struct fmtbuf *b, long long v)
{
    if (v < 0) {
        put(b, '-');
        fmt_ulong(b, 0ULL - (unsigned long long)v);
    } else {
        fmt_ulong(b, (unsigned long long)v);
    }
}

void fmt_hex(struct fmtbuf *b, unsigned long long v)
{
    char digits[20];
    int n = 0;
    do {
        digits[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    fmt_str(b, "0x");
    while (n)
        put(b, digits[--n]);
}

static void fmt_pad2(struct fmtbuf *b, unsigned v)
{
    put(b, (char)('0' + v / 10 % 10));
    put(b, (char)('0' + v % 10));
}

static void fmt_ipv4(struct fmtbuf *b, const unsigned char *a)
{
    for (int i = 0; i < 4; i++) {
        if (i)
            put(b, '.');
        fmt_ulong(b, a[i]);
    }
}

/* RFC 5952 text form: lowercase, longest run of zero groups as "::". */
static void fmt_ipv6(struct fmtbuf *b, const unsigned char *a)
{
    unsigned groups[8];
    int best = -1, best_len = 0;
    for (int i = 0; i < 8; i++)
        groups[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];

    static const unsigned char v4mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, v4mapped, sizeof v4mapped) == 0) {
        fmt_str(b, "::ffff:");
        fmt_ipv4(b, a + 12);
        return;
    }
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && groups[j] == 0)
            j++;
        if (j - i > best_len && j - i >= 2) {
            best = i;
            best_len = j - i;
        }
        i = j > i ? j : i + 1;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            fmt_str(b, "::");
            i += best_len - 1;
            continue;
        }
        if (i && i != best + best_len)
            put(b, ':');
        char hex[5];
        int n = 0;
        unsigned g = groups[i];
        do {
            hex[n++] = "0123456789abcdef"[g & 15];
            g >>= 4;
        } while (g);
        while (n)
            put(b, hex[--n]);
    }
}

void fmt_addr(struct fmtbuf *b, const union sock_addr *addr)
{
    if (addr->sa.sa_family == AF_INET) {
        fmt_ipv4(b, (const unsigned char *)&addr->in.sin_addr);
        put(b, ':');
        fmt_ulong(b, ntohs(addr->in.sin_port));
    } else if (addr->sa.sa_family == AF_INET6) {
        put(b, '[');
        fmt_ipv6(b, addr->in6.sin6_addr.s6_addr);
        fmt_str(b, "]:");
        fmt_ulong(b, ntohs(addr->in6.sin6_port));
    } else {
        put(b, '-');
    }
}

/* Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm). */
static void civil_from_days(long long z, long long *y, unsigned *m, unsigned *d)
{
    z += 719468;
    long long era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (long long)yoe + era * 400 + (*m <= 2);
}

void fmt_utc_time(struct fmtbuf *b)
{
    struct timespec ts = {0, 0};
    sys2(SYS_clock_gettime, CLOCK_REALTIME, &ts);
    long long days = ts.tv_sec / 86400, secs = ts.tv_sec % 86400, year;
    unsigned month, day;
    civil_from_days(days, &year, &month, &day);
    fmt_long(b, year);
    put(b, '-');
    fmt_pad2(b, month);
    put(b, '-');
    fmt_pad2(b, day);
    put(b, 'T');
    fmt_pad2(b, (unsigned)(secs / 3600));
    put(b, ':');
    fmt_pad2(b, (unsigned)(secs / 60 % 60));
    put(b, ':');
    fmt_pad2(b, (unsigned)(secs % 60));
    put(b, '.');
    unsigned ms = (unsigned)(ts.tv_nsec / 1000000);
    put(b, (char)('0' + ms / 100));
    fmt_pad2(b, ms % 100);
    put(b, 'Z');
}

/* Length of the well-formed UTF-8 sequence at p, of which avail bytes may
 * be read (RFC 3629: no overlongs, no surrogates, nothing past U+10FFFF),
 * or 0. */
static int utf8_length(const unsigned char *p, size_t avail)
{
    int len = p[0] >= 0xf0 ? 4 : p[0] >= 0xe0 ? 3 : p[0] >= 0xc2 ? 2 : 0;
    if (len == 0 || p[0] > 0xf4)
        return 0;
    for (int i = 1; i < len; i++)
        if ((size_t)i >= avail || (p[i] & 0xc0) != 0x80)
            return 0;
    if ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0) ||
        (p[0] == 0xf0 && p[1] < 0x90) || (p[0] == 0xf4 && p[1] >= 0x90))
        return 0;
    return len;
}

/* The safe way to show untrusted text: quotes, backslashes, control bytes
 * and DEL are escaped (a value cannot forge a log line), well-formed UTF-8
 * passes, any other byte becomes U+FFFD. */
void fmt_json_chars(struct fmtbuf *b, const char *s, size_t n)
{
    const unsigned char *end = (const unsigned char *)s + n;
    for (const unsigned char *p = (const unsigned char *)s; p < end; p++) {
        int len;
        if (*p == '"' || *p == '\\') {
            put(b, '\\');
            put(b, (char)*p);
        } else if (*p < 0x20 || *p == 0x7f) {
            fmt_str(b, "\\u00");
            put(b, "0123456789abcdef"[*p >> 4]);
            put(b, "0123456789abcdef"[*p & 15]);
        } else if (*p < 0x80) {
            put(b, (char)*p);
        } else if ((len = utf8_length(p, (size_t)(end - p))) > 0) {
            for (int i = 0; i < len; i++)
                put(b, (char)p[i]);
            p += len - 1;
        } else {
            fmt_str(b, "\\ufffd");
        }
    }
}

/* A JSON string literal. */
void fmt_json_str(struct fmtbuf *b, const char *s)
{
    put(b, '"');
    fmt_json_chars(b, s, strlen(s));
    put(b, '"');
}
