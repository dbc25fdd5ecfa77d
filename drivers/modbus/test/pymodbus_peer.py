"""A pymodbus server as an independent Modbus peer for the driver's tests.

Usage: python3 pymodbus_peer.py '<json spec>'
The spec names the transport ("tcp", "rtu-over-tcp" or "rtu" with "device") and, per unit, typed
values that pymodbus itself encodes (BinaryPayloadBuilder), so the driver's decoding is checked
against another implementation. Addresses not listed are unmapped and answer exception 2.
Prints "READY <port>" once serving; exits when its standard input closes (the test ended or died)
or after "lifetime" seconds.
"""
import asyncio
import json
import os
import socket
import sys
import threading

from pymodbus.constants import Endian
from pymodbus.datastore import ModbusServerContext, ModbusSlaveContext, ModbusSparseDataBlock
from pymodbus.framer.rtu_framer import ModbusRtuFramer
from pymodbus.framer.socket_framer import ModbusSocketFramer
from pymodbus.payload import BinaryPayloadBuilder
from pymodbus.server.async_io import StartAsyncSerialServer, StartAsyncTcpServer

ORDERS = {
    "ABCD": (Endian.Big, Endian.Big),
    "CDAB": (Endian.Big, Endian.Little),
    "BADC": (Endian.Little, Endian.Big),
    "DCBA": (Endian.Little, Endian.Little),
}


def registers_of(entry):
    kind = entry["type"]
    if kind == "raw":
        return list(entry["value"])
    byteorder, wordorder = ORDERS[entry.get("order", "ABCD")]
    builder = BinaryPayloadBuilder(byteorder=byteorder, wordorder=wordorder)
    value = entry["value"]
    adders = {
        "int16": builder.add_16bit_int,
        "uint16": builder.add_16bit_uint,
        "int32": builder.add_32bit_int,
        "uint32": builder.add_32bit_uint,
        "int64": builder.add_64bit_int,
        "uint64": builder.add_64bit_uint,
        "float32": builder.add_32bit_float,
        "float64": builder.add_64bit_float,
    }
    if kind == "string":
        data = value.encode("latin-1").ljust(entry["length"] * 2, b"\x00")
        return [(data[i] << 8) | data[i + 1] for i in range(0, len(data), 2)]
    adders[kind](int(value) if kind.startswith(("int", "uint")) else float(value))
    return builder.to_registers()


def unit_context(unit):
    blocks = {"co": {}, "di": {}, "hr": {}, "ir": {}}
    for entry in unit:
        table = entry["table"]
        if table in ("co", "di"):
            for offset, bit in enumerate(entry["value"] if isinstance(entry["value"], list) else [entry["value"]]):
                blocks[table][entry["address"] + offset] = bool(bit)
        else:
            for offset, word in enumerate(registers_of(entry)):
                blocks[table][entry["address"] + offset] = word
    def block(values):
        # A sparse block with nothing in it would map address 0; keep an unused far address instead.
        return ModbusSparseDataBlock(values or {65535: 0})
    return ModbusSlaveContext(
        co=block(blocks["co"]), di=block(blocks["di"]), hr=block(blocks["hr"]), ir=block(blocks["ir"]), zero_mode=True
    )


def watchdog(lifetime):
    def wait_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=wait_stdin, daemon=True).start()
    timer = threading.Timer(lifetime, lambda: os._exit(0))
    timer.daemon = True
    timer.start()


async def main():
    spec = json.loads(sys.argv[1])
    watchdog(spec.get("lifetime", 300))
    slaves = {int(unit_id): unit_context(unit) for unit_id, unit in spec["units"].items()}
    context = ModbusServerContext(slaves=slaves, single=False)
    mode = spec["mode"]
    if mode == "rtu":
        server = await StartAsyncSerialServer(
            context=context, framer=ModbusRtuFramer, port=spec["device"], baudrate=spec.get("baudrate", 19200),
            defer_start=True,
        )
        await server.start()
        print("READY 0", flush=True)
        await server.serve_forever()
        return
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    framer = ModbusRtuFramer if mode == "rtu-over-tcp" else ModbusSocketFramer
    server = await StartAsyncTcpServer(
        context=context, address=("127.0.0.1", port), framer=framer, defer_start=True, allow_reuse_address=True
    )
    task = asyncio.create_task(server.serve_forever())
    await asyncio.sleep(0.2)
    print(f"READY {port}", flush=True)
    await task


asyncio.run(main())
