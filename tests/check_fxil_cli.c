/*
 * check_fxil_cli.c — `crossclimb plc program check|list`, tested by calling
 * cmd_plc_program() with an argv and capturing stdout/stderr in temporary
 * files.  The CLI objects are not part of libcrossclimb.a, so the command's
 * source is compiled into this test directly.
 */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../cli/cmd_plc_program.c"

static char out_buf[65536], err_buf[65536];

static void slurp(int fd, char *buf, size_t len)
{
    ssize_t n = pread(fd, buf, len - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
}

/* Run cmd_plc_program(argv...) with stdout/stderr captured; returns its status. */
static int run(int argc, const char **argv)
{
    char out_path[] = "/tmp/fxil_cli_outXXXXXX", err_path[] = "/tmp/fxil_cli_errXXXXXX";
    int out_fd = mkstemp(out_path), err_fd = mkstemp(err_path);
    ck_assert_int_ge(out_fd, 0);
    ck_assert_int_ge(err_fd, 0);
    fflush(stdout);
    fflush(stderr);
    int save_out = dup(1), save_err = dup(2);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    char *args[8];
    for (int i = 0; i < argc && i < 8; i++) args[i] = (char *)argv[i];
    int rc = cmd_plc_program(argc, args);
    fflush(stdout);
    fflush(stderr);
    dup2(save_out, 1);
    dup2(save_err, 2);
    close(save_out);
    close(save_err);
    slurp(out_fd, out_buf, sizeof out_buf);
    slurp(err_fd, err_buf, sizeof err_buf);
    close(out_fd);
    close(err_fd);
    unlink(out_path);
    unlink(err_path);
    return rc;
}

static const char *src_dir(void)
{
    const char *s = getenv("CROSSCLIMB_SRC");
    return s ? s : ".";
}

static void path_of(char *buf, size_t len, const char *rel)
{
    snprintf(buf, len, "%s/%s", src_dir(), rel);
}

START_TEST(test_check_shipped_program)
{
    char path[4096], want[4200];
    path_of(path, sizeof path, "docs/plc/crossclimb.il");
    const char *argv[] = {"program", "check", path};
    ck_assert_int_eq(run(3, argv), 0);
    fxil_program *p = NULL;
    char msg[256];
    ck_assert_int_eq(fxil_load_file(path, &p, msg, sizeof msg), 0);
    snprintf(want, sizeof want, "%s: OK, %u steps (FX1N limit 8000)\n", path, fxil_steps(p));
    ck_assert_uint_gt(fxil_steps(p), 100);
    ck_assert_uint_le(fxil_steps(p), 8000);
    fxil_free(p);
    ck_assert_str_eq(out_buf, want);
    ck_assert_str_eq(err_buf, "");
}
END_TEST

typedef struct {
    const char *file;
    const char *expect; /* after "PATH:" */
} broken_case;

static const broken_case broken[] = {
    {"tests/plc/missing_end.il", "5: missing END"},
    {"tests/plc/unbalanced_mps.il", "7: MPS at line 4 is left open at the end of its rung"},
    {"tests/plc/octal_x8.il", "3: operand 1 'X8': X and Y numbers are octal"},
    {"tests/plc/d9000.il",
     "4: MOV operand 2 'D9000' (column 10): outside the FX1N range (D0-D7999, D8000-D8255)"},
    {"tests/plc/unknown_instruction.il", "3: unknown instruction 'JMP'"},
};

START_TEST(test_check_broken_programs)
{
    char path[4096], want[4400];
    path_of(path, sizeof path, broken[_i].file);
    const char *argv[] = {"program", "check", path};
    ck_assert_int_eq(run(3, argv), 1);
    snprintf(want, sizeof want, "%s:%s", path, broken[_i].expect);
    ck_assert_msg(strstr(err_buf, want) == err_buf, "stderr '%s' does not start with '%s'", err_buf,
                  want);
    ck_assert_str_eq(out_buf, "");
}
END_TEST

START_TEST(test_check_several_files)
{
    char good[4096], bad[4096];
    path_of(good, sizeof good, "tests/plc/self_hold.il");
    path_of(bad, sizeof bad, "tests/plc/missing_end.il");
    const char *argv[] = {"program", "check", good, bad};
    ck_assert_int_eq(run(4, argv), 1);
    ck_assert_ptr_nonnull(strstr(out_buf, ": OK, 5 steps (FX1N limit 8000)"));
    ck_assert_ptr_nonnull(strstr(err_buf, "missing_end.il:5: missing END"));
    const char *argv2[] = {"program", "check", "/nonexistent/prog.il"};
    ck_assert_int_eq(run(3, argv2), 1);
    ck_assert_ptr_nonnull(strstr(err_buf, "/nonexistent/prog.il: "));
}
END_TEST

START_TEST(test_list)
{
    char path[4096];
    path_of(path, sizeof path, "tests/plc/self_hold.il");
    const char *argv[] = {"program", "list", path};
    ck_assert_int_eq(run(3, argv), 0);
    ck_assert_ptr_nonnull(strstr(out_buf, "     0  LD X0"));
    ck_assert_ptr_nonnull(strstr(out_buf, "     3  OUT Y0"));
    ck_assert_ptr_nonnull(strstr(out_buf, "     4  END"));
    path_of(path, sizeof path, "tests/plc/octal_x8.il");
    ck_assert_int_eq(run(3, argv), 1);
    ck_assert_ptr_nonnull(strstr(err_buf, "octal_x8.il:3:"));
}
END_TEST

START_TEST(test_usage)
{
    const char *help[] = {"program", "--help"};
    ck_assert_int_eq(run(2, help), 0);
    ck_assert_ptr_nonnull(strstr(out_buf, "usage: crossclimb plc program check FILE"));
    const char *help2[] = {"program", "check", "-h"};
    ck_assert_int_eq(run(3, help2), 0);
    const char *none[] = {"program"};
    ck_assert_int_eq(run(1, none), 2);
    ck_assert_ptr_nonnull(strstr(err_buf, "usage:"));
    const char *nofile[] = {"program", "check"};
    ck_assert_int_eq(run(2, nofile), 2);
    const char *bad_sub[] = {"program", "verify", "x.il"};
    ck_assert_int_eq(run(3, bad_sub), 2);
    ck_assert_ptr_nonnull(strstr(err_buf, "'verify' is not a subcommand"));
    const char *bad_opt[] = {"program", "check", "--strict", "x.il"};
    ck_assert_int_eq(run(4, bad_opt), 2);
    const char *two[] = {"program", "list", "a.il", "b.il"};
    ck_assert_int_eq(run(4, two), 2);
}
END_TEST

static Suite *cli_suite(void)
{
    Suite *s = suite_create("plc program");
    TCase *tc = tcase_create("cli");
    tcase_add_test(tc, test_check_shipped_program);
    tcase_add_loop_test(tc, test_check_broken_programs, 0, (int)(sizeof broken / sizeof broken[0]));
    tcase_add_test(tc, test_check_several_files);
    tcase_add_test(tc, test_list);
    tcase_add_test(tc, test_usage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(cli_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
