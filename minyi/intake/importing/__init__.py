"""Bulk import of work orders from xlsx and csv files (gz too), with column mapping.

`plan_import` checks the file, preset or mapping and bureau (BadInput, nothing written);
`import_file` / `execute` run it; `run_batch(batch_id)` is the background entry point of the
import page. See `run` for the rules (all or nothing, skip_bad, re-import, events).
"""

from minyi.intake.importing.errors import BadInput
from minyi.intake.importing.mapping import TARGETS, Mapping, load_mapping_file, parse_mapping
from minyi.intake.importing.run import (
    ImportResult,
    Plan,
    execute,
    file_sha256,
    import_file,
    import_rows,
    live_rows_done,
    plan_import,
    run_batch,
)

__all__ = [
    "TARGETS",
    "BadInput",
    "ImportResult",
    "Mapping",
    "Plan",
    "execute",
    "file_sha256",
    "import_file",
    "import_rows",
    "live_rows_done",
    "load_mapping_file",
    "parse_mapping",
    "plan_import",
    "run_batch",
]
