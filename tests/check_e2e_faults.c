/*
 * check_e2e_faults.c — every fault kind of the simulator's list (SPEC §8,
 * docs/faults-format.md) injected during a mission on the simulated robot
 * (`crossclimb demo --faults FILE`: the simulator is its own process, the
 * controller talks Modbus TCP to it on loopback), judged by the
 * simulator's ground-truth log, never by the controller's own word:
 *
 *   - the truth has its end line and no fall (no "fall" line, fallen=false);
 *   - the truth recorded the fault's start (it was really injected);
 *   - the run ends in a recovery (outcome=completed) or a HOLD
 *     (outcome=held, with the supervisor's reason, SPEC §6 S4); a demo
 *     acknowledges only the start-up HOLD, so any other HOLD ends the run;
 *   - the PLC refused no command (refused_commands=0): the controller's own
 *     checks stop it before the PLC interlocks have to.
 *
 * Self-contained: the scenarios are written here with early fault times so
 * each run is short (the default facade, a couple of minutes of virtual
 * time at most).  A simulator without `--facade` or `--faults` skips.
 * Each test prints its outcome on stderr (fault, outcome, HOLD reason,
 * truth sf_min).
 */
#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *bin(void)
{
    const char *b = getenv("CROSSCLIMB_BIN");
    return b && *b ? b : "build/crossclimb";
}

static int sim_ok = -1;

/* Does the simulator take --facade and --faults? */
static int have_fault_sim(void)
{
    if (sim_ok >= 0) return sim_ok;
    char cmd[PATH_MAX + 64], buf[512];
    int facade = 0, faults = 0;
    snprintf(cmd, sizeof cmd, "'%s' sim --help 2>&1", bin());
    FILE *p = popen(cmd, "r");
    if (p) {
        while (fgets(buf, sizeof buf, p)) {
            if (strstr(buf, "--facade")) facade = 1;
            if (strstr(buf, "--faults")) faults = 1;
        }
        pclose(p);
    }
    sim_ok = facade && faults;
    return sim_ok;
}

typedef struct {
    char outcome[32];
    char hold_reason[64];
    unsigned holds, refused, falls, fault_starts;
    int saw_end, saw_result, fallen;
    double sf_min;
} fault_run;

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    fputs(text, f);
    fclose(f);
}

/* Read the truth: fall lines, fault starts, the end line. */
static void read_truth(const char *path, fault_run *r)
{
    FILE *fp = fopen(path, "r");
    ck_assert_msg(fp != NULL, "truth %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0;
    while (getline(&line, &cap, fp) > 0) {
        json_object *o = json_tokener_parse(line), *v;
        if (!o) continue;
        const char *type = json_object_object_get_ex(o, "type", &v) ? json_object_get_string(v) : "";
        if (!strcmp(type, "fall")) {
            r->falls++;
        } else if (!strcmp(type, "fault")) {
            if (json_object_object_get_ex(o, "event", &v) && !strcmp(json_object_get_string(v), "start"))
                r->fault_starts++;
        } else if (!strcmp(type, "end")) {
            r->saw_end = 1;
            if (json_object_object_get_ex(o, "sf_min", &v)) r->sf_min = json_object_get_double(v);
            if (json_object_object_get_ex(o, "fallen", &v)) r->fallen = json_object_get_boolean(v);
        }
        json_object_put(o);
    }
    free(line);
    fclose(fp);
}

/* Run the demo with the scenario text and judge it. */
static void run_fault(const char *name, const char *scenario, fault_run *r)
{
    char dir[] = "/tmp/cc-e2ef.XXXXXX", sc[PATH_MAX], truth[PATH_MAX], out[PATH_MAX], cmd[4 * PATH_MAX];
    memset(r, 0, sizeof *r);
    r->sf_min = -1.0;
    ck_assert_msg(mkdtemp(dir) != NULL, "mkdtemp: %s", strerror(errno));
    snprintf(sc, sizeof sc, "%s/%s.txt", dir, name);
    snprintf(truth, sizeof truth, "%s/truth.jsonl", dir);
    snprintf(out, sizeof out, "%s/demo.out", dir);
    write_file(sc, scenario);
    snprintf(cmd, sizeof cmd, "'%s' demo --faults '%s' --truth '%s' --max-sim-s 600 >'%s' 2>&1", bin(), sc,
             truth, out);
    int st = system(cmd);
    (void)st; /* exit 1 for a HOLD is expected; judged below */

    FILE *fp = fopen(out, "r");
    ck_assert_msg(fp != NULL, "%s: %s", out, strerror(errno));
    char line[1024];
    while (fgets(line, sizeof line, fp)) {
        const char *h = strstr(line, " held (");
        if (h && !r->hold_reason[0]) {
            h += strlen(" held (");
            size_t n = strcspn(h, ")");
            if (n >= sizeof r->hold_reason) n = sizeof r->hold_reason - 1;
            memcpy(r->hold_reason, h, n);
            r->hold_reason[n] = '\0';
        }
        if (!strncmp(line, "result: ", 8)) {
            r->saw_result = 1;
            const char *p = strstr(line, "outcome=");
            if (p) sscanf(p, "outcome=%31s", r->outcome);
            p = strstr(line, "holds=");
            if (p) sscanf(p, "holds=%u", &r->holds);
            p = strstr(line, "refused_commands=");
            if (p) sscanf(p, "refused_commands=%u", &r->refused);
        }
    }
    fclose(fp);
    ck_assert_msg(r->saw_result, "%s: the demo printed no result line (see %s)", name, out);
    read_truth(truth, r);
    fprintf(stderr, "check_e2e_faults: %-16s outcome=%s%s%s%s holds=%u refused=%u falls=%u truth_sf_min=%.3f\n",
            name, r->outcome, r->hold_reason[0] ? " (HOLD reason " : "", r->hold_reason,
            r->hold_reason[0] ? ")" : "", r->holds, r->refused, r->falls, r->sf_min);

    ck_assert_msg(r->saw_end, "%s: the truth log has no end line", name);
    ck_assert_msg(r->falls == 0 && !r->fallen, "%s: the robot FELL (truth)", name);
    ck_assert_msg(r->fault_starts >= 1, "%s: the truth shows no fault injected", name);
    ck_assert_msg(!strcmp(r->outcome, "completed") || !strcmp(r->outcome, "held"),
                  "%s: outcome=%s: neither a recovery nor a HOLD", name, r->outcome);
    if (!strcmp(r->outcome, "held"))
        ck_assert_msg(r->hold_reason[0], "%s: a HOLD without its reason", name);
    ck_assert_msg(r->refused == 0, "%s: %u command(s) refused by the PLC", name, r->refused);
    ck_assert_msg(r->sf_min >= 1.0, "%s: truth sf_min %.3f", name, r->sf_min);

    unlink(sc);
    unlink(truth);
    unlink(out);
    rmdir(dir);
}

#define FAULT_TEST(fn, name, text)        \
    START_TEST(fn)                        \
    {                                     \
        fault_run r;                      \
        ck_assert_msg(have_fault_sim(), "the simulator takes no --facade --faults"); \
        run_fault(name, text, &r);        \
    }                                     \
    END_TEST

FAULT_TEST(test_cup_leak, "cup_leak", "at 8s cup_leak cup=A1b rate_kpa_s=8 duration=20s\n")
FAULT_TEST(test_sensor_stuck, "sensor_stuck", "at 5s sensor_stuck sensor=cup:B2a value_kpa=55 duration=20s\n")
FAULT_TEST(test_sensor_offset, "sensor_offset", "at 5s sensor_offset sensor=cup:A2a offset_kpa=6\n")
FAULT_TEST(test_sensor_noise, "sensor_noise", "at 5s sensor_noise sensor=cup:B1b sd_kpa=3 duration=40s\n")
FAULT_TEST(test_cylinder_stall, "cylinder_stall", "at 15s cylinder_stall axis=x duration=4s\n")
FAULT_TEST(test_reed_dead, "reed_dead", "at 0s reed_dead switch=X1\n")
FAULT_TEST(test_valve_stuck, "valve_stuck", "at 10s valve_stuck output=Y6 state=on duration=20s\n")
FAULT_TEST(test_supply_drop, "supply_drop", "at 20s supply_drop kpa=375 duration=10s\n")
/* Link silence: the controller's replies stop for 2 s of virtual time (the
 * simulator keeps its clock running on every dropped request, reads
 * included), the PLC watchdog trips, the controller holds. */
START_TEST(test_link_silence)
{
    fault_run r;
    ck_assert_msg(have_fault_sim(), "the simulator takes no --facade --faults");
    run_fault("link_silence", "at 30s link_silence duration=2s\n", &r);
}
END_TEST
FAULT_TEST(test_wind_gust, "wind_gust", "at 25s wind_gust speed_m_s=25 duration=1.5s\n")
FAULT_TEST(test_camera_blackout, "camera_blackout", "at 18s camera_blackout duration=4s\n")

static Suite *suite(void)
{
    Suite *s = suite_create("e2e_faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_cup_leak);
    tcase_add_test(tc, test_sensor_stuck);
    tcase_add_test(tc, test_sensor_offset);
    tcase_add_test(tc, test_sensor_noise);
    tcase_add_test(tc, test_cylinder_stall);
    tcase_add_test(tc, test_reed_dead);
    tcase_add_test(tc, test_valve_stuck);
    tcase_add_test(tc, test_supply_drop);
    tcase_add_test(tc, test_link_silence);
    tcase_add_test(tc, test_wind_gust);
    tcase_add_test(tc, test_camera_blackout);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
