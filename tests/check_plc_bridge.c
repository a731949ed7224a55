/*
 * check_plc_bridge.c — unit tests of the register map, link URIs and the
 * control-image codec (no I/O).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plc_bridge/image.h"
#include "plc_bridge/regmap.h"
#include "plc_bridge/uri.h"

/* ------------------------------------------------------------ device names */

typedef struct {
    const char *name;
    fx_dev_kind kind;
    unsigned num;
    mb_table table; /* for bit devices */
    unsigned addr;  /* bit address, or word address for D */
} good_dev;

/* Every boundary of SPEC §4 and the FX3 standard assignment. */
static const good_dev good_devs[] = {
    {"D0", FX_DEV_D, 0, MB_TABLE_HOLDING, 0x0000},
    {"D7999", FX_DEV_D, 7999, MB_TABLE_HOLDING, 0x1F3F},
    {"D8000", FX_DEV_D, 8000, MB_TABLE_HOLDING, 0x1F40},
    {"D8012", FX_DEV_D, 8012, MB_TABLE_HOLDING, 0x1F4C},
    {"D8511", FX_DEV_D, 8511, MB_TABLE_HOLDING, 0x213F},
    {"D100", FX_DEV_D, 100, MB_TABLE_HOLDING, 100},
    {"M0", FX_DEV_M, 0, MB_TABLE_COIL, 0x0000},
    {"M7679", FX_DEV_M, 7679, MB_TABLE_COIL, 0x1DFF},
    {"M8000", FX_DEV_M, 8000, MB_TABLE_COIL, 0x1E00},
    {"M8511", FX_DEV_M, 8511, MB_TABLE_COIL, 0x1FFF},
    {"S0", FX_DEV_S, 0, MB_TABLE_COIL, 0x2000},
    {"S4095", FX_DEV_S, 4095, MB_TABLE_COIL, 0x2FFF},
    {"T0", FX_DEV_T, 0, MB_TABLE_COIL, 0x3000},
    {"T511", FX_DEV_T, 511, MB_TABLE_COIL, 0x31FF},
    {"C0", FX_DEV_C, 0, MB_TABLE_COIL, 0x3200},
    {"C255", FX_DEV_C, 255, MB_TABLE_COIL, 0x32FF},
    {"Y0", FX_DEV_Y, 0, MB_TABLE_COIL, 0x3300},
    {"Y4", FX_DEV_Y, 4, MB_TABLE_COIL, 0x3304},
    {"Y10", FX_DEV_Y, 8, MB_TABLE_COIL, 0x3308},
    {"Y377", FX_DEV_Y, 255, MB_TABLE_COIL, 0x33FF},
    {"X0", FX_DEV_X, 0, MB_TABLE_DISCRETE_INPUT, 0x3400},
    {"X17", FX_DEV_X, 15, MB_TABLE_DISCRETE_INPUT, 0x340F},
    {"x20", FX_DEV_X, 16, MB_TABLE_DISCRETE_INPUT, 0x3410},
    {"X377", FX_DEV_X, 255, MB_TABLE_DISCRETE_INPUT, 0x34FF},
};

START_TEST(test_device_good)
{
    const good_dev *g = &good_devs[_i];
    fx_device d;
    mb_table t;
    uint16_t a;
    char buf[16];
    ck_assert_int_eq(fx_parse_device(g->name, &d), 0);
    ck_assert_int_eq(d.kind, g->kind);
    ck_assert_uint_eq(d.num, g->num);
    if (g->kind == FX_DEV_D) {
        ck_assert_int_eq(fx_map_word(d, &a), 0);
        ck_assert_int_eq(fx_map_bit(d, &t, &a), REGMAP_ENOMAP);
        fx_map_word(d, &a);
        t = MB_TABLE_HOLDING;
    } else {
        ck_assert_int_eq(fx_map_bit(d, &t, &a), 0);
        ck_assert_int_eq(t, g->table);
    }
    ck_assert_uint_eq(a, g->addr);
    /* and back */
    fx_device back;
    ck_assert_int_eq(fx_unmap(t, a, &back), 0);
    ck_assert_int_eq(back.kind, d.kind);
    ck_assert_uint_eq(back.num, d.num);
    /* canonical name round-trips (upper case) */
    ck_assert_int_eq(fx_format_device(d, buf, sizeof buf), 0);
    fx_device again;
    ck_assert_int_eq(fx_parse_device(buf, &again), 0);
    ck_assert_uint_eq(again.num, d.num);
}
END_TEST

typedef struct {
    const char *name;
    int err;
} bad_dev;

static const bad_dev bad_devs[] = {
    {"X8", REGMAP_EOCTAL},    {"Y19", REGMAP_EOCTAL},  {"X400", REGMAP_ERANGE},
    {"Y400", REGMAP_ERANGE},  {"D8000x", REGMAP_ESYNTAX}, {"D8512", REGMAP_ERANGE},
    {"D9000", REGMAP_ERANGE}, {"M7680", REGMAP_ERANGE}, {"M7999", REGMAP_ERANGE},
    {"M8512", REGMAP_ERANGE}, {"S4096", REGMAP_ERANGE}, {"T512", REGMAP_ERANGE},
    {"C256", REGMAP_ERANGE},  {"Q1", REGMAP_ESYNTAX},   {"D", REGMAP_ESYNTAX},
    {"", REGMAP_ESYNTAX},     {"100", REGMAP_ESYNTAX},  {"D-1", REGMAP_ESYNTAX},
    {"D 1", REGMAP_ESYNTAX},  {"D99999999999", REGMAP_ERANGE},
};

START_TEST(test_device_bad)
{
    fx_device d = {FX_DEV_D, 4242};
    ck_assert_msg(fx_parse_device(bad_devs[_i].name, &d) == bad_devs[_i].err, "%s",
                  bad_devs[_i].name);
    ck_assert_uint_eq(d.num, 4242); /* nothing half-written */
}
END_TEST

START_TEST(test_ranges)
{
    fx_range r;
    ck_assert_int_eq(fx_parse_range("X0-X17", &r), 0);
    ck_assert_int_eq(r.first.kind, FX_DEV_X);
    ck_assert_uint_eq(r.first.num, 0);
    ck_assert_uint_eq(r.count, 16);
    ck_assert_int_eq(fx_parse_range("D110-D121", &r), 0);
    ck_assert_uint_eq(r.first.num, 110);
    ck_assert_uint_eq(r.count, 12);
    ck_assert_int_eq(fx_parse_range("D110-121", &r), 0);
    ck_assert_uint_eq(r.count, 12);
    ck_assert_int_eq(fx_parse_range("Y4", &r), 0);
    ck_assert_uint_eq(r.count, 1);
    ck_assert_int_eq(fx_parse_range("D121-D110", &r), REGMAP_EORDER);
    ck_assert_int_eq(fx_parse_range("D1-M5", &r), REGMAP_EORDER);
    ck_assert_int_eq(fx_parse_range("X0-X18", &r), REGMAP_EOCTAL);
    ck_assert_int_eq(fx_parse_range("D7990-D8010", &r), 0); /* D8000 follows D7999 in name only */
    ck_assert_int_eq(fx_parse_range("M7670-M8001", &r), REGMAP_ERANGE);
    ck_assert_int_eq(fx_parse_range("D1-", &r), REGMAP_ESYNTAX);
    ck_assert_int_eq(fx_parse_range("-D1", &r), REGMAP_ESYNTAX);
}
END_TEST

START_TEST(test_word_mapping)
{
    fx_device d;
    uint16_t a;
    ck_assert_int_eq(fx_parse_device("T5", &d), 0);
    ck_assert_int_eq(fx_map_word(d, &a), 0);
    ck_assert_uint_eq(a, 0x2145);
    ck_assert_int_eq(fx_parse_device("C199", &d), 0);
    ck_assert_int_eq(fx_map_word(d, &a), 0);
    ck_assert_uint_eq(a, 0x2340 + 199);
    ck_assert_int_eq(fx_parse_device("C200", &d), 0);
    ck_assert_int_eq(fx_map_word(d, &a), REGMAP_ENOMAP); /* 32-bit counter */
    ck_assert_int_eq(fx_parse_device("M5", &d), 0);
    ck_assert_int_eq(fx_map_word(d, &a), REGMAP_ENOMAP);
    /* unassigned gaps */
    fx_device out;
    ck_assert_int_eq(fx_unmap(MB_TABLE_COIL, 0x3400, &out), REGMAP_ENOMAP); /* X not a coil */
    ck_assert_int_eq(fx_unmap(MB_TABLE_DISCRETE_INPUT, 0x3400, &out), 0);
    ck_assert_int_eq(fx_unmap(MB_TABLE_DISCRETE_INPUT, 0x3500, &out), REGMAP_ENOMAP);
    ck_assert_int_eq(fx_unmap(MB_TABLE_HOLDING, 0x2140 + 512, &out), 0); /* CN0 */
    ck_assert_int_eq(out.kind, FX_DEV_C);
    ck_assert_int_eq(fx_unmap(MB_TABLE_HOLDING, 0x2340 + 200, &out), REGMAP_ENOMAP);
    ck_assert_int_eq(fx_unmap(MB_TABLE_INPUT_REG, 0x1F40, &out), 0);
    ck_assert_uint_eq(out.num, 8000);
    ck_assert_str_eq(cc_hold_reason_name(CC_HOLD_WATCHDOG), "watchdog");
    ck_assert_str_eq(cc_hold_reason_name(999), "unknown");
}
END_TEST

/* -------------------------------------------------------------------- URIs */

START_TEST(test_uri_tcp)
{
    link_uri u;
    char err[128];
    ck_assert_int_eq(link_uri_parse("tcp://127.0.0.1:1502", 0, &u, err, sizeof err), 0);
    ck_assert_int_eq(u.kind, LINK_TCP);
    ck_assert_str_eq(u.host, "127.0.0.1");
    ck_assert_uint_eq(u.port, 1502);
    ck_assert_uint_eq(u.response_timeout_ms, URI_DEFAULT_RESPONSE_TIMEOUT_MS);
    ck_assert_int_eq(link_uri_parse("tcp://plc-gw.local:502?timeout_ms=50&retries=0&slave=3", 0, &u,
                                    err, sizeof err),
                     0);
    ck_assert_str_eq(u.host, "plc-gw.local");
    ck_assert_uint_eq(u.response_timeout_ms, 50);
    ck_assert_uint_eq(u.retries, 0);
    ck_assert_uint_eq(u.slave, 3);
    ck_assert_int_eq(link_uri_parse("tcp://127.0.0.1:0", 1, &u, err, sizeof err), 0);
    ck_assert_uint_eq(u.port, 0);
}
END_TEST

START_TEST(test_uri_rtu)
{
    link_uri u;
    char err[128], buf[512];
    ck_assert_int_eq(link_uri_parse("rtu:/dev/ttyUSB0", 0, &u, err, sizeof err), 0);
    ck_assert_int_eq(u.kind, LINK_RTU);
    ck_assert_str_eq(u.path, "/dev/ttyUSB0");
    /* FX defaults: 19200 8E1, slave 1, RS-232 */
    ck_assert_uint_eq(u.baud, 19200);
    ck_assert_int_eq(u.parity, 'E');
    ck_assert_uint_eq(u.data_bits, 8);
    ck_assert_uint_eq(u.stop_bits, 1);
    ck_assert_uint_eq(u.slave, 1);
    ck_assert_uint_eq(u.rs485, 0);
    ck_assert_int_eq(link_uri_parse("rtu:/dev/ttyUSB0?baud=9600&parity=n&data=7&stop=2&slave=17&"
                                    "rs485=1&byte_timeout_ms=20",
                                    0, &u, err, sizeof err),
                     0);
    ck_assert_uint_eq(u.baud, 9600);
    ck_assert_int_eq(u.parity, 'N');
    ck_assert_uint_eq(u.data_bits, 7);
    ck_assert_uint_eq(u.stop_bits, 2);
    ck_assert_uint_eq(u.slave, 17);
    ck_assert_uint_eq(u.rs485, 1);
    ck_assert_uint_eq(u.byte_timeout_ms, 20);
    ck_assert_int_eq(link_uri_format(&u, buf, sizeof buf), 0);
    link_uri again;
    ck_assert_int_eq(link_uri_parse(buf, 0, &again, err, sizeof err), 0);
    ck_assert_int_eq(memcmp(&again, &u, sizeof u), 0);
}
END_TEST

typedef struct {
    const char *uri;
    int err;
    const char *needle; /* must appear in the message */
} bad_uri;

static const bad_uri bad_uris[] = {
    {"http://x:1", URI_ESCHEME, "http://x:1"},
    {"tcp://127.0.0.1", URI_EPORT, "port"},
    {"tcp://127.0.0.1:0", URI_EPORT, "port"},
    {"tcp://127.0.0.1:65536", URI_EPORT, "65536"},
    {"tcp://:502", URI_EHOST, "host"},
    {"tcp://127.0.0.1:50x", URI_EPORT, "50x"},
    {"tcp://127.0.0.1:502?baud=9600", URI_EPARAM, "baud"},
    {"rtu:", URI_EHOST, "device path"},
    {"rtu:/dev/ttyUSB0?baud=12x", URI_EVALUE, "baud=12x"},
    {"rtu:/dev/ttyUSB0?parity=X", URI_EVALUE, "parity=X"},
    {"rtu:/dev/ttyUSB0?data=9", URI_EVALUE, "data=9"},
    {"rtu:/dev/ttyUSB0?stop=3", URI_EVALUE, "stop=3"},
    {"rtu:/dev/ttyUSB0?slave=0", URI_EVALUE, "slave=0"},
    {"rtu:/dev/ttyUSB0?slave=248", URI_EVALUE, "slave=248"},
    {"rtu:/dev/ttyUSB0?rs485=2", URI_EVALUE, "rs485=2"},
    {"rtu:/dev/ttyUSB0?speed=9600", URI_EPARAM, "speed"},
    {"rtu:/dev/ttyUSB0?baud", URI_EPARAM, "baud"},
    {"rtu:/dev/ttyUSB0?baud=9600&", URI_EPARAM, "empty"},
    {"rtu:/dev/ttyUSB0?timeout_ms=0", URI_EVALUE, "timeout_ms"},
    {"", URI_ESCHEME, "unknown link"},
};

START_TEST(test_uri_bad)
{
    link_uri u;
    memset(&u, 0x5A, sizeof u);
    link_uri before = u;
    char err[256] = "";
    const bad_uri *b = &bad_uris[_i];
    ck_assert_int_eq(link_uri_parse(b->uri, 0, &u, err, sizeof err), b->err);
    ck_assert_msg(strstr(err, b->needle) != NULL, "'%s' -> '%s' lacks '%s'", b->uri, err, b->needle);
    ck_assert_int_eq(memcmp(&u, &before, sizeof u), 0); /* nothing half-written */
    ck_assert_ptr_nonnull(uri_strerror(b->err));
}
END_TEST

/* ----------------------------------------------------------- control image */

START_TEST(test_status_decode)
{
    uint16_t raw[CC_STATUS_COUNT] = {0};
    cc_status st;
    raw[CC_ST_FLAGS] = CC_FLAG_RUN | CC_FLAG_HOLD;
    raw[CC_ST_X_LO] = 0x8001; /* X0 and X17 */
    raw[CC_ST_X_HI] = 0x0004; /* X22: enable key */
    raw[CC_ST_Y] = CC_Y_A_VAC | CC_Y_B_VAC;
    raw[CC_ST_TICK] = 65535;
    raw[CC_ST_SEQ_ECHO] = 7;
    raw[CC_ST_HB_ECHO] = 9;
    raw[CC_ST_HOLD_REASON] = CC_HOLD_ESTOP;
    raw[CC_ST_SCAN_MAX] = 23; /* 2.3 ms */
    raw[CC_ST_CUP_FIRST + 0] = 600;  /* 60.0 kPa */
    raw[CC_ST_CUP_FIRST + 11] = 451; /* 45.1 kPa */
    raw[CC_ST_PROX_FIRST + 0] = 1234;
    raw[CC_ST_PROX_FIRST + 3] = 0xFFFF;
    raw[CC_ST_TETHER] = 180;
    raw[CC_ST_SUPPLY] = 600;
    raw[CC_ST_POS_X] = 150;
    raw[CC_ST_POS_Y] = 0xFFFF;
    cc_status_decode(raw, &st);
    ck_assert_uint_eq(st.flags, CC_FLAG_RUN | CC_FLAG_HOLD);
    ck_assert(st.x & CC_X_XCYL_MINUS_END);
    ck_assert(st.x & CC_X_EDGE_YP);
    ck_assert(st.x & CC_X_ENABLE_KEY);
    ck_assert(!(st.x & CC_X_ESTOP_OK));
    ck_assert_uint_eq(st.tick, 65535);
    ck_assert_uint_eq(st.hold_reason, CC_HOLD_ESTOP);
    ck_assert_float_eq_tol(st.scan_max_ms, 2.3f, 1e-5f);
    ck_assert_float_eq_tol(st.cup_kpa[0], 60.0f, 1e-5f);
    ck_assert_float_eq_tol(st.cup_kpa[11], 45.1f, 1e-4f);
    ck_assert_uint_eq(st.prox_valid[0], 1);
    ck_assert_float_eq(st.prox_mm[0], 1234.0f);
    ck_assert_uint_eq(st.prox_valid[3], 0);
    ck_assert_float_eq(st.tether_n, 180.0f);
    ck_assert_float_eq(st.supply_kpa, 600.0f);
    ck_assert_uint_eq(st.pos_valid[0], 1);
    ck_assert_uint_eq(st.pos_valid[1], 0);
    /* encode gives the same raw block back */
    uint16_t again[CC_STATUS_COUNT];
    cc_status_encode(&st, again);
    ck_assert_int_eq(memcmp(raw, again, sizeof raw), 0);
}
END_TEST

START_TEST(test_command_codec)
{
    cc_command c = {.seq = 65535, .heartbeat = 3, .outputs = CC_Y_A_VAC | CC_Y_BEACON,
                    .mode = CC_MODE_RESET, .period_ms = 10};
    uint16_t raw[CC_CMD_COUNT];
    memset(raw, 0xEE, sizeof raw);
    cc_command_encode(&c, raw);
    ck_assert_uint_eq(raw[CC_CMD_SEQ], 65535);
    ck_assert_uint_eq(raw[CC_CMD_MODE], 3);
    ck_assert_uint_eq(raw[5], 0);
    ck_assert_uint_eq(raw[7], 0);
    cc_command d;
    ck_assert_int_eq(cc_command_decode(raw, &d), 0);
    ck_assert_uint_eq(d.outputs, c.outputs);
    ck_assert_int_eq(d.mode, CC_MODE_RESET);
    raw[CC_CMD_MODE] = 4;
    ck_assert_int_eq(cc_command_decode(raw, &d), -1);
    ck_assert_int_eq(d.mode, CC_MODE_HOLD); /* unknown mode decodes to the safe one */
    ck_assert_str_eq(cc_mode_name(CC_MODE_AUTO), "auto");
    ck_assert_uint_eq(cc_tick_diff_ms(65530, 4), 100); /* across the wrap */
    ck_assert_uint_eq(cc_tick_diff_ms(100, 150), 500);
}
END_TEST

START_TEST(test_status_encode_saturates)
{
    cc_status st;
    uint16_t raw[CC_STATUS_COUNT];
    memset(&st, 0, sizeof st);
    st.cup_kpa[0] = 1e9f;     /* saturates below the no-value marker */
    st.cup_kpa[1] = -5.0f;    /* negative -> 0 */
    st.cup_kpa[2] = NAN;      /* NaN -> 0 */
    st.prox_valid[0] = 1;
    st.prox_mm[0] = 70000.0f;
    cc_status_encode(&st, raw);
    ck_assert_uint_eq(raw[CC_ST_CUP_FIRST], 0xFFFE);
    ck_assert_uint_eq(raw[CC_ST_CUP_FIRST + 1], 0);
    ck_assert_uint_eq(raw[CC_ST_CUP_FIRST + 2], 0);
    ck_assert_uint_eq(raw[CC_ST_PROX_FIRST], 0xFFFE);
    ck_assert_uint_eq(raw[CC_ST_PROX_FIRST + 1], 0xFFFF); /* not valid -> no echo */
}
END_TEST

static Suite *bridge_suite(void)
{
    Suite *s = suite_create("plc_bridge");
    TCase *t = tcase_create("regmap");
    tcase_add_loop_test(t, test_device_good, 0, (int)(sizeof good_devs / sizeof good_devs[0]));
    tcase_add_loop_test(t, test_device_bad, 0, (int)(sizeof bad_devs / sizeof bad_devs[0]));
    tcase_add_test(t, test_ranges);
    tcase_add_test(t, test_word_mapping);
    suite_add_tcase(s, t);
    t = tcase_create("uri");
    tcase_add_test(t, test_uri_tcp);
    tcase_add_test(t, test_uri_rtu);
    tcase_add_loop_test(t, test_uri_bad, 0, (int)(sizeof bad_uris / sizeof bad_uris[0]));
    suite_add_tcase(s, t);
    t = tcase_create("image");
    tcase_add_test(t, test_status_decode);
    tcase_add_test(t, test_command_codec);
    tcase_add_test(t, test_status_encode_saturates);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(bridge_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
