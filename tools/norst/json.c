/* A strict JSON parser for one object per line (RFC 8259 grammar): strings
 * with every escape including \uXXXX surrogate pairs, numbers, true, false,
 * null; nested objects and arrays are validated and skipped. It captures only
 * the top-level members the caller names, so it needs no tree and no
 * allocation beyond those values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

#define MAX_DEPTH 64

struct cursor {
    const char *p, *end;
    int depth;
};

struct sbuf {
    char *buf;
    size_t len, cap;
};

static void sbuf_append(struct sbuf *s, const char *bytes, size_t n)
{
    if (!s || !n)
        return;
    if (s->len + n + 1 > s->cap) {
        s->cap = (s->len + n + 1) * 2 > 64 ? (s->len + n + 1) * 2 : 64;
        s->buf = xrealloc(s->buf, s->cap);
    }
    memcpy(s->buf + s->len, bytes, n);
    s->len += n;
    s->buf[s->len] = '\0';
}

static void sbuf_put(struct sbuf *s, char c)
{
    sbuf_append(s, &c, 1);
}

static void skip_ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

/* Consumes ch if it is next (after white space). */
static int accept(struct cursor *c, char ch)
{
    skip_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

static int hex4(struct cursor *c, unsigned *out)
{
    unsigned v = 0;
    if (c->end - c->p < 4)
        return -1;
    for (int i = 0; i < 4; i++) {
        char h = *c->p++;
        v <<= 4;
        if (h >= '0' && h <= '9')
            v |= (unsigned)(h - '0');
        else if (h >= 'a' && h <= 'f')
            v |= (unsigned)(h - 'a' + 10);
        else if (h >= 'A' && h <= 'F')
            v |= (unsigned)(h - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static void put_utf8(struct sbuf *s, unsigned cp)
{
    if (cp < 0x80) {
        sbuf_put(s, (char)cp);
    } else if (cp < 0x800) {
        sbuf_put(s, (char)(0xc0 | cp >> 6));
        sbuf_put(s, (char)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        sbuf_put(s, (char)(0xe0 | cp >> 12));
        sbuf_put(s, (char)(0x80 | (cp >> 6 & 0x3f)));
        sbuf_put(s, (char)(0x80 | (cp & 0x3f)));
    } else {
        sbuf_put(s, (char)(0xf0 | cp >> 18));
        sbuf_put(s, (char)(0x80 | (cp >> 12 & 0x3f)));
        sbuf_put(s, (char)(0x80 | (cp >> 6 & 0x3f)));
        sbuf_put(s, (char)(0x80 | (cp & 0x3f)));
    }
}

/* \uXXXX, the backslash and 'u' already consumed; a surrogate must pair. */
static int unicode_escape(struct cursor *c, struct sbuf *out)
{
    unsigned cp, low;
    if (hex4(c, &cp) < 0 || (cp >= 0xdc00 && cp <= 0xdfff))
        return -1;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        if (c->end - c->p < 2 || c->p[0] != '\\' || c->p[1] != 'u')
            return -1;
        c->p += 2;
        if (hex4(c, &low) < 0 || low < 0xdc00 || low > 0xdfff)
            return -1;
        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    put_utf8(out, cp);
    return 0;
}

/* Whether a byte of the word is '"', '\\' or below 0x20: the bit tricks
 * of "Bit Twiddling Hacks" (haszero, hasless), eight bytes at a time. */
static int word_has_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), backslash = w ^ (ones * '\\');
    return (((quote - ones) & ~quote) | ((backslash - ones) & ~backslash) |
            ((w - ones * 0x20) & ~w)) & highs ? 1 : 0;
}

/* Past the bytes from p that need no decoding: up to a quote, a backslash,
 * a control byte, or end. */
static const char *plain_run(const char *p, const char *end)
{
    uint64_t w;
    while (end - p >= 8 && (memcpy(&w, p, 8), !word_has_special(w)))
        p += 8;
    while (p < end && *p != '"' && *p != '\\' && (unsigned char)*p >= 0x20)
        p++;
    return p;
}

/* A string literal at the cursor; its decoded bytes go to out unless NULL. */
static int string_literal(struct cursor *c, struct sbuf *out)
{
    static const char escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
    if (!accept(c, '"'))
        return -1;
    while (c->p < c->end) {
        /* a run of plain bytes at once: most strings are nothing else */
        const char *run = c->p;
        c->p = plain_run(c->p, c->end);
        sbuf_append(out, run, (size_t)(c->p - run));
        if (c->p == c->end)
            break;
        unsigned char ch = (unsigned char)*c->p++;
        if (ch == '"')
            return 0;
        if (ch < 0x20)
            return -1; /* control characters must be escaped */
        if (ch != '\\') {
            sbuf_put(out, (char)ch);
            continue;
        }
        if (c->p == c->end)
            return -1;
        char e = *c->p++;
        if (e == 'u') {
            if (unicode_escape(c, out) < 0)
                return -1;
            continue;
        }
        const char *hit = NULL;
        for (const char *m = escapes; *m; m += 2)
            if (*m == e) {
                hit = m;
                break;
            }
        if (!hit)
            return -1;
        sbuf_put(out, hit[1]);
    }
    return -1; /* unterminated */
}

static int digits(struct cursor *c)
{
    const char *start = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > start ? 0 : -1;
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int number(struct cursor *c, double *out)
{
    const char *start = c->p;
    if (c->p < c->end && *c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (digits(c) < 0)
        return -1;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (digits(c) < 0)
            return -1;
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (digits(c) < 0)
            return -1;
    }
    /* strtod wants a terminated string: a copy, on the stack when short. */
    size_t len = (size_t)(c->p - start);
    char small[64], *copy = len < sizeof small ? small : xrealloc(NULL, len + 1);
    memcpy(copy, start, len);
    copy[len] = '\0';
    *out = strtod(copy, NULL);
    if (copy != small)
        free(copy);
    return 0;
}

static int literal(struct cursor *c, const char *word)
{
    size_t len = strlen(word);
    if ((size_t)(c->end - c->p) < len || memcmp(c->p, word, len) != 0)
        return -1;
    c->p += len;
    return 0;
}

struct capture {
    struct json_field *fields; /* the members to keep; NULL: keep none */
    size_t nfields;
};
static int container(struct cursor *c, char open, char close,
                     int (*item)(struct cursor *, struct capture *), struct capture *cap);
static int member(struct cursor *c, struct capture *cap);
static int element(struct cursor *c, struct capture *cap);

/* Any value; stored in dst unless NULL. */
static int value(struct cursor *c, struct json_field *dst)
{
    struct sbuf text = {NULL, 0, 0};
    struct json_field scratch = {NULL, JSON_ABSENT, NULL, 0, NULL, 0};
    if (!dst)
        dst = &scratch;
    free(dst->str);
    dst->str = NULL;
    skip_ws(c);
    if (c->p == c->end)
        return -1;
    switch (*c->p) {
    case '"':
        if (string_literal(c, dst == &scratch ? NULL : &text) < 0) {
            free(text.buf);
            return -1;
        }
        dst->type = JSON_STRING;
        if (dst != &scratch)
            dst->str = text.buf ? text.buf : xstrdup("");
        return 0;
    case '{':
        dst->type = JSON_OTHER;
        return container(c, '{', '}', member, &(struct capture){NULL, 0});
    case '[':
        dst->type = JSON_OTHER;
        return container(c, '[', ']', element, NULL);
    case 't':
        dst->type = JSON_TRUE;
        return literal(c, "true");
    case 'f':
        dst->type = JSON_FALSE;
        return literal(c, "false");
    case 'n':
        dst->type = JSON_NULL;
        return literal(c, "null");
    default:
        dst->type = JSON_NUMBER;
        return number(c, &dst->num);
    }
}

/* The field a decoded key names (a key may hold \u0000: compare lengths). */
static struct json_field *field_named(struct json_field *fields, size_t nfields,
                                      const struct sbuf *key)
{
    for (size_t i = 0; i < nfields; i++)
        if (key->buf && strlen(fields[i].name) == key->len &&
            memcmp(fields[i].name, key->buf, key->len) == 0)
            return &fields[i];
    return NULL;
}

/* open, items separated by commas, close: an object or an array */
static int container(struct cursor *c, char open, char close,
                     int (*item)(struct cursor *, struct capture *), struct capture *cap)
{
    if (!accept(c, open) || ++c->depth > MAX_DEPTH)
        return -1;
    if (!accept(c, close)) {
        do {
            if (item(c, cap) < 0)
                return -1;
        } while (accept(c, ','));
        if (!accept(c, close))
            return -1;
    }
    c->depth--;
    return 0;
}

/* "key": value, captured when the key names one of cap's fields */
static int member(struct cursor *c, struct capture *cap)
{
    struct sbuf key = {NULL, 0, 0};
    if (string_literal(c, cap->fields ? &key : NULL) < 0 || !accept(c, ':')) {
        free(key.buf);
        return -1;
    }
    struct json_field *dst = cap->fields ? field_named(cap->fields, cap->nfields, &key) : NULL;
    free(key.buf);
    skip_ws(c);
    const char *start = c->p;
    if (value(c, dst) < 0)
        return -1;
    if (dst) {
        dst->raw = start;
        dst->raw_len = (size_t)(c->p - start);
    }
    return 0;
}

static int element(struct cursor *c, struct capture *cap)
{
    (void)cap;
    return value(c, NULL);
}

void json_fields_clear(struct json_field *fields, size_t nfields)
{
    for (size_t i = 0; i < nfields; i++) {
        free(fields[i].str);
        fields[i].str = NULL;
        fields[i].type = JSON_ABSENT;
        fields[i].num = 0;
        fields[i].raw = NULL;
        fields[i].raw_len = 0;
    }
}

int json_parse_object(const char *text, size_t len, struct json_field *fields, size_t nfields)
{
    struct cursor c = {text, text + len, 0};
    struct capture cap = {fields, nfields};
    json_fields_clear(fields, nfields);
    if (container(&c, '{', '}', member, &cap) < 0) {
        json_fields_clear(fields, nfields);
        return -1;
    }
    skip_ws(&c);
    if (c.p != c.end) {
        json_fields_clear(fields, nfields);
        return -1;
    }
    return 0;
}

int json_each_object(const char *text, size_t len, struct json_field *fields, size_t nfields,
                     void (*each)(void *ctx, const struct json_field *fields), void *ctx)
{
    struct cursor c = {text, text + len, 0};
    int rc = -1;
    if (!accept(&c, '['))
        return -1;
    if (accept(&c, ']'))
        rc = 0;
    else
        do {
            struct capture cap = {fields, nfields};
            json_fields_clear(fields, nfields);
            skip_ws(&c);
            if (c.p == c.end || *c.p != '{' || container(&c, '{', '}', member, &cap) < 0)
                break;
            each(ctx, fields);
            if (!accept(&c, ',')) {
                rc = accept(&c, ']') ? 0 : -1;
                break;
            }
        } while (1);
    json_fields_clear(fields, nfields);
    skip_ws(&c);
    return rc == 0 && c.p == c.end ? 0 : -1;
}

void json_put_str(FILE *out, const char *s)
{
    putc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(out, "\\u%04x", ch);
        else
            putc(ch, out);
    }
    putc('"', out);
}
