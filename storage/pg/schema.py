"""The PostgreSQL schema, as numbered migrations (``copydesk db init`` applies them).

One table per fact:

- ``posts``: the store of record, one row a post (the record and its hints as JSON, what
  the in-memory catalog needs of it, the lower-cased body text for quoted-phrase search,
  the file it came from and the sha256 of its bytes);
- ``catalogs``: the serialised catalog (``Catalog.to_bytes``) of each import generation,
  so a client opens by loading it instead of rebuilding it from every post;
- ``queue``: the needs-review posts in queue order, each with who holds it and until when
  (a claim is a lease on a queue row; ``SELECT ... FOR UPDATE SKIP LOCKED`` picks them) and
  how many reviewers decided it;
- ``decisions``: one row per post and reviewer (``status`` NULL: withdrawn by an undo);
- ``resolutions``: a settled dispute (wins over the decisions made before it);
- ``merge_conflicts``: a pushed or merged decision that differs from the same reviewer's
  decision on the server, kept until settled;
- ``views``, ``settings`` (``min_reviews``).

Every changed decision row carries the id of the transaction that wrote it (``txid``), so
a client asks only for the rows committed since the snapshot it last read; a notification
on channel ``copydesk`` wakes clients, and polling catches what a missed one would not.
"""

from __future__ import annotations

import psycopg

from ..errors import StoreError

CHANNEL = "copydesk"
# pg_advisory_xact_lock key of imports and migrations: one at a time
IMPORT_LOCK = 0x636F7079  # "copy"
MIGRATION_LOCK = 0x636F7078

# A reviewer's decision replacing their earlier one on the post (both below).
_DECISION_REPLACES = r"""    ON CONFLICT ON CONSTRAINT decisions_pkey DO UPDATE
       SET status = excluded.status,
           note = excluded.note,
           decided_at = excluded.decided_at,
           content_sha256 = excluded.content_sha256,
           spent_s = excluded.spent_s,
           request = excluded.request,
           seq = nextval('change_seq'),
           txid = pg_current_xact_id()
"""

# The decision function and procedure as migrations 1 and 2 made them (what they do: the
# SQL comments in _V1, the note before _V2); v3 replaces both with one change.
_DECIDE = (
    r"""CREATE FUNCTION copydesk_decide(
    p_reviewer text, p_posts text[], p_statuses text[], p_notes text[], p_shas text[],
    p_request uuid, p_times timestamptz[] DEFAULT NULL
) RETURNS TABLE (post_id text, reviewer text, status text, note text, decided_at timestamptz,
               content_sha256 text, seq bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    v_min integer := (SELECT s.value::integer FROM settings s WHERE s.key = 'min_reviews');
BEGIN
    PERFORM 1 FROM queue q WHERE q.post_id = ANY(p_posts) ORDER BY q.post_id FOR UPDATE;
    RETURN QUERY
    INSERT INTO decisions AS d
        (post_id, reviewer, status, note, decided_at, content_sha256, spent_s, request)
    SELECT i.post_id, p_reviewer, i.status,
           coalesce(i.note, (SELECT d0.note FROM decisions d0
                              WHERE d0.post_id = i.post_id AND d0.reviewer = p_reviewer), ''),
           coalesce(i.at, clock_timestamp()),
           coalesce(i.sha, (SELECT p.sha256 FROM posts p WHERE p.id = i.post_id), ''),
           (SELECT extract(epoch FROM clock_timestamp() - q.claimed_at)
              FROM queue q WHERE q.post_id = i.post_id AND q.holder = p_reviewer),
           p_request
      FROM unnest(p_posts, p_statuses, p_notes, p_shas,
                  coalesce(p_times, array_fill(NULL::timestamptz, ARRAY[cardinality(p_posts)])))
           AS i(post_id, status, note, sha, at)
"""
    + _DECISION_REPLACES
    + r"""    RETURNING d.post_id, d.reviewer, d.status, d.note, d.decided_at, d.content_sha256, d.seq;
    UPDATE queue q
       SET reviews = c.n,
           done = c.n >= v_min OR EXISTS (SELECT 1 FROM resolutions r WHERE r.post_id = q.post_id),
           holder = CASE WHEN q.holder = p_reviewer THEN NULL ELSE q.holder END,
           claimed_at = CASE WHEN q.holder = p_reviewer THEN NULL ELSE q.claimed_at END,
           lease_until = CASE WHEN q.holder = p_reviewer THEN NULL ELSE q.lease_until END
      FROM (SELECT q2.post_id,
                   (SELECT count(*) FROM decisions d2
                     WHERE d2.post_id = q2.post_id
                       AND d2.status IS NOT NULL AND d2.status <> 'pending') AS n
              FROM queue q2 WHERE q2.post_id = ANY(p_posts)) c
     WHERE q.post_id = c.post_id;
    -- no NOTIFY here: a notifying transaction holds the database's notify lock through
    -- its commit, fsync included, and every other notifier (claims) queues behind it. The
    -- client notifies after the commit, in a transaction that does not wait for the disk.
END $$;"""
)

_DECIDE_ONE = (
    r"""CREATE PROCEDURE copydesk_decide_one(
    p_reviewer text, p_post text, p_status text, p_note text, p_sha text, p_request uuid,
    p_time timestamptz,
    INOUT o_status text DEFAULT NULL, INOUT o_note text DEFAULT NULL,
    INOUT o_decided_at timestamptz DEFAULT NULL, INOUT o_sha text DEFAULT NULL,
    INOUT o_seq bigint DEFAULT NULL)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM 1 FROM queue q WHERE q.post_id = p_post FOR UPDATE;
    INSERT INTO decisions AS d
        (post_id, reviewer, status, note, decided_at, content_sha256, spent_s, request)
    VALUES (p_post, p_reviewer, p_status,
            coalesce(p_note, (SELECT d0.note FROM decisions d0
                               WHERE d0.post_id = p_post AND d0.reviewer = p_reviewer), ''),
            coalesce(p_time, clock_timestamp()),
            coalesce(p_sha, (SELECT p.sha256 FROM posts p WHERE p.id = p_post), ''),
            (SELECT extract(epoch FROM clock_timestamp() - q.claimed_at)
               FROM queue q WHERE q.post_id = p_post AND q.holder = p_reviewer),
            p_request)
"""
    + _DECISION_REPLACES
    + r"""    RETURNING d.status, d.note, d.decided_at, d.content_sha256, d.seq
         INTO o_status, o_note, o_decided_at, o_sha, o_seq;
    -- counted in a fresh snapshot, after the queue row lock (as copydesk_decide)
    UPDATE queue q
       SET reviews = c.n,
           done = c.n >= (SELECT s.value::integer FROM settings s WHERE s.key = 'min_reviews')
                  OR EXISTS (SELECT 1 FROM resolutions r WHERE r.post_id = q.post_id),
           holder = CASE WHEN q.holder = p_reviewer THEN NULL ELSE q.holder END,
           claimed_at = CASE WHEN q.holder = p_reviewer THEN NULL ELSE q.claimed_at END,
           lease_until = CASE WHEN q.holder = p_reviewer THEN NULL ELSE q.lease_until END
      FROM (SELECT count(*) AS n FROM decisions d2
             WHERE d2.post_id = p_post
               AND d2.status IS NOT NULL AND d2.status <> 'pending') c
     WHERE q.post_id = p_post;
    COMMIT;
    PERFORM set_config('synchronous_commit', 'off', true);
    PERFORM pg_notify('copydesk', 'decision');
END $$;"""
)

_V1 = (
    r"""
CREATE TABLE copydesk_schema (
    version integer PRIMARY KEY,
    migrated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE settings (
    key text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO settings (key, value) VALUES ('min_reviews', '1');

CREATE TABLE posts (
    id text COLLATE "C" PRIMARY KEY,
    queue_key text COLLATE "C" NOT NULL,
    needs_review boolean NOT NULL,
    sha256 text NOT NULL,
    path text NOT NULL,
    file_sha256 text NOT NULL,
    generation bigint NOT NULL,
    record text NOT NULL,
    hints text NOT NULL,
    body_text text NOT NULL,
    index_entry text NOT NULL
);
CREATE INDEX posts_file ON posts (file_sha256);

CREATE TABLE catalogs (
    generation bigint PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    posts integer NOT NULL,
    data bytea NOT NULL
);
ALTER TABLE catalogs ALTER COLUMN data SET STORAGE EXTERNAL;

CREATE TABLE queue (
    post_id text COLLATE "C" PRIMARY KEY,
    queue_key text COLLATE "C" NOT NULL,
    reviews integer NOT NULL DEFAULT 0,
    done boolean NOT NULL DEFAULT false,
    holder text,
    claimed_at timestamptz,
    lease_until timestamptz
);
CREATE INDEX queue_open ON queue (queue_key, post_id) WHERE NOT done;
CREATE INDEX queue_held ON queue (holder) WHERE holder IS NOT NULL;

CREATE SEQUENCE change_seq;

CREATE TABLE decisions (
    post_id text COLLATE "C" NOT NULL,
    reviewer text NOT NULL,
    status text CHECK (status IN ('pending', 'approved', 'rejected', 'changes_requested')),
    note text NOT NULL DEFAULT '',
    decided_at timestamptz NOT NULL,
    content_sha256 text NOT NULL DEFAULT '',
    spent_s double precision,
    request uuid,
    seq bigint NOT NULL DEFAULT nextval('change_seq'),
    txid xid8 NOT NULL DEFAULT pg_current_xact_id(),
    PRIMARY KEY (post_id, reviewer)
);
CREATE INDEX decisions_txid ON decisions (txid);
CREATE INDEX decisions_reviewer ON decisions (reviewer, decided_at);

CREATE TABLE resolutions (
    post_id text COLLATE "C" PRIMARY KEY,
    status text NOT NULL,
    note text NOT NULL DEFAULT '',
    reviewer text NOT NULL,
    decided_at timestamptz NOT NULL,
    content_sha256 text NOT NULL DEFAULT '',
    seq bigint NOT NULL DEFAULT nextval('change_seq'),
    txid xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX resolutions_txid ON resolutions (txid);

CREATE TABLE merge_conflicts (
    post_id text COLLATE "C" NOT NULL,
    reviewer text NOT NULL,
    status text NOT NULL,
    note text NOT NULL DEFAULT '',
    decided_at text NOT NULL DEFAULT '',
    content_sha256 text NOT NULL DEFAULT '',
    source text NOT NULL DEFAULT '',
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (post_id, reviewer)
);

CREATE TABLE views (
    name text PRIMARY KEY,
    query text NOT NULL,
    saved_at timestamptz NOT NULL DEFAULT now()
);

-- Decisions of one reviewer on many posts, each as its queue row allows: the queue rows are
-- locked first (in id order: no deadlock between two bulk decisions), then counted again
-- in a fresh snapshot, so two reviewers deciding one post at once both count.
-- A status NULL withdraws the decision; a note NULL keeps the current note.
"""
    + _DECIDE
    + r"""

-- The next needs-review posts for a reviewer, in queue order: open (not decided by enough
-- reviewers), not decided by them, not held by anyone else under a live lease.
-- A claim is a lease, soft state: its commit does not wait for the WAL flush (a server
-- crash can forget the last claims, which only makes those posts free again). Measured
-- with 8 claimers: median 14 ms waiting for fsync, see benchmarks/pg.py and the README.
CREATE FUNCTION copydesk_claim_next(p_reviewer text, p_count integer, p_lease_s double precision)
RETURNS SETOF text LANGUAGE plpgsql AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('synchronous_commit', 'off', true);
    RETURN QUERY
    UPDATE queue q
       SET holder = p_reviewer, claimed_at = now(),
           lease_until = now() + make_interval(secs => p_lease_s)
     WHERE q.post_id IN (
        SELECT c.post_id FROM queue c
         WHERE NOT c.done
           AND (c.holder IS NULL OR c.lease_until <= now())
           AND NOT EXISTS (SELECT 1 FROM decisions d
                            WHERE d.post_id = c.post_id AND d.reviewer = p_reviewer
                              AND d.status IS NOT NULL AND d.status <> 'pending')
         ORDER BY c.queue_key, c.post_id
         LIMIT p_count
         FOR UPDATE SKIP LOCKED)
    RETURNING q.post_id;
    IF FOUND THEN
        PERFORM pg_notify('copydesk', 'claim');
    END IF;
END $$;
"""
)

# v2: one decision in one round trip. ``copydesk_decide`` re-plans its statements at every
# call (an array parameter: the generic plan is never chosen), ~0.3 ms of a ~0.7 ms call,
# and the client then sent the notification in a second statement. For one post (what a
# reviewer's key press saves) this procedure takes scalar parameters, so its statements
# keep one generic plan (primary-key lookups), and does the notification itself: it
# commits the decision (synchronous commit: acknowledged means on disk), then notifies in
# a second transaction that does not wait for the disk (see the note in copydesk_decide
# on the notify lock). CALL it in autocommit (a procedure that commits cannot run inside a
# transaction block). The logic is copydesk_decide's for one post; tests/pg compare both.
_V2 = (
    r"""
"""
    + _DECIDE_ONE
    + r"""

-- The posts' large texts compressed with lz4, not pglz: the server's COPY of an import
-- spent most of its time compressing (10,000 posts, 110 MB: 3.5-4.7 s -> 1.9 s, the
-- same size). Values already stored stay pglz (both read alike); a server built
-- without lz4 keeps pglz.
DO $$
BEGIN
    IF current_setting('server_version_num')::integer >= 140000 THEN  -- SET COMPRESSION: 14+
        EXECUTE 'ALTER TABLE posts ALTER COLUMN record SET COMPRESSION lz4,
                                   ALTER COLUMN hints SET COMPRESSION lz4,
                                   ALTER COLUMN body_text SET COMPRESSION lz4,
                                   ALTER COLUMN index_entry SET COMPRESSION lz4';
    END IF;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'no lz4 on this server: posts stay compressed with pglz';
END $$;

-- The digest of each catalog, computed by the server from the bytes it holds: a client
-- that keeps a copy (storage/pg/catalog_cache.py) uses it only when it hashes to this.
ALTER TABLE catalogs ADD COLUMN sha256 text
    GENERATED ALWAYS AS (encode(sha256(data), 'hex')) STORED;
"""
)

# v3: a note keeps the claim. Saving a note on a pending post released the reviewer's
# claim as a decision does, so that the next reviewer could take the post being written
# about; now a claim ends with the reviewer's decision only (a status other than pending).
_RELEASED_BY_ANY_SAVE = "CASE WHEN q.holder = p_reviewer THEN"
_RELEASED_BY_A_DECISION = (
    "CASE WHEN q.holder = p_reviewer AND EXISTS (SELECT 1 FROM decisions d3"
    " WHERE d3.post_id = q.post_id AND d3.reviewer = p_reviewer"
    " AND d3.status IS NOT NULL AND d3.status <> 'pending') THEN"
)


def _keeping_claims_on_notes(definition: str) -> str:
    # holder, claimed_at and lease_until: each released under the same condition
    assert definition.count(_RELEASED_BY_ANY_SAVE) == 3, "the release clause moved"
    replaced = definition.replace(_RELEASED_BY_ANY_SAVE, _RELEASED_BY_A_DECISION)
    return replaced.replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1).replace(
        "CREATE PROCEDURE", "CREATE OR REPLACE PROCEDURE", 1
    )


_V3 = "\n\n".join(map(_keeping_claims_on_notes, (_DECIDE, _DECIDE_ONE)))

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3)
VERSION = len(MIGRATIONS)


class SchemaError(StoreError):
    """The database's schema is missing, older, or newer than this copydesk knows."""


def current_version(conn: psycopg.Connection) -> int:
    """The schema version of the database (0: no copydesk schema)."""
    row = conn.execute("SELECT to_regclass('copydesk_schema') IS NOT NULL").fetchone()
    if not row or not row[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM copydesk_schema").fetchone()
    return int(row[0]) if row else 0


def check(conn: psycopg.Connection, where: str) -> None:
    """Refuse a database whose schema this copydesk cannot use, with what to do."""
    version = current_version(conn)
    if version == VERSION:
        return
    if version > VERSION:
        raise SchemaError(
            f"{where}: the database schema is version {version}, newer than this copydesk "
            f"knows ({VERSION}); upgrade copydesk"
        )
    what = "has no copydesk schema" if version == 0 else f"has schema version {version}"
    raise SchemaError(
        f"{where}: {what}; run `copydesk db init --db URL` (this copydesk: {VERSION})"
    )


def migrate(conn: psycopg.Connection, where: str) -> tuple[int, int]:
    """Apply the missing migrations in one transaction. Returns (from, to) versions."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        before = current_version(conn)
        if before > VERSION:
            raise SchemaError(
                f"{where}: the database schema is version {before}, newer than this copydesk "
                f"knows ({VERSION}); upgrade copydesk"
            )
        for number in range(before + 1, VERSION + 1):
            conn.execute(MIGRATIONS[number - 1])
            conn.execute("INSERT INTO copydesk_schema (version) VALUES (%s)", (number,))
    return before, VERSION
