"""``anp-ref-café-1`` in NFC and in NFD is one post: the reader stores ids in NFC, and an
id typed on the command line in either form finds it."""

from __future__ import annotations

import json
import unicodedata

from click.testing import CliRunner

import seeds
from storage import samples_dir
from tui.cli import main

NFC = unicodedata.normalize("NFC", "anp-ref-café-1")
NFD = unicodedata.normalize("NFD", NFC)


def _seed(reference: str, title: str) -> str:
    text = (samples_dir() / "000_d88866b715cabc30.txt").read_text(encoding="utf-8")
    _first, rest = text.split("\n", 1)
    return f"{title}\n{rest}".replace("anp-ref-019995-4029", reference)


def test_the_reader_stores_the_reference_in_nfc():
    assert NFC != NFD
    post = seeds.parse(_seed(NFD, "decomposed").rstrip() + f"\n{NFD}\n")  # under Similar Posts
    assert post.id == NFC and post.meta["reference"] == NFC
    assert post.listed_similar == [NFC]


def test_nfc_and_nfd_files_are_one_post_and_either_spelling_finds_it(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "a-nfc.txt").write_text(_seed(NFC, "composed"), encoding="utf-8")
    (corpus / "b-nfd.txt").write_text(_seed(NFD, "decomposed"), encoding="utf-8")
    db = str(tmp_path / "db.json")
    runner = CliRunner()
    imported = runner.invoke(main, ["--db", db, "import", str(corpus)])
    assert imported.exit_code == 0, imported.output
    assert imported.stdout.startswith("1 imported")
    assert f"same id {NFC} as" in imported.stderr
    rows = json.loads(runner.invoke(main, ["--db", db, "list", "--json"]).stdout)
    assert [row["id"] for row in rows] == [NFC]
    for typed in (NFC, NFD):
        shown = runner.invoke(main, ["--db", db, "show", typed, "--json"])
        assert shown.exit_code == 0, shown.output
        assert json.loads(shown.stdout)["id"] == NFC
        assert runner.invoke(main, ["--db", db, "similar", typed]).exit_code == 0
    reviewed = runner.invoke(main, ["--db", db, "review", NFD, "--status", "approved"])
    assert reviewed.exit_code == 0, reviewed.output
    assert reviewed.stdout.startswith(f"{NFC}: approved")
