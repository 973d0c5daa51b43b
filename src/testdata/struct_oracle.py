"""The python3 side of src/python/struct_cpython_test.ts: CPython's struct as the oracle.

Reads JSON lines from stdin, one case each: {"fmt": str, "ops": [op, ...]}, and writes one
JSON line per case to stdout: a list with one result string per op. Values travel as
{"i": "123"} int, {"f": "<16 hex digits, big-endian IEEE double>"} float, {"t": bool},
{"b": "<hex>"} bytes, {"s": str}, {"n": 0} None. Bytes come back as hex, unpacked values as
repr() of the tuple. Errors come back as "<JS class>: <message>", naming the class that
struct.ts throws for the Python exception (struct.error is StructError, OverflowError and
UnicodeEncodeError are RangeError, SystemError is a plain Error).

Ops: calcsize; pack (args); unpack (buf); pack_into (buf = initial contents, offset, args);
unpack_from (buf, offset); iter_unpack (buf).
"""

import json
import struct
import sys

JS_CLASS = {
    struct.error: "StructError",
    OverflowError: "RangeError",
    UnicodeEncodeError: "RangeError",
    SystemError: "Error",
    TypeError: "TypeError",
}


def value(v):
    if "i" in v:
        return int(v["i"])
    if "f" in v:
        return struct.unpack(">d", bytes.fromhex(v["f"]))[0]
    if "t" in v:
        return bool(v["t"])
    if "b" in v:
        return bytes.fromhex(v["b"])
    if "s" in v:
        return v["s"]
    return None


def error(e):
    return "%s: %s" % (JS_CLASS.get(type(e), "Python" + type(e).__name__), e)


def run(fmt, op):
    kind = op["op"]
    try:
        if kind == "calcsize":
            return "ok: %d" % struct.calcsize(fmt)
        if kind == "pack":
            data = struct.pack(fmt, *[value(v) for v in op["args"]])
            try:
                shown = repr(struct.unpack(fmt, data))
            except Exception as e:  # noqa: BLE001 - the error is the result
                shown = error(e)
            return "ok: %s %s" % (data.hex(), shown)
        if kind == "unpack":
            return "ok: " + repr(struct.unpack(fmt, bytes.fromhex(op["buf"])))
        if kind == "unpack_from":
            return "ok: " + repr(struct.unpack_from(fmt, bytes.fromhex(op["buf"]), op["offset"]))
        if kind == "iter_unpack":
            return "ok: " + repr(list(struct.iter_unpack(fmt, bytes.fromhex(op["buf"]))))
        if kind == "pack_into":
            buf = bytearray.fromhex(op["buf"])
            try:
                struct.pack_into(fmt, buf, op["offset"], *[value(v) for v in op["args"]])
                return "ok: " + buf.hex()
            except Exception as e:  # noqa: BLE001
                return error(e) + " buf=" + buf.hex()
        return "unknown op " + kind
    except Exception as e:  # noqa: BLE001
        return error(e)


def main():
    out = sys.stdout
    for line in sys.stdin.buffer:
        case = json.loads(line.decode("utf-8", "surrogatepass"))
        out.write(json.dumps([run(case["fmt"], op) for op in case["ops"]]) + "\n")
    out.flush()


main()
