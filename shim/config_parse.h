/* The NORST_* configuration contract: one table of the variables (name,
 * kind, limits, default, what a good value looks like, what a bad one falls
 * back to), and a pure parser over it. No I/O and no globals written: the
 * library's loader (config.c) feeds it the environment, the norst command
 * checks its option values with it, and the fuzzer drives it alone. */
#ifndef NORST_CONFIG_PARSE_H
#define NORST_CONFIG_PARSE_H

/* drain: linger on unread data and on data still on its way (accepted
 * sockets); unread: on unread data only (no TCP_INFO on clean closes, no
 * linger after an ordinary reply: the cheapest mode that still acts). */
enum norst_mode { MODE_DRAIN, MODE_ALWAYS, MODE_LOG, MODE_OFF, MODE_UNREAD };
enum log_format { LOG_TEXT, LOG_JSON };
/* Where NORST_LOG sends events: its keywords (any case), else a file. */
enum log_sink { LOG_NONE, LOG_STDERR, LOG_SYSLOG, LOG_JOURNAL, LOG_FILE };

/* The local sockets of the syslog and journal sinks (journald's native
 * protocol socket, systemd.journal-fields(7)). */
#define SYSLOG_SOCKET "/dev/log"
#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* syslog's priority, facility * 8 + level (RFC 5424 6.2.1): daemon.notice.
 * An event is the library doing its job, not a fault: notice ("normal but
 * significant"), which default syslog and journald set-ups keep. */
#define SYSLOG_DEFAULT_PRIORITY (3 * 8 + 5)

struct norst_config {
    enum norst_mode mode;
    long linger_ms;               /* NORST_LINGER_MS: total bound of one linger */
    long idle_ms;                 /* NORST_IDLE_MS: no byte from the peer this long: stop */
    long block_ms;                /* NORST_BLOCK_MS: how long close() itself may wait */
    unsigned long long max_bytes; /* discard bound once the peer holds our FIN; 0 = none */
    int stats;
    int async;                    /* NORST_ASYNC: linger in the reaper thread */
    long max_linger;              /* NORST_MAX_LINGER: cap on lingering sockets */
    /* What the log was asked for; the log module opens it and owns the
     * outcome (log_enabled). */
    enum log_format log_format;
    enum log_sink log_sink;
    const char *log_target;       /* the file's path with LOG_FILE, else NULL */
    int syslog_priority;          /* NORST_SYSLOG_PRIORITY: facility * 8 + level */
    const char *status_dir;       /* NORST_STATUS_DIR: live counters; NULL: the default */
    int announce;                 /* NORST_ANNOUNCE: a line to the log at load */
};

/* In the order a loader reports bad values. */
enum config_id {
    CONFIG_MODE, CONFIG_LINGER_MS, CONFIG_IDLE_MS, CONFIG_BLOCK_MS, CONFIG_MAX_BYTES, CONFIG_STATS, CONFIG_ASYNC,
    CONFIG_MAX_LINGER, CONFIG_LOG_FORMAT, CONFIG_LOG, CONFIG_SYSLOG_PRIORITY, CONFIG_STATUS_DIR,
    CONFIG_ANNOUNCE, CONFIG_COUNT
};

enum config_kind {
    CONFIG_WORD,   /* one of words[] in any case; its index is the value */
    CONFIG_NUMBER, /* decimal digits only, min to max */
    CONFIG_FLAG,   /* "1" or "0"; empty is the default */
    CONFIG_LOG_TARGET, /* a keyword of log_sink_words (any case), else a file;
                        * the value is its enum log_sink, LOG_NONE when empty */
    CONFIG_PRIORITY,   /* syslog's FACILITY.LEVEL (any case): facility * 8 + level */
    CONFIG_DIRECTORY,  /* an absolute path, or "off" (any case): enum directory_choice */
};
enum directory_choice { DIRECTORY_DEFAULT, DIRECTORY_GIVEN, DIRECTORY_OFF };

struct config_var {
    const char *name;
    enum config_kind kind;
    unsigned long long min, max, dflt;
    const char *const *words; /* CONFIG_WORD, NULL-terminated */
    const char *expected;     /* "milliseconds, 0 to 3600000" */
    const char *fallback;     /* "the default 2000"; NULL: never rejected */
    /* What a rejected value falls back to, when not the default (a bad
     * NORST_MODE: the mode that changes nothing). NULL: dflt. */
    const unsigned long long *when_bad;
};
extern const struct config_var config_vars[CONFIG_COUNT];

/* NORST_BLOCK_MS unset: close() waits for nothing while a thread can
 * linger for it; without the thread (NORST_ASYNC=0) it is the only place
 * to linger, and waits up to this long. */
#define THREADLESS_BLOCK_MS 2000

/* NORST_LOG's keywords, by enum log_sink: "stderr", "syslog", "journal". */
extern const char *const log_sink_words[];

/* One value by its variable's rules: 0 with *out set, or -1. */
int config_parse_value(const struct config_var *var, const char *value,
                       unsigned long long *out);

struct config_warning {
    const struct config_var *var;
    const char *value;
};
/* given[id]: the variable's value, NULL when unset. Fills *out (defaults
 * for what is unset or bad; the strings stay the caller's) and bad[] with
 * each rejected value, in config_id order; returns how many. */
int config_parse(const char *const given[CONFIG_COUNT], struct norst_config *out,
                 struct config_warning bad[CONFIG_COUNT]);

/* config_warning.c: the one line a rejected value gets, without newline;
 * it fits in CONFIG_WARNING_MAX bytes, however long the value. */
#define CONFIG_WARNING_MAX 800
struct fmtbuf;
void config_warning_line(struct fmtbuf *b, const struct config_warning *w);

#endif
