"""Large import files made on the spot, for the tests and the benchmarks of ``/curate import``."""

from __future__ import annotations

import csv
import io
import json

# Compact rows (about 112 bytes each): 85,000 of them stay under the 10 MB an attachment may have.
_SOURCES = json.dumps([{"publisher": "CNS", "title": "Record"}], separators=(",", ":"))


def bulk_native_csv(rows: int, prefix: str = "bulk") -> bytes:
    """A native-format CSV of ``rows`` new events with external ids ``<prefix>:<n>``."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["external_id", "title", "date", "kind", "sources"])
    for i in range(rows):
        writer.writerow(
            [f"{prefix}:{i}", f"Bulk launch record {i}", "2017-07-04", "missile_launch", _SOURCES]
        )
    return out.getvalue().encode()
