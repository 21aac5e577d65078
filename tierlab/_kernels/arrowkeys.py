"""Hashing Arrow string columns as fixed-width byte keys.

Used by the loader (encoding customer ids) and by the features (factorizing them for every
aggregate): one place for the fastest way this package knows to turn millions of short ids into
integer codes. Why it exists: hashing fixed-width keys is several times faster than Arrow's
string hashing, and a long column is hashed in two halves on two threads; the hash tables use
Arrow's system allocator and the second thread's malloc arena is trimmed afterwards, so a 10M-row
load does not keep their memory.

Pinned by ``tests/io/test_arrowkeys.py`` (two halves = one pass), and against plain Python by
``tests/io/test_values.py::test_encode_ids_matches_plain_python`` and the features' tests.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np

from tierlab._kernels.overlap import beside

if TYPE_CHECKING:  # pragma: no cover
    import pyarrow as pa

#: What :func:`factorize_strings` returns: (codes, uniques, order or None).
Factorized: TypeAlias = "tuple[np.ndarray, pa.Array, np.ndarray | None]"
#: One piece from :func:`hash_strings`: (int32 codes, key dictionary, key width).
Hashed: TypeAlias = "tuple[np.ndarray, Any, int]"

#: Widest id (bytes) hashed through the fixed-width path; wider ids are left to the caller.
MAX_KEY_BYTES = 32
#: Arrays of at least this many rows may be hashed on several threads.
PARALLEL_ROWS = 1 << 21


def string_parts(chunk: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and the data bytes of one Arrow (large_)string array (offsets index data)."""
    import pyarrow as pa

    odt = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    bufs = chunk.buffers()
    off = np.frombuffer(bufs[1], dtype=odt, count=len(chunk) + 1,
                        offset=chunk.offset * np.dtype(odt).itemsize)
    data = (np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None
            else np.empty(0, dtype=np.uint8))
    return off, data


def factorize_strings(arr: pa.ChunkedArray, *, workers: int = 1) -> Factorized | None:
    """Hash the strings of an Arrow array as fixed-width byte keys.

    Each id's UTF-8 bytes, zero-padded to a multiple of 8 bytes, form its key: equal ids have
    equal keys, and comparing keys as big-endian words orders them as the strings (code-point
    order), since ids contain no NUL byte. Returns ``(codes, uniques, order)``: int32 codes in
    order of first appearance, the unique strings (an Arrow large_string array, decoded back from
    the keys) and their argsort; None when the fast path does not apply (nulls, NUL bytes, ids
    longer than 32 bytes).

    With ``workers=2`` a large array is hashed in two halves on two threads and the halves
    merged; the codes then number the ids in sorted order and ``order`` is None (see
    :func:`merge_hashed`).
    """
    import pyarrow as pa

    n = len(arr)
    if n == 0:
        return None
    chunks = [c for c in arr.chunks if len(c)]
    if workers > 1 and n >= PARALLEL_ROWS:
        half = n // 2
        first = pa.chunked_array(chunks).slice(0, half)
        second = pa.chunked_array(chunks).slice(half)
        with beside(hash_strings, second) as later:
            parts = [hash_strings(first), later.result()]
        merged = merge_hashed(parts)
        del parts
        # what the second thread freed sits in its own malloc arena until trimmed
        pa.system_memory_pool().release_unused()
        return merged
    return merge_hashed([hash_strings(pa.chunked_array(chunks))])


def in_id_order(found: Factorized, dtype: Any = np.intp) -> tuple[np.ndarray, pa.Array]:
    """A :func:`factorize_strings` result renumbered in the ids' text order.

    Returns ``(codes, uniques)``: codes (*dtype*: intp, or int32 for compact codes) such that
    ``uniques[codes[i]]`` is row *i*'s id, with ``uniques`` sorted.
    """
    codes, uniques, order = found
    if order is None:  # merged halves are numbered in id order already
        return codes.astype(dtype, copy=False), uniques
    rank = np.empty(len(order), dtype=dtype)
    rank[order] = np.arange(len(order))
    return rank[codes], uniques.take(order)


def hash_strings(arr: pa.ChunkedArray) -> Hashed | None:
    """Dictionary-encode the fixed-width keys of some strings: (int32 codes, keys, width).

    One piece of :func:`factorize_strings`; pieces hashed apart (e.g. on several threads) are
    combined by :func:`merge_hashed`. None when the fast path does not apply.
    """
    builder = KeyBuilder(len(arr))
    for chunk in arr.chunks:
        if not builder.add(chunk):
            return None
    return builder.hash()


class KeyBuilder:
    """Fixed-width keys of *n* strings, added chunk by chunk (each chunk can be dropped after).

    Keys start 8 bytes wide and are widened when a longer id arrives. :meth:`add` returns False
    (and the builder gives up) on a null, a NUL byte or an id longer than :data:`MAX_KEY_BYTES`.
    """

    def __init__(self, n: int):
        self.keys: np.ndarray | None = np.zeros((n, 8), dtype=np.uint8)
        self.rows = 0

    def add(self, chunk: pa.Array) -> bool:
        """Add the keys of one chunk; False when the fast path does not apply to it."""
        if self.keys is None or chunk.null_count:
            self.keys = None
            return False
        m = len(chunk)
        if m == 0:
            return True
        off, data = string_parts(chunk)
        lens = np.diff(off)
        longest = int(lens.max())
        used = data[off[0]:off[-1]]
        if longest > MAX_KEY_BYTES or (used.size and not used.all()):  # NUL = padding
            self.keys = None
            return False
        width = max(8, -(-longest // 8) * 8)
        if width > self.keys.shape[1]:
            wide = np.zeros((len(self.keys), width), dtype=np.uint8)
            wide[:self.rows, :self.keys.shape[1]] = self.keys[:self.rows]
            self.keys = wide
        block = self.keys[self.rows:self.rows + m]
        if lens.min() == longest:  # fixed-length ids: one reshape
            if longest:
                block[:, :longest] = used.reshape(m, longest)
        else:
            last = max(data.size - 1, 0)
            for j in range(longest):  # loop over byte positions, not rows
                col = data[np.minimum(off[:-1] + j, last)]
                col[lens <= j] = 0
                block[:, j] = col
        self.rows += m
        return True

    def hash(self) -> Hashed | None:
        """Dictionary-encode the keys added: (int32 codes, key dictionary, width)."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.keys is None:
            return None
        keys, self.keys = self.keys[:self.rows], None
        # the system allocator hands the hash table back to the OS as soon as it is freed
        enc = pc.dictionary_encode(_key_array(keys), memory_pool=pa.system_memory_pool())
        del keys
        return enc.indices.to_numpy(zero_copy_only=False), enc.dictionary, keys_width(enc)


def keys_width(enc: pa.DictionaryArray) -> int:
    """Key width (bytes) of a dictionary-encoded key array."""
    import pyarrow as pa

    value_type = enc.dictionary.type
    return 8 if pa.types.is_uint64(value_type) else value_type.byte_width


def merge_hashed(parts: list[Hashed | None]) -> Factorized | None:
    """Combine pieces from :func:`hash_strings` (in row order) as :func:`factorize_strings`.

    With several pieces the keys of their dictionaries are sorted together instead of hashed
    again: the codes then number the ids in sorted order already and ``order`` is None.
    """
    import pyarrow as pa

    pieces = [p for p in parts if p is not None]
    if not pieces or len(pieces) < len(parts):
        return None
    width = max(w for _, _, w in pieces)
    if len(pieces) == 1:
        codes, dic, _ = pieces[0]
        raw = _key_bytes(dic, width)
        words = _words(raw)
        # unique keys: any sort is stable
        order: np.ndarray | None = (np.argsort(words[:, 0]) if width == 8
                                    else np.lexsort(words.T[::-1]))
    else:
        raw = np.concatenate([_widen(_key_bytes(d, w), width) for _, d, w in pieces])
        words = _words(raw)
        by_key = np.argsort(words[:, 0]) if width == 8 else np.lexsort(words.T[::-1])
        ranked = words[by_key]
        first = np.ones(len(ranked), dtype=bool)  # first of each run of equal keys
        first[1:] = (ranked[1:] != ranked[:-1]).any(axis=1)
        rank = np.empty(len(ranked), dtype=np.int32)
        rank[by_key] = np.cumsum(first, dtype=np.int32) - 1
        codes = np.empty(sum(len(c) for c, _, _ in pieces), dtype=np.int32)
        r0 = k0 = 0
        for piece_codes, piece_dic, _ in pieces:
            codes[r0:r0 + len(piece_codes)] = rank[k0:k0 + len(piece_dic)][piece_codes]
            r0 += len(piece_codes)
            k0 += len(piece_dic)
        raw = raw[by_key[first]]
        order = None
    # decode the keys: the id's bytes are the key's nonzero bytes, in order
    nonzero = raw != 0
    offsets = np.zeros(len(raw) + 1, dtype=np.int64)
    np.cumsum(np.count_nonzero(nonzero, axis=1), out=offsets[1:])
    uniques = pa.LargeStringArray.from_buffers(len(raw), pa.py_buffer(offsets),
                                               pa.py_buffer(raw[nonzero]))
    return codes, uniques, order


def _words(raw: np.ndarray) -> np.ndarray:
    """Keys (k × width bytes) as big-endian uint64 words: comparing them compares the text."""
    k, width = raw.shape
    return raw.reshape(k, width // 8, 8).view(">u8")[:, :, 0].astype(np.uint64)


def _widen(raw: np.ndarray, width: int) -> np.ndarray:
    """Keys zero-padded to *width* bytes."""
    if raw.shape[1] == width:
        return raw
    wide = np.zeros((len(raw), width), dtype=np.uint8)
    wide[:, :raw.shape[1]] = raw
    return wide


def _key_array(keys: np.ndarray) -> pa.Array:
    """Keys (rows × width bytes) as an Arrow array: uint64 for 8 bytes, else fixed binary."""
    import pyarrow as pa

    keys = np.ascontiguousarray(keys)
    n, w = keys.shape
    if w == 8:
        return pa.array(keys.view(np.uint64).ravel())
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(w), n, [None, pa.py_buffer(keys)])


def _key_bytes(dic: pa.Array, width: int) -> np.ndarray:
    """The keys of a dictionary from :func:`hash_strings` as a (k, width) uint8 view."""
    k = len(dic)
    return np.frombuffer(dic.buffers()[1], dtype=np.uint8, count=k * width,
                         offset=dic.offset * width).reshape(k, width)
