/* decide(), the pure decision of shim/decide.c, against its whole table:
 * each row is a set of facts and what a close with them must do. Then the
 * order in which it asks for facts: none it does not need (an abort never
 * pays for a /proc scan, log mode never probes the read side). */
#include <stdio.h>

#include "decide.h"
#include "harness.h"

static const struct row {
    const char *why;
    struct close_facts facts;
    enum action action;
    enum rst_verdict rst;
} rows[] = {
    {"off: every close passes through",
     {MODE_OFF, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_NONE, RST_NONE},
    {"not a socket, or not TCP",
     {MODE_DRAIN, KIND_OTHER, 10, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_NONE, RST_NONE},
    {"a listening socket, or a TCP socket not connected",
     {MODE_ALWAYS, KIND_IDLE, 0, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_NONE, RST_NONE},
    {"a TCP socket with nothing queued",
     {MODE_DRAIN, KIND_IDLE, 0, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_NONE, RST_NONE},
    {"connected, nothing unread: a FIN",
     {MODE_DRAIN, KIND_CONNECTED, 0, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_NONE, RST_NONE},
    {"connected, nothing unread, always: linger on it",
     {MODE_ALWAYS, KIND_CONNECTED, 0, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_DRAIN, RST_NONE},
    {"unread, sole holder: drain",
     {MODE_DRAIN, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_DRAIN, RST_NONE},
    {"unread, sole, SO_LINGER {1,N}: drain",
     {MODE_DRAIN, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_TIMED, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_DRAIN, RST_NONE},
    {"a vfork or clone child's copy",
     {MODE_DRAIN, KIND_CONNECTED, 10, ROLE_CHILD_WITHOUT_TABLES, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET},
     ACT_NONE, RST_NONE},
    {"SO_LINGER {1,0}: the application's reset",
     {MODE_DRAIN, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_ABORT, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_SKIP_ABORT, RST_SENT},
    {"SO_LINGER {1,0} in log mode too",
     {MODE_LOG, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_ABORT, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_SKIP_ABORT, RST_SENT},
    {"another holder: only a reference goes",
     {MODE_DRAIN, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_OFF, SHARE_SHARED, READ_OPEN, PEER_QUIET}, ACT_SKIP_SHARED, RST_NONE},
    {"cannot tell: nothing, and a reset may follow",
     {MODE_DRAIN, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_OFF, SHARE_UNKNOWN, READ_OPEN, PEER_QUIET}, ACT_SKIP_SHARED, RST_POSSIBLE},
    {"cannot tell, nothing unread (always): no reset either way",
     {MODE_ALWAYS, KIND_CONNECTED, 0, ROLE_OWNER, LINGER_OFF, SHARE_UNKNOWN, READ_OPEN, PEER_QUIET}, ACT_SKIP_SHARED, RST_NONE},
    {"a lower fd of the same batch decides",
     {MODE_DRAIN, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_OFF, SHARE_BATCH_PEER, READ_OPEN, PEER_QUIET}, ACT_NONE, RST_NONE},
    {"log mode: say what the kernel will do",
     {MODE_LOG, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET}, ACT_LOG_ONLY, RST_SENT},
    {"log mode, shared",
     {MODE_LOG, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_OFF, SHARE_SHARED, READ_OPEN, PEER_QUIET}, ACT_SKIP_SHARED, RST_NONE},
    {"the application shut its read side: its reset stands",
     {MODE_DRAIN, KIND_CONNECTED, 10, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_SHUT_HERE, PEER_QUIET}, ACT_SKIP_READ_SHUT, RST_SENT},
    {"read side shut, nothing unread (always): no reset",
     {MODE_ALWAYS, KIND_CONNECTED, 0, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_SHUT_HERE, PEER_QUIET}, ACT_SKIP_READ_SHUT, RST_NONE},
    {"nothing unread, the peer still sending: linger",
     {MODE_DRAIN, KIND_CONNECTED, 0, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_SENDING},
     ACT_DRAIN, RST_NONE},
    {"nothing unread, the peer quiet: a FIN",
     {MODE_DRAIN, KIND_CONNECTED, 0, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_OPEN, PEER_QUIET},
     ACT_NONE, RST_NONE},
    {"the peer still sending, the table cannot vouch (not searched): nothing, no event",
     {MODE_DRAIN, KIND_CONNECTED, 0, ROLE_OWNER, LINGER_OFF, SHARE_UNKNOWN, READ_OPEN, PEER_SENDING},
     ACT_NONE, RST_NONE},
    {"the peer still sending, SO_LINGER {1,N}: the application's timed close stands",
     {MODE_DRAIN, KIND_CONNECTED, 0, ROLE_OWNER, LINGER_TIMED, SHARE_SOLE, READ_OPEN, PEER_SENDING},
     ACT_NONE, RST_NONE},
    {"the peer still sending, read side shut here: a reset may follow",
     {MODE_DRAIN, KIND_CONNECTED, 0, ROLE_OWNER, LINGER_OFF, SHARE_SOLE, READ_SHUT_HERE, PEER_SENDING},
     ACT_SKIP_READ_SHUT, RST_POSSIBLE},
};

static void whole_table(void)
{
    case_begin("decide: every row of the table");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct decision d = decide(&rows[i].facts);
        CHECK(d.need == NEED_NOTHING && d.action == rows[i].action && d.rst == rows[i].rst,
              "%s: need %d action %d rst %d, want action %d rst %d", rows[i].why, d.need, d.action,
              d.rst, rows[i].action, rows[i].rst);
    }
    case_end();
}

/* Starting from nothing asked, answer each question with the row's fact
 * and note the order of the questions. */
static int questions(const struct close_facts *answers, enum fact_needed *asked, struct decision *out)
{
    struct close_facts f = {answers->mode,    answers->kind,   answers->unread,
                            ROLE_NOT_ASKED,   LINGER_NOT_ASKED, SHARE_NOT_ASKED,
                            READ_NOT_ASKED,   answers->peer};
    int n = 0;
    for (;;) {
        struct decision d = decide(&f);
        if (d.need == NEED_NOTHING || n == 8) {
            *out = d;
            return n;
        }
        asked[n++] = d.need;
        if (d.need == NEED_ROLE)
            f.role = answers->role;
        else if (d.need == NEED_LINGER)
            f.linger = answers->linger;
        else if (d.need == NEED_SHARING)
            f.sharing = answers->sharing;
        else if (d.need == NEED_READ_SIDE)
            f.read_side = answers->read_side;
    }
}

static void asks_only_what_it_needs(void)
{
    case_begin("decide: asks each fact once, in the chain's order, and only where it matters");
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        enum fact_needed asked[8];
        struct decision d;
        int n = questions(&rows[i].facts, asked, &d);
        CHECK(d.action == rows[i].action && d.rst == rows[i].rst, "%s: asked %d facts, action %d",
              rows[i].why, n, d.action);
        for (int k = 1; k < n; k++)
            CHECK(asked[k] > asked[k - 1], "%s: question %d (%d) after %d", rows[i].why, k, asked[k],
                  asked[k - 1]);
        for (int k = 0; k < n; k++) {
            CHECK(!(asked[k] == NEED_SHARING && rows[i].facts.linger == LINGER_ABORT),
                  "%s: a /proc scan for an abort", rows[i].why);
            CHECK(!(asked[k] == NEED_READ_SIDE && rows[i].facts.mode == MODE_LOG),
                  "%s: a read-side probe in log mode", rows[i].why);
            CHECK(!(asked[k] != NEED_NOTHING && rows[i].facts.kind != KIND_CONNECTED),
                  "%s: a question about a socket that is not connected", rows[i].why);
        }
    }
    case_end();
}

int main(void)
{
    whole_table();
    asks_only_what_it_needs();
    return harness_done();
}
