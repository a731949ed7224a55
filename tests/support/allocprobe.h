/*
 * allocprobe.h — "allocates nothing" checks for the Check suites (the
 * project rule: the control loop and the fusion call do no heap allocation
 * after start-up).
 *
 * glibc's mallinfo2() counts the bytes in use (uordblks) and the mmapped
 * blocks (hblks, hblkhd); a snapshot before and after a loop of calls must
 * be equal.  ASan replaces glibc's allocator, which mallinfo2 then cannot
 * see: ALLOC_PROBE_WORKS is 0 there and a suite does not register its
 * allocation test at all rather than pass without being able to fail.
 *
 * Use:
 *   #if ALLOC_PROBE_WORKS
 *   alloc_probe_selftest();            // the probe sees a malloc, or the test proves nothing
 *   alloc_snap a = alloc_snapshot();
 *   ... the calls ...
 *   alloc_snap b = alloc_snapshot();
 *   alloc_assert_same(&a, &b, "fg_ask");
 *   #endif
 */
#ifndef CROSSCLIMB_TESTS_ALLOCPROBE_H
#define CROSSCLIMB_TESTS_ALLOCPROBE_H

#include <stddef.h>

#if defined(__SANITIZE_ADDRESS__)
#define ALLOC_PROBE_WORKS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ALLOC_PROBE_WORKS 0
#endif
#endif
#ifndef ALLOC_PROBE_WORKS
#define ALLOC_PROBE_WORKS 1
#endif

typedef struct {
    size_t in_use_b;  /* uordblks: bytes handed out by malloc */
    size_t mmapped_n; /* hblks: mmapped blocks */
    size_t mmapped_b; /* hblkhd: their bytes */
} alloc_snap;

/** alloc_snapshot: the allocator's counters now. */
alloc_snap alloc_snapshot(void);

/** alloc_probe_selftest: ck_assert that a 1000-byte malloc shows in a snapshot. */
void alloc_probe_selftest(void);

/** alloc_assert_same: ck_assert that nothing was allocated (or freed) between a and b; what names the calls. */
void alloc_assert_same(const alloc_snap *a, const alloc_snap *b, const char *what);

#endif
