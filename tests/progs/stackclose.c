/* Closes a TCP socket with unread bytes at the end of a known call chain,
 * for the "stack" field of the log.
 *
 * usage: stackclose chain|signal|jit|garbage|far [late-fin] [twice|refuse-later]
 *   chain    main -> level1 -> direct_hop -> level2 -> level3 -> level4
 *            -> level5 -> close()
 *   signal   the same chain from a SIGUSR1 handler on a 16 KiB alternate
 *            stack
 *   jit      level1 reaches level2 through code copied into an anonymous
 *            executable mapping (as a JIT compiler makes it): no unwind
 *            table covers it
 *   garbage  through garbage_hop, whose frame holds a garbage return
 *            address where its unwind table says the return address is
 *   far      through far_hop, whose unwind table puts its caller's frame
 *            2 GiB above the stack, where nothing is mapped
 *   late-fin the peer's FIN comes 300 ms after the close (asynchronous
 *            mode hands the socket to the library's thread), not before
 *   twice    two connections, one after the other, closed the same way
 *   refuse-later  the same, and between the two closes a seccomp filter
 *            that answers EPERM to process_vm_readv (and allows the rest)
 *            is installed with the system call instruction, which no
 *            library sees (x86-64)
 *
 * Prints "close_ms=N" (how long the chain took, but from the signal
 * handler) and "closed", and exits 0; 2 when it cannot set up. */
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline, noipa))

typedef int (*step_fn)(int fd);
typedef int (*hop_fn)(step_fn next, int fd);

/* Not static: a build with -rdynamic exports them, so that a stripped
 * copy still names them from .dynsym. */
int level5(int fd);
int level4(int fd);
int level3(int fd);
int level2(int fd);
int level1(int fd);
int direct_hop(step_fn next, int fd);

static volatile int sink; /* work after each call: no call is a tail call */
static hop_fn hop;
static int server_fd;

/* levelN calls what is below it, then works on its result. */
#define LEVEL(n, below)          \
    NOINLINE int level##n(int fd) \
    {                            \
        int r = below(fd);       \
        sink += r;               \
        return r + n;            \
    }
LEVEL(5, close)
LEVEL(4, level5)
LEVEL(2, level3)

/* A variable-sized frame: the compiler keeps a frame pointer here and the
 * unwind table bases this frame's CFA on it, not on the stack pointer. */
NOINLINE int level3(int fd)
{
    volatile char scratch[16 + (fd & 15)];
    scratch[0] = (char)fd;
    int r = level4(fd);
    sink += r + scratch[0];
    return r + 3;
}

NOINLINE int direct_hop(step_fn next, int fd)
{
    int r = next(fd);
    sink += r;
    return r;
}

NOINLINE int level1(int fd)
{
    int r = hop(level2, fd);
    sink += r;
    return r + 1;
}

#if defined(__x86_64__)
/* hop(next, fd) in hand-written assembly: the arguments come in rdi, esi. */
int garbage_hop(step_fn next, int fd);
int far_hop(step_fn next, int fd);
__asm__(".text\n"
        ".globl garbage_hop\n"
        ".type garbage_hop, @function\n"
        "garbage_hop:\n"
        ".cfi_startproc\n"
        "    pushq $0x12345\n" /* where the table says the return address is */
        ".cfi_def_cfa_offset 16\n"
        ".cfi_offset rip, -16\n"
        "    mov %rdi, %rax\n"
        "    mov %esi, %edi\n"
        "    call *%rax\n"
        "    add $8, %rsp\n"
        ".cfi_def_cfa_offset 8\n"
        ".cfi_offset rip, -8\n"
        "    ret\n"
        ".cfi_endproc\n"
        ".size garbage_hop, .-garbage_hop\n"
        ".globl far_hop\n"
        ".type far_hop, @function\n"
        "far_hop:\n"
        ".cfi_startproc\n"
        "    sub $8, %rsp\n"
        ".cfi_def_cfa_offset 0x7fff0000\n"
        "    mov %rdi, %rax\n"
        "    mov %esi, %edi\n"
        "    call *%rax\n"
        "    add $8, %rsp\n"
        ".cfi_def_cfa_offset 8\n"
        "    ret\n"
        ".cfi_endproc\n"
        ".size far_hop, .-far_hop\n");

/* sub $8,%rsp; mov %rdi,%rax; mov %esi,%edi; call *%rax; add $8,%rsp; ret */
static const unsigned char jit_code[] = {0x48, 0x83, 0xec, 0x08, 0x48, 0x89, 0xf8, 0x89, 0xf7,
                                         0xff, 0xd0, 0x48, 0x83, 0xc4, 0x08, 0xc3};

/* EPERM for process_vm_readv, the rest allowed; 0 once in place. */
static int refuse_process_vm_readv(void)
{
    struct sock_filter code[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof code / sizeof code[0], code};
    long ret;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return -1;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"((long)SYS_seccomp), "D"((long)SECCOMP_SET_MODE_FILTER), "S"(0L),
                       "d"(&prog)
                     : "rcx", "r11", "memory");
    return ret == 0 ? 0 : -1;
}

static hop_fn make_jit_hop(void)
{
    void *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED)
        return NULL;
    memcpy(page, jit_code, sizeof jit_code);
    if (mprotect(page, 4096, PROT_READ | PROT_EXEC) != 0)
        return NULL;
    return (hop_fn)page;
}
#else
static hop_fn garbage_hop, far_hop;
static hop_fn make_jit_hop(void)
{
    return NULL;
}
static int refuse_process_vm_readv(void)
{
    return -1;
}
#endif

static void on_signal(int sig)
{
    (void)sig;
    sink += level1(server_fd);
}

/* One connection whose accepted end the chain closes with bytes unread;
 * 0, or 2 when it cannot set up. */
static int close_one_connection(int listener, const struct sockaddr_in *sa, const char *mode,
                                int late_fin)
{
    int peer = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(peer, (const struct sockaddr *)sa, sizeof *sa) != 0)
        return 2;
    server_fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (server_fd < 0 || write(peer, "unread\n", 7) != 7 || (!late_fin && shutdown(peer, SHUT_WR)))
        return 2;
    usleep(20000); /* the bytes (and the FIN) are queued */

    if (strcmp(mode, "signal") == 0) {
        static unsigned char altstack[16384];
        stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
        struct sigaction act = {.sa_handler = on_signal, .sa_flags = SA_ONSTACK};
        sigemptyset(&act.sa_mask);
        if (sigaltstack(&ss, NULL) != 0 || sigaction(SIGUSR1, &act, NULL) != 0)
            return 2;
        raise(SIGUSR1);
    } else {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        sink += level1(server_fd);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        printf("close_ms=%ld\n",
               (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000));
    }
    if (late_fin) {
        usleep(300000);
        shutdown(peer, SHUT_WR);
        char buf[64];
        while (read(peer, buf, sizeof buf) > 0) /* until the library's FIN */
            ;
    }
    close(peer);
    return 0;
}

int main(int argc, char **argv)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    const char *mode = argc > 1 ? argv[1] : "chain";
    int late_fin = 0, rounds = 1, refuse_later = 0;
    for (int i = 2; i < argc; i++) {
        late_fin |= strcmp(argv[i], "late-fin") == 0;
        refuse_later |= strcmp(argv[i], "refuse-later") == 0;
        rounds = strcmp(argv[i], "twice") == 0 || refuse_later ? 2 : rounds;
    }

    hop = strcmp(mode, "jit") == 0       ? make_jit_hop()
          : strcmp(mode, "garbage") == 0 ? garbage_hop
          : strcmp(mode, "far") == 0     ? far_hop
                                         : direct_hop;
    if (!hop) {
        printf("no %s hop on this machine\n", mode);
        return 2;
    }
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (bind(listener, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(listener, 1) != 0 ||
        getsockname(listener, (struct sockaddr *)&sa, &len) != 0)
        return 2;
    for (int i = 0; i < rounds; i++) {
        if (i == 1 && refuse_later && refuse_process_vm_readv() != 0) {
            printf("no seccomp filter on this machine\n");
            return 2;
        }
        if (close_one_connection(listener, &sa, mode, late_fin) != 0)
            return 2;
    }
    printf("closed\n");
    return 0;
}
