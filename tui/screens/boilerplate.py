"""Repeated passages (``B``, the Views list, the palette): a template's boilerplate.

``storage.boilerplate.find_boilerplate`` reads every post once (``iter_posts``) on the store
thread, through the gateway, ``CHUNK`` posts a call from a thread worker (a decision
waits for one chunk, not the pass; closing the screen stops it); until it is done the
screen says "finding repeated passages…". The list holds the passages held by most posts
first, with how many posts hold each; the highlighted one's full text shows below it. ``enter`` closes the
screen with the passage's phrase query as a ``ViewChoice``: the review screen lists its
posts as it does for a view. Text is shown literally (``tui.text``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from concurrent.futures import CancelledError
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from storage import ReviewStore, StoreError
from storage.boilerplate import DEFAULT_MIN_POSTS, Boilerplate, find_boilerplate
from tui.gateway import StoreGateway
from tui.keymap import BOILERPLATE_BINDINGS, CLOSE_BINDINGS, keys_for
from tui.screens.views import QUERY, ViewChoice
from tui.text import clean, clean_line
from tui.widgets.key_list import ScreenEnterList

__all__ = ["CHUNK", "MAX_PASSAGES", "BoilerplateScreen", "ChunkedPosts", "Passages"]

MAX_PASSAGES = 1000  # the passages held by most posts; the header says when there are more
CHUNK = 500  # posts read in one store call


class Passages:
    """What the screen lists: the first ``MAX_PASSAGES`` findings, of ``found`` in all, in
    ``posts`` posts read."""

    def __init__(self, items: list[Boilerplate], found: int, posts: int) -> None:
        self.items = items
        self.found = found
        self.posts = posts


class ChunkedPosts:
    """Every post dict of the store, read on the store thread ``CHUNK`` posts a call
    (``background=True``), so a decision waits for one chunk at most, not the whole pass
    (~10 s at 100,000 posts), and the pass stops when ``cancelled()`` says so. The
    ``iter_posts`` generator lives between calls and is only advanced on the store
    thread. Iterated from a thread worker (``call_blocking``), never the UI thread."""

    def __init__(self, gateway: StoreGateway, cancelled: Callable[[], bool]) -> None:
        self._gateway = gateway
        self._cancelled = cancelled
        self._posts: Iterator[dict[str, Any]] | None = None
        self.read = 0

    def _chunk(self, store: ReviewStore) -> list[dict[str, Any]]:
        if self._posts is None:
            self._posts = iter(store.iter_posts())
        return list(itertools.islice(self._posts, CHUNK))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while not self._cancelled():
            chunk = self._gateway.call_blocking(self._chunk, background=True)
            if not chunk:
                return
            self.read += len(chunk)
            yield from chunk


def passage_prompt(item: Boilerplate) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"{item.posts:>6,} posts  ", style="bold #e5c07b")
    text.append(f"{item.kind:<9}  ", style="#7f848e")
    text.append(clean_line(item.text, max_chars=300))
    return text


def passage_name(item: Boilerplate) -> str:
    """The view name the review screen shows for a passage's posts."""
    words = item.text.split()
    short = " ".join(words[:6]) + (" …" if len(words) > 6 else "")
    return f"repeated: {short}"


class BoilerplateScreen(Screen[ViewChoice | None]):
    """``BoilerplateScreen(gateway)``; dismisses with a query ``ViewChoice`` or None."""

    BINDINGS: ClassVar = [*CLOSE_BINDINGS, *BOILERPLATE_BINDINGS]

    DEFAULT_CSS = """
    BoilerplateScreen { layout: vertical; }
    BoilerplateScreen #boilerplate-header {
        height: 1; padding: 0 1; text-wrap: nowrap; text-overflow: ellipsis;
    }
    BoilerplateScreen #boilerplate-list {
        height: 1fr; border: round $accent; text-wrap: nowrap; text-overflow: ellipsis;
    }
    BoilerplateScreen #boilerplate-text-scroll {
        height: 9; border: round $accent; padding: 0 1;
    }
    BoilerplateScreen #boilerplate-text { height: auto; }
    """

    def __init__(self, gateway: StoreGateway, *, min_posts: int = DEFAULT_MIN_POSTS) -> None:
        super().__init__(id="boilerplate")
        self._gateway = gateway
        self._min_posts = min_posts
        self.passages: Passages | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text("finding repeated passages…", style="italic"), id="boilerplate-header")
        yield ScreenEnterList(
            Option(Text("finding repeated passages…", style="dim italic")), id="boilerplate-list"
        )
        with VerticalScroll(id="boilerplate-text-scroll"):
            yield Static("", id="boilerplate-text")
        yield Footer()

    def on_mount(self) -> None:
        options = self.query_one("#boilerplate-list", OptionList)
        options.border_title = "Repeated passages, most posts first"
        self.query_one("#boilerplate-text-scroll").border_title = "Passage"
        options.focus()
        self._load()

    @property
    def items(self) -> list[Boilerplate]:
        return self.passages.items if self.passages is not None else []

    @work(exclusive=True, group="boilerplate", thread=True)
    def _load(self) -> None:
        worker = get_current_worker()
        posts = ChunkedPosts(self._gateway, lambda: worker.is_cancelled)
        try:
            found = find_boilerplate(posts, min_posts=self._min_posts)
        except CancelledError:  # the app is closing: the gateway no longer runs calls
            return
        except (StoreError, OSError) as error:
            message = Text(f"cannot read the posts: {clean_line(error)}", style="red")
            self.app.call_from_thread(self._header, message)
            return
        if not worker.is_cancelled:
            passages = Passages(found[:MAX_PASSAGES], len(found), posts.read)
            self.app.call_from_thread(self._show, passages)

    def _header(self, text: Text) -> None:
        if not self.is_attached:
            return
        self.query_one("#boilerplate-header", Static).update(text)

    def _keys(self, binding_id: str) -> str:
        keys = keys_for(binding_id, self.app.keymap_overrides)  # type: ignore[attr-defined]
        return "/".join(self.app.get_key_display(Binding(key, "")) for key in keys)

    def _show(self, passages: Passages) -> None:
        if not self.is_attached:
            return
        self.passages = passages
        header = Text(no_wrap=True, overflow="ellipsis")
        header.append(
            f"{passages.found:,} sentences and paragraphs held by at least "
            f"{self._min_posts} of {passages.posts:,} posts",
            style="bold",
        )
        if len(passages.items) < passages.found:
            header.append(f" (the {len(passages.items):,} held by most shown)", style="yellow")
        if passages.items:
            header.append(f"  {self._keys('boilerplate_open')} show its posts", style="dim")
        header.append(f"  {self._keys('close')} back", style="dim")
        self._header(header)
        options = self.query_one("#boilerplate-list", OptionList)
        options.clear_options()
        if not passages.items:
            options.add_option(
                Option(Text("No sentence or paragraph is repeated that often.", style="bold"))
            )
            options.disabled = True
            return
        options.add_options(Option(passage_prompt(item)) for item in passages.items)
        options.highlighted = 0
        self._show_text(0)

    def _show_text(self, index: int | None) -> None:
        body = self.query_one("#boilerplate-text", Static)
        items = self.items
        if index is None or not 0 <= index < len(items):
            body.update("")
            return
        item = items[index]
        text = Text()
        text.append(f"{item.posts:,} posts hold this {item.kind}", style="bold #e5c07b")
        text.append("  query ", style="#7f848e")
        text.append(clean_line(item.query, max_chars=None), style="#7f848e")
        text.append("\n")
        text.append(clean(item.text))
        body.update(text)

    @property
    def highlighted_item(self) -> Boilerplate | None:
        index = self.query_one("#boilerplate-list", OptionList).highlighted
        items = self.items
        return items[index] if index is not None and 0 <= index < len(items) else None

    @on(OptionList.OptionHighlighted, "#boilerplate-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show_text(event.option_index)

    @on(OptionList.OptionSelected, "#boilerplate-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_open_passage()

    def action_open_passage(self) -> None:
        item = self.highlighted_item
        if item is None:
            message = (
                "Still finding repeated passages." if self.passages is None else "Nothing here."
            )
            self.notify(message, severity="warning", markup=False, timeout=3)
            return
        self.dismiss(ViewChoice(QUERY, passage_name(item), item.query))

    def action_close(self) -> None:
        self.dismiss(None)
