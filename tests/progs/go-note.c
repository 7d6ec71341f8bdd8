/* An ordinary C program that carries the build-id note the Go linker writes
 * (owner "Go", type 4). Its section is named .note.gotest, not one of the
 * section names norst looks for, so only the PT_NOTE program header shows
 * it: t_wrapper uses it to test that path. It exits with status 0. */
struct elf_note {
    unsigned namesz, descsz, type;
    char name[4];
    char desc[8];
};

__attribute__((used, section(".note.gotest"), aligned(4)))
static const struct elf_note go_buildid = {4, 8, 4, "Go", "testbid"};

int main(void)
{
    return 0;
}
