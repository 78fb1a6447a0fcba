"""The ``copydesk`` command line. Every command goes through ``storage.Store``.

Exit codes: 0 ok, 1 a failure the user can act on (bad files, unknown id, damaged
store), 2 usage errors (unknown option, status or query field).

A command's module is imported when that command runs (``SafeGroup.lazy_commands``): a
one-post command (`show`, `review`) starts without the imports of the others.
"""

from __future__ import annotations

from . import common
from .common import main, run

# command name -> module (of this package):attribute; a new command is added here
COMMANDS = {
    "import": "posts:import_cmd",
    "finish-import": "posts:finish_import_cmd",
    "list": "posts:list_cmd",
    "show": "posts:show_cmd",
    "review": "posts:review_cmd",
    "similar": "similar:similar_cmd",
    "clusters": "families:clusters_cmd",
    "keep": "families:keep_cmd",
    "diff": "families:diff_cmd",
    "boilerplate": "families:boilerplate_cmd",
    "hints-report": "families:hints_report_cmd",
    "synth": "synth:synth_cmd",
    "export": "export:export_cmd",
    "import-reviews": "export:import_reviews_cmd",
    "conflicts": "export:conflicts_cmd",
    "views": "views:views_cmd",
    "repair": "maintenance:repair_cmd",
    "db": "team:db_cmd",
    "push": "team:push_cmd",
    "claim": "team:claim_cmd",
    "release": "team:release_cmd",
    "claims": "team:claims_cmd",
    "agreement": "team:agreement_cmd",
    "stats": "team:stats_cmd",
}

main.lazy_commands.update({name: f"{__name__}.{target}" for name, target in COMMANDS.items()})

__all__ = ["COMMANDS", "common", "main", "run"]
