"""Finish the Lambda zip that `osls package` built: bytecode in, developer files out.

Run by deploy/serverless-lambda-zip.js after serverless-python-requirements has added
the dependencies, with the Python of Lambda's runtime (3.12):

    python3.12 deploy/lambda_zip.py .serverless/blog.zip

/var/task is read-only on Lambda, so a zip without bytecode is compiled again at every
cold start. Each module gets `__pycache__/<name>.cpython-312.pyc` compiled with
`unchecked-hash` invalidation: the packager rewrites file times, so timestamp-checked
bytecode would be judged stale and ignored. Entries are written in name order with a
fixed time, so the same inputs give the same zip.
"""

from __future__ import annotations

import compileall
import os
import py_compile
import re
import sys
import tempfile
import zipfile
from pathlib import Path

RUNTIME = (3, 12)
# Never imported on Lambda: the packaging plugin's marker, console scripts, type
# stubs, and dependencies' own tests.
DROPPED = re.compile(
    r"""^(?:
        \.completed_requirements$
      | requirements\.txt$
      | bin/
      | [^/]+/(?:.*/)?tests/
      | .*\.pyi$
      | .*/py\.typed$
    )""",
    re.VERBOSE,
)
FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def finish(path: Path) -> tuple[int, int]:
    """Rewrite the zip at `path`; return its size before and after, in bytes."""
    before = path.stat().st_size
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        with zipfile.ZipFile(path) as archive:
            members = [i for i in archive.infolist() if not DROPPED.match(i.filename)]
            modes = {i.filename: i.external_attr for i in members}
            archive.extractall(root, members)
        compile_all(root)
        write(path, root, modes)
    return before, path.stat().st_size


def compile_all(root: Path) -> None:
    """Compile every module under `root`; stop on one that does not compile."""
    ok = compileall.compile_dir(
        root,
        quiet=1,
        optimize=0,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
        workers=0,
    )
    if not ok:
        sys.exit("lambda_zip: a module of the package does not compile (see above)")


def write(path: Path, root: Path, modes: dict[str, int]) -> None:
    """Zip `root` into `path`: sorted names, one fixed time, the original modes."""
    files = sorted(p for p in root.rglob("*") if p.is_file())
    partial = path.with_suffix(".partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for file in files:
            name = file.relative_to(root).as_posix()
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = modes.get(name) or (0o100644 << 16)
            out.writestr(info, file.read_bytes())
    os.replace(partial, path)


def main() -> None:
    if sys.version_info[:2] != RUNTIME:
        sys.exit(
            f"lambda_zip: run with Python {RUNTIME[0]}.{RUNTIME[1]}, Lambda's runtime "
            f"(this is {sys.version.split()[0]}): its bytecode is version-specific"
        )
    (target,) = sys.argv[1:]
    before, after = finish(Path(target))
    print(f"lambda_zip: {target}: {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB, "
          "with cpython-312 bytecode")


if __name__ == "__main__":
    main()
