/* What the test programs share with the harness: the byte pattern a peer
 * checks (harness.c's pattern_byte), and a millisecond clock. */
#ifndef NORST_TEST_PATTERN_H
#define NORST_TEST_PATTERN_H

#include <stddef.h>
#include <time.h>

static inline unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 7 + i / 251) & 0xff);
}

static inline long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

#endif
