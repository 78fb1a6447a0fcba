"""The ``copydesk`` command line. Every command goes through ``storage.Store``.

Exit codes: 0 ok, 1 a failure the user can act on (bad files, unknown id, damaged
store), 2 usage errors (unknown option, status or query field).
"""

from __future__ import annotations

from . import common, export, families, maintenance, posts, similar, synth, team, views
from .common import main

posts.register(main)
similar.register(main)
families.register(main)
synth.register(main)
export.register(main)
views.register(main)
maintenance.register(main)
team.register(main)

__all__ = ["common", "main"]
