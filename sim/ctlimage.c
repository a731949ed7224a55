/*
 * ctlimage.c — the interim C control image.  See ctlimage.h.
 *
 * Written the way the PLC program will do it (compare D200 with its echo
 * D105, MOV K4X0 D101, ...) so the change to the interpreter is invisible
 * from the Modbus side.
 */
#include "ctlimage.h"

#include <string.h>

void ctl_init(ctl_image *ctl)
{
    memset(ctl, 0, sizeof *ctl);
}

/* Pack n bit devices (0/1 cells) into a word, bit i = cell i. */
static uint16_t pack16(const uint8_t *cells)
{
    uint16_t w = 0;
    for (unsigned i = 0; i < 16; i++)
        if (cells[i]) w |= (uint16_t)(1u << i);
    return w;
}

int ctl_scan(void *self, fxmem *mem, uint32_t scan_ms)
{
    ctl_image *ctl = self;
    uint16_t *d = mem->d;
    const uint16_t *cmd = &d[CC_CMD_FIRST];
    uint16_t *st = &d[CC_STATUS_FIRST];

    /* Inputs: X0-X17 and X20-X37 (octal) are x[0..15] and x[16..31]. */
    st[CC_ST_X_LO] = pack16(&mem->x[0]);
    st[CC_ST_X_HI] = pack16(&mem->x[16]);

    /* Command acceptance: a new sequence number is a new command. */
    if (cmd[CC_CMD_SEQ] != st[CC_ST_SEQ_ECHO]) {
        st[CC_ST_SEQ_ECHO] = cmd[CC_CMD_SEQ];
        d[CTL_D_ACCEPTED]++;
    }
    st[CC_ST_HB_ECHO] = cmd[CC_CMD_HEARTBEAT];

    /* Outputs Y0-Y17 from D202; D103 reads back what is driven. */
    for (unsigned i = 0; i < 16; i++) mem->y[i] = (uint8_t)((cmd[CC_CMD_OUTPUTS] >> i) & 1u);
    st[CC_ST_Y] = pack16(&mem->y[0]);

    st[CC_ST_FLAGS] = CC_FLAG_RUN;
    st[CC_ST_TICK] = (uint16_t)((ctl->t_ms / 10u) & 0xFFFFu);
    st[CC_ST_HOLD_REASON] = CC_HOLD_NONE;
    st[CC_ST_VERSION] = CTL_VERSION;
    st[CC_ST_SCAN_MAX] = d[8012];

    ctl->t_ms += scan_ms;
    return 0;
}

plcsim_logic ctl_logic(ctl_image *ctl)
{
    plcsim_logic l = {.self = ctl, .scan = ctl_scan};
    return l;
}
