/* Async-signal-safe formatting into a caller's buffer (fmt.c). */
#ifndef NORST_FMT_H
#define NORST_FMT_H

#include <stddef.h>

union sock_addr;

struct fmtbuf { char *buf; size_t len, cap; };
void fmt_str(struct fmtbuf *b, const char *s);
void fmt_ulong(struct fmtbuf *b, unsigned long long v);
void fmt_long(struct fmtbuf *b, long long v);
void fmt_hex(struct fmtbuf *b, unsigned long long v);
void fmt_addr(struct fmtbuf *b, const union sock_addr *addr);
void fmt_utc_time(struct fmtbuf *b);
void fmt_json_str(struct fmtbuf *b, const char *s);
/* The inside of a JSON string literal: the first n bytes of s, escaped. */
void fmt_json_chars(struct fmtbuf *b, const char *s, size_t n);

#endif
