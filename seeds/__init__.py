"""The seed reader: one alphanode seed document in, a `Post` out.

    from seeds import parse, read_file, ParseError
    post = read_file("seeds/samples/000_d88866b715cabc30.txt")
    post.id, post.title, post.to_dict()

The format is described in shared/seed-format.md; see `reader`, `body` and `meta`.
"""

from seeds.meta import FIELDS, Field, snake_case
from seeds.reader import ParseError, Post, decode, parse, read_file
from seeds.regular_file import MAX_SEED_BYTES, UnreadableFile, read_regular_file

__all__ = [
    "FIELDS",
    "MAX_SEED_BYTES",
    "Field",
    "ParseError",
    "Post",
    "UnreadableFile",
    "decode",
    "parse",
    "read_file",
    "read_regular_file",
    "snake_case",
]
