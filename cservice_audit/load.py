"""Load: the only stage that touches files or stdin.

Every input becomes a `RawTable`: a LazyFrame of its columns as strings, exactly as the
export spelled them, plus `_record` (0-based record index in that file). Nothing is renamed or
parsed here; normalize does that. Line numbers are worked out only for rows someone needs to
see (rejected rows), so the common path pays nothing for them.
"""

from __future__ import annotations

import codecs
import csv
import glob
import gzip
import io
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from cservice_audit.errors import InputError

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
    # JSONL lines that are not JSON objects: (line number, raw text, reason).
    bad_lines: list[tuple[int, str, str]] = field(default_factory=list)
    # For JSONL: physical line of each record; for CSV: computed on demand.
    record_lines: pl.Series | None = None
    # The role of rows whose export has no role column (`--reviews` files: "review").
    default_role: str | None = None

    def lines_of(self, records: pl.Series) -> pl.Series:
        """Physical line (1-based) on which each given record starts."""
        if self.record_lines is not None:
            return self.record_lines.gather(records)
        # CSV: header is line 1; a record starts one line after the previous record
        # ends, and a record spans one line plus the newlines inside its quoted fields.
        columns = [c for c in self.frame.collect_schema().names() if c != "_record"]
        embedded = pl.sum_horizontal(
            [pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in columns]
        )
        starts = (
            self.frame.select(
                (pl.col("_record") + 2 + embedded.cum_sum().shift(1, fill_value=0)).alias("line")
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
                raise InputError(f"{raw}: no file matches this pattern")
            expanded.extend(matches)
        elif os.path.isdir(raw):
            inside = sorted(str(p) for p in Path(raw).iterdir() if p.is_file() and supported(p.name))
            if not inside:
                raise InputError(f"{raw}: no supported export in this folder (.csv, .tsv, .txt, .jsonl, .ndjson, .json, .xlsx, optionally .gz)")
            expanded.extend(inside)
        elif not os.path.exists(raw):
            raise InputError(f"{raw}: no such file")
        else:
            expanded.append(raw)
    if not expanded:
        raise InputError("no input given")
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
        raise InputError(f"--encoding {encoding}: unsupported; use one of {', '.join(sorted(ENCODINGS))}")
    tables = []
    for path in expand(paths):
        if path == STDIN:
            data = (stdin or _stdin()).read()
            tables.append(_from_bytes("<stdin>", data, encoding, kind=None))
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


def _read_excel(path: str, sheet: str | None) -> RawTable:
    """The first sheet (or `--sheet NAME`) of an Excel export, every cell as text."""
    try:
        frame = pl.read_excel(
            path,
            sheet_name=sheet,
            sheet_id=None if sheet else 1,
            engine="calamine",
            infer_schema_length=0,  # everything as text: normalize parses it like CSV
        )
    except ModuleNotFoundError as exc:
        raise InputError(f"{path}: reading Excel needs the fastexcel package ({exc})") from None
    except Exception as exc:  # noqa: BLE001 - calamine raises its own types; the file is named
        raise InputError(f"{path}: not readable as Excel ({_first_line(exc)}); is --sheet right?") from None
    return RawTable(path, frame.lazy().with_row_index("_record"), "xlsx", "xlsx", record_lines=pl.Series("line", range(2, frame.height + 2), dtype=pl.Int64))


def _read_path(path: str, encoding: str | None, sheet: str | None = None) -> RawTable:
    kind = _kind_from_name(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    if kind == "xlsx":
        return _read_excel(path, sheet)
    compressed = head[:2] == b"\x1f\x8b"
    if not compressed and kind == "csv":
        chosen = encoding or _sniff_encoding(head, path)
        if chosen in {"utf-8", "utf-8-sig"}:
            # The fast road: polars scans the file itself (memory-mapped, streamable).
            frame = pl.scan_csv(path, infer_schema=False, separator=_separator(path, head))
            frame = frame.with_row_index("_record")
            _check_csv_readable(path, frame)
            return RawTable(path, frame, "utf-8", "csv")
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from exc
    return _from_bytes(path, data, encoding, kind)


def _from_bytes(source: str, data: bytes, encoding: str | None, kind: str | None) -> RawTable:
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{source}: not a readable gzip file ({exc})") from exc
    if kind is None:
        kind = "jsonl" if data.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] == b"{" else "csv"
    chosen = encoding or _sniff_encoding(data[:_SNIFF_BYTES], source)
    text = _decode(source, data, chosen)
    if kind == "jsonl":
        return _jsonl(source, text, chosen)
    frame = _read_csv_text(source, text)
    return RawTable(source, frame, chosen, "csv")


def _sniff_encoding(sample: bytes, source: str = "input") -> str:
    """UTF-8 (with or without BOM) when the sample decodes as UTF-8, else GB18030.

    UTF-16 is refused (exports are not written in it; save as UTF-8), and so is a sample
    that is valid multi-byte UTF-8 up to a point and then not: that is two encodings glued
    together, and reading it as either would silently garble one part.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError(f"{source}: UTF-16 text is not supported; save the export as UTF-8 (or GB18030) and run again")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError as exc:
        # GB18030 byte pairs can pass as two-byte UTF-8 (Latin, Greek, ...) by chance, but not
        # as a run of Chinese characters: two or more of those first means real UTF-8 text.
        prefix = sample[: exc.start].decode("utf-8", errors="ignore")
        if sum(ord(ch) >= 0x3000 for ch in prefix) >= 2:
            raise InputError(
                f"{source}: valid UTF-8 up to byte {exc.start}, then not: the file mixes encodings; "
                "save it in one encoding (or pass --encoding if you know it)"
            ) from None
        return "gb18030"


def _decode(source: str, data: bytes, encoding: str) -> str:
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        hint = "--encoding gb18030" if encoding.startswith("utf") else "--encoding utf-8"
        raise InputError(
            f"{source}: not valid {encoding} at byte {exc.start}; if it is another encoding, pass {hint}"
        ) from exc
    return text.removeprefix("\ufeff")


def _separator(name: str, head: bytes) -> str:
    """Comma, tab or semicolon: whichever the header line has most of (a .tsv is tab)."""
    if name.lower().removesuffix(".gz").endswith(".tsv"):
        return "\t"
    first_line = head.split(b"\n", 1)[0]
    counts = {sep: first_line.count(sep.encode()) for sep in SEPARATORS}
    best = max(SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


def _read_csv_text(source: str, text: str) -> pl.LazyFrame:
    try:
        frame = pl.read_csv(
            io.StringIO(text),
            infer_schema=False,
            separator=_separator(source, text[:_SNIFF_BYTES].encode()),
        )
    except pl.exceptions.NoDataError:
        raise InputError(f"{source}: empty file (not even a header line)") from None
    except (pl.exceptions.PolarsError, ValueError) as exc:
        problem = _csv_problem(io.StringIO(text, newline=""), _separator(source, text[:_SNIFF_BYTES].encode()))
        raise InputError(f"{source}: {problem or f'not readable as CSV ({_first_line(exc)})'}") from exc
    return frame.lazy().with_row_index("_record")


def explain_read_failure(tables: list[RawTable], exc: BaseException) -> InputError:
    """Why polars could not read the files it scans lazily, as one line naming file and line.

    Only the failure path pays for this: each scanned file is checked for invalid UTF-8
    (a GBK export whose first 64 KiB happen to be ASCII) and for rows with more fields than
    the header (an unquoted comma in a text).
    """
    for table in tables:
        if table.kind != "csv" or table.encoding != "utf-8" or not os.path.isfile(table.source):
            continue
        problem = _utf8_problem(table.source)
        if problem is None:
            with open(table.source, "rb") as fh:
                head = fh.read(_SNIFF_BYTES)
            with open(table.source, encoding="utf-8-sig", newline="", errors="replace") as fh:
                problem = _csv_problem(fh, _separator(table.source, head))
        if problem is not None:
            return InputError(f"{table.source}: {problem}")
    names = ", ".join(t.source for t in tables)
    return InputError(f"{names}: not readable as CSV ({_first_line(exc)}); an unclosed quote?")


def _utf8_problem(path: str) -> str | None:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as fh:
        while True:
            chunk = fh.read(1 << 24)
            try:
                decoder.decode(chunk, final=not chunk)  # the last call catches a cut-off character
            except UnicodeDecodeError as exc:
                return f"not valid UTF-8 at byte {offset + exc.start}; if it is a GBK export, pass --encoding gb18030"
            if not chunk:
                return None
            offset += len(chunk)


def _csv_problem(lines: io.TextIOBase, separator: str) -> str | None:
    """The first record with more fields than the header, with its line number."""
    reader = csv.reader(lines, delimiter=separator)
    header = next(reader, None)
    if header is None:
        return None
    start = reader.line_num + 1
    for row in reader:
        if len(row) > len(header):
            return (
                f"line {start}: {len(row)} fields where the header has {len(header)} "
                f"(a text with an unquoted '{separator}'?); quote that field and run again"
            )
        start = reader.line_num + 1
    return None


def _check_csv_readable(path: str, frame: pl.LazyFrame) -> None:
    """Surface a bad header or encoding now, as one clear line, not deep in the pipeline."""
    if os.path.getsize(path) == 0:
        raise InputError(f"{path}: empty file (not even a header line)")
    try:
        frame.collect_schema()
    except (pl.exceptions.PolarsError, ValueError) as exc:
        raise InputError(f"{path}: not readable as CSV ({_first_line(exc)})") from exc


def _jsonl(source: str, text: str, encoding: str) -> RawTable:
    lines = text.split("\n")
    numbered = [(i + 1, line) for i, line in enumerate(lines) if line.strip()]
    good: list[str] = []
    good_lines: list[int] = []
    bad: list[tuple[int, str, str]] = []
    try:
        frame = pl.read_ndjson(io.StringIO("\n".join(line for _, line in numbered)), infer_schema_length=None)
        good_lines = [n for n, _ in numbered]
    except (pl.exceptions.PolarsError, ValueError, RuntimeError):
        # Slow road, only for a file polars cannot read whole: find the bad lines one by one.
        for number, line in numbered:
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                bad.append((number, line, f"not JSON ({exc.msg})"))
                continue
            if not isinstance(value, dict):
                bad.append((number, line, "not a JSON object"))
                continue
            good.append(json.dumps({k: _jsonl_scalar(v) for k, v in value.items()}, ensure_ascii=False))
            good_lines.append(number)
        frame = pl.read_ndjson(io.StringIO("\n".join(good)), infer_schema_length=None) if good else pl.DataFrame()
    frame = frame.select(_as_string(name, dtype) for name, dtype in frame.schema.items())
    return RawTable(
        source,
        frame.lazy().with_row_index("_record"),
        encoding,
        "jsonl",
        bad_lines=bad,
        record_lines=pl.Series("line", good_lines, dtype=pl.Int64),
    )


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
