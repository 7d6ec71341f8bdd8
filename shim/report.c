/* The end of an event, wherever its close was made (in place by
 * close_path.c, or by the reaper): what the real close left unread, the
 * counters, the log line. */
#include "classify.h"
#include "event.h"
#include "event_fields.h"
#include "log.h"
#include "report.h"
#include "stats.h"

/* After the peer's FIN (or its reset) nothing more can arrive: only a drain
 * that stopped at a bound needs to look at what is left. */
void note_unread_at_close(struct close_event *ev, int fd)
{
    if (ev->outcome == OUT_PEER_EOF || ev->outcome == OUT_PEER_RESET)
        ev->unread_at_close = 0;
    else
        ev->unread_at_close = unread_bytes(fd);
    ev->rst = ev->unread_at_close > 0 ? RST_SENT : RST_NONE;
    /* Cut short inside close() with no thread to go on: whatever the peer
     * still sends meets a closed socket. */
    if (ev->rst == RST_NONE && ev->outcome == OUT_BLOCK_BOUND)
        ev->rst = RST_POSSIBLE;
}

void close_path_end(struct close_event *ev)
{
    /* In "always" mode most closes had nothing to save; report the ones that
     * discarded bytes (would have been TCPAbortOnData) or still reset. */
    stats_count_event(ev);
    if (ev->unread > 0 || ev->drained > 0 || ev->rst != RST_NONE)
        log_event(ev);
}
