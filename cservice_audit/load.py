"""Load: the only stage that touches files or stdin.

Every input becomes a `RawTable`: a LazyFrame of its columns as strings, exactly as the
export spelled them, plus `_record` (0-based record index in that file). Nothing is renamed or
parsed here; normalize does that. Line numbers are worked out only for rows someone needs to
see (rejected rows), so the common path pays nothing for them.
"""

from __future__ import annotations

import atexit
import codecs
import contextlib
import csv
import functools
import glob
import io
import itertools
import json
import os
import re
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import polars as pl

from cservice_audit import limits
from cservice_audit.errors import InputError, Term, os_reason
from cservice_audit.i18n import read_back, t

STDIN = "-"
CSV_SUFFIXES = {".csv", ".tsv", ".txt"}
JSONL_SUFFIXES = {".jsonl", ".ndjson", ".json"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
SEPARATORS = (",", "\t", ";")
ENCODINGS = {"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312"}
_SNIFF_BYTES = 1 << 16


@dataclass
class RawTable:
    """One input file, columns as strings, before any mapping."""

    source: str
    frame: pl.LazyFrame
    encoding: str
    kind: str  # "csv", "jsonl" or "xlsx"
    # JSONL lines that are not JSON objects: (line number, raw text, reason in English, in Chinese).
    bad_lines: list[tuple[int, str, str, str]] = field(default_factory=list)
    # For JSONL: physical line of each record; for CSV: computed on demand.
    record_lines: pl.Series | None = None
    # The role of rows whose export has no role column (`--reviews` files: "review").
    default_role: str | None = None
    # The file polars reads when it is not `source`: a spool of a stream, a decompressed or
    # re-encoded copy (always UTF-8 with LF line ends), removed when the process ends.
    path: str | None = None
    # Unreadable JSONL lines beyond the `rejects_kept` kept in `bad_lines`: counted only.
    bad_lines_dropped: int = 0
    # Blank JSONL lines, skipped (CSV blank rows are counted in normalize).
    blank_lines: int = 0
    # Excel: title rows above the header (`店铺 聊天记录导出（日期）` in one merged cell), skipped.
    title_rows: int = 0
    # The header's line or sheet row, when blank rows stand among the titles (else title_rows + 1).
    header_line: int | None = None

    def lines_of(self, records: pl.Series) -> pl.Series:
        """Physical line (1-based) on which each given record starts."""
        if self.record_lines is not None:
            return self.record_lines.gather(records)
        # CSV: header is line 1 (after any title lines); a record starts one line after the
        # previous record ends, and a record spans one line plus the newlines inside its
        # quoted fields.
        columns = [c for c in self.frame.collect_schema().names() if c != "_record"]
        header_breaks = sum(c.count("\n") for c in columns)  # a wrapped column title: "序号\n(No.)"
        embedded = pl.sum_horizontal(
            [pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in columns]
        )
        starts = (
            self.frame.select(
                (pl.col("_record") + 2 + self.title_rows + header_breaks + embedded.cum_sum().shift(1, fill_value=0)).alias("line")
            )
            .collect()
            .get_column("line")
        )
        return starts.gather(records)


def expand(paths: list[str]) -> list[str]:
    """Expand globs; keep `-` for stdin. A pattern or path that matches nothing is an error."""
    expanded: list[str] = []
    for raw in paths:
        if raw == STDIN:
            expanded.append(raw)
            continue
        if any(ch in raw for ch in "*?["):
            matches = sorted(glob.glob(raw))
            if not matches:
                raise InputError("error.no_match", path=raw)
            expanded.extend(matches)
        elif os.path.isdir(raw):
            inside = sorted(str(p) for p in Path(raw).iterdir() if p.is_file() and supported(p.name))
            if not inside:
                raise InputError("error.empty_folder", path=raw)
            expanded.extend(inside)
        elif not os.path.exists(raw):
            raise InputError("error.no_such_file", path=raw)
        else:
            expanded.append(raw)
    if not expanded:
        raise InputError("error.no_input")
    return expanded


def load(
    paths: list[str],
    encoding: str | None = None,
    stdin: io.BufferedIOBase | None = None,
    default_role: str | None = None,
    sheet: str | None = None,
) -> list[RawTable]:
    """Read every path (globs expanded, `-` = stdin) into a RawTable.

    `default_role` is the role of every row of a file without a role column (the review
    exports given with --reviews are all reviews).
    """
    if encoding is not None and encoding.lower() not in ENCODINGS:
        raise InputError("error.encoding", encoding=encoding, known=", ".join(sorted(ENCODINGS)))
    tables = []
    for path in expand(paths):
        if path == STDIN:
            tables.append(_read_stream("<stdin>", stdin or _stdin(), encoding, kind=None))
        else:
            tables.append(_read_path(path, encoding, sheet))
    for table in tables:
        table.default_role = default_role
    return tables


def _stdin() -> io.BufferedIOBase:
    import sys

    return sys.stdin.buffer


def supported(name: str) -> bool:
    """A file a folder argument picks up: an export by its name (hidden files are not)."""
    return not name.startswith(".") and _kind_from_name(name) is not None


def _kind_from_name(name: str) -> str | None:
    suffixes = [s.lower() for s in Path(name).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in JSONL_SUFFIXES:
        return "jsonl"
    if suffixes and suffixes[-1] in CSV_SUFFIXES:
        return "csv"
    if suffixes and suffixes[-1] in EXCEL_SUFFIXES:
        return "xlsx"
    return None


TITLE_ROWS_MAX = 10  # how far down a header under title rows is looked for (Excel and CSV)
TITLE_CELLS = 2  # values a title row may hold (a title, an export time); more is data


HEADER_SCAN_ROWS = 1000  # sheet rows read to find the header (blank rows and titles above it)


def _read_excel(path: str, sheet: str | None, spooled: str | None = None) -> RawTable:
    """The first sheet (or `--sheet NAME`) of an Excel export, every cell as text. A header
    under title rows (a back-office export's `淘宝乙店 聊天记录导出（2026-11-28）` in row 1)
    is found and read as the header; the rows above it are counted, not read as data. Every
    record keeps its row number on the sheet, blank rows counted."""

    def read(header_row: int | None, rows: int | None = None, **more: int) -> pl.DataFrame:
        return pl.read_excel(
            spooled or path,
            sheet_name=sheet,
            sheet_id=None if sheet else 1,
            engine="calamine",
            infer_schema_length=0,  # everything as text: normalize parses it like CSV
            read_options={"header_row": header_row, "n_rows": rows, **more},
            drop_empty_rows=False,  # a record's place in the frame is its place on the sheet
        )

    try:
        # The top of the sheet as rows, blank ones kept from row 1 (`skip_rows=0`): calamine
        # starts `header_row=0` at the first row with a value but counts every row of the sheet
        # for `header_row=k`, so the header's own row is found here and named absolutely.
        top = read(None, HEADER_SCAN_ROWS, skip_rows=0)
        found = _header_row(top)
        if found is None and top.height >= HEADER_SCAN_ROWS:  # more blank rows than that: all of it
            found = _header_row(read(None, None, skip_rows=0))
        header, titles = found or (0, 0)
        frame = read(header)
    except ModuleNotFoundError as exc:
        raise InputError("error.fastexcel", path=path, reason=exc) from None
    except Exception as exc:  # noqa: BLE001 - calamine raises its own types; the file is named
        raise _excel_error(path, spooled or path, sheet, exc) from None
    first = header + 2  # the sheet's row of the first record (the header is one above)
    # Blank rows stay in: normalize skips and counts them (`rows_blank`), as a CSV's.
    lines = pl.Series("line", range(first, frame.height + first), dtype=pl.Int64)
    return RawTable(path, frame.lazy().with_row_index("_record"), "xlsx", "xlsx", record_lines=lines, title_rows=titles, header_line=header + 1)


# What a workbook starts with: a zip (xlsx, xlsm) or an OLE compound file (xls).
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")


def _excel_error(path: str, local: str, sheet: str | None, exc: Exception) -> InputError:
    """Why a file named .xlsx could not be read, in the words a supervisor can act on: a CSV
    saved under an Excel name (WPS's 另存为 with the wrong type), a file that is no workbook at
    all (cut short by a download), an empty sheet; the reader's own words otherwise, and
    `--sheet` asked about only when one was given."""
    try:
        with open(local, "rb") as handle:
            head = handle.read(4096)
    except OSError:
        head = b""
    if head and not head.startswith(_WORKBOOK_MAGIC):
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
        if start.startswith((b"<html", b"<!doctype", b"<table", b"<?xml", b"<meta", b"<head")):
            # A back office's "Excel" export that is a web page (an HTML table saved as .xls).
            return InputError("error.excel_is_html", path=path)
        if start.startswith(b"%pdf"):
            return InputError("error.excel_no_workbook", path=path)
        try:
            text = b"\x00" not in head and bool(head.decode("utf-8", errors="strict" if len(head) < 4096 else "ignore").strip())
        except UnicodeDecodeError:
            text = b"\x00" not in head and _decodes_as_gb18030(head)
        if text:
            return InputError("error.excel_is_text", path=path)
        return InputError("error.excel_no_workbook", path=path)
    if head.startswith(b"PK\x03\x04") and not _zip_has_end(local):
        # A zip without its end record (the central directory is written last): an export or
        # download that stopped. It was `无法按 Excel 读取（calamine error: Xlsx error: Zip error:
        # invalid Zip archive: Could not find EOCD）`, the reader's English in a Chinese line.
        return InputError("error.excel_cut_short", path=path)
    reason = _first_line(exc)
    if "empty excel sheet" in reason.lower():
        return InputError("error.excel_empty_sheet", path=path, sheet=sheet or 1)
    if sheet:
        return InputError("error.not_excel_sheet", path=path, reason=reason, sheet=sheet)
    return InputError("error.not_excel", path=path, reason=reason)


def _zip_has_end(local: str) -> bool:
    """Whether a zip holds its end-of-central-directory record, in its last 64 KiB + 22 bytes
    (the record and the longest comment); True when the file cannot be read (said otherwise)."""
    try:
        with open(local, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - (65535 + 22)))
            return b"PK\x05\x06" in handle.read()
    except OSError:
        return True


def _decodes_as_gb18030(head: bytes) -> bool:
    try:
        head.decode("gb18030")
    except UnicodeDecodeError:
        return False
    return True


def _header_row(top: pl.DataFrame) -> tuple[int, int] | None:
    """The header's row on the sheet (0-based) and how many title rows stand above it, from
    the sheet's top rows (None: none of them holds a value). The first row with a value is the
    header, unless it holds at most TITLE_CELLS values and the first row below with more,
    within TITLE_ROWS_MAX, fills most of the columns: then that row is the header and the rows
    with a value above it are titles. A header with a few empty cells is a header; blank rows
    are neither titles nor the header."""
    if not top.width:
        return None
    counts = top.select(pl.sum_horizontal(pl.all().is_not_null() & (pl.all().str.strip_chars() != ""))).to_series().to_list()
    start = next((i for i, n in enumerate(counts) if n), None)
    if start is None:
        return None
    if counts[start] > TITLE_CELLS:
        return start, 0
    titles = 0
    for row in range(start, min(start + TITLE_ROWS_MAX, len(counts))):
        if counts[row] > TITLE_CELLS:  # a header or data: the header if it fills the columns
            return (row, titles) if _header_like(counts[row], top.width) else (start, 0)
        titles += counts[row] > 0
    return start, 0


def _read_path(path: str, encoding: str | None, sheet: str | None = None) -> RawTable:
    kind = _kind_from_name(path)
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError as exc:
        raise InputError("error.cannot_read", path=path, reason=os_reason(exc)) from exc
    if not regular:
        # A named pipe, a device or a socket: it can be read once only, so it is read whole,
        # as a stream, like stdin (opening it twice loses what the first read took).
        try:
            with open(path, "rb") as fh:
                if kind == "xlsx":
                    spooled = _spool_raw(path, fh)
                    _check_xlsx(path, spooled)
                    return _read_excel(path, sheet, spooled)
                return _read_stream(path, fh, encoding, kind)
        except OSError as exc:
            raise InputError("error.cannot_read", path=path, reason=os_reason(exc)) from exc
    if kind == "xlsx":
        _check_xlsx(path, path)
        return _read_excel(path, sheet)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError("error.cannot_read", path=path, reason=os_reason(exc)) from exc
    compressed = head[:2] == GZIP_MAGIC
    if not compressed and kind == "csv" and not _cr_only(head):
        chosen = encoding or _sniff_encoding(head, path)
        if chosen in {"utf-8", "utf-8-sig"}:
            # The fast road: polars scans the file itself (memory-mapped, streamable).
            separator, titles = csv_layout(path, head)
            frame = pl.scan_csv(path, infer_schema=False, separator=separator, skip_lines=titles)
            frame = frame.with_row_index("_record")
            _check_csv_readable(path, frame)
            _check_not_cut_short(path, path, head, separator, titles)
            return RawTable(path, frame, "utf-8", "csv", title_rows=titles)
    try:
        with open(path, "rb") as fh:
            return _read_stream(path, fh, encoding, kind)
    except OSError as exc:
        raise InputError("error.cannot_read", path=path, reason=os_reason(exc)) from exc


# ----------------------------------------------------------------------- streams and spools
#
# Everything that is not a plain UTF-8 CSV file on disk (stdin, pipes, gzip, GB18030, CR line
# ends, JSONL) is read in bounded chunks, decompressed and decoded incrementally, and written
# as UTF-8 with LF line ends to a temporary file that polars then scans like any file. Memory
# stays bounded whatever the input; the caps of limits.py stop bombs and endless streams.

GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 20  # well below field_bytes: a run longer than the cap always spans chunks
_RATIO_FLOOR = 8 << 20  # the compression ratio is judged once this much has come out (a bomb of
# blank lines below it costs ~250 MB; real exports compress 5-15x, far below the cap)
_SPOOLS: list[str] = []


def _remove_spools(since: int = 0) -> None:
    for name in _SPOOLS[since:]:
        with contextlib.suppress(OSError):
            os.unlink(name)
    del _SPOOLS[since:]


atexit.register(_remove_spools)


@contextlib.contextmanager
def spools_removed() -> Iterator[None]:
    """The spools made inside are removed on leaving (a run's end, an error, Ctrl-C and SIGTERM
    as errors.Stopped), not only at exit: a process that runs many audits (the tests, a
    caller of run_audit) would otherwise keep every input it spooled until it ends."""
    since = len(_SPOOLS)
    try:
        yield
    finally:
        _remove_spools(since)


def _new_spool(suffix: str) -> tuple[str, IO[bytes]]:
    fd, name = tempfile.mkstemp(prefix="cservice-audit-", suffix=suffix)
    _SPOOLS.append(name)
    return name, os.fdopen(fd, "wb")


def _raw_chunks(source: str, fh: IO[bytes]) -> Iterator[bytes]:
    """The bytes of `fh`, gunzipped when they start as gzip, in chunks of at most _CHUNK,
    within input_bytes (what comes out) and compression_ratio (out / in)."""
    cap = limits.current()
    first = fh.read(_CHUNK)
    out = 0
    if first[:2] != GZIP_MAGIC:
        chunk = first
        while chunk:
            out += len(chunk)
            if out > cap.input_bytes:
                raise limits.exceeded("input_bytes", "error.limit_more_bytes", path=source, n=cap.input_bytes)
            yield chunk
            chunk = fh.read(_CHUNK)
        return
    consumed = 0
    pending = first
    inflater = zlib.decompressobj(wbits=31)
    try:
        while True:
            if not pending:
                pending = fh.read(_CHUNK)
                if not pending:
                    break
            before = len(pending)
            data = inflater.decompress(pending, _CHUNK)
            pending = inflater.unconsumed_tail
            consumed += before - len(pending)
            if inflater.eof:
                rest = inflater.unused_data + pending
                consumed -= len(inflater.unused_data)
                if rest[:2] == GZIP_MAGIC:  # another gzip member (concatenated .gz files)
                    inflater, pending = zlib.decompressobj(wbits=31), rest
                elif rest.strip(b"\x00") or fh.read(1).strip(b"\x00"):
                    raise InputError("error.gzip_trailing", path=source)
                else:
                    pending = b""
            if data:
                out += len(data)
                if out > cap.input_bytes:
                    raise limits.exceeded("input_bytes", "error.limit_gunzip_bytes", path=source, n=cap.input_bytes)
                if out > _RATIO_FLOOR and out > cap.compression_ratio * max(consumed, 1):
                    raise limits.exceeded("compression_ratio", "error.limit_gunzip_ratio", path=source, ratio=cap.compression_ratio)
                yield data
            elif inflater.eof and not pending:
                break
    except zlib.error as exc:
        raise InputError("error.gzip", path=source, reason=exc) from None
    if not inflater.eof:
        raise InputError("error.gzip_cut", path=source)


def _spool_raw(source: str, fh: IO[bytes]) -> str:
    """A stream copied, as it is, to a temporary file (an Excel file from a pipe)."""
    cap = limits.current()
    name, out = _new_spool(Path(source).suffix)
    total = 0
    with out:
        while chunk := fh.read(_CHUNK):
            total += len(chunk)
            if total > cap.input_bytes:
                raise limits.exceeded("input_bytes", "error.limit_more_bytes", path=source, n=cap.input_bytes)
            out.write(chunk)
    return name


def _cr_only(sample: bytes) -> bool:
    """Whether lines end with CR alone (old Mac, some Excel exports): a CR and no LF in the
    sample. Such a file is read with every CR as a line end. In a file whose lines end with
    LF or CRLF (mixed freely), a lone CR is a character inside a field, as written."""
    return b"\r" in sample and b"\n" not in sample


def _read_stream(source: str, fh: IO[bytes], encoding: str | None, kind: str | None) -> RawTable:
    """Read a stream whole, in bounded chunks, into a UTF-8 spool; then CSV is scanned from the
    spool and JSONL parsed from it."""
    try:
        return _spool_stream(source, fh, encoding, kind)
    except OSError as exc:
        # Reading the input, or writing the spool (a full or read-only temporary folder).
        raise InputError("error.spool", path=source, folder=tempfile.gettempdir(), reason=os_reason(exc)) from None


def _spool_stream(source: str, fh: IO[bytes], encoding: str | None, kind: str | None) -> RawTable:
    cap = limits.current()
    chunks = _raw_chunks(source, fh)
    head: list[bytes] = []
    size = 0
    for chunk in chunks:
        head.append(chunk)
        size += len(chunk)
        if size >= _SNIFF_BYTES:
            break
    sample = b"".join(head)
    if kind is None:
        kind = "jsonl" if sample.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{" else "csv"
    chosen = encoding or _sniff_encoding(sample[:_SNIFF_BYTES], source)
    universal = _cr_only(sample)
    decoder = codecs.getincrementaldecoder(chosen)()
    name, out = _new_spool(".jsonl" if kind == "jsonl" else ".csv")
    offset = 0  # bytes of input decoded so far
    run = 0  # bytes of the line still open
    held_cr = False
    ends = _LINE_ENDS_ANY if universal else _LINE_END_LF
    as_is = chosen in ("utf-8", "utf-8-sig") and not universal
    with out:
        for chunk in itertools.chain(head, chunks):
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _decode_error(source, chosen, offset + exc.start) from None
            first_chunk = offset == 0
            offset += len(chunk)
            run = _open_run(source, chunk, run, ends, cap.field_bytes, "error.limit_line_or_field")
            if as_is:
                # Valid UTF-8 (just checked): written as it came, without a BOM.
                data = chunk[3:] if first_chunk and chunk.startswith(codecs.BOM_UTF8) else chunk
            else:
                data = text.encode("utf-8")
            if universal:
                data, held_cr = _lf_line_ends(data, held_cr)
            out.write(data)
        pending = len(decoder.getstate()[0])  # the bytes of a character not finished
        try:
            tail = decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            raise InputError("error.file_problem", path=source, problem=Term("problem.cut_character", byte=offset - pending)) from None
        if tail:
            out.write(tail.encode("utf-8"))
        if held_cr:
            out.write(b"\n")
    if kind == "jsonl":
        with open(name, encoding="utf-8") as text_file:
            text = text_file.read()
        table = _jsonl(source, text, chosen)
        table.path = name
        return table
    if os.path.getsize(name) == 0:
        raise InputError("error.empty_file", path=source)
    with open(name, "rb") as spooled:
        first = spooled.read(_SNIFF_BYTES)
    separator, titles = csv_layout(source, first)
    frame = pl.scan_csv(name, infer_schema=False, separator=separator, skip_lines=titles).with_row_index("_record")
    _check_csv_readable(source, frame, name)
    _check_not_cut_short(source, name, first, separator, titles)
    return RawTable(source, frame, chosen, "csv", path=name, title_rows=titles)


def encoding_hint(encoding: str) -> str:
    """The other encoding a Chinese export is in, as the option that reads it: a file that is
    not UTF-8 is GBK/GB18030 (Excel and WPS on Chinese Windows), and the other way round."""
    return "--encoding gb18030" if encoding.lower().startswith("utf") else "--encoding utf-8"


def _decode_error(source: str, encoding: str, at: int) -> InputError:
    return InputError("error.not_encoding", path=source, encoding=encoding, byte=at, hint=encoding_hint(encoding))


_LINE_END_LF = re.compile(rb"\n")
_LINE_ENDS_ANY = re.compile(rb"[\r\n]")
_MARKUP = re.compile(rb"[<>]")


def _open_run(source: str, chunk: bytes, run: int, ends: re.Pattern[bytes], cap: int, what: str) -> int:
    """The length of the run (a line; a text between XML markup) still open at the end of
    `chunk`, given `run` bytes open before it. A run longer than `cap` (/dev/zero, one huge
    field or cell) stops the read, naming the run with the catalogue word `what`. Chunks are
    shorter than any cap, so only a run spanning chunks can pass it: two C-speed searches per
    chunk, no per-line work."""
    first = ends.search(chunk)
    if first is None:
        run += len(chunk)
    elif run + first.start() > cap:
        run += first.start()
    else:
        last = max(chunk.rfind(b) for b in _ends_bytes(ends))
        run = len(chunk) - last - 1
        if cap < last and _long_run(ends, cap).search(chunk, first.start(), last):  # a cap set below the chunk size
            run = cap + 1
    if run > cap:
        raise limits.exceeded("field_bytes", "error.limit_long_run", path=source, what=Term(what), n=cap)
    return run


@functools.lru_cache(maxsize=8)
def _long_run(ends: re.Pattern[bytes], cap: int) -> re.Pattern[bytes]:
    inside = b"".join(re.escape(b) for b in _ends_bytes(ends))
    return re.compile(b"[^" + inside + b"]{" + str(cap + 1).encode() + b",}")


def _ends_bytes(ends: re.Pattern[bytes]) -> tuple[bytes, ...]:
    return {_LINE_END_LF: (b"\n",), _LINE_ENDS_ANY: (b"\n", b"\r"), _MARKUP: (b"<", b">")}[ends]


def _lf_line_ends(data: bytes, held_cr: bool) -> tuple[bytes, bool]:
    """CRLF and lone CR to LF; a CR at the end of a chunk waits for the next one (a CRLF split
    across chunks is one line end)."""
    if held_cr:
        data = b"\r" + data
    held = data.endswith(b"\r")
    if held:
        data = data[:-1]
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"), held


def _check_xlsx(source: str, path: str) -> None:
    """An Excel file is a zip of XML: before it is parsed, every part is inflated once, in
    chunks, to check what it expands to (input_bytes, compression_ratio) and its longest text
    (field_bytes): a 256 KiB workbook can hold a cell of gigabytes."""
    cap = limits.current()
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return  # not a zip: the Excel reader says so, naming the file
    size = max(os.path.getsize(path), 1)
    total = 0
    with archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            run = 0
            try:
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        total += len(chunk)
                        if total > cap.input_bytes:
                            raise limits.exceeded("input_bytes", "error.limit_workbook_bytes", path=source, n=cap.input_bytes)
                        if total > _RATIO_FLOOR and total > cap.compression_ratio * size:
                            raise limits.exceeded("compression_ratio", "error.limit_workbook_ratio", path=source, ratio=cap.compression_ratio)
                        run = _open_run(source, chunk, run, _MARKUP, cap.field_bytes, "error.limit_cell")
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, OSError):
                return  # damaged: the Excel reader reports it


def _sniff_encoding(sample: bytes, source: str = "input") -> str:
    """UTF-8 (with or without BOM) when the sample decodes as UTF-8, else GB18030.

    UTF-16 is refused (exports are not written in it; save as UTF-8), and so is a sample
    that is valid multi-byte UTF-8 up to a point and then not: that is two encodings glued
    together, and reading it as either would silently garble one part.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError("error.utf16", path=source)
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError as exc:
        # GB18030 byte pairs can pass as two-byte UTF-8 (Latin, Greek, ...) by chance, but not
        # as a run of Chinese characters: two or more of those first means real UTF-8 text.
        prefix = sample[: exc.start].decode("utf-8", errors="ignore")
        if sum(ord(ch) >= 0x3000 for ch in prefix) >= 2:
            raise InputError(
                "error.mixed_encoding", path=source, byte=exc.start
            ) from None
        return "gb18030"


def csv_layout(name: str, head: bytes) -> tuple[str, int]:
    """A CSV's separator and how many title lines stand above its header: a workbook with a
    title row saved as CSV (`淘宝乙店 聊天记录导出（2026-11-28）,,,,,,`) or a title line
    alone. Records are read as CSV (a header cell may hold a quoted line break): the header
    is the first of the first TITLE_ROWS_MAX records with more than TITLE_CELLS values, and
    it must fill most of its cells; the records above it hold at most TITLE_CELLS values each
    (a title, an export time). Else there is no title and the first line is the header, as
    always. The separator is that of the first line with two or more of one (a title line
    alone has none)."""
    text = head.decode("utf-8", "replace").lstrip("\ufeff")
    separator = _separator(name, head)
    for line in text.split("\n")[:TITLE_ROWS_MAX]:
        if max(line.count(sep) for sep in SEPARATORS) >= TITLE_CELLS:
            separator = _separator(name, line.encode("utf-8"))
            break
    return separator, _lines_above_header(text, separator)


def _lines_above_header(text: str, separator: str) -> int:
    """Physical lines above the header record (0: the first record is the header, or no
    record looks like one)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    above = 0
    try:
        for _, record in zip(range(TITLE_ROWS_MAX), reader, strict=False):
            values = sum(1 for cell in record if cell.strip())
            if values > TITLE_CELLS:  # a header or data: the header if it fills its cells
                return above if _header_like(values, len(record)) else 0
            above = reader.line_num
    except csv.Error:  # a NUL or a broken quote in the sample: read as ever
        return 0
    return 0


def _header_like(values: int, width: int) -> bool:
    """A header: more values than a title row holds (TITLE_CELLS), in at least 80 % of its
    cells. The one test of the CSV and the Excel searches for a header under titles."""
    return values > TITLE_CELLS and values * 5 >= width * 4


def _separator(name: str, head: bytes) -> str:
    """Comma, tab or semicolon: whichever the header line has most of (a .tsv is tab)."""
    if name.lower().removesuffix(".gz").endswith(".tsv"):
        return "\t"
    first_line = head.split(b"\n", 1)[0]
    counts = {sep: first_line.count(sep.encode()) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def explain_read_failure(tables: list[RawTable], exc: BaseException) -> InputError:
    """Why polars could not read the files it scans lazily, as one line naming file and line.

    Only the failure path pays for this: each scanned file is checked for invalid UTF-8
    (a GBK export whose first 64 KiB happen to be ASCII) and for rows with more fields than
    the header (an unquoted comma in a text).
    """
    for table in tables:
        path = table.path or table.source
        if table.kind != "csv" or not os.path.isfile(path) or (table.path is None and table.encoding != "utf-8"):
            continue
        problem = _utf8_problem(path) if table.path is None else None  # a spool is valid UTF-8
        if problem is None:
            with open(path, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
            with open(path, encoding="utf-8-sig", newline="", errors="replace") as fh:
                separator, titles = csv_layout(table.source, head)
                for _ in range(titles):
                    fh.readline()
                problem = _csv_problem(fh, separator, first_line=titles + 1)
        if problem is not None:
            return InputError("error.file_problem", path=table.source, problem=problem)
    names = ", ".join(t.source for t in tables)
    return InputError("error.not_csv_quote", path=names, reason=_first_line(exc))


def _json_reason(message: str, lang: str) -> str:
    """The JSON parser's reason in `lang`, where the catalogue has it (`json.*`, keyed by the
    parser's own English); another reason is shown as the parser wrote it."""
    return read_back("json.", message, lang) or message


_TAIL_BYTES = 1 << 16  # how much of a file's end is read for a last record cut short


def _check_not_cut_short(source: str, path: str, head: bytes, separator: str, titles: int) -> None:
    """Stop on a CSV whose last record was cut off (a download or copy that stopped half-way,
    an export still being written): no line end after it, and fewer fields than the header or
    a quoted field still open, under whole records. It was read as a row with empty columns
    and rejected as `missing role`, and the night passed as complete with half its chats
    (exit 1, or 0 on a quiet night). A last record that is whole without a line end is whole;
    records are CSV records, so a message with line breaks is one record."""
    size = os.path.getsize(path)
    with open(path, "rb") as fh:
        fh.seek(max(0, size - _TAIL_BYTES))
        tail = fh.read()
    if tail.endswith((b"\n", b"\r")):
        return
    try:
        header = next(itertools.islice(csv.reader(io.StringIO(head.decode("utf-8-sig", errors="replace"), newline=""), delimiter=separator), titles, None), None)
    except csv.Error:  # a NUL or a broken quote: not this check's to name
        return
    found = _last_record_fields(tail, size <= _TAIL_BYTES, separator, len(header)) if header else None
    if found is not None and found < len(header):
        with open(path, "rb") as fh:
            line = 1 + sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 24), b""))
        problem = Term("problem.cut_quoted", line=line) if found == 0 else Term("problem.cut_record", line=line, fields=found, header=len(header))
        raise InputError("error.file_problem", path=source, problem=problem)


def _last_record_fields(tail: bytes, whole_file: bool, separator: str, width: int) -> int | None:
    """How many fields the last CSV record of `tail` has (0 when the file ends inside a
    quoted field), or None when that cannot be told with confidence. The tail may begin inside
    a record, even inside a quoted message: it is read from each of its first line starts in
    turn until the records above the last (up to five) all have the header's width."""
    starts = [0] if whole_file else []
    starts += [m.end() for m in itertools.islice(re.finditer(rb"\n", tail), 8)]
    for start in starts:
        lines = io.StringIO(tail[start:].decode("utf-8", errors="replace"), newline="").readlines()
        reader = csv.reader(lines, delimiter=separator)
        records, first_line = [], []
        try:
            while True:
                at = reader.line_num
                record = next(reader, None)
                if record is None:
                    break
                records.append(record)
                first_line.append(at)
        except csv.Error:
            continue
        above = records[-6:-1] if whole_file else records[1:-1][-5:]  # the first may be a piece
        if len(records) < 2 or not above or any(len(r) != width for r in above):
            continue
        # The last record alone, strictly: a quoted field still open at the end is an error
        # there, not a field (read from the tail's start, a piece above could fail first).
        try:
            list(csv.reader(lines[first_line[-1]:], delimiter=separator, strict=True))
        except csv.Error as exc:
            if "unexpected end of data" in str(exc):
                return 0
        return len(records[-1])
    return None


def _utf8_problem(path: str) -> Term | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 24)
            pending = len(decoder.getstate()[0])  # the bytes of a character not finished
            try:
                decoder.decode(chunk, final=not chunk)  # the last call catches a cut-off character
            except UnicodeDecodeError as exc:
                if not chunk and exc.reason == "unexpected end of data":  # the file stops inside a character
                    return Term("problem.cut_character", byte=offset - pending)
                return Term("error.not_utf8_gbk", byte=offset + exc.start)
            if not chunk:
                return None
            offset += len(chunk)


def _csv_problem(lines: io.TextIOBase, separator: str, first_line: int = 1) -> Term | None:
    """The first record with more fields than the header, with its line number (the header
    is on `first_line`: title lines above it were read off)."""
    reader = csv.reader(lines, delimiter=separator)
    header = next(reader, None)
    if header is None:
        return None
    start = reader.line_num + first_line
    for row in reader:
        if len(row) > len(header):
            return Term("error.csv_fields", line=start, fields=len(row), header=len(header), separator=separator)
        start = reader.line_num + first_line
    return None


def _check_csv_readable(source: str, frame: pl.LazyFrame, path: str | None = None) -> None:
    """Surface a bad header or encoding now, as one clear line, not deep in the pipeline."""
    if os.path.getsize(path or source) == 0:
        raise InputError("error.empty_file", path=source)
    try:
        frame.collect_schema()
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise InputError("error.not_csv", path=source, reason=_first_line(exc)) from exc


def _jsonl(source: str, text: str, encoding: str) -> RawTable:
    lines = text.split("\n")
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    good: list[str] = []
    good_lines: list[int] = []
    bad: list[tuple[int, str, str, str]] = []
    try:
        frame = pl.read_ndjson(io.StringIO("\n".join(line for _, line in numbered)), infer_schema_length=None)
        good_lines = [n for n, _ in numbered]
    except (pl.exceptions.PolarsError, ValueError, RuntimeError):
        # Slow road, only for a file polars cannot read whole: find the bad lines one by one.
        for number, line in numbered:
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append((number, line, *(t("reject.not_json", lang, reason=_json_reason(exc.msg, lang)) for lang in ("en", "zh"))))
                continue
            if not isinstance(value, dict):
                bad.append((number, line, t("reject.not_object", "en"), t("reject.not_object", "zh")))
                continue
            # A lone surrogate (`"\\ud800"`, `"\\udfff"`: valid JSON, no character) made U+FFFD:
            # polars panicked on it as UTF-8, read `\\ud800` as NUL and `\\udfff` not at all
            # (an internal error); a valid pair was joined into one character by json.loads.
            good.append(json.dumps({_no_surrogates(k): _no_surrogates(_jsonl_scalar(v)) for k, v in value.items()}))
            good_lines.append(number)
        frame = pl.read_ndjson(io.StringIO("\n".join(good)), infer_schema_length=None) if good else pl.DataFrame()
    frame = frame.select(_as_string(name, dtype) for name, dtype in frame.schema.items())
    kept = limits.current().rejects_kept
    return RawTable(
        source,
        frame.lazy().with_row_index("_record"),
        encoding,
        "jsonl",
        bad_lines=bad[:kept],
        blank_lines=len(lines) - len(numbered) - (1 if text.endswith("\n") or not text else 0),
        record_lines=pl.Series("line", good_lines, dtype=pl.Int64),
        bad_lines_dropped=max(0, len(bad) - kept),
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: object) -> object:
    """`value` with each lone surrogate (json.loads leaves only lone ones) as U+FFFD."""
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


def _jsonl_scalar(value: object) -> object:
    return value if value is None or isinstance(value, (str, int, float, bool)) else json.dumps(value, ensure_ascii=False)


def _as_string(name: str, dtype: pl.DataType) -> pl.Expr:
    column = pl.col(name)
    if dtype == pl.String:
        return column
    if dtype == pl.Boolean:
        return column.cast(pl.String)
    if isinstance(dtype, (pl.Struct, pl.List)):
        return column.struct.json_encode() if isinstance(dtype, pl.Struct) else column.cast(pl.List(pl.String)).list.join(",")
    if dtype.is_float():
        # Epoch seconds written as 1763769785.0 must stay readable as a timestamp.
        return pl.when(column == column.floor()).then(column.cast(pl.Int64).cast(pl.String)).otherwise(column.cast(pl.String))
    return column.cast(pl.String)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
