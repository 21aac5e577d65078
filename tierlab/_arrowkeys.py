"""Hashing Arrow string columns as fixed-width byte keys.

Used by the loader (encoding customer ids) and by the features (factorizing them for every
aggregate): one place for the fastest way this package knows to turn millions of short ids into
integer codes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

#: Widest id (bytes) hashed through the fixed-width path; wider ids are left to the caller.
MAX_KEY_BYTES = 32


def string_parts(chunk) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and the data bytes of one Arrow (large_)string array (offsets index data)."""
    import pyarrow as pa

    odt = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    bufs = chunk.buffers()
    off = np.frombuffer(bufs[1], dtype=odt, count=len(chunk) + 1,
                        offset=chunk.offset * np.dtype(odt).itemsize)
    data = (np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None
            else np.empty(0, dtype=np.uint8))
    return off, data


def factorize_strings(arr) -> tuple[np.ndarray, pa.Array, np.ndarray] | None:
    """Hash the strings of an Arrow array as fixed-width byte keys.

    Each id's UTF-8 bytes, zero-padded to a multiple of 8 bytes, form its key: equal ids have
    equal keys, and comparing keys as big-endian words orders them as the strings (code-point
    order), since ids contain no NUL byte. Returns ``(codes, uniques, order)``: int32 codes in
    order of first appearance, the unique strings (an Arrow large_string array, decoded back from
    the keys) and their argsort; None when the fast path does not apply (nulls, NUL bytes, ids
    longer than 32 bytes).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(arr)
    if n == 0 or arr.null_count:
        return None
    parts = [string_parts(c) for c in arr.chunks if len(c)]
    width = 0
    for off, data in parts:
        lens = np.diff(off)
        width = max(width, int(lens.max()))
        used = data[off[0]:off[-1]]
        if used.size and not used.all():  # a NUL byte would collide with the padding
            return None
    if width > MAX_KEY_BYTES:
        return None
    width = max(8, -(-width // 8) * 8)
    keys = np.zeros((n, width), dtype=np.uint8)
    r0 = 0
    for off, data in parts:
        m = len(off) - 1
        lens = np.diff(off)
        block = keys[r0:r0 + m]
        if lens.min() == lens.max():  # fixed-length ids: one reshape
            if lens[0]:
                block[:, :lens[0]] = data[off[0]:off[-1]].reshape(m, int(lens[0]))
        else:
            last = max(data.size - 1, 0)
            for j in range(int(lens.max())):  # loop over byte positions, not rows
                col = data[np.minimum(off[:-1] + j, last)]
                col[lens <= j] = 0
                block[:, j] = col
        r0 += m
    if width == 8:
        key_arr = pa.array(keys.view(np.uint64).ravel())
    else:
        key_arr = pa.FixedSizeBinaryArray.from_buffers(pa.binary(width), n,
                                                       [None, pa.py_buffer(keys)])
    # the system allocator hands the hash table back to the OS as soon as it is freed
    enc = pc.dictionary_encode(key_arr, memory_pool=pa.system_memory_pool())
    del key_arr, keys
    codes = enc.indices.to_numpy(zero_copy_only=False)
    dic = enc.dictionary
    k = len(dic)
    raw = np.frombuffer(dic.buffers()[1], dtype=np.uint8, count=k * width,
                        offset=dic.offset * width).reshape(k, width)
    words = raw.reshape(k, width // 8, 8).view(">u8")[:, :, 0].astype(np.uint64)
    order = (np.argsort(words[:, 0], kind="stable") if width == 8
             else np.lexsort(words.T[::-1]))
    # decode the keys: the id's bytes are the key's nonzero bytes, in order
    nonzero = raw != 0
    offsets = np.zeros(k + 1, dtype=np.int64)
    np.cumsum(np.count_nonzero(nonzero, axis=1), out=offsets[1:])
    uniques = pa.LargeStringArray.from_buffers(k, pa.py_buffer(offsets),
                                               pa.py_buffer(raw[nonzero]))
    return codes, uniques, order
