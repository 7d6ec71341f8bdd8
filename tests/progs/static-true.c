/* A statically linked program (mk/tools.mk links it with -static): the
 * dynamic loader never runs for it, so norst warns that LD_PRELOAD cannot
 * reach its close(). It exits with status 0. */
int main(void)
{
    return 0;
}
