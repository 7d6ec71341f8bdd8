/* Counting strings in an open-addressing hash table with a bound on the
 * number of distinct keys, so that a huge log with endless distinct values
 * (peers, say) cannot take the memory: past the bound, new keys are counted
 * together as "others". */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tool.h"

static size_t hash(const char *s)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return (size_t)h;
}

static struct tally *slot_for(struct tally *slots, size_t cap, const char *key)
{
    size_t i = hash(key) & (cap - 1);
    while (slots[i].key && strcmp(slots[i].key, key) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static void grow(struct table *t)
{
    size_t cap = t->cap ? 2 * t->cap : 64;
    struct tally *slots = xrealloc(NULL, cap * sizeof *slots);
    memset(slots, 0, cap * sizeof *slots);
    for (size_t i = 0; i < t->cap; i++)
        if (t->slot[i].key)
            *slot_for(slots, cap, t->slot[i].key) = t->slot[i];
    free(t->slot);
    t->slot = slots;
    t->cap = cap;
}

struct tally *table_add(struct table *t, const char *key)
{
    if (2 * (t->used + 1) > t->cap)
        grow(t);
    struct tally *s = slot_for(t->slot, t->cap, key);
    if (!s->key) {
        if (t->used >= t->max) {
            t->others++;
            return NULL;
        }
        s->key = xstrdup(key);
        t->used++;
    }
    s->count++;
    return s;
}

static int by_count(const void *a, const void *b)
{
    const struct tally *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

void table_sort(struct table *t)
{
    size_t n = 0;
    for (size_t i = 0; i < t->cap; i++) {
        struct tally entry = t->slot[i];
        t->slot[i] = (struct tally){NULL, 0, NULL};
        if (entry.key)
            t->slot[n++] = entry;
    }
    if (n)
        qsort(t->slot, n, sizeof *t->slot, by_count);
}

void table_free(struct table *t)
{
    for (size_t i = 0; i < t->cap; i++) {
        free(t->slot[i].key);
        free(t->slot[i].sample);
    }
    free(t->slot);
}
