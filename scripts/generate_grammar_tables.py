"""Generate the fast path's parse tables after editing the grammar.

    python scripts/generate_grammar_tables.py

Reads netspec/language/grammar.lark through lark and writes
netspec/language/grammar_tables.py, which `netspec check` and `analyze` parse with
without importing lark. Until it is run, netspec builds the same tables from lark at
start-up (correct, only slower) and tests/language/test_lalr.py says the file is stale.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from netspec.language.lalr import GENERATED, tables_from_lark, write_tables  # noqa: E402
from netspec.language.parser import _parser  # noqa: E402

write_tables(tables_from_lark(_parser()))
print(f"wrote {GENERATED.relative_to(ROOT)}")
