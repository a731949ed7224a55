#!/usr/bin/python3
"""A stand-in PLC built on Debian's python3-pymodbus: an independent Modbus
stack, so the bridge is tested against a peer nobody here wrote.

It holds D0..D299 (zero-based holding registers) and keeps a minimal control
image: D104 counts 10 ms ticks of real time, D105 echoes D200 when it
changes, D106 echoes D201, D103 = D202, D100 b0 RUN.  Any other address is
answered with ILLEGAL DATA ADDRESS by pymodbus itself.

usage: pymodbus_plc.py [--port N] [--no-fc17]
Prints 'listening on tcp://127.0.0.1:PORT' and a 'ready' line once serving.
"""
import argparse
import asyncio
import logging
import sys
import time

from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                ModbusSlaveContext)
from pymodbus.server.async_io import ModbusTcpServer

N_REGS = 300


class ControlImageBlock(ModbusSequentialDataBlock):
    """Holding registers with the PLC side of the control image."""

    def __init__(self):
        super().__init__(0, [0] * N_REGS)
        self.t0 = time.monotonic()
        self.accepted = 0
        super().setValues(100, [1])  # RUN
        super().setValues(108, [7])  # program version of this stand-in

    def setValues(self, address, values):
        super().setValues(address, values)
        cmd = super().getValues(200, 8)
        echo = super().getValues(105, 1)[0]
        if cmd[0] != echo:
            self.accepted += 1
            super().setValues(105, [cmd[0]])
            super().setValues(103, [cmd[2]])
        super().setValues(106, [cmd[1]])

    def getValues(self, address, count=1):
        tick = int((time.monotonic() - self.t0) * 100) & 0xFFFF
        super().setValues(104, [tick])
        return super().getValues(address, count)


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--no-fc17", action="store_true",
                    help="answer FC 0x17 with ILLEGAL FUNCTION like a gateway without it")
    args = ap.parse_args()
    logging.basicConfig(level=logging.CRITICAL)
    # pymodbus logs every exception reply it sends; the tests expect them
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    block = ControlImageBlock()
    slave = ModbusSlaveContext(hr=block, ir=block, zero_mode=True)
    context = ModbusServerContext(slaves=slave, single=True)
    server = ModbusTcpServer(context, address=("127.0.0.1", args.port),
                             allow_reuse_address=True)
    if args.no_fc17:
        # Unknown function codes become IllegalFunctionRequest in pymodbus'
        # ServerDecoder: dropping 0x17 from its table gives exception 01.
        server.decoder._ServerDecoder__lookup.pop(0x17)
    task = asyncio.create_task(server.serve_forever())
    await server.serving
    port = server.server.sockets[0].getsockname()[1]
    print(f"listening on tcp://127.0.0.1:{port}", flush=True)
    print("ready (pymodbus peer%s)" % (", no FC 0x17" if args.no_fc17 else ""), flush=True)
    await task


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
