"""mflcache.py - reading a compiled-script cache's body (what follows
its 40-byte header) in tests (mfl/cache.c serialise: mode, source
files, controls, the code 4-byte aligned), and the opcodes' numbers
(mfl/opcodes.h, in its order)."""
import os
import re
import struct


def _u32(body, at):
    return struct.unpack_from("<I", body, at)[0]


def _controls_at(body):
    """where the count of controls is: past the mode and source files"""
    at = 8
    for _ in range(_u32(body, 4)):
        at += 4 + _u32(body, at) + 32   # name, size, mtime (2), inode
    return at


def controls(body):
    """how many controls the cache names (those its code reaches)"""
    return _u32(body, _controls_at(body))


def code_at(body):
    """(offset of the first code word, how many code words)"""
    at = _controls_at(body)
    ncontrols, at = _u32(body, at), at + 4
    for _ in range(ncontrols):
        at += 4 + _u32(body, at) + 4    # name, type
    ncode, at = _u32(body, at), at + 4
    return at + -at % 4, ncode          # zeros up to the code


def opcodes():
    """{name: number} from mfl/opcodes.h"""
    here = os.path.dirname(os.path.abspath(__file__))
    text = open(os.path.join(here, "..", "..", "mfl", "opcodes.h")).read()
    names = re.findall(r"^\s*X\((\w+),", text, re.M)
    return {name: i for i, name in enumerate(names)}
