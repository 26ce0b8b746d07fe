"""Reliability tests: load (small size), faults of what the blog depends on, fuzzing.

`CASES` counts the generated cases each fuzz property ran; the summary prints it.
`FUZZ_EXAMPLES` (environment) sets hypothesis' max_examples per property (CI: 300).
"""

from __future__ import annotations

import os
from collections import Counter

CASES: Counter[str] = Counter()
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "300"))
