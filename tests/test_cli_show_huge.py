"""``copydesk show`` of a huge post renders a bounded prefix and says what was cut and how
to see it all; ``--full`` shows everything; an ordinary post is shown whole."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from storage import samples_dir
from tui.cli import main
from tui.cli.render import BODY_CHARS, META_FIELDS

EXTRA_FIELDS = 20_000


def _huge_seed() -> str:
    text = (samples_dir() / "000_d88866b715cabc30.txt").read_text(encoding="utf-8")
    title, rest = text.split("\n", 1)
    body, meta = rest.split("alphanode post meta", 1)
    paragraphs = "".join(
        f"paragraph {n} " + "lorem ipsum dolor. " * 40 + "\n\n" for n in range(400)
    )
    fields = "".join(f"field{n}: value {n}\n" for n in range(EXTRA_FIELDS))
    meta = meta.replace("anp-ref-019995-4029", "anp-ref-huge").replace(
        "Similar Posts", fields + "\nSimilar Posts"
    )
    return f"{title}\n{body}{paragraphs}alphanode post meta{meta}"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    root = tmp_path_factory.mktemp("huge")
    (root / "huge.txt").write_text(_huge_seed(), encoding="utf-8")
    path = root / "db.json"
    result = CliRunner().invoke(main, ["--db", str(path), "import", str(root / "huge.txt")])
    assert result.exit_code == 0, result.output
    return path


def _show(db, *args):
    result = CliRunner().invoke(main, ["--db", str(db), "show", "anp-ref-huge", *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_a_huge_post_shows_a_bounded_prefix_and_says_what_was_cut(db):
    data = json.loads(_show(db, "--json"))
    body_chars = sum(
        len(b.get("text", "")) + sum(map(len, b.get("items", []))) for b in data["body"]
    )
    assert body_chars > 3 * BODY_CHARS and len(data["meta"]) > EXTRA_FIELDS
    out = _show(db)
    assert len(out) < 3 * BODY_CHARS  # bounded, whatever the size of the post
    flat = " ".join(out.split())
    assert f"shown: {BODY_CHARS:,} of the body's {body_chars:,} characters" in flat
    assert f"{META_FIELDS} of {len(data['meta']):,} meta fields" in flat
    assert "`copydesk show anp-ref-huge --full` shows all of it, --json gives the data." in flat
    assert "paragraph 0 lorem" in out and "paragraph 399" not in out
    meta_lines = [line for line in out.splitlines() if re.fullmatch(r"field\d+: value \d+", line)]
    first_fields = [name for name in list(data["meta"])[:META_FIELDS] if name.startswith("field")]
    assert [line.split(":")[0] for line in meta_lines] == first_fields
    assert "id: anp-ref-huge" in out  # the review part is still there, after the cut


def test_full_shows_everything(db):
    out = _show(db, "--full")
    assert "paragraph 399 lorem" in out
    assert f"field{EXTRA_FIELDS - 1}: value {EXTRA_FIELDS - 1}" in out
    assert "shown:" not in out


def test_an_ordinary_post_is_shown_whole(tmp_path):
    db = tmp_path / "db.json"
    runner = CliRunner()
    assert runner.invoke(main, ["--db", str(db), "import", str(samples_dir())]).exit_code == 0
    sample = (samples_dir() / "000_d88866b715cabc30.txt").read_text(encoding="utf-8")
    out = runner.invoke(main, ["--db", str(db), "show", "anp-ref-019995-4029"]).stdout
    assert "shown:" not in out
    assert "write the final note" in out and "final notes" in out
    assert sample.split("\n", 1)[0] in out
