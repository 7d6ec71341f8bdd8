/* The NORST_* variables and their rules (see config_parse.h). String
 * functions only: this also links into the norst command and the fuzzer. */
#include <string.h>

#include "config_parse.h"

/* The configuration in force: filled once, at load, by config_load(). */
struct norst_config norst_cfg;

static const char *const mode_words[] = {
    [MODE_DRAIN] = "drain", [MODE_ALWAYS] = "always", [MODE_LOG] = "log", [MODE_OFF] = "off",
    NULL,
};
static const char *const format_words[] = {[LOG_TEXT] = "text", [LOG_JSON] = "json", NULL};

const struct config_var config_vars[CONFIG_COUNT] = {
    [CONFIG_MODE] = {"NORST_MODE", CONFIG_WORD, 0, 0, MODE_DRAIN, mode_words,
                     "drain, always, log or off", "the default drain"},
    [CONFIG_LINGER_MS] = {"NORST_LINGER_MS", CONFIG_NUMBER, 0, 3600000 /* an hour; more is a typo */,
                          30000, NULL, "milliseconds, 0 to 3600000", "the default 30000"},
    /* nginx's lingering_timeout and lingering_time are 5 s and 30 s;
     * Apache waits 2 s a read, 30 s in all (MAX_SECS_TO_LINGER). */
    [CONFIG_IDLE_MS] = {"NORST_IDLE_MS", CONFIG_NUMBER, 0, 3600000, 5000, NULL,
                        "milliseconds, 0 to 3600000", "the default 5000"},
    [CONFIG_BLOCK_MS] = {"NORST_BLOCK_MS", CONFIG_NUMBER, 0, 3600000, 0, NULL,
                         "milliseconds, 0 to 3600000",
                         "the default (0; 2000 with NORST_ASYNC=0)"},
    [CONFIG_MAX_BYTES] = {"NORST_MAX_BYTES", CONFIG_NUMBER, 0, 1ULL << 62, 16 << 20, NULL,
                          "a byte count, 0 for no byte bound", "the default 16777216"},
    [CONFIG_STATS] = {"NORST_STATS", CONFIG_FLAG, 0, 1, 0, NULL, "0 or 1", "0"},
    [CONFIG_ASYNC] = {"NORST_ASYNC", CONFIG_FLAG, 0, 1, 1, NULL, "0 or 1", "1"},
    [CONFIG_MAX_LINGER] = {"NORST_MAX_LINGER", CONFIG_NUMBER, 1, 1 << 20, 4096, NULL,
                           "a count of sockets, 1 to 1048576", "the default 4096"},
    [CONFIG_LOG_FORMAT] = {"NORST_LOG_FORMAT", CONFIG_WORD, 0, 0, LOG_TEXT, format_words,
                           "text or json", "text"},
    [CONFIG_LOG] = {"NORST_LOG", CONFIG_TEXT, 0, 0, 0, NULL, "FILE, stderr or syslog", NULL},
    [CONFIG_STATUS_DIR] = {"NORST_STATUS_DIR", CONFIG_TEXT, 0, 0, 0, NULL, "a directory, or off", NULL},
    [CONFIG_ANNOUNCE] = {"NORST_ANNOUNCE", CONFIG_FLAG, 0, 1, 0, NULL, "0 or 1", "0"},
};

/* Decimal digits only: no sign, no spaces, no suffix, no overflow. */
static int parse_decimal(const char *s, unsigned long long max, unsigned long long *out)
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

int config_parse_value(const struct config_var *var, const char *value,
                       unsigned long long *out)
{
    unsigned long long v;
    switch (var->kind) {
    case CONFIG_WORD:
        for (size_t i = 0; var->words[i]; i++) {
            if (strcmp(value, var->words[i]) == 0) {
                *out = i;
                return 0;
            }
        }
        return -1;
    case CONFIG_NUMBER:
        if (parse_decimal(value, var->max, &v) < 0 || v < var->min)
            return -1;
        *out = v;
        return 0;
    case CONFIG_FLAG:
        if (*value && strcmp(value, "0") != 0 && strcmp(value, "1") != 0)
            return -1;
        *out = *value ? strcmp(value, "1") == 0 : var->dflt; /* empty: as if unset */
        return 0;
    case CONFIG_TEXT:
        *out = *value != '\0';
        return 0;
    }
    return -1;
}

int config_parse(const char *const given[CONFIG_COUNT], struct norst_config *out,
                 struct config_warning bad[CONFIG_COUNT])
{
    unsigned long long v[CONFIG_COUNT];
    int nbad = 0, taken[CONFIG_COUNT];

    for (int id = 0; id < CONFIG_COUNT; id++) {
        const struct config_var *var = &config_vars[id];
        v[id] = var->dflt;
        taken[id] = given[id] && config_parse_value(var, given[id], &v[id]) == 0;
        if (given[id] && !taken[id])
            bad[nbad++] = (struct config_warning){var, given[id]};
    }
    out->mode = (enum norst_mode)v[CONFIG_MODE];
    out->linger_ms = (long)v[CONFIG_LINGER_MS];
    out->idle_ms = (long)v[CONFIG_IDLE_MS];
    out->block_ms = (long)v[CONFIG_BLOCK_MS];
    out->max_bytes = v[CONFIG_MAX_BYTES];
    out->stats = (int)v[CONFIG_STATS];
    out->async = (int)v[CONFIG_ASYNC];
    out->max_linger = (long)v[CONFIG_MAX_LINGER];
    out->log_format = (enum log_format)v[CONFIG_LOG_FORMAT];
    out->log_target = v[CONFIG_LOG] ? given[CONFIG_LOG] : NULL;
    out->status_dir = v[CONFIG_STATUS_DIR] ? given[CONFIG_STATUS_DIR] : NULL;
    out->announce = (int)v[CONFIG_ANNOUNCE];
    if (!taken[CONFIG_BLOCK_MS] && !out->async)
        out->block_ms = THREADLESS_BLOCK_MS;
    return nbad;
}
