"""Stable storage for a node process: an append-only file of JSON lines, fsynced.

A node's class lists the fields that survive a crash (``Node.stable``).  After every handler
the process calls ``Disk.save(node)``: the stable fields that changed are appended as one
line and the file is fsynced, *before* the handler's messages leave (a promise must be on
disk before the Promise is sent).  ``Disk.load(node)`` replays the lines after a restart.

One line per save, a JSON object ``{"crc": c, "ops": [[field, op, ...], ...]}``; ``c`` is the
CRC-32 of the compact JSON of ``ops``, so a flipped bit is caught, not replayed.  The ops:

    [field, "set", value]               the field's whole new value
    [field, "append", [items]]          a list that grew at its end
    [field, "put", [[k, v]...], [keys]] a dict: keys set, keys removed
    [field, "add", [items], [items]]    a set: items added, items removed

Values use the wire's encoding (``replib.runtime.wire``).  Writing only what changed keeps a
save small when a log or a vote set grows one entry at a time.  Containers are compared
with what was last written (shallow copies), so their *elements* must be immutable
(numbers, strings, tuples, frozen dataclasses, as every replib protocol keeps them); a field
holding mutable elements is written whole at every change.

A crash can tear the last line (a write cut short): that line is ignored and cut off, which is
safe because its handler's messages never left.  Any other unreadable line is a ValueError
naming the file and the line: the disk is corrupted, and the node must not come back
believing it remembers what it promised.  On open the file is compacted to one line.
"""

from __future__ import annotations

import copy
import json
import os
import zlib

from .wire import Registry, decode_value, encode_value

def _compact(data) -> str:
    return json.dumps(data, separators=(",", ":"), allow_nan=False)


def _copy(value):
    """What ``save`` compares the next value with: a shallow copy of a container."""
    kind = type(value)
    if kind is list:
        return list(value)
    if kind is dict:
        return dict(value)
    if kind is set:
        return set(value)
    return value


def _immutable_elements(value) -> bool:
    """Can a shallow copy stand for ``value`` later?  Yes if what it holds is hashable."""
    kind = type(value)
    if kind is dict:
        return _hashable(value.values())
    if kind in (list, set):
        return _hashable(value)
    return _hashable([value])


def _hashable(values) -> bool:
    try:
        for v in values:
            hash(v)
        return True
    except TypeError:
        return False


class Disk:
    """The stable fields of one node, in the file ``path`` (fsync after every save unless
    ``fsync=False``, which a benchmark uses to measure what fsync costs)."""

    def __init__(self, path, node_id: str, registry: Registry, fsync: bool = True):
        self.path = os.fspath(path)
        self.node_id = node_id
        self.registry = registry
        self.fsync = fsync
        self.written: dict = {}     # field -> shallow copy of the value last written
        self.whole: set = set()     # fields with mutable elements: always written whole
        self.saves = 0              # lines written (for the benchmark)
        self._file = None

    # ---- reading ---------------------------------------------------------------------------
    def load(self, node) -> int:
        """Set ``node``'s stable fields from the file (missing file: nothing was saved),
        then compact the file to one line and open it for ``save``.  Returns how many lines
        were replayed."""
        lines = self.read(node)
        self._rewrite(node)
        return lines

    def read(self, node) -> int:
        """Set ``node``'s stable fields from the file without changing the file (what a
        test or the notebook uses to look at a node's disk)."""
        if not os.path.exists(self.path):
            return 0
        with open(self.path, "rb") as f:
            chunks = f.read().split(b"\n")
        torn = chunks.pop()                   # b"" when the file ends with a newline
        for number, chunk in enumerate(chunks, 1):
            self._replay(node, chunk, number)
        if torn:
            try:                              # a last line without its newline: a torn write
                self._replay(node, torn, len(chunks) + 1)
                return len(chunks) + 1
            except ValueError:
                pass
        return len(chunks)

    def _replay(self, node, chunk: bytes, number: int) -> None:
        try:
            record = json.loads(chunk)
            if not isinstance(record, dict) or set(record) != {"crc", "ops"}:
                raise ValueError("a line must hold exactly the keys crc and ops")
            if zlib.crc32(_compact(record["ops"]).encode()) != record["crc"]:
                raise ValueError("its checksum does not match its contents")
            for op in record["ops"]:
                self._apply(node, op)
        except json.JSONDecodeError as exc:
            why = f"not valid JSON ({exc.msg}, column {exc.colno})"
        except ValueError as exc:
            why = str(exc)
        except (KeyError, TypeError, AttributeError, IndexError) as exc:
            why = f"not a record this runtime writes ({type(exc).__name__}: {exc})"
        else:
            return
        raise ValueError(
            f"{self.path}, line {number}: {why}.  The stable storage of node "
            f"{self.node_id!r} is corrupted, so it cannot restart remembering its promises; "
            f"move the file away to investigate, and bring the node back as a new member "
            f"(with an empty disk) only if the protocol allows that")

    def _apply(self, node, op) -> None:
        field, kind = op[0], op[1]
        if field not in node.stable:
            raise ValueError(f"{field!r} is not a stable field of {type(node).__name__} "
                             f"(stable: {', '.join(node.stable)})")
        current = getattr(node, field)
        decode = lambda x: decode_value(x, self.registry)     # noqa: E731
        if kind == "set":
            setattr(node, field, decode(op[2]))
        elif kind == "append" and type(current) is list:
            current.extend(decode(x) for x in op[2])
        elif kind == "put" and type(current) is dict:
            for k, v in op[2]:
                current[decode(k)] = decode(v)
            for k in op[3]:
                current.pop(decode(k), None)
        elif kind == "add" and type(current) is set:
            current.update(decode(x) for x in op[2])
            current.difference_update(decode(x) for x in op[3])
        else:
            raise ValueError(f"cannot {kind!r} the field {field!r}, which holds a "
                             f"{type(current).__name__}")

    # ---- writing ---------------------------------------------------------------------------
    def _rewrite(self, node) -> None:
        """Replace the file by one line holding every stable field (atomically)."""
        ops = [[f, "set", encode_value(getattr(node, f), self.registry)] for f in node.stable]
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(_compact({"crc": zlib.crc32(_compact(ops).encode()), "ops": ops}) + "\n")
            f.flush()
            if self.fsync:
                os.fsync(f.fileno())
        os.replace(tmp, self.path)
        if self.fsync:
            directory = os.open(os.path.dirname(os.path.abspath(self.path)), os.O_RDONLY)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        self._file = open(self.path, "a", encoding="utf-8")
        self.written, self.whole = {}, set()
        for f in node.stable:
            self._set(f, getattr(node, f))

    def save(self, node) -> bool:
        """Append what changed in ``node``'s stable fields since the last save, and fsync.
        Returns True if anything was written."""
        ops = []
        for field in node.stable:
            op = self._change(field, getattr(node, field))
            if op is not None:
                ops.append(op)
        if not ops:
            return False
        line = _compact({"crc": zlib.crc32(_compact(ops).encode()), "ops": ops}) + "\n"
        self._file.write(line)
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())
        self.saves += 1
        return True

    def _change(self, field, value):
        """The op that turns what was last written into ``value``, or None if unchanged."""
        old = self.written[field]
        if field in self.whole:
            return None if old == value else self._set(field, value)
        kind = type(value)
        if kind is not type(old):
            return self._set(field, value)
        if kind is list:
            if len(value) >= len(old) and value[:len(old)] == old:
                new = value[len(old):]
                if not new:
                    return None
                if _hashable(new):
                    self.written[field] = list(value)
                    return [field, "append", [self._encode(x) for x in new]]
            return self._set(field, value)
        if value == old:
            return None
        if kind is dict:
            put = [(k, v) for k, v in value.items() if k not in old or old[k] != v]
            if not _hashable(v for _, v in put):
                return self._set(field, value)
            self.written[field] = dict(value)
            return [field, "put", [[self._encode(k), self._encode(v)] for k, v in put],
                    [self._encode(k) for k in old if k not in value]]
        if kind is set:
            self.written[field] = set(value)
            return [field, "add", [self._encode(x) for x in value - old],
                    [self._encode(x) for x in old - value]]
        return self._set(field, value)

    def _set(self, field, value):
        """A whole-value op; remembers a copy to compare the next value with."""
        if _immutable_elements(value):
            self.written[field] = _copy(value)
        else:                                # compared whole (a deep copy) from now on
            self.whole.add(field)
            self.written[field] = copy.deepcopy(value)
        return [field, "set", self._encode(value)]

    def _encode(self, value):
        return encode_value(value, self.registry)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

