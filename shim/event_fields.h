/* What one close event says, listed once: the fields of its log line and
 * the names its fields take. The list drives the text line and the JSON
 * object (log.c) and the reader of "norst report" (tools/norst/report.c);
 * tests/t_schema.c holds libnorst(7) to it. It stands alone, so the norst
 * command includes it too.
 *
 * The fields are a stable interface: a field or a name may be added, never
 * removed or renamed. */
#ifndef NORST_EVENT_FIELDS_H
#define NORST_EVENT_FIELDS_H

/* The type of a field's value, as libnorst(7) names it. */
enum field_kind {
    FIELD_STRING,
    FIELD_NUMBER,
    FIELD_NAME,           /* a string, one of a list of names */
    FIELD_BOOL_OR_NULL,   /* true, false, or null for "may have" */
    FIELD_STRING_OR_NULL,
};

/* X(id, JSON key, text form, kind), in the order of the line. The text form
 * is what comes before the value in a text line: the key, or nothing for the
 * time (the line starts "libnorst: " and the time), or ": " before the call
 * site, which ends the line for people. shared and holder are in a line
 * only with action skip-shared; holder in text only when known. */
#define EVENT_FIELDS(X)                                                                 \
    X(EF_TIME, "time", "", FIELD_STRING)              /* UTC, ISO 8601, ms */          \
    X(EF_PID, "pid", " pid=", FIELD_NUMBER)                                             \
    X(EF_FD, "fd", " fd=", FIELD_NUMBER)                                                \
    X(EF_PATH, "path", " path=", FIELD_NAME)          /* close_path_names */           \
    X(EF_LOCAL, "local", " local=", FIELD_STRING)     /* 1.2.3.4:5 or [::1]:5 */       \
    X(EF_PEER, "peer", " peer=", FIELD_STRING)                                          \
    X(EF_UNREAD, "unread", " unread=", FIELD_NUMBER)  /* when asked to close */        \
    X(EF_ACTION, "action", " action=", FIELD_NAME)    /* action_names */               \
    X(EF_OUTCOME, "outcome", " outcome=", FIELD_NAME) /* outcome_names */              \
    X(EF_DRAINED, "drained", " drained=", FIELD_NUMBER)                                 \
    X(EF_ELAPSED_MS, "elapsed_ms", " ms=", FIELD_NUMBER)                                \
    X(EF_RST, "rst", " rst=", FIELD_BOOL_OR_NULL)     /* text: sent, none, possible */ \
    X(EF_SHARED, "shared", " shared=", FIELD_NAME)    /* why, from sharing_check */    \
    X(EF_HOLDER, "holder", " holder=", FIELD_NUMBER)  /* a holder's pid, 0: unknown */ \
    X(EF_COMM, "comm", " comm=", FIELD_STRING)        /* identity.c, read at load */   \
    X(EF_EXE, "exe", " exe=", FIELD_STRING)                                             \
    X(EF_UNIT, "unit", " unit=", FIELD_STRING_OR_NULL) /* systemd unit, else cgroup */  \
    X(EF_UID, "uid", " uid=", FIELD_NUMBER)                                             \
    X(EF_VERSION, "version", " v=", FIELD_STRING)     /* the library's */              \
    X(EF_CALLER, "caller", ": ", FIELD_STRING_OR_NULL)

#define EVENT_FIELD_ID(id, json, text, kind) id,
#define EVENT_FIELD_ROW(id, json, text, kind) [id] = {json, text, kind},
enum event_field { EVENT_FIELDS(EVENT_FIELD_ID) EVENT_FIELD_COUNT };
static const struct event_field_form {
    const char *json, *text;
    enum field_kind kind;
} event_fields[EVENT_FIELD_COUNT] = {EVENT_FIELDS(EVENT_FIELD_ROW)};

/* The names a field takes: X(enumerator, name). */
#define NAME_ID(id, name) id,
#define NAME_ROW(id, name) [id] = name,

/* path: the way the fd was closed. */
#define CLOSE_PATHS(X)                                                             \
    X(PATH_CLOSE, "close") X(PATH___CLOSE, "__close") X(PATH_FCLOSE, "fclose")     \
    X(PATH_DUP2, "dup2") X(PATH_DUP3, "dup3") X(PATH_CLOSE_RANGE, "close_range")   \
    X(PATH_CLOSEFROM, "closefrom") X(PATH_SYSCALL_CLOSE, "syscall-close")          \
    X(PATH_SYSCALL_CLOSE_RANGE, "syscall-close_range")                             \
    X(PATH_EXIT, "exit") /* still open at a normal exit */
enum close_path_kind { CLOSE_PATHS(NAME_ID) };
static const char *const close_path_names[] = {CLOSE_PATHS(NAME_ROW)};

/* action: what the library did. */
#define ACTIONS(X)                                                                 \
    X(ACT_NONE, "none")                                                            \
    X(ACT_DRAIN, "drain")                   /* FIN, then drained */                \
    X(ACT_SKIP_SHARED, "skip-shared")       /* another holder: left alone */       \
    X(ACT_SKIP_ABORT, "skip-abort")         /* SO_LINGER {1, 0}: left alone */     \
    X(ACT_LOG_ONLY, "log-only")             /* NORST_MODE=log */                   \
    X(ACT_SKIP_READ_SHUT, "skip-read-shut") /* the application shut its read side */
enum action { ACTIONS(NAME_ID) };
static const char *const action_names[] = {ACTIONS(NAME_ROW)};

/* outcome: how the drain ended. */
#define OUTCOMES(X)                                                                \
    X(OUT_NONE, "none")              /* not drained (the action was not drain) */  \
    X(OUT_PEER_EOF, "peer-eof")      /* drained to the peer's FIN */               \
    X(OUT_TIME_BOUND, "time-bound")  /* NORST_LINGER_MS ran out */                 \
    X(OUT_BYTE_BOUND, "byte-bound")  /* NORST_MAX_BYTES, once the peer had our FIN */ \
    X(OUT_PEER_RESET, "peer-reset")  /* the peer reset during the drain */         \
    X(OUT_ERROR, "error")            /* shutdown/recv failed otherwise */          \
    X(OUT_EVICTED, "evicted")        /* async: finished early, the fd was needed */ \
    X(OUT_IDLE_BOUND, "idle-bound")  /* NORST_IDLE_MS: the peer was silent */      \
    X(OUT_BLOCK_BOUND, "block-bound") /* NORST_BLOCK_MS, and no thread to go on */
enum outcome { OUTCOMES(NAME_ID) };
static const char *const outcome_names[] = {OUTCOMES(NAME_ROW)};

/* rst: whether this close sends an RST, with its text form; in JSON
 * RST_SENT is true, RST_NONE false and RST_POSSIBLE null. */
#define RST_VERDICTS(X)                                                            \
    X(RST_NONE, "none")                                                            \
    X(RST_SENT, "sent")                                                            \
    X(RST_POSSIBLE, "possible") /* cannot tell whether another holder remains */
enum rst_verdict { RST_VERDICTS(NAME_ID) };
static const char *const rst_names[] = {RST_VERDICTS(NAME_ROW)};

#endif
