/* The differential torture test: each scenario (gen.c) runs once without
 * libnorst and once with it in each mode; with the library, every peer must
 * receive at least the reply bytes it received without, no run may hang,
 * and the server's exit status, its children's wait statuses and every fd
 * number it printed must be the same.
 *
 * usage: torture [-t SECONDS] [SEED...] | torture -d SEED...
 *   SEEDs given: those scenarios, one "PASS seed N" or "FAIL seed N" line
 *   each (the make check form). -t: random seeds, one after the other, for
 *   that long. -d: only describe the scenarios. TORTURE_SEED=N in the environment replays that one seed. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gen.h"
#include "run.h"

static const struct mode modes[] = {
    {"without", {NULL}, 0},
    {"default", {NULL}, 1},
    {"always", {"NORST_MODE=always", NULL}, 1},
    {"log", {"NORST_MODE=log", NULL}, 1},
    {"no-thread", {"NORST_ASYNC=0", NULL}, 1},
};
#define NMODES (int)(sizeof modes / sizeof modes[0])

/* Above this, a reset also discards reply bytes still queued at the
 * closer, after a number of them that timing decides (below it, with
 * TCP_NODELAY, every byte is in the peer's receive queue before the
 * holder's write returns). */
#define SMALL_REPLY 65536

static char lib[4096];
/* Listening ports stay below the ephemeral range (32768 up): a peer's
 * port in use would make a later bind() fail. */
#define PORT_MIN 20000
#define PORT_MAX 32000
static int next_port = PORT_MIN;

/* The library's last log line about the peer on port, copied to line
 * (empty if there is none). */
static void last_word(const char *log, int port, char *line, size_t len)
{
    char key[40];
    const char *last = NULL;
    snprintf(key, sizeof key, "peer=127.0.0.1:%d ", port);
    for (const char *p = log; (p = strstr(p, key)); p++)
        last = p;
    line[0] = '\0';
    if (!last)
        return;
    while (last > log && last[-1] != '\n')
        last--;
    snprintf(line, len, "%.*s", (int)strcspn(last, "\n"), last);
}

/* _exit() runs no destructor: a close it makes is not in the log. */
static int has_quick_exit(const struct scenario *sc)
{
    int quick = strcmp(sc->exit_how, "_exit") == 0;
    for (int i = 0; i < sc->nsteps; i++)
        quick |= !sc->steps[i].open_only && strcmp(sc->steps[i].end, "_exit") == 0;
    return quick;
}

/* Appends to diff what differs between the run without (base) and with (w)
 * the library; returns how many differences. */
static int compare(const struct scenario *sc, const struct run_result *base,
                   const struct run_result *w, char *diff, size_t len)
{
    int found = 0;
    size_t used = 0;
#define DIFF(...) (found++, used += (size_t)snprintf(diff + used, used < len ? len - used : 0, __VA_ARGS__))
    if (w->hung && !base->hung)
        DIFF("    hang: the server was killed after %ld ms;%s\n", w->ms, w->hang);
    else if (w->status != base->status)
        DIFF("    wait status %#x%s, without the library %#x\n", w->status,
             WIFSIGNALED(w->status) ? " (killed by a signal)" : "", base->status);
    for (int i = 0; i < sc->nsteps; i++) {
        const struct step *st = &sc->steps[i];
        const struct peer_seen *b = &base->peers[i], *p = &w->peers[i];
        if (st->open_only)
            continue;
        if (p->timed_out && !b->timed_out)
            DIFF("    c%d (%s): the peer saw no end within its time\n", i, st->holder);
        /* A reset the log calls clean: the peer sent everything at once
         * and stayed, so only a close with unread data resets it. Where
         * the line names another process as holder, that one may have
         * closed at the same moment: a note, not a failure. */
        char line[1024];
        last_word(w->err, p->port, line, sizeof line);
        if (p->rst && !st->part2 && !st->early_close && !has_quick_exit(sc) &&
            strstr(line, " rst=none")) {
            int raced = strstr(line, "shared=another-process") ||
                        strstr(line, "shared=passed-with-scm-rights");
            found -= raced;
            DIFF("    %sc%d (%s): the peer was reset, the log's last line on it says rst=none: %s\n",
                 raced ? "note: " : "", i, st->holder, line);
        }
        long need = b->bytes;
        if (st->racy && need > st->n)
            need = st->n;
        if ((b->rst || p->rst) && st->n > SMALL_REPLY)
            continue; /* a reset made the count a matter of timing */
        /* A peer that closes without waiting for the reply counts what came
         * before its close: the server's speed, not a loss. */
        if (st->early_close)
            continue;
        if (p->bytes < need)
            DIFF("    c%d (%s): the peer got %ld reply bytes (%s), without the library %ld (%s)\n",
                 i, st->holder, p->bytes, p->rst ? "reset" : p->eof ? "eof" : "no end", b->bytes,
                 b->rst ? "reset" : b->eof ? "eof" : "no end");
    }
    /* (a process that died early printed less: the status says it already) */
    if (!w->hung && !base->hung && w->status == base->status && strcmp(w->out, base->out) != 0) {
        size_t at = 0; /* the first line that differs */
        while (w->out[at] == base->out[at])
            at++;
        while (at > 0 && base->out[at - 1] != '\n')
            at--;
        DIFF("    printed lines differ from \"%.*s\": without the library \"%.*s\"\n",
             (int)strcspn(w->out + at, "\n"), w->out + at, (int)strcspn(base->out + at, "\n"),
             base->out + at);
    }
#undef DIFF
    return found;
}

/* The server's own complaints, and with verbose the library's log too. */
static void print_stderr(const char *err, int verbose, const char *whose)
{
    char line[1024];
    for (const char *l = err; *l; l += strcspn(l, "\n") + (l[strcspn(l, "\n")] != 0)) {
        snprintf(line, sizeof line, "%.*s", (int)strcspn(l, "\n"), l);
        if (verbose || strncmp(line, "libnorst: ", 10) != 0)
            printf("    %sstderr: %s\n", whose, line);
    }
}

/* Runs every mode of one seed; 1 if it passed. */
static int run_seed(unsigned long long seed, int verbose)
{
    static struct run_result base, with;
    struct scenario sc;
    char diff[8192], words[4096];
    int failed = 0;
    scenario_make(&sc, seed);
    scenario_describe(&sc, words, sizeof words);
    run_scenario(&sc, &modes[0], lib, next_port++, &base);
    for (int m = 1; m < NMODES; m++) {
        run_scenario(&sc, &modes[m], lib, next_port++, &with);
        diff[0] = '\0';
        if (!compare(&sc, &base, &with, diff, sizeof diff)) {
            if (diff[0])
                printf("  seed %llu mode %s:\n%s", seed, modes[m].name, diff);
        } else {
            if (!failed) {
                printf("FAIL seed %llu: replay with TORTURE_SEED=%llu\n%s", seed, seed, words);
                print_stderr(base.err, 0, "without the library, ");
            }
            printf("  mode %s (run took %ld ms, without %ld ms):\n%s", modes[m].name, with.ms,
                   base.ms, diff);
            print_stderr(with.err, verbose, "");
            failed = 1;
        }
        if (next_port >= PORT_MAX - NMODES)
            next_port = PORT_MIN;
    }
    if (!failed)
        printf("PASS seed %llu (without the library: %ld ms)\n", seed, base.ms);
    fflush(stdout);
    return !failed;
}

int main(int argc, char **argv)
{
    int seconds = 0, verbose = getenv("TORTURE_VERBOSE") != NULL, passed = 0, total = 0;
    const char *replay = getenv("TORTURE_SEED");
    int first = 1;
    if (argc > 2 && strcmp(argv[1], "-t") == 0) {
        seconds = atoi(argv[2]);
        first = 3;
    }
    if (argc > 1 && strcmp(argv[1], "-d") == 0) {
        for (int i = 2; i < argc; i++) {
            struct scenario sc;
            char words[4096];
            scenario_make(&sc, strtoull(argv[i], NULL, 0));
            scenario_describe(&sc, words, sizeof words);
            printf("seed %s\n%s", argv[i], words);
        }
        return 0;
    }
    if (!realpath("./libnorst.so", lib)) {
        perror("torture: ./libnorst.so (run it in the build directory)");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    srand((unsigned)time(NULL) ^ (unsigned)getpid());
    next_port = PORT_MIN + rand() % (PORT_MAX - PORT_MIN - NMODES);
    time_t start = time(NULL);
    if (replay) {
        total = 1;
        passed = run_seed(strtoull(replay, NULL, 0), 1);
    } else if (seconds) {
        unsigned long long seed = (unsigned long long)rand() << 16 ^ (unsigned long long)rand();
        printf("random seeds from %llu on, for %d s\n", seed, seconds);
        while (time(NULL) - start < seconds) {
            passed += run_seed(seed++, verbose);
            total++;
        }
    } else {
        for (int i = first; i < argc; i++, total++)
            passed += run_seed(strtoull(argv[i], NULL, 0), verbose);
    }
    printf("torture: %d scenarios, %d failed, %ld s\n", total, total - passed,
           (long)(time(NULL) - start));
    return passed == total ? 0 : 1;
}
