/* Random scenarios from a seed (splitmix64, so a seed means the same
 * scenario on every machine). */
#include "gen.h"

#include <stdio.h>
#include <string.h>

static const char *const holders[] = {
    "self", "dup", "dupkeep", "fdopen", "fork", "forkpriv", "clone", "vforkexec",
    "vforkexecl", "vforkdup0", "vforktrue", "spawn", "spawndup0", "spawntrue",
    "thread", "threadexit", "scm",
};
static const char *const closes[] = {"close", "fclose", "dup2", "range", "closefrom", "sys",
                                     "shut", "keep"};
static const char *const ends[] = {"exit", "_exit", "return", "closefrom"};
static const char *const exits[] = {"return", "exit", "_exit", "closefrom", "pthread_exit"};
#define PICK(rng, a) (a[next(rng) % (sizeof a / sizeof a[0])])

static unsigned long long next(unsigned long long *s)
{
    unsigned long long z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* 1 with probability percent/100 */
static int chance(unsigned long long *rng, int percent)
{
    return (int)(next(rng) % 100) < percent;
}

static long upto(unsigned long long *rng, long max)
{
    return (long)(next(rng) % (unsigned long long)(max + 1));
}

/* Holders that run in a process serving other steps too (the main one,
 * the SCM_RIGHTS helper): closefrom(fd) there would also close the fds of
 * later steps, or the helper's socket. */
static int shares_process(const char *holder)
{
    return strcmp(holder, "self") == 0 || strncmp(holder, "dup", 3) == 0 ||
           strcmp(holder, "scm") == 0 ||
           strcmp(holder, "fdopen") == 0 || strcmp(holder, "vforktrue") == 0 ||
           strcmp(holder, "spawntrue") == 0 || strncmp(holder, "thread", 6) == 0;
}

static void make_step(struct step *st, unsigned long long *rng)
{
    memset(st, 0, sizeof *st);
    if (chance(rng, 12)) {
        st->open_only = 1;
        return;
    }
    st->holder = PICK(rng, holders);
    st->close = PICK(rng, closes);
    if (strcmp(st->close, "closefrom") == 0 && shares_process(st->holder))
        st->close = "range";
    st->end = PICK(rng, ends);
    st->part1 = 1 + upto(rng, 3000);
    if (chance(rng, 30)) {
        st->part2 = 1 + upto(rng, 3000);
        st->pause_ms = (int)upto(rng, 40);
    }
    st->shut_wr = chance(rng, 30);
    st->early_close = chance(rng, 8);
    long total = st->part1 + st->part2;
    /* mostly less than was sent, so that closes meet unread data */
    st->r = chance(rng, 25) ? total : upto(rng, total - 1);
    int size = (int)upto(rng, 9);
    st->n = size < 2 ? upto(rng, 200) : size < 9 ? upto(rng, 16384) : 200000 + upto(rng, 800000);
    st->racy = strcmp(st->holder, "threadexit") == 0;
    st->linger_ms = chance(rng, 40) ? 1 + (int)upto(rng, 50) : 0;
}

void scenario_make(struct scenario *sc, unsigned long long seed)
{
    unsigned long long rng = seed;
    memset(sc, 0, sizeof *sc);
    sc->seed = seed;
    sc->nsteps = 1 + (int)upto(&rng, MAX_STEPS - 2);
    int early = 0;
    for (int i = 0; i < sc->nsteps; i++) {
        make_step(&sc->steps[i], &rng);
        early |= sc->steps[i].early_close;
    }
    /* A write after the peer has gone would kill the server at a moment
     * that depends on timing. */
    sc->sigpipe_dfl = !early && chance(&rng, 50);
    sc->exit_how = PICK(&rng, exits);
}

int scenario_argv(const struct scenario *sc, int port, char *argv[], char buf[][64])
{
    int argc = 0;
    argv[argc++] = "tortured";
    argv[argc++] = "serve";
    snprintf(buf[0], 64, "%d", port);
    argv[argc++] = buf[0];
    argv[argc++] = sc->sigpipe_dfl ? "dfl" : "ign";
    argv[argc++] = (char *)sc->exit_how;
    for (int i = 0; i < sc->nsteps; i++) {
        const struct step *st = &sc->steps[i];
        if (st->open_only)
            snprintf(buf[1 + i], 64, "open");
        else
            snprintf(buf[1 + i], 64, "%s,%ld,%ld,%s,%s", st->holder, st->r, st->n, st->close,
                     st->end);
        argv[argc++] = buf[1 + i];
    }
    argv[argc] = NULL;
    return argc;
}

void scenario_describe(const struct scenario *sc, char *out, size_t len)
{
    size_t used = 0;
#define ADD(...) used += (size_t)snprintf(out + used, used < len ? len - used : 0, __VA_ARGS__)
    ADD("  SIGPIPE %s; main ends by %s\n", sc->sigpipe_dfl ? "default" : "ignored", sc->exit_how);
    for (int i = 0; i < sc->nsteps && used < len; i++) {
        const struct step *st = &sc->steps[i];
        if (st->open_only) {
            ADD("  step %d: open /dev/null, kept\n", i);
            continue;
        }
        ADD("  step %d (c%d): peer sends %ld", i, i, st->part1);
        if (st->part2)
            ADD(" + %ld after %d ms", st->part2, st->pause_ms);
        if (st->linger_ms)
            ADD(", closes %d ms after the reply's end", st->linger_ms);
        ADD("%s%s; holder %s reads %ld, replies %ld%s, closes by %s, a child ends by %s\n",
            st->shut_wr ? ", SHUT_WR" : "", st->early_close ? ", closes at once" : "",
            st->holder, st->r, st->n, st->racy ? " (then keeps writing)" : "", st->close,
            st->end);
    }
#undef ADD
}
