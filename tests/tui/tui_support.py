"""Helpers shared by the TUI tests (imported by name: pytest puts this folder on sys.path)."""

from __future__ import annotations

import io

from rich.console import Console
from textual.app import App

from tui.gateway import StoreGateway

# A title that is Rich markup, a link to a local file and terminal escapes (an OSC title
# sequence, colours): it must show literally, and nothing of it reach the terminal.
HOSTILE_TITLE = (
    "fixing [/] closing tags [link=file:///etc/passwd]x[/link] [bold red]x[/bold red]"
    "\x1b]0;PWNED-TITLE\x07 \x1b[31mred\x1b[0m"
)


class Host(App[None]):
    """Pushes one screen and records what it dismisses with. With a ``store``, the app
    has a gateway to it, and ``make_screen`` is called with the gateway."""

    def __init__(self, make_screen, *, store=None) -> None:
        super().__init__()
        self._make_screen = make_screen
        self.results: list = []
        self.keymap_overrides: dict[str, str] = {}
        self.gateway = StoreGateway(store) if store is not None else None

    def on_mount(self) -> None:
        screen = self._make_screen(self.gateway) if self.gateway else self._make_screen()
        self.push_screen(screen, callback=self.results.append)

    def on_unmount(self) -> None:
        if self.gateway is not None:
            self.gateway.close()


def plain(renderable, width: int = 200) -> str:
    console = Console(width=width, file=io.StringIO(), record=True, color_system=None)
    console.print(renderable)
    return console.export_text()


def flat(text: str) -> str:
    """Text with wrapping undone (runs of whitespace become one space)."""
    return " ".join(text.split())


def static_text(widget) -> str:
    """What a widget shows: the rendered lines of a line view, else its renderable."""
    text = getattr(widget, "text", None)
    if isinstance(text, str):
        return text
    renderable = getattr(widget, "renderable", None)
    return plain(renderable if renderable is not None else widget.content)


# A store for the family features: a synthesized corpus (with the synthesizer's planted
# near copies) and a hand-planted family of FAMILY_COPIES copies of its first post, so
# one cluster has more posts than the Near duplicates screen's post list shows.
FAMILY_CORPUS_SIZE = 240
FAMILY_COPIES = 18


def copy_reference(number: int) -> str:
    return f"anp-ref-99{number:04d}-{number:04d}"


def build_family_store(directory, copies: int = FAMILY_COPIES):
    """Synthesize the corpus into ``directory/corpus``, plant ``copies`` copies of its
    first post (new references, titles "... (copy N)"), import it into
    ``directory/db/db.json``; returns (db path, the first post's id, the copies' ids)."""
    from pathlib import Path

    import seeds
    from seeds.synth import synthesize
    from storage import Store

    directory = Path(directory)
    corpus = directory / "corpus"
    paths = synthesize(FAMILY_CORPUS_SIZE, corpus, seed=5)
    source = seeds.read_file(paths[0])
    text = paths[0].read_text(encoding="utf-8")
    ids = []
    for number in range(copies):
        reference = copy_reference(number)
        copy = text.replace(source.reference, reference).replace(
            source.title, f"{source.title} (copy {number + 1})", 1
        )
        (corpus / f"copy_{number:02d}.txt").write_text(copy, encoding="utf-8")
        ids.append(reference)
    db = directory / "db" / "db.json"
    with Store.open(db) as store:
        report = store.import_paths([corpus])
        assert report.ok and len(report.imported) == FAMILY_CORPUS_SIZE + copies
        assert sorted([source.id, *ids]) in store.clusters()
    return db, source.id, ids


def copy_store_files(template_db, directory):
    """A private copy of a store (the manifest, its .bak and the .d directory)."""
    import shutil
    from pathlib import Path

    template_db, directory = Path(template_db), Path(directory)
    directory.mkdir(parents=True)
    for suffix in ("", ".bak"):
        source = template_db.with_name(template_db.name + suffix)
        if source.exists():
            shutil.copy2(source, directory / source.name)
    shutil.copytree(
        template_db.with_name(template_db.name + ".d"), directory / (template_db.name + ".d")
    )
    return directory / template_db.name
