/* NORST_* environment, read once when the library loads.
 *
 * secure_getenv: in a set-user-ID program the variables are ignored, so an
 * unprivileged user cannot redirect a privileged daemon's log. A bad value
 * never aborts the host: it gets one line on stderr and the default. */
#include <stdlib.h>
#include <string.h>

#include "norst.h"

#define LINGER_MS_DEFAULT 2000L
#define LINGER_MS_MAX 3600000L /* an hour; more is a typo */

struct norst_config norst_cfg = {
    .mode = MODE_DRAIN,
    .linger_ms = LINGER_MS_DEFAULT,
    .max_bytes = 0,
    .log_sink = LOG_NONE,
    .max_linger = 4096,
};

static void warn_bad(const char *name, const char *value, const char *expected,
                     const char *fallback)
{
    char line[800], shown[128];
    struct fmtbuf b = {line, 0, sizeof line};
    /* A long value is cut, so that the line still names the default: 100
     * bytes, each at most 6 characters once escaped ("\ufffd"). */
    size_t len = strlen(value);
    memcpy(shown, value, len < 100 ? len : 100);
    strcpy(shown + (len < 100 ? len : 100), len > 100 ? "..." : "");
    fmt_str(&b, "libnorst: ignoring ");
    fmt_str(&b, name);
    fmt_str(&b, "=");
    fmt_json_str(&b, shown); /* quoted and escaped: the value may be anything */
    fmt_str(&b, " (expected ");
    fmt_str(&b, expected);
    fmt_str(&b, "); using ");
    fmt_str(&b, fallback);
    warn_stderr(line);
}

/* Decimal digits only: no sign, no spaces, no suffix, no overflow. */
static int parse_decimal(const char *s, unsigned long long max,
                         unsigned long long *out)
{
    unsigned long long v = 0;
    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned digit = (unsigned)(*s - '0');
        if (v > (max - digit) / 10)
            return -1;
        v = v * 10 + digit;
    }
    *out = v;
    return 0;
}

static void load_mode(void)
{
    static const struct { const char *name; enum norst_mode mode; } modes[] = {
        {"drain", MODE_DRAIN}, {"always", MODE_ALWAYS},
        {"log", MODE_LOG},     {"off", MODE_OFF},
    };
    const char *v = secure_getenv("NORST_MODE");
    if (!v)
        return;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(v, modes[i].name) == 0) {
            norst_cfg.mode = modes[i].mode;
            return;
        }
    }
    warn_bad("NORST_MODE", v, "drain, always, log or off", "the default drain");
}

static void load_number(const char *name, unsigned long long min, unsigned long long max,
                        const char *expected, const char *fallback,
                        unsigned long long *out)
{
    unsigned long long v;
    const char *s = secure_getenv(name);
    if (!s)
        return;
    if (parse_decimal(s, max, &v) == 0 && v >= min)
        *out = v;
    else
        warn_bad(name, s, expected, fallback);
}

static int load_flag(const char *name)
{
    const char *s = secure_getenv(name);
    if (!s || strcmp(s, "0") == 0 || *s == '\0')
        return 0;
    if (strcmp(s, "1") == 0)
        return 1;
    warn_bad(name, s, "0 or 1", "0");
    return 0;
}

void config_load(void)
{
    unsigned long long linger = (unsigned long long)norst_cfg.linger_ms;

    load_mode();
    load_number("NORST_LINGER_MS", 0, LINGER_MS_MAX,
                "milliseconds, 0 to 3600000", "the default 2000", &linger);
    norst_cfg.linger_ms = (long)linger;
    load_number("NORST_MAX_BYTES", 0, (unsigned long long)1 << 62,
                "a byte count, 0 for no byte bound", "the default 0 (no byte bound)",
                &norst_cfg.max_bytes);
    norst_cfg.stats = load_flag("NORST_STATS");
    norst_cfg.async = load_flag("NORST_ASYNC");
    unsigned long long max_linger = (unsigned long long)norst_cfg.max_linger;
    load_number("NORST_MAX_LINGER", 1, 1 << 20, "a count of sockets, 1 to 1048576",
                "the default 4096", &max_linger);
    norst_cfg.max_linger = (long)max_linger;

    const char *format = secure_getenv("NORST_LOG_FORMAT");
    if (format && strcmp(format, "json") == 0)
        norst_cfg.log_json = 1;
    else if (format && strcmp(format, "text") != 0)
        warn_bad("NORST_LOG_FORMAT", format, "text or json", "text");

    log_open(secure_getenv("NORST_LOG"));
}
