"""CSV text as RFC 4180 writes it (commas, quotes where needed, CRLF), produced in chunks of rows as
they are read: whatever the number of rows, only one chunk is ever held."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence

# Rows written per chunk: a few tens of kilobytes, few enough writes to the client.
ROWS_PER_CHUNK = 500


def csv_chunks(
    header: Sequence[str], rows: Iterable[Sequence[str]], rows_per_chunk: int = ROWS_PER_CHUNK
) -> Iterator[str]:
    """The header, then the rows, as text chunks of whole lines; the first chunk holds the header
    and the first rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    pending = 0
    for row in rows:
        writer.writerow(row)
        pending += 1
        if pending == rows_per_chunk:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if rest := buffer.getvalue():
        yield rest
