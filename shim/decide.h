/* What one close will do, as a pure function of what the probes found. */
#ifndef NORST_DECIDE_H
#define NORST_DECIDE_H

#include "classify.h"
#include "config_parse.h"
#include "event_fields.h"
#include "sharing.h"

enum linger_option { LINGER_NOT_ASKED, LINGER_OFF, LINGER_ABORT, LINGER_TIMED };

/* Facts are asked in the chain's order and only as far as it goes: one
 * the chain does not reach keeps its "not asked" value. */
struct close_facts {
    enum norst_mode mode;
    enum fd_kind kind;
    long unread;               /* bytes a close would leave behind */
    enum process_role { ROLE_NOT_ASKED, ROLE_OWNER, ROLE_CHILD_WITHOUT_TABLES } role;
    enum linger_option linger;
    enum share_verdict sharing; /* SHARE_NOT_ASKED until asked */
    enum read_side { READ_NOT_ASKED, READ_OPEN, READ_SHUT_HERE } read_side;
    enum peer_activity peer;   /* still sending (asked of accepted sockets) */
};

enum fact_needed { NEED_NOTHING, NEED_ROLE, NEED_LINGER, NEED_SHARING, NEED_READ_SIDE };

struct decision {
    enum fact_needed need; /* NEED_NOTHING: action and rst are the decision */
    enum action action;    /* ACT_NONE: no event at all */
    enum rst_verdict rst;
};

struct decision decide(const struct close_facts *f);

#endif
