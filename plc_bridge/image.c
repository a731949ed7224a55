/*
 * image.c — control image encode/decode.  See image.h.
 */
#include "image.h"

#include <math.h>
#include <string.h>

/* Round a non-negative physical value to a register with scale, saturating
 * below the "no value" marker. */
static uint16_t to_reg(float v, float scale)
{
    if (!(v > 0.0f)) return 0; /* also NaN */
    float r = roundf(v * scale);
    if (r >= (float)(CC_NO_VALUE - 1u)) return (uint16_t)(CC_NO_VALUE - 1u);
    return (uint16_t)r;
}

void cc_status_decode(const uint16_t raw[CC_STATUS_COUNT], cc_status *st)
{
    memset(st, 0, sizeof *st);
    st->flags = raw[CC_ST_FLAGS];
    st->x = (uint32_t)raw[CC_ST_X_LO] | ((uint32_t)raw[CC_ST_X_HI] << 16);
    st->y = raw[CC_ST_Y];
    st->tick = raw[CC_ST_TICK];
    st->seq_echo = raw[CC_ST_SEQ_ECHO];
    st->heartbeat_echo = raw[CC_ST_HB_ECHO];
    st->hold_reason = raw[CC_ST_HOLD_REASON];
    st->version = raw[CC_ST_VERSION];
    st->scan_max_ms = (float)raw[CC_ST_SCAN_MAX] * 0.1f; /* 0.1 ms units */
    for (unsigned i = 0; i < CC_CUPS_N; i++)
        st->cup_kpa[i] = (float)raw[CC_ST_CUP_FIRST + i] * 0.1f; /* 0.1 kPa units */
    for (unsigned i = 0; i < CC_PROX_N; i++) {
        uint16_t r = raw[CC_ST_PROX_FIRST + i];
        st->prox_valid[i] = r != CC_NO_VALUE;
        st->prox_mm[i] = r != CC_NO_VALUE ? (float)r : 0.0f;
    }
    st->tether_n = (float)raw[CC_ST_TETHER];
    st->supply_kpa = (float)raw[CC_ST_SUPPLY];
    for (unsigned i = 0; i < 2; i++) {
        uint16_t r = raw[CC_ST_POS_X + i];
        st->pos_valid[i] = r != CC_NO_VALUE;
        st->pos_mm[i] = r != CC_NO_VALUE ? (float)r : 0.0f;
    }
}

void cc_status_encode(const cc_status *st, uint16_t raw[CC_STATUS_COUNT])
{
    memset(raw, 0, CC_STATUS_COUNT * sizeof raw[0]);
    raw[CC_ST_FLAGS] = st->flags;
    raw[CC_ST_X_LO] = (uint16_t)(st->x & 0xFFFFu);
    raw[CC_ST_X_HI] = (uint16_t)(st->x >> 16);
    raw[CC_ST_Y] = st->y;
    raw[CC_ST_TICK] = st->tick;
    raw[CC_ST_SEQ_ECHO] = st->seq_echo;
    raw[CC_ST_HB_ECHO] = st->heartbeat_echo;
    raw[CC_ST_HOLD_REASON] = st->hold_reason;
    raw[CC_ST_VERSION] = st->version;
    raw[CC_ST_SCAN_MAX] = to_reg(st->scan_max_ms, 10.0f);
    for (unsigned i = 0; i < CC_CUPS_N; i++) raw[CC_ST_CUP_FIRST + i] = to_reg(st->cup_kpa[i], 10.0f);
    for (unsigned i = 0; i < CC_PROX_N; i++)
        raw[CC_ST_PROX_FIRST + i] = st->prox_valid[i] ? to_reg(st->prox_mm[i], 1.0f) : CC_NO_VALUE;
    raw[CC_ST_TETHER] = to_reg(st->tether_n, 1.0f);
    raw[CC_ST_SUPPLY] = to_reg(st->supply_kpa, 1.0f);
    for (unsigned i = 0; i < 2; i++)
        raw[CC_ST_POS_X + i] = st->pos_valid[i] ? to_reg(st->pos_mm[i], 1.0f) : CC_NO_VALUE;
}

void cc_command_encode(const cc_command *cmd, uint16_t raw[CC_CMD_COUNT])
{
    memset(raw, 0, CC_CMD_COUNT * sizeof raw[0]);
    raw[CC_CMD_SEQ] = cmd->seq;
    raw[CC_CMD_HEARTBEAT] = cmd->heartbeat;
    raw[CC_CMD_OUTPUTS] = cmd->outputs;
    raw[CC_CMD_MODE] = (uint16_t)cmd->mode;
    raw[CC_CMD_PERIOD] = cmd->period_ms;
}

int cc_command_decode(const uint16_t raw[CC_CMD_COUNT], cc_command *cmd)
{
    cmd->seq = raw[CC_CMD_SEQ];
    cmd->heartbeat = raw[CC_CMD_HEARTBEAT];
    cmd->outputs = raw[CC_CMD_OUTPUTS];
    cmd->period_ms = raw[CC_CMD_PERIOD];
    if (raw[CC_CMD_MODE] >= CC_MODE_COUNT) {
        cmd->mode = CC_MODE_HOLD;
        return -1;
    }
    cmd->mode = (cc_mode)raw[CC_CMD_MODE];
    return 0;
}

const char *cc_mode_name(unsigned mode)
{
    static const char *const names[CC_MODE_COUNT] = {"hold", "auto", "manual", "reset"};
    return mode < CC_MODE_COUNT ? names[mode] : "unknown";
}

uint32_t cc_tick_diff_ms(uint16_t a, uint16_t b)
{
    return (uint32_t)(uint16_t)(b - a) * 10u;
}
