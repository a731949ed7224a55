/*
 * mbserver.c — FX3 MODBUS slave over fxmem.  See mbserver.h.
 *
 * The PDU handler is pure: it never blocks, allocates or prints, so the same
 * code answers TCP, RTU, the unit tests and the fuzzer.  The transport half
 * lets libmodbus receive (it knows the framing, the RTU CRC and the MBAP
 * header) and writes the answer itself, at once.
 */
#include "mbserver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <modbus.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

const char *mbs_strerror(int code)
{
    switch (code) {
    case MBS_OK: return "ok";
    case MBS_EPDU: return "empty request PDU";
    case MBS_EBUF: return "response buffer too small";
    case MBS_EURI: return "bad listen URI";
    case MBS_ELISTEN: return "cannot listen";
    case MBS_EPTY: return "cannot make a pseudo-terminal";
    case MBS_ELINK: return "cannot make the pty link";
    case MBS_ENOMEM: return "out of memory";
    case MBS_EARG: return "bad argument";
    case MBS_EIO: return "I/O error";
    default: return "unknown error";
    }
}

/* ======================================================== PDU handling */

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)(v & 0xFFu);
}

/* Build an exception answer: function | 0x80, code. */
static int answer_exception(uint8_t fc, uint8_t code, uint8_t *rsp, size_t cap,
                            mbs_request_info *info)
{
    if (cap < 2) return MBS_EBUF;
    rsp[0] = (uint8_t)(fc | 0x80u);
    rsp[1] = code;
    info->exception = code;
    return 2;
}

/* 1 when every address of [addr, addr+count) is assigned in table. */
static int range_mapped(mb_table table, uint16_t addr, uint32_t count)
{
    fx_device dev;
    if ((uint32_t)addr + count > 0x10000u) return 0;
    for (uint32_t i = 0; i < count; i++)
        if (fx_unmap(table, (uint16_t)(addr + i), &dev) != 0) return 0;
    return 1;
}

static void note_write(mbs_request_info *info, mb_table table, uint16_t addr, uint16_t count)
{
    info->wtable = (uint8_t)table;
    info->waddr = addr;
    info->wcount = count;
}

/* FC 01 / 02: read coils or discrete inputs, packed LSB first. */
static int fc_read_bits(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                        mbs_request_info *info)
{
    uint8_t fc = req[0];
    mb_table table = fc == 0x01 ? MB_TABLE_COIL : MB_TABLE_DISCRETE_INPUT;
    if (len != 5) return answer_exception(fc, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    uint16_t addr = get16(req + 1), qty = get16(req + 3);
    if (qty < 1 || qty > MBS_MAX_READ_BITS)
        return answer_exception(fc, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    if (!range_mapped(table, addr, qty))
        return answer_exception(fc, MBS_EX_ILLEGAL_ADDRESS, rsp, cap, info);
    size_t nbytes = (qty + 7u) / 8u;
    if (cap < 2 + nbytes) return MBS_EBUF;
    rsp[0] = fc;
    rsp[1] = (uint8_t)nbytes;
    memset(rsp + 2, 0, nbytes);
    for (uint32_t i = 0; i < qty; i++) {
        int v = 0;
        (void)fxmem_mb_read_bit(mem, table, (uint16_t)(addr + i), &v); /* mapped: cannot fail */
        if (v) rsp[2 + i / 8] |= (uint8_t)(1u << (i % 8));
    }
    return (int)(2 + nbytes);
}

/* Read qty registers from addr into out (big-endian); the range is mapped. */
static void read_regs(const fxmem *mem, uint16_t addr, uint16_t qty, uint8_t *out)
{
    for (uint32_t i = 0; i < qty; i++) {
        uint16_t v = 0;
        (void)fxmem_mb_read_reg(mem, (uint16_t)(addr + i), &v);
        put16(out + 2 * i, v);
    }
}

/* Write qty big-endian registers from src at addr; the range is mapped. */
static void write_regs(fxmem *mem, uint16_t addr, uint16_t qty, const uint8_t *src)
{
    for (uint32_t i = 0; i < qty; i++)
        (void)fxmem_mb_write_reg(mem, (uint16_t)(addr + i), get16(src + 2 * i));
}

/* FC 03 / 04: read holding or input registers (same assignment). */
static int fc_read_regs(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                        mbs_request_info *info)
{
    uint8_t fc = req[0];
    if (len != 5) return answer_exception(fc, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    uint16_t addr = get16(req + 1), qty = get16(req + 3);
    if (qty < 1 || qty > MBS_MAX_READ_REGS)
        return answer_exception(fc, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    if (!range_mapped(MB_TABLE_HOLDING, addr, qty))
        return answer_exception(fc, MBS_EX_ILLEGAL_ADDRESS, rsp, cap, info);
    if (cap < 2u + 2u * qty) return MBS_EBUF;
    rsp[0] = fc;
    rsp[1] = (uint8_t)(2 * qty);
    read_regs(mem, addr, qty, rsp + 2);
    return 2 + 2 * qty;
}

/* FC 05: write one coil, value 0xFF00 (on) or 0x0000 (off); echo. */
static int fc_write_coil(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                         mbs_request_info *info)
{
    if (len != 5) return answer_exception(0x05, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    uint16_t addr = get16(req + 1), val = get16(req + 3);
    if (val != 0xFF00u && val != 0x0000u)
        return answer_exception(0x05, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    if (!range_mapped(MB_TABLE_COIL, addr, 1))
        return answer_exception(0x05, MBS_EX_ILLEGAL_ADDRESS, rsp, cap, info);
    if (cap < 5) return MBS_EBUF;
    (void)fxmem_mb_write_bit(mem, addr, val == 0xFF00u);
    note_write(info, MB_TABLE_COIL, addr, 1);
    memcpy(rsp, req, 5);
    return 5;
}

/* FC 06: write one register; echo. */
static int fc_write_reg(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                        mbs_request_info *info)
{
    if (len != 5) return answer_exception(0x06, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    uint16_t addr = get16(req + 1);
    if (!range_mapped(MB_TABLE_HOLDING, addr, 1))
        return answer_exception(0x06, MBS_EX_ILLEGAL_ADDRESS, rsp, cap, info);
    if (cap < 5) return MBS_EBUF;
    write_regs(mem, addr, 1, req + 3);
    note_write(info, MB_TABLE_HOLDING, addr, 1);
    memcpy(rsp, req, 5);
    return 5;
}

/* FC 0F: write coils; answer address and quantity. */
static int fc_write_coils(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                          mbs_request_info *info)
{
    if (len < 6) return answer_exception(0x0F, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    uint16_t addr = get16(req + 1), qty = get16(req + 3);
    size_t bc = req[5];
    if (qty < 1 || qty > MBS_MAX_WRITE_BITS || bc != (qty + 7u) / 8u || len != 6 + bc)
        return answer_exception(0x0F, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    if (!range_mapped(MB_TABLE_COIL, addr, qty))
        return answer_exception(0x0F, MBS_EX_ILLEGAL_ADDRESS, rsp, cap, info);
    if (cap < 5) return MBS_EBUF;
    for (uint32_t i = 0; i < qty; i++)
        (void)fxmem_mb_write_bit(mem, (uint16_t)(addr + i), (req[6 + i / 8] >> (i % 8)) & 1u);
    note_write(info, MB_TABLE_COIL, addr, qty);
    memcpy(rsp, req, 5);
    return 5;
}

/* FC 10: write registers; answer address and quantity. */
static int fc_write_regs(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                         mbs_request_info *info)
{
    if (len < 6) return answer_exception(0x10, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    uint16_t addr = get16(req + 1), qty = get16(req + 3);
    size_t bc = req[5];
    if (qty < 1 || qty > MBS_MAX_WRITE_REGS || bc != 2u * qty || len != 6 + bc)
        return answer_exception(0x10, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    if (!range_mapped(MB_TABLE_HOLDING, addr, qty))
        return answer_exception(0x10, MBS_EX_ILLEGAL_ADDRESS, rsp, cap, info);
    if (cap < 5) return MBS_EBUF;
    write_regs(mem, addr, qty, req + 6);
    note_write(info, MB_TABLE_HOLDING, addr, qty);
    memcpy(rsp, req, 5);
    return 5;
}

/* FC 16: mask write, new = (cur AND and) OR (or AND NOT and); echo. */
static int fc_mask_write(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                         mbs_request_info *info)
{
    if (len != 7) return answer_exception(0x16, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    uint16_t addr = get16(req + 1), and_m = get16(req + 3), or_m = get16(req + 5);
    if (!range_mapped(MB_TABLE_HOLDING, addr, 1))
        return answer_exception(0x16, MBS_EX_ILLEGAL_ADDRESS, rsp, cap, info);
    if (cap < 7) return MBS_EBUF;
    uint16_t cur = 0;
    (void)fxmem_mb_read_reg(mem, addr, &cur);
    uint16_t nv = (uint16_t)((cur & and_m) | (or_m & (uint16_t)~and_m));
    (void)fxmem_mb_write_reg(mem, addr, nv);
    note_write(info, MB_TABLE_HOLDING, addr, 1);
    memcpy(rsp, req, 7);
    return 7;
}

/* FC 17: write registers, then read registers (Modbus spec order). */
static int fc_write_read(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                         mbs_request_info *info)
{
    if (len < 10) return answer_exception(0x17, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    uint16_t raddr = get16(req + 1), rqty = get16(req + 3);
    uint16_t waddr = get16(req + 5), wqty = get16(req + 7);
    size_t bc = req[9];
    if (rqty < 1 || rqty > MBS_MAX_READ_REGS || wqty < 1 || wqty > MBS_MAX_WR_WRITE_REGS ||
        bc != 2u * wqty || len != 10 + bc)
        return answer_exception(0x17, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    /* The write range is checked here, not left to the write: nothing of
     * the request is applied unless both ranges are assigned. */
    if (!range_mapped(MB_TABLE_HOLDING, waddr, wqty) ||
        !range_mapped(MB_TABLE_HOLDING, raddr, rqty))
        return answer_exception(0x17, MBS_EX_ILLEGAL_ADDRESS, rsp, cap, info);
    if (cap < 2u + 2u * rqty) return MBS_EBUF;
    write_regs(mem, waddr, wqty, req + 10);
    note_write(info, MB_TABLE_HOLDING, waddr, wqty);
    rsp[0] = 0x17;
    rsp[1] = (uint8_t)(2 * rqty);
    read_regs(mem, raddr, rqty, rsp + 2);
    return 2 + 2 * rqty;
}

/* FC 07: one byte, M8060..M8067 (FX error flags). */
static int fc_exception_status(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp,
                               size_t cap, mbs_request_info *info)
{
    (void)req;
    if (len != 1) return answer_exception(0x07, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    if (cap < 2) return MBS_EBUF;
    uint8_t st = 0;
    for (unsigned i = 0; i < 8; i++)
        if (mem->m[MBS_EXSTATUS_FIRST_M + i]) st |= (uint8_t)(1u << i);
    rsp[0] = 0x07;
    rsp[1] = st;
    return 2;
}

/* FC 08: only sub-function 0000 (return query data): the request echoed. */
static int fc_diagnostics(const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                          mbs_request_info *info)
{
    if (len < 3) return answer_exception(0x08, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    if (get16(req + 1) != 0x0000u)
        return answer_exception(0x08, MBS_EX_ILLEGAL_FUNCTION, rsp, cap, info);
    if (cap < len) return MBS_EBUF;
    memcpy(rsp, req, len);
    return (int)len;
}

/* FC 11: byte count, slave id 0xF3, run indicator (M8000). */
static int fc_report_slave_id(fxmem *mem, size_t len, uint8_t *rsp, size_t cap,
                              mbs_request_info *info)
{
    if (len != 1) return answer_exception(0x11, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    if (cap < 4) return MBS_EBUF;
    rsp[0] = 0x11;
    rsp[1] = 2;
    rsp[2] = MBS_SLAVE_ID;
    rsp[3] = mem->m[8000] ? MBS_RUN_ON : MBS_RUN_OFF;
    return 4;
}

int mbs_handle_pdu_info(fxmem *mem, const uint8_t *req, size_t len, uint8_t *rsp, size_t cap,
                        mbs_request_info *info)
{
    mbs_request_info scratch;
    if (!info) info = &scratch;
    memset(info, 0, sizeof *info);
    if (len == 0) return MBS_EPDU;
    info->function = req[0];
    /* Longer than any Modbus PDU: no transport delivers it; refuse it
     * rather than echo it (FC 08) past a PDU-sized buffer. */
    if (len > MBS_PDU_MAX)
        return answer_exception(req[0] & 0x7Fu, MBS_EX_ILLEGAL_VALUE, rsp, cap, info);
    switch (req[0]) {
    case 0x01:
    case 0x02: return fc_read_bits(mem, req, len, rsp, cap, info);
    case 0x03:
    case 0x04: return fc_read_regs(mem, req, len, rsp, cap, info);
    case 0x05: return fc_write_coil(mem, req, len, rsp, cap, info);
    case 0x06: return fc_write_reg(mem, req, len, rsp, cap, info);
    case 0x07: return fc_exception_status(mem, req, len, rsp, cap, info);
    case 0x08: return fc_diagnostics(req, len, rsp, cap, info);
    case 0x0F: return fc_write_coils(mem, req, len, rsp, cap, info);
    case 0x10: return fc_write_regs(mem, req, len, rsp, cap, info);
    case 0x11: return fc_report_slave_id(mem, len, rsp, cap, info);
    case 0x16: return fc_mask_write(mem, req, len, rsp, cap, info);
    case 0x17: return fc_write_read(mem, req, len, rsp, cap, info);
    default: return answer_exception(req[0] & 0x7Fu, MBS_EX_ILLEGAL_FUNCTION, rsp, cap, info);
    }
}

int mbs_handle_pdu(fxmem *mem, const uint8_t *req_pdu, size_t req_len, uint8_t *rsp_pdu,
                   size_t rsp_cap)
{
    return mbs_handle_pdu_info(mem, req_pdu, req_len, rsp_pdu, rsp_cap, NULL);
}

void mbs_peek_write(const uint8_t *req, size_t len, mbs_request_info *info)
{
    if (!info) return;
    memset(info, 0, sizeof *info);
    if (!req || len == 0) return;
    info->function = req[0];
    switch (req[0]) {
    case 0x05: /* address, value */
        if (len >= 5) note_write(info, MB_TABLE_COIL, get16(req + 1), 1);
        break;
    case 0x06: /* address, value */
    case 0x16: /* address, and mask, or mask */
        if (len >= 5) note_write(info, MB_TABLE_HOLDING, get16(req + 1), 1);
        break;
    case 0x0F: /* address, quantity, bytes, values */
        if (len >= 5) note_write(info, MB_TABLE_COIL, get16(req + 1), get16(req + 3));
        break;
    case 0x10:
        if (len >= 5) note_write(info, MB_TABLE_HOLDING, get16(req + 1), get16(req + 3));
        break;
    case 0x17: /* read address, read quantity, write address, write quantity, ... */
        if (len >= 9) note_write(info, MB_TABLE_HOLDING, get16(req + 5), get16(req + 7));
        break;
    default: break;
    }
}

int mbs_info_touches(const mbs_request_info *info, mb_table table, uint16_t first,
                     uint16_t count)
{
    if (!info || info->wcount == 0 || info->exception || info->wtable != (uint8_t)table)
        return 0;
    uint32_t a0 = info->waddr, a1 = a0 + info->wcount; /* [a0, a1) */
    uint32_t b0 = first, b1 = b0 + count;
    return a0 < b1 && b0 < a1;
}

/* ============================================================ listen URI */

#if defined(__GNUC__) || defined(__clang__)
__attribute__((format(printf, 3, 4)))
#endif
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0) return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int mbs_parse_tcp_uri(const char *uri, char *host, size_t hostlen, uint16_t *port, char *err,
                      size_t errlen)
{
    static const char scheme[] = "tcp://";
    const char *h, *hend, *p;
    if (!uri || strncmp(uri, scheme, sizeof scheme - 1) != 0) {
        set_err(err, errlen, "'%s': a listen URI starts with tcp://", uri ? uri : "");
        return MBS_EURI;
    }
    h = uri + sizeof scheme - 1;
    if (*h == '[') { /* [v6]:port */
        h++;
        hend = strchr(h, ']');
        if (!hend) {
            set_err(err, errlen, "'%s': missing ']' after the IPv6 address", uri);
            return MBS_EURI;
        }
        p = hend + 1;
    } else {
        hend = h + strcspn(h, ":/?");
        p = hend;
    }
    size_t hl = (size_t)(hend - h);
    if (hl == 0) {
        set_err(err, errlen, "'%s': no host", uri);
        return MBS_EURI;
    }
    if (hl >= hostlen) {
        set_err(err, errlen, "'%s': host name too long", uri);
        return MBS_EURI;
    }
    unsigned long pv = 1502;
    if (*p == ':') {
        char *end;
        p++;
        if (*p < '0' || *p > '9') {
            set_err(err, errlen, "'%s': the port must be a number 0..65535", uri);
            return MBS_EURI;
        }
        errno = 0;
        pv = strtoul(p, &end, 10);
        if (errno || pv > 65535 || (*end != '\0' && *end != '/')) {
            set_err(err, errlen, "'%s': the port must be a number 0..65535", uri);
            return MBS_EURI;
        }
        p = end;
    }
    if (*p == '/') p++;
    if (*p != '\0') {
        set_err(err, errlen, "'%s': unexpected '%s' after host and port", uri, p);
        return MBS_EURI;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)pv;
    return 0;
}

/* ================================================================ server */

#define MBS_BYTE_TIMEOUT_MS 500 /* gap allowed inside one frame, ms */
#define MBS_ADU_MAX 260         /* TCP ADU: 7 MBAP + 253 PDU */
#define MBS_MBAP_LEN 7

struct mbs_server {
    fxmem *mem;
    mbs_config cfg;
    mbs_hooks hooks;
    mbs_stats stats;
    /* TCP */
    int listen_fd;
    int client_fd;
    modbus_t *tcp; /* backend used to receive on client_fd */
    char tcp_uri[96];
    int tcp_port;
    /* RTU on a pty */
    int pty_master;
    int pty_slave; /* held open so the master never sees EIO between clients */
    char pty_path[128];
    char link_path[PATH_MAX];
    int link_made;
    modbus_t *rtu;
    /* per-request buffers: no heap in the request path */
    uint8_t req[MBS_ADU_MAX + 8];
    uint8_t out[MBS_ADU_MAX + 8];
};

void mbs_config_default(mbs_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->listen_uri = MBS_DEFAULT_LISTEN;
    cfg->slave = 1;
}

static int set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* Read exactly n bytes from fd, allowing MBS_BYTE_TIMEOUT_MS between them. */
static int read_full(int fd, uint8_t *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, MBS_BYTE_TIMEOUT_MS);
        if (rc < 0 && errno == EINTR) continue;
        if (rc <= 0) return -1;
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        got += (size_t)r;
    }
    return 0;
}

static int tcp_open(mbs_server *srv, const char *uri, char *err, size_t errlen)
{
    char host[256], portstr[8];
    uint16_t port;
    struct addrinfo hints, *res = NULL, *ai;
    int rc, fd = -1, saved = 0;

    rc = mbs_parse_tcp_uri(uri, host, sizeof host, &port, err, errlen);
    if (rc) return rc;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%u", (unsigned)port);
    rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        set_err(err, errlen, "'%s': cannot resolve the host: %s", uri, gai_strerror(rc));
        return MBS_EURI;
    }
    for (ai = res; ai; ai = ai->ai_next) {
        int one = 1;
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        /* SO_REUSEADDR: a restarted sim may bind while old connections linger in TIME_WAIT. */
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (set_cloexec(fd) == 0 && set_nonblock(fd) == 0 &&
            bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 8) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        set_err(err, errlen, "cannot listen on %s: %s", uri, strerror(saved));
        rc = MBS_ELISTEN;
        goto err;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char num[INET6_ADDRSTRLEN] = "?";
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        set_err(err, errlen, "cannot listen on %s: getsockname: %s", uri, strerror(errno));
        rc = MBS_ELISTEN;
        goto err;
    }
    if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)&ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, num, sizeof num);
        srv->tcp_port = ntohs(s6->sin6_port);
        snprintf(srv->tcp_uri, sizeof srv->tcp_uri, "tcp://[%s]:%d", num, srv->tcp_port);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)&ss;
        inet_ntop(AF_INET, &s4->sin_addr, num, sizeof num);
        srv->tcp_port = ntohs(s4->sin_port);
        snprintf(srv->tcp_uri, sizeof srv->tcp_uri, "tcp://%s:%d", num, srv->tcp_port);
    }
    /* The libmodbus context only lends its receiver (MBAP framing) to the
     * accepted socket: it never connects nor listens. */
    srv->tcp = modbus_new_tcp("127.0.0.1", srv->tcp_port);
    if (!srv->tcp) {
        set_err(err, errlen, "libmodbus: cannot make a TCP context: %s", strerror(errno));
        rc = MBS_ENOMEM;
        goto err;
    }
    modbus_set_byte_timeout(srv->tcp, 0, MBS_BYTE_TIMEOUT_MS * 1000);
    srv->listen_fd = fd;
    freeaddrinfo(res);
    return 0;
err:
    if (fd >= 0) close(fd);
    if (res) freeaddrinfo(res);
    return rc;
}

/* A fresh RTU context on the pty master (never connected, never closed by libmodbus). */
static modbus_t *rtu_ctx_new(mbs_server *srv)
{
    modbus_t *ctx = modbus_new_rtu(srv->pty_path, 19200, 'E', 8, 1);
    if (!ctx) return NULL;
    if (modbus_set_slave(ctx, srv->cfg.slave) != 0) {
        modbus_free(ctx);
        return NULL;
    }
    modbus_set_socket(ctx, srv->pty_master);
    modbus_set_byte_timeout(ctx, 0, MBS_BYTE_TIMEOUT_MS * 1000);
    return ctx;
}

static int pty_open(mbs_server *srv, char *err, size_t errlen)
{
    struct termios tio;
    const char *name;
    int m = posix_openpt(O_RDWR | O_NOCTTY);
    if (m < 0) {
        set_err(err, errlen, "posix_openpt: %s", strerror(errno));
        return MBS_EPTY;
    }
    srv->pty_master = m;
    if (set_cloexec(m) != 0 || grantpt(m) != 0 || unlockpt(m) != 0 || !(name = ptsname(m))) {
        set_err(err, errlen, "pseudo-terminal: %s", strerror(errno));
        return MBS_EPTY;
    }
    if (strlen(name) >= sizeof srv->pty_path) {
        set_err(err, errlen, "pseudo-terminal name too long: %s", name);
        return MBS_EPTY;
    }
    strcpy(srv->pty_path, name);
    srv->pty_slave = open(srv->pty_path, O_RDWR | O_NOCTTY);
    if (srv->pty_slave < 0 || set_cloexec(srv->pty_slave) != 0) {
        set_err(err, errlen, "%s: %s", srv->pty_path, strerror(errno));
        return MBS_EPTY;
    }
    /* Raw: no echo, no line editing, 8 bits; a client sets its own baud/parity. */
    if (tcgetattr(srv->pty_slave, &tio) != 0) {
        set_err(err, errlen, "%s: tcgetattr: %s", srv->pty_path, strerror(errno));
        return MBS_EPTY;
    }
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    cfsetispeed(&tio, B19200);
    cfsetospeed(&tio, B19200);
    if (tcsetattr(srv->pty_slave, TCSANOW, &tio) != 0) {
        set_err(err, errlen, "%s: tcsetattr: %s", srv->pty_path, strerror(errno));
        return MBS_EPTY;
    }
    srv->rtu = rtu_ctx_new(srv);
    if (!srv->rtu) {
        set_err(err, errlen, "libmodbus: cannot make an RTU context on %s", srv->pty_path);
        return MBS_ENOMEM;
    }
    return 0;
}

static int link_make(mbs_server *srv, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (strlen(path) >= sizeof srv->link_path) {
        set_err(err, errlen, "--pty-link '%s': path too long", path);
        return MBS_ELINK;
    }
    /* A stale link from a killed run is replaced; anything else is kept. */
    if (lstat(path, &st) == 0) {
        if (!S_ISLNK(st.st_mode)) {
            set_err(err, errlen, "--pty-link '%s': exists and is not a symlink", path);
            return MBS_ELINK;
        }
        if (unlink(path) != 0) {
            set_err(err, errlen, "--pty-link '%s': %s", path, strerror(errno));
            return MBS_ELINK;
        }
    }
    if (symlink(srv->pty_path, path) != 0) {
        set_err(err, errlen, "--pty-link '%s': %s", path, strerror(errno));
        return MBS_ELINK;
    }
    strcpy(srv->link_path, path);
    srv->link_made = 1;
    return 0;
}

int mbs_server_open(mbs_server **out, fxmem *mem, const mbs_config *cfg, const mbs_hooks *hooks,
                    char *err, size_t errlen)
{
    int rc;
    mbs_server *srv = NULL;
    if (err && errlen) err[0] = '\0';
    if (!out || !mem || !cfg) {
        set_err(err, errlen, "mbs_server_open: null argument");
        return MBS_EARG;
    }
    *out = NULL;
    if (cfg->slave < 1 || cfg->slave > 247) {
        set_err(err, errlen, "slave id must be 1..247");
        return MBS_EARG;
    }
    if (!cfg->listen_uri && !cfg->rtu_pty) {
        set_err(err, errlen, "nothing to serve: neither TCP nor an RTU pty");
        return MBS_EARG;
    }
    if (cfg->pty_link && !cfg->rtu_pty) {
        set_err(err, errlen, "a pty link needs the RTU pty");
        return MBS_EARG;
    }
    srv = calloc(1, sizeof *srv);
    if (!srv) {
        set_err(err, errlen, "out of memory");
        return MBS_ENOMEM;
    }
    srv->mem = mem;
    srv->cfg = *cfg;
    srv->cfg.listen_uri = NULL; /* the caller's strings are not kept */
    srv->cfg.pty_link = NULL;
    if (hooks) srv->hooks = *hooks;
    srv->listen_fd = srv->client_fd = srv->pty_master = srv->pty_slave = -1;
    if (cfg->listen_uri) {
        rc = tcp_open(srv, cfg->listen_uri, err, errlen);
        if (rc) goto err;
    }
    if (cfg->rtu_pty) {
        rc = pty_open(srv, err, errlen);
        if (rc) goto err;
        if (cfg->pty_link) {
            rc = link_make(srv, cfg->pty_link, err, errlen);
            if (rc) goto err;
        }
    }
    *out = srv;
    return 0;
err:
    mbs_server_close(srv);
    return rc;
}

const char *mbs_server_tcp_uri(const mbs_server *srv)
{
    return srv && srv->listen_fd >= 0 ? srv->tcp_uri : NULL;
}

int mbs_server_tcp_port(const mbs_server *srv)
{
    return srv && srv->listen_fd >= 0 ? srv->tcp_port : 0;
}

const char *mbs_server_pty_path(const mbs_server *srv)
{
    return srv && srv->pty_master >= 0 ? srv->pty_path : NULL;
}

const mbs_stats *mbs_server_stats(const mbs_server *srv)
{
    return &srv->stats;
}

static void watch(int fd, fd_set *rd, int *maxfd)
{
    if (fd < 0) return;
    FD_SET(fd, rd);
    if (fd > *maxfd) *maxfd = fd;
}

void mbs_server_prepare(const mbs_server *srv, fd_set *rd, int *maxfd)
{
    /* One TCP client at a time: the listen socket waits while one is served. */
    watch(srv->client_fd >= 0 ? srv->client_fd : srv->listen_fd, rd, maxfd);
    watch(srv->pty_master, rd, maxfd);
}

static void tcp_drop_client(mbs_server *srv)
{
    if (srv->client_fd >= 0) close(srv->client_fd);
    srv->client_fd = -1;
    modbus_set_socket(srv->tcp, -1);
}

static void tcp_accept(mbs_server *srv)
{
    int one = 1;
    int fd = accept(srv->listen_fd, NULL, NULL);
    if (fd < 0) return; /* EAGAIN (client gone), EMFILE...: try again on the next wake-up */
    if (set_cloexec(fd) != 0) {
        close(fd);
        return;
    }
    /* One small answer per request: never wait for Nagle. */
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    srv->client_fd = fd;
    modbus_set_socket(srv->tcp, fd);
    srv->stats.connections++;
}

/*
 * Handle one request PDU for this slave (or a broadcast): the test hooks,
 * the owner's hooks, the answer.  Returns the answer's PDU length in rsp, or
 * 0 when nothing is to be sent.
 */
static size_t serve_pdu(mbs_server *srv, const uint8_t *pdu, size_t len, uint8_t *rsp,
                        int broadcast)
{
    mbs_request_info info;
    int n;
    if (srv->cfg.silent_after && srv->stats.requests >= srv->cfg.silent_after) {
        srv->stats.silenced++; /* a silent PLC hears nothing: not applied either */
        return 0;
    }
    /* The owner's clock first: whether the link is silent depends on it. */
    if (srv->hooks.before) srv->hooks.before(srv->hooks.owner);
    if (srv->hooks.silent && srv->hooks.silent(srv->hooks.owner)) {
        mbs_peek_write(pdu, len, &info);
        info.broadcast = (uint8_t)(broadcast != 0);
        srv->stats.link_dropped++;
        if (srv->hooks.dropped) srv->hooks.dropped(srv->hooks.owner, &info);
        return 0;
    }
    srv->stats.requests++;
    if (len > 0 && pdu[0] == 0x17 && srv->cfg.no_fc17) {
        memset(&info, 0, sizeof info);
        info.function = 0x17;
        info.exception = MBS_EX_ILLEGAL_FUNCTION;
        rsp[0] = 0x97;
        rsp[1] = MBS_EX_ILLEGAL_FUNCTION;
        n = 2;
    } else {
        n = mbs_handle_pdu_info(srv->mem, pdu, len, rsp, MBS_PDU_MAX, &info);
    }
    info.broadcast = (uint8_t)(broadcast != 0);
    int cmd = mbs_info_touches(&info, MB_TABLE_HOLDING, CC_CMD_FIRST, CC_CMD_COUNT);
    if (cmd) srv->stats.cmd_writes++;
    if (srv->hooks.after) srv->hooks.after(srv->hooks.owner, &info);
    if (n <= 0 || broadcast) return 0;
    if (cmd && srv->cfg.drop_reply && srv->stats.cmd_writes == srv->cfg.drop_reply) {
        srv->stats.dropped++;
        return 0;
    }
    if (info.exception) srv->stats.exceptions++;
    return (size_t)n;
}

static int send_all(int fd, const uint8_t *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, buf, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        buf += w;
        n -= (size_t)w;
    }
    return 0;
}

static void tcp_serve(mbs_server *srv)
{
    uint8_t *req = srv->req;
    int n = modbus_receive(srv->tcp, req);
    if (n < 0) {
        if (errno != ECONNRESET) srv->stats.bad_frames++;
        tcp_drop_client(srv);
        return;
    }
    if (n < MBS_MBAP_LEN + 1) goto bad;
    /* libmodbus frames by function code; the MBAP length is the truth (it
     * also covers FC 08 and unknown codes, whose data libmodbus leaves). */
    uint16_t proto = get16(req + 2), mlen = get16(req + 4);
    size_t want = 6u + mlen, have = (size_t)n;
    int close_after = 0;
    if (proto != 0 || mlen < 2 || want > MBS_ADU_MAX) goto bad;
    if (want > have) {
        if (read_full(srv->client_fd, req + have, want - have) != 0) goto bad;
    } else if (want < have) {
        close_after = 1; /* libmodbus read past this ADU: the stream is out of step */
    }
    size_t plen = serve_pdu(srv, req + MBS_MBAP_LEN, want - MBS_MBAP_LEN,
                            srv->out + MBS_MBAP_LEN, 0);
    if (plen > 0) {
        uint8_t *o = srv->out;
        o[0] = req[0];
        o[1] = req[1];
        put16(o + 2, 0);
        put16(o + 4, (uint16_t)(plen + 1));
        o[6] = req[6]; /* unit id echoed */
        if (send_all(srv->client_fd, o, MBS_MBAP_LEN + plen) != 0) {
            tcp_drop_client(srv);
            return;
        }
        srv->stats.replies++;
    }
    if (close_after) tcp_drop_client(srv);
    return;
bad:
    srv->stats.bad_frames++;
    tcp_drop_client(srv);
}

/* Modbus CRC-16 (poly 0xA001 reflected, init 0xFFFF), sent low byte first.
 * Only used to check FC 08 frames, which libmodbus 3.1.6 frames short. */
static uint16_t crc16(const uint8_t *p, size_t n)
{
    uint16_t crc = 0xFFFFu;
    for (size_t i = 0; i < n; i++) {
        crc ^= p[i];
        for (int b = 0; b < 8; b++) crc = (crc & 1u) ? (uint16_t)((crc >> 1) ^ 0xA001u) : (uint16_t)(crc >> 1);
    }
    return crc;
}

static void rtu_flush(mbs_server *srv)
{
    (void)tcflush(srv->pty_master, TCIFLUSH);
}

static int rtu_serve(mbs_server *srv)
{
    uint8_t *req = srv->req;
    int n = modbus_receive(srv->rtu, req);
    int saved = errno;
    size_t adu;
    if (n == 0) {
        /* Another slave's request.  libmodbus now takes the next frame for
         * that slave's answer and would swallow the master's next request;
         * there is no other slave on this pty, so start a fresh context. */
        srv->stats.foreign++;
        if (req[1] == 0x08) {
            uint8_t rest[4];
            (void)read_full(srv->pty_master, rest, sizeof rest);
        }
        modbus_t *fresh = rtu_ctx_new(srv);
        if (!fresh) return MBS_ENOMEM;
        modbus_free(srv->rtu);
        srv->rtu = fresh;
        return 0;
    }
    if (req[1] == 0x08 && (n == 4 || (n < 0 && saved == EMBBADCRC))) {
        /* FC 08: libmodbus 3.1.6 reads slave, 08 and two bytes it takes for
         * the CRC; the standard frame has 2 data bytes and the CRC after. */
        if (read_full(srv->pty_master, req + 4, 4) != 0) goto bad;
        uint16_t crc = crc16(req, 6);
        if (req[6] != (crc & 0xFFu) || req[7] != (crc >> 8)) goto bad;
        n = 8;
    } else if (n < 0) {
        goto bad;
    }
    adu = (size_t)n;
    if (adu < 4) goto bad;
    int broadcast = req[0] == 0;
    size_t plen = serve_pdu(srv, req + 1, adu - 3, srv->out + 1, broadcast);
    if (plen > 0) {
        /* An answer the previous client never read would be taken for this
         * one by the next reader of the slave side: drop it. */
        (void)tcflush(srv->pty_slave, TCIFLUSH);
        srv->out[0] = (uint8_t)srv->cfg.slave;
        if (modbus_send_raw_request(srv->rtu, srv->out, (int)(plen + 1)) < 0) return 0;
        srv->stats.replies++;
    }
    return 0;
bad:
    srv->stats.bad_frames++;
    rtu_flush(srv);
    return 0;
}

int mbs_server_dispatch(mbs_server *srv, const fd_set *rd)
{
    int client = srv->client_fd, listen_fd = srv->listen_fd, master = srv->pty_master;
    if (client >= 0 && FD_ISSET(client, rd)) tcp_serve(srv);
    else if (client < 0 && listen_fd >= 0 && FD_ISSET(listen_fd, rd)) tcp_accept(srv);
    if (master >= 0 && FD_ISSET(master, rd)) return rtu_serve(srv);
    return 0;
}

void mbs_server_close(mbs_server *srv)
{
    if (!srv) return;
    if (srv->client_fd >= 0) close(srv->client_fd);
    if (srv->listen_fd >= 0) close(srv->listen_fd);
    if (srv->tcp) modbus_free(srv->tcp); /* modbus_free never closes the socket */
    if (srv->rtu) modbus_free(srv->rtu); /* no modbus_close: the master fd is ours */
    if (srv->link_made) {
        char target[sizeof srv->pty_path];
        ssize_t r = readlink(srv->link_path, target, sizeof target - 1);
        /* Remove it only while it still points at our pty. */
        if (r > 0) {
            target[r] = '\0';
            if (strcmp(target, srv->pty_path) == 0) unlink(srv->link_path);
        }
    }
    if (srv->pty_slave >= 0) close(srv->pty_slave);
    if (srv->pty_master >= 0) close(srv->pty_master);
    free(srv);
}
