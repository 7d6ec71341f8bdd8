/* The start time in a page's name (status_page.h), read alike by the
 * library and the norst command. A pure function: this file also links
 * into the command. */
#include "status_page.h"

/* The name in parentheses (field 2) may hold spaces and ')': fields are
 * counted from the last ')' (proc_pid_stat() in fs/proc/array.c). */
int status_start_ticks(const char *stat_text, size_t len, unsigned long long *out)
{
    size_t i = len, field = 2;
    unsigned long long v = 0;
    while (i > 0 && stat_text[i - 1] != ')')
        i--;
    if (i == 0)
        return -1;
    for (; i < len && field < 22; i++)
        if (stat_text[i] == ' ')
            field++;
    if (field != 22 || i >= len || stat_text[i] < '0' || stat_text[i] > '9')
        return -1;
    for (; i < len && stat_text[i] >= '0' && stat_text[i] <= '9'; i++)
        v = v * 10 + (unsigned)(stat_text[i] - '0');
    *out = v;
    return 0;
}
