/*
 * tmpdir.h — a per-test scratch directory for Check tests (fixture).
 *
 * tmp_setup() makes /tmp/crossclimb-test-XXXXXX, tmp_teardown() removes it
 * with everything in it; tmp_path("x") names a file inside (the last 8
 * results stay valid); write_bytes() writes a file or fails the test.
 */
#ifndef CROSSCLIMB_TESTS_TMPDIR_H
#define CROSSCLIMB_TESTS_TMPDIR_H

#include <stddef.h>

/** tmp_setup: create the scratch directory (Check fixture; fails the test on error). */
void tmp_setup(void);

/** tmp_teardown: remove the scratch directory and its contents. */
void tmp_teardown(void);

/** tmp_dir: the scratch directory itself ("" outside a test). */
const char *tmp_dir(void);

/** tmp_path: "DIR/name" in a rotating static buffer (8 deep). */
const char *tmp_path(const char *name);

/** write_bytes: write n bytes of b to path, failing the test on any error. */
void write_bytes(const char *path, const void *b, size_t n);

#endif
