"""Hostile seed documents, generated on demand (never committed: some are megabytes).

``write_hostile(directory)`` writes them all and returns {name: path}; the reliability
tests import them, and ``python tests/reliability/hostile.py`` times each one by hand.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "seeds" / "samples" / "001_f5d76b64dc71a99a.txt"

ESCAPES = "\x1b[31mred\x1b[0m \x1b]0;PWNED\x07 \x1b]8;;https://evil.example\x07link\x1b]8;;\x07 \x07\x08\r"
MARKUP = "[bold red]loud[/bold red] [link=file:///etc/passwd]x[/link] [/] [@click=app.quit]q[/]"


def _sample() -> tuple[str, str, str]:
    """(title, body, meta-and-rest) of a real sample seed."""
    text = SAMPLE.read_text(encoding="utf-8")
    title, rest = text.split("\n", 1)
    body, meta = rest.split("alphanode post meta", 1)
    return title, body, "alphanode post meta" + meta


def _with_reference(meta: str, number: int) -> str:
    return meta.replace("anp-ref-003275-2123", f"anp-ref-9{number:05d}-0001")


def write_hostile(directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    title, body, meta = _sample()
    paragraph = next(line for line in body.splitlines() if len(line) > 200)
    docs: dict[str, bytes | None] = {}

    # 10 MB: the sample's body repeated, paragraphs and all, under its meta box
    blocks, size = [], 0
    while size < 10 * 1024 * 1024:
        blocks.append(body)
        size += len(body.encode())
    docs["big_10mb.txt"] = f"{title}\n{''.join(blocks)}{_with_reference(meta, 1)}".encode()

    # 100,000 lines: a list of 100k bullets
    bullets = "\n".join(f"  \u2022 item number {n} of a very long list" for n in range(100_000))
    docs["lines_100k.txt"] = f"{title}\n\n{bullets}\n\n{_with_reference(meta, 2)}".encode()

    # one 1 MB line without a single newline (so the title is a megabyte long)
    docs["one_line_1mb.txt"] = (paragraph * (1024 * 1024 // len(paragraph) + 1)).encode()

    # NUL bytes in the middle of an otherwise fine document: a per-file error
    docs["nul_bytes.txt"] = f"{title}\n\n{paragraph}\x00\x00{paragraph}\n\n{meta}".encode()

    # a 5,000-character title
    long_title = ("very long title " * 400)[:5000]
    docs["title_5000.txt"] = f"{long_title}\n{body}{_with_reference(meta, 3)}".encode()

    # deep indentation: each line indented further, up to 10,000 spaces; nested bullets
    deep = "\n".join(" " * (n * 10) + f"level {n} = value({n});" for n in range(1000))
    nested = "\n".join(" " * (2 + 2 * n) + f"\u2022 nested {n}" for n in range(1000))
    docs["deep_indent.txt"] = (
        f"{title}\n\n{deep}\n\n{nested}\n\n{_with_reference(meta, 4)}".encode()
    )

    # Rich markup and terminal escape sequences in the title, body and meta
    hostile_meta = _with_reference(meta, 5).replace("topic", f"topic{MARKUP}{ESCAPES}", 1)
    docs["markup_escapes.txt"] = (
        f"{MARKUP} {ESCAPES} title\n\n{paragraph} {MARKUP}\n\n{ESCAPES}\n\n"
        f"  \u2022 {MARKUP}\n  \u2022 {ESCAPES}\n\n{hostile_meta}"
    ).encode()

    # files that cannot be read as posts: each must be one clear per-file error
    docs["not_utf8.txt"] = "caf\xe9\n\nbody\n".encode("latin-1")
    docs["utf16.txt"] = "title\n\nbody text.\n".encode("utf-16")
    docs["only_blank.txt"] = b" \n\n\t\n"

    paths = {}
    for name, data in docs.items():
        path = directory / name
        path.write_bytes(data)
        paths[name] = path
    fifo = directory / "fifo.txt"  # reading it would block forever: must be refused
    os.mkfifo(fifo)
    paths["fifo.txt"] = fifo
    folder = directory / "folder.txt"
    folder.mkdir()
    paths["folder.txt"] = folder
    return paths


def main() -> None:
    """Time the reader and a whole import on each hostile file (by hand; not a test)."""
    import tempfile

    import seeds
    from storage import Store

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_hostile(Path(tmp) / "hostile")
        for name, path in paths.items():
            if not path.is_file():
                continue
            size_mb = path.stat().st_size / 1e6
            start = time.perf_counter()
            try:
                seeds.read_file(path)
                parse_outcome = "post"
            except seeds.ParseError as exc:
                parse_outcome = f"error: {exc.reason}"
            parsed = time.perf_counter() - start
            start = time.perf_counter()
            with Store.open(Path(tmp) / f"{name}.db.json") as store:
                report = store.import_paths([path])
                if report.imported:
                    store.get(report.imported[0])
            imported = time.perf_counter() - start
            per_mb = f"({imported / size_mb:5.3f} s/MB)" if size_mb >= 1 else " " * 13
            print(
                f"{name:20} {size_mb:7.2f} MB  read {parsed:6.3f} s  import {imported:6.3f} s"
                f"  {per_mb}  {parse_outcome}"
            )
            sys.stdout.flush()


if __name__ == "__main__":
    main()
