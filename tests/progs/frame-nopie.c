/* A position-dependent program (built -no-pie) for norst report --resolve:
 * its code loads at a virtual address other than its file offset, so naming
 * a frame needs the conversion. Prints "OFFSET VADDR PATH" for frame_target:
 * the file offset /proc/self/maps gives and the address it runs at. */
#include <stdint.h>
#include <stdio.h>

__attribute__((noinline)) void frame_target(void);
__attribute__((noinline)) void frame_target(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    uintptr_t addr = (uintptr_t)frame_target;
    unsigned long start, end, offset;
    char line[600], path[512];
    FILE *maps = fopen("/proc/self/maps", "r");
    frame_target();
    while (maps && fgets(line, sizeof line, maps))
        if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %511s", &start, &end, &offset, path) == 4 &&
            addr >= start && addr < end) {
            printf("0x%lx 0x%lx %s\n", offset + (addr - start), (unsigned long)addr, path);
            return 0;
        }
    return 1;
}
