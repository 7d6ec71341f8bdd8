/* NORST_* environment, read once when the library loads: the variables
 * through the parser (config_parse.c), a line on stderr for each bad value,
 * then the log opens its sink.
 *
 * secure_getenv: in a set-user-ID program the variables are ignored, so an
 * unprivileged user cannot redirect a privileged daemon's log. A bad value
 * never aborts the host: it gets one line on stderr and the default. */
#include <stdlib.h>

#include "config.h"
#include "config_parse.h"
#include "fmt.h"
#include "log.h"

/* Filled by config_load before norst_ready is set; nothing reads it to act
 * before then. */

void config_load(void)
{
    const char *given[CONFIG_COUNT];
    struct config_warning bad[CONFIG_COUNT];

    for (int id = 0; id < CONFIG_COUNT; id++)
        given[id] = secure_getenv(config_vars[id].name);
    int nbad = config_parse(given, &norst_cfg, bad);
    for (int i = 0; i < nbad; i++) {
        char line[CONFIG_WARNING_MAX];
        struct fmtbuf b = {line, 0, sizeof line};
        config_warning_line(&b, &bad[i]);
        warn_stderr(line);
    }
    log_open(&norst_cfg);
    /* Log mode exists to record; with nowhere to record, it is a no-op
     * that looks like one that works. */
    if (norst_cfg.mode == MODE_LOG && !log_enabled() && !norst_cfg.stats)
        warn_stderr("libnorst: mode log and no log: closes change nothing and nothing is "
                    "recorded; set NORST_LOG to a FILE, stderr, syslog or journal");
}
