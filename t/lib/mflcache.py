"""mflcache.py - reading a compiled-script cache's body (what follows
its 40-byte header) in tests: where its code starts (mfl/cache.c
serialise: mode, source files, controls, the code 4-byte aligned)."""
import struct


def controls(body):
    """how many controls the cache names (those its code reaches)"""
    u32 = lambda at: struct.unpack_from("<I", body, at)[0]
    at = 4
    nfiles, at = u32(at), at + 4
    for _ in range(nfiles):
        at += 4 + u32(at) + 32
    return u32(at)


def code_at(body):
    """(offset of the first code word, how many code words)"""
    u32 = lambda at: struct.unpack_from("<I", body, at)[0]
    at = 4
    nfiles, at = u32(at), at + 4
    for _ in range(nfiles):
        at += 4 + u32(at) + 32      # name, size, mtime (2), inode
    ncontrols, at = u32(at), at + 4
    for _ in range(ncontrols):
        at += 4 + u32(at) + 4       # name, type
    ncode, at = u32(at), at + 4
    return at + -at % 4, ncode      # zeros up to the code
