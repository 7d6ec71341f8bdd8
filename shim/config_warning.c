/* The line a rejected NORST_* value gets on stderr. Built here, apart from
 * the loader, so that the fuzzer checks the very text the library writes. */
#include <string.h>

#include "config_parse.h"
#include "fmt.h"

void config_warning_line(struct fmtbuf *b, const struct config_warning *w)
{
    char shown[128];
    /* A long value is cut, so that the line still names the default: 100
     * bytes, each at most 6 characters once escaped ("\ufffd"). */
    size_t len = strlen(w->value);
    memcpy(shown, w->value, len < 100 ? len : 100);
    strcpy(shown + (len < 100 ? len : 100), len > 100 ? "..." : "");
    fmt_str(b, "libnorst: ignoring ");
    fmt_str(b, w->var->name);
    fmt_str(b, "=");
    fmt_json_str(b, shown); /* quoted and escaped: the value may be anything */
    fmt_str(b, " (expected ");
    fmt_str(b, w->var->expected);
    fmt_str(b, "); using ");
    fmt_str(b, w->var->fallback);
}
