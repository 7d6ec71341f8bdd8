/* A user-space WAN link for tests (this kernel has no sch_netem): it joins
 * the current network namespace (A) and a fresh one (B) with two tun
 * devices and relays IP packets between them with a delay, a rate limit,
 * a drop-tail queue and optional random loss, so both kernels' TCP see a
 * real path. COMMAND runs in B; wanlink exits with its status (128+signal
 * if it was killed).
 *
 * usage: wanlink [options] -- COMMAND [ARG...]
 *   --rtt MS        round-trip delay, half each way (default 0)
 *   --rate KBIT     bottleneck rate per direction in kbit/s (default: none)
 *   --queue PKTS    packets the bottleneck may hold waiting, with --rate
 *                   (default: one bandwidth-delay product of 1500-byte
 *                   packets, at least 10)
 *   --loss PERCENT  drop each packet with this probability (default 0)
 *   --seed N        seed of the loss pattern (default 1)
 *   --addr A.B.C.D  A's address, the first host of a /30; B gets the next one
 *                   (default 10.77.0.1)
 *   -v              print per-direction counts on stderr at the end
 *
 * The rate limit is a serializer, i.e. a token bucket one packet deep:
 * a packet leaves the bottleneck len*8/rate after the one before it, so
 * there are no bursts above the rate, like a real link. The queue holds
 * the packets not yet fully sent; one arriving when it is full is dropped
 * (drop-tail). Its default, one bandwidth-delay product, is the classic
 * router buffer size (Villamizar and Song, 1994): enough for one Reno flow
 * to keep the link busy, little enough not to add more than one RTT of
 * queueing delay (2 Mbit/s at 100 ms: 16 packets, 96 ms). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SLOT_BYTES 2048 /* tun without offloads hands over at most the MTU */
#define RING_SLOTS 8192 /* packets in flight per direction; more are dropped */
#define FULL_PACKET 1500

struct packet {
    int64_t deliver_ns; /* when it leaves the far end of the link */
    uint16_t len;
    unsigned char data[SLOT_BYTES];
};

/* One direction of the link: packets read from `from`, written to `to`. */
struct direction {
    const char *name;
    int from, to;
    struct packet *ring;
    size_t head, count;
    int64_t sent_ns;    /* when the bottleneck finishes its last packet */
    uint64_t rng;       /* loss pattern, deterministic per direction */
    long relayed, lost, queue_drops;
};

static struct {
    int64_t delay_ns; /* one way */
    long rate_kbit;
    long queue;
    double loss;
} link_cfg;

static volatile sig_atomic_t child_done, forward_sig;

static void on_signal(int sig)
{
    if (sig == SIGCHLD)
        child_done = 1;
    else
        forward_sig = sig;
}

static void die(const char *what)
{
    perror(what);
    exit(125);
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* xorshift64*: small, and the same sequence for the same seed. */
static double next_uniform(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return (double)((*s * 2685821657736338717ULL) >> 11) / 9007199254740992.0;
}

/* A tun device in the current namespace, with ADDR/30, up. */
static int tun_up(uint32_t addr, char name[IFNAMSIZ])
{
    struct ifreq ifr = {.ifr_flags = IFF_TUN | IFF_NO_PI};
    int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        die("/dev/net/tun");
    snprintf(ifr.ifr_name, IFNAMSIZ, "wan%%d");
    if (ioctl(fd, TUNSETIFF, &ifr) < 0)
        die("TUNSETIFF");
    memcpy(name, ifr.ifr_name, IFNAMSIZ);

    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
    memset(&ifr.ifr_ifru, 0, sizeof ifr.ifr_ifru);
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(addr);
    if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
        die("SIOCSIFADDR");
    sin->sin_addr.s_addr = htonl(0xfffffffcU);
    if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
        die("SIOCSIFNETMASK");
    close(s);
    return fd;
}

static void link_up(const char *name)
{
    struct ifreq ifr = {0};
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
        die(name);
    ifr.ifr_flags |= IFF_UP;
    if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
        die(name);
    close(s);
}

/* A packet arrives from `from`: lose it, drop it at a full queue, or
 * schedule its delivery. */
static void arrive(struct direction *d, const unsigned char *data, size_t len, int64_t now)
{
    if (link_cfg.loss > 0 && next_uniform(&d->rng) * 100.0 < link_cfg.loss) {
        d->lost++;
        return;
    }
    int64_t leaves = now;
    if (link_cfg.rate_kbit > 0) {
        /* Packets still in the bottleneck: those leaving it after now. They
         * are the newest in the ring, so count back from the tail. */
        long waiting = 0;
        for (size_t i = d->count; i > 0; i--) {
            size_t slot = (d->head + i - 1) % RING_SLOTS;
            if (d->ring[slot].deliver_ns - link_cfg.delay_ns <= now)
                break;
            waiting++;
        }
        if (waiting >= link_cfg.queue) {
            d->queue_drops++;
            return;
        }
        int64_t start = d->sent_ns > now ? d->sent_ns : now;
        leaves = start + (int64_t)len * 8 * 1000000 / link_cfg.rate_kbit;
        d->sent_ns = leaves;
    }
    if (d->count == RING_SLOTS) {
        d->queue_drops++;
        return;
    }
    struct packet *p = &d->ring[(d->head + d->count++) % RING_SLOTS];
    p->deliver_ns = leaves + link_cfg.delay_ns;
    p->len = (uint16_t)len;
    memcpy(p->data, data, len);
}

static void read_all(struct direction *d, int64_t now)
{
    unsigned char buf[SLOT_BYTES];
    ssize_t n;
    while ((n = read(d->from, buf, sizeof buf)) > 0)
        arrive(d, buf, (size_t)n, now);
}

/* Writes what is due; returns ns until the next packet is (-1: none). */
static int64_t deliver_due(struct direction *d, int64_t now)
{
    while (d->count > 0) {
        struct packet *p = &d->ring[d->head];
        if (p->deliver_ns > now)
            return p->deliver_ns - now;
        if (write(d->to, p->data, p->len) == p->len)
            d->relayed++;
        d->head = (d->head + 1) % RING_SLOTS;
        d->count--;
    }
    return -1;
}

static void usage(void)
{
    fprintf(stderr, "usage: wanlink [--rtt MS] [--rate KBIT] [--queue PKTS] [--loss PERCENT]"
                    " [--seed N] [--addr A.B.C.D] [-v] -- COMMAND [ARG...]\n");
    exit(125);
}

static long parse_number(const char *opt, const char *value)
{
    char *end;
    long v = value ? strtol(value, &end, 10) : -1;
    if (!value || *end || v < 0) {
        fprintf(stderr, "wanlink: %s needs a number >= 0\n", opt);
        exit(125);
    }
    return v;
}

int main(int argc, char **argv)
{
    long rtt_ms = 0, seed = 1;
    int verbose = 0, i;
    uint32_t addr = 0x0a4d0001; /* 10.77.0.1 */
    link_cfg.queue = -1;
    for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        struct in_addr in;
        if (strcmp(o, "-v") == 0) {
            verbose = 1;
            continue;
        }
        if (strcmp(o, "--rtt") == 0)
            rtt_ms = parse_number(o, v);
        else if (strcmp(o, "--rate") == 0)
            link_cfg.rate_kbit = parse_number(o, v);
        else if (strcmp(o, "--queue") == 0)
            link_cfg.queue = parse_number(o, v);
        else if (strcmp(o, "--seed") == 0)
            seed = parse_number(o, v);
        else if (strcmp(o, "--loss") == 0 && v)
            link_cfg.loss = atof(v);
        else if (strcmp(o, "--addr") == 0 && v && inet_pton(AF_INET, v, &in) == 1)
            addr = ntohl(in.s_addr);
        else
            usage();
        i++;
    }
    if (i + 1 >= argc)
        usage();
    link_cfg.delay_ns = rtt_ms * 1000000 / 2;
    if (link_cfg.queue < 0) {
        long bdp = link_cfg.rate_kbit * 1000 / 8 * rtt_ms / 1000 / FULL_PACKET;
        link_cfg.queue = bdp > 10 ? bdp : 10;
    }

    char name_a[IFNAMSIZ], name_b[IFNAMSIZ];
    int tun_a = tun_up(addr, name_a);
    link_up(name_a);
    if (unshare(CLONE_NEWNET) < 0)
        die("unshare(CLONE_NEWNET)");
    int tun_b = tun_up(addr + 1, name_b);
    link_up(name_b);
    link_up("lo");

    struct direction dirs[2] = {
        {.name = "A->B", .from = tun_a, .to = tun_b, .rng = (uint64_t)seed * 2 + 1},
        {.name = "B->A", .from = tun_b, .to = tun_a, .rng = (uint64_t)seed * 2 + 2},
    };
    for (int k = 0; k < 2; k++)
        if (!(dirs[k].ring = malloc(sizeof(struct packet) * RING_SLOTS)))
            die("malloc");

    /* SIGCHLD and the signals we pass on interrupt only the ppoll below. */
    sigset_t blocked, during_poll;
    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&blocked);
    int handled[] = {SIGCHLD, SIGTERM, SIGINT, SIGHUP};
    for (size_t k = 0; k < sizeof handled / sizeof *handled; k++) {
        sigaddset(&blocked, handled[k]);
        sigaction(handled[k], &sa, NULL);
    }
    sigprocmask(SIG_BLOCK, &blocked, &during_poll);

    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        sigprocmask(SIG_SETMASK, &during_poll, NULL);
        execvp(argv[i + 1], argv + i + 1);
        perror(argv[i + 1]);
        _exit(127);
    }

    int status = 0;
    for (;;) {
        if (forward_sig) {
            kill(child, forward_sig);
            forward_sig = 0;
        }
        if (child_done && waitpid(child, &status, WNOHANG) == child)
            break;
        int64_t now = now_ns(), wait_ns = -1;
        for (int k = 0; k < 2; k++) {
            int64_t next = deliver_due(&dirs[k], now);
            if (next >= 0 && (wait_ns < 0 || next < wait_ns))
                wait_ns = next;
        }
        struct pollfd pfd[2] = {{.fd = tun_a, .events = POLLIN}, {.fd = tun_b, .events = POLLIN}};
        struct timespec ts = {wait_ns / 1000000000, wait_ns % 1000000000};
        if (ppoll(pfd, 2, wait_ns >= 0 ? &ts : NULL, &during_poll) <= 0)
            continue;
        now = now_ns();
        for (int k = 0; k < 2; k++)
            if (pfd[k].revents & POLLIN)
                read_all(&dirs[k], now);
    }
    if (verbose)
        for (int k = 0; k < 2; k++)
            fprintf(stderr, "wanlink: %s relayed %ld lost %ld queue-drops %ld\n", dirs[k].name,
                    dirs[k].relayed, dirs[k].lost, dirs[k].queue_drops);
    for (int k = 0; k < 2; k++)
        free(dirs[k].ring);
    return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}
