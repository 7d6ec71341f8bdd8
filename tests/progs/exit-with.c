/* A plain dynamically linked program for t_wrapper, which runs it as it is
 * and in altered copies (set-user-ID, with a Go section added): it exits
 * with the status given as its argument, 0 without one. */
#include <stdlib.h>

int main(int argc, char **argv)
{
    return argc > 1 ? atoi(argv[1]) : 0;
}
