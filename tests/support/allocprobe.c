/*
 * allocprobe.c — "allocates nothing" checks (allocprobe.h).
 */
#include "tests/support/allocprobe.h"

#include <check.h>
#include <malloc.h>
#include <stdlib.h>

alloc_snap alloc_snapshot(void)
{
    struct mallinfo2 mi = mallinfo2();
    alloc_snap s = {mi.uordblks, mi.hblks, mi.hblkhd};
    return s;
}

void alloc_probe_selftest(void)
{
    alloc_snap a = alloc_snapshot();
    void *volatile blk = malloc(1000);
    alloc_snap b = alloc_snapshot();
    free(blk);
    ck_assert_msg(b.in_use_b > a.in_use_b, "mallinfo2 does not see a malloc: the allocation tests prove nothing");
}

void alloc_assert_same(const alloc_snap *a, const alloc_snap *b, const char *what)
{
    ck_assert_msg(a->in_use_b == b->in_use_b, "%s: heap in use moved by %+lld bytes", what,
                  (long long)b->in_use_b - (long long)a->in_use_b);
    ck_assert_msg(a->mmapped_n == b->mmapped_n && a->mmapped_b == b->mmapped_b,
                  "%s: mmapped blocks moved by %+lld (%+lld bytes)", what,
                  (long long)b->mmapped_n - (long long)a->mmapped_n,
                  (long long)b->mmapped_b - (long long)a->mmapped_b);
}
