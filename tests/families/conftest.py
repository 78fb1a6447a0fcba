"""A synthesized corpus for the family features (issue 18): the synthesizer's planted near
copies, a hand-planted family of three (post 0 and two edited copies of it), template
boilerplate (the synthesizer's templates), and a helper to regenerate posts by editing
their files and importing them again. One imported store per session, copied per test."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

import seeds
from seeds.synth import _is_near_copy, _near_copy_source, synthesize
from storage import Store

CORPUS_SEED = 5
CORPUS_SIZE = 240
# The hand-planted family: post 0 of the corpus and two copies under new references.
COPY_REFERENCES = ("anp-ref-990001-0001", "anp-ref-990002-0002")


@dataclass(frozen=True)
class FamilyCorpus:
    dir: Path
    files: dict[str, Path]  # post id -> its file
    planted: list[tuple[str, str]]  # the synthesizer's near copies: (source id, copy id)
    family: list[str]  # the hand-planted family, sorted by id
    family_source: str  # its original post (corpus post 0)

    def others(self, post_id: str) -> list[str]:
        return [p for p in self.family if p != post_id]


def _plant_copy(source: Path, target: Path, reference: str, title: str, edit: bool) -> None:
    post = seeds.read_file(source)
    text = source.read_text(encoding="utf-8")
    assert text.count(post.reference) == 1 and post.title in text
    text = text.replace(post.reference, reference).replace(post.title, title, 1)
    if edit:  # one sentence of the body reworded
        sentence = "the alphanode approach is to prefer a small verified change"
        assert sentence in text
        text = text.replace(sentence, "our approach is to prefer a small, verified change", 1)
    target.write_text(text, encoding="utf-8")


@pytest.fixture(scope="session")
def family_corpus(tmp_path_factory) -> FamilyCorpus:
    out = tmp_path_factory.mktemp("families") / "corpus"
    paths = synthesize(CORPUS_SIZE, out, seed=CORPUS_SEED)
    ids = [seeds.read_file(path).id for path in paths]
    planted = [
        (ids[_near_copy_source(index, CORPUS_SEED)], ids[index])
        for index in range(CORPUS_SIZE)
        if _is_near_copy(index, CORPUS_SEED)
    ]
    assert planted, "the corpus should hold planted near copies"
    source = paths[0]
    title = seeds.read_file(source).title
    for number, reference in enumerate(COPY_REFERENCES):
        target = out / f"copy_{number}.txt"
        _plant_copy(source, target, reference, f"{title} (copy {number + 1})", edit=number == 1)
        paths.append(target)
        ids.append(seeds.read_file(target).id)
    family = sorted([ids[0], *ids[-2:]])
    return FamilyCorpus(out, dict(zip(ids, paths, strict=True)), planted, family, ids[0])


@pytest.fixture(scope="session")
def family_template(tmp_path_factory, family_corpus) -> Path:
    db = tmp_path_factory.mktemp("families-db") / "db.json"
    with Store.open(db) as store:
        report = store.import_paths([family_corpus.dir])
        assert not report.errors and len(report.imported) == len(family_corpus.files)
    return db


@pytest.fixture
def corpus(tmp_path, family_corpus) -> FamilyCorpus:
    """A private copy of the corpus files (tests edit them to regenerate posts)."""
    target = tmp_path / "corpus"
    shutil.copytree(family_corpus.dir, target)
    files = {pid: target / path.name for pid, path in family_corpus.files.items()}
    return FamilyCorpus(
        target, files, family_corpus.planted, family_corpus.family, family_corpus.family_source
    )


@pytest.fixture
def db(tmp_path, family_template, corpus) -> Path:
    """A private copy of the imported store, its posts imported from ``corpus``'s files
    (same content, so a re-import of an edited file updates that post)."""
    target = tmp_path / "store"
    target.mkdir()
    new_db = target / family_template.name
    for suffix in ("", ".bak"):
        source = family_template.with_name(family_template.name + suffix)
        if source.exists():
            shutil.copy2(source, new_db.with_name(new_db.name + suffix))
    shutil.copytree(
        family_template.with_name(family_template.name + ".d"),
        new_db.with_name(new_db.name + ".d"),
    )
    return new_db
