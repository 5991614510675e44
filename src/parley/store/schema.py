"""The SQLite schema. Every table is scoped by (account, region); records are JSON documents
with the columns the queries need beside them."""

from __future__ import annotations

VERSION = 3

# Tables a state snapshot (`parley export`) leaves out: the token secret (and the shared virtual clock), ClientToken
# records, whose stored responses hold ParticipantTokens, and the nodes' leases. Every other table is exported and
# imported as it is.
NOT_EXPORTED = frozenset({"meta", "idempotency", "leases", "active_counts"})

# Active contacts (active=1) per instance and channel, so that StartChatContact's quota check reads a few rows
# however many chats the instance holds. Triggers on `contacts` keep it (SQLITE_COUNTING here, PostgreSQL's in
# postgres_schema.py), so every writer of contacts does: a unit, a snapshot's rows, a reset. A count is split
# into 16 slots by the contact id's last character, so that on PostgreSQL two chats starting or ending at once
# in one instance seldom write the same row (which would make one of the two units run again).
ACTIVE_COUNTS_KEY = "account, region, instance_id, channel, slot"
ACTIVE_COUNTS_TABLE = f"""CREATE TABLE IF NOT EXISTS active_counts (account TEXT NOT NULL, region TEXT NOT NULL,
    instance_id TEXT NOT NULL, channel TEXT NOT NULL, slot TEXT NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY ({ACTIVE_COUNTS_KEY}))"""
_SQLITE_SLOT = "substr({row}.id, -1)"
SQLITE_COUNTING: tuple[str, ...] = (
    f"""CREATE TRIGGER IF NOT EXISTS active_counts_added AFTER INSERT ON contacts WHEN NEW.active=1 BEGIN
        INSERT INTO active_counts VALUES (NEW.account, NEW.region, NEW.instance_id, NEW.channel,
        {_SQLITE_SLOT.format(row="NEW")}, 1) ON CONFLICT ({ACTIVE_COUNTS_KEY}) DO UPDATE SET count=count+1; END""",
    f"""CREATE TRIGGER IF NOT EXISTS active_counts_changed AFTER UPDATE OF active, instance_id, channel ON contacts
        WHEN OLD.active IS NOT NEW.active OR OLD.instance_id IS NOT NEW.instance_id
        OR OLD.channel IS NOT NEW.channel BEGIN
        UPDATE active_counts SET count=count-1 WHERE OLD.active=1 AND account=OLD.account AND region=OLD.region
        AND instance_id=OLD.instance_id AND channel=OLD.channel AND slot={_SQLITE_SLOT.format(row="OLD")};
        INSERT INTO active_counts SELECT NEW.account, NEW.region, NEW.instance_id, NEW.channel,
        {_SQLITE_SLOT.format(row="NEW")}, 1 WHERE NEW.active=1
        ON CONFLICT ({ACTIVE_COUNTS_KEY}) DO UPDATE SET count=count+1; END""",
    f"""CREATE TRIGGER IF NOT EXISTS active_counts_removed AFTER DELETE ON contacts WHEN OLD.active=1 BEGIN
        UPDATE active_counts SET count=count-1 WHERE account=OLD.account AND region=OLD.region
        AND instance_id=OLD.instance_id AND channel=OLD.channel AND slot={_SQLITE_SLOT.format(row="OLD")}; END""",
)


def active_counts_backfill(slot: str) -> str:
    """A database from before the counts gets them once: the table is empty while active contacts exist
    (from then on the triggers keep it, and a count that drops to 0 keeps its row). `slot` is the dialect's
    last character of `id`."""
    return (
        f"INSERT INTO active_counts SELECT account, region, instance_id, channel, {slot}, COUNT(*) FROM contacts"
        f" WHERE active=1 AND NOT EXISTS (SELECT 1 FROM active_counts) GROUP BY account, region, instance_id,"
        f" channel, {slot}"
    )


STATEMENTS: tuple[str, ...] = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS instances (
        account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, alias TEXT,
        doc TEXT NOT NULL, PRIMARY KEY (account, region, id))""",
    "CREATE INDEX IF NOT EXISTS instances_alias ON instances (account, region, alias)",
    """CREATE TABLE IF NOT EXISTS flows (
        account TEXT NOT NULL, region TEXT NOT NULL, instance_id TEXT NOT NULL, id TEXT NOT NULL,
        name TEXT NOT NULL, type TEXT NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (account, region, instance_id, id))""",
    "CREATE UNIQUE INDEX IF NOT EXISTS flows_name ON flows (account, region, instance_id, name)",
    """CREATE TABLE IF NOT EXISTS contacts (
        account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, instance_id TEXT NOT NULL,
        chain_id TEXT NOT NULL, channel TEXT NOT NULL, active INTEGER NOT NULL,
        scheduled_end REAL NOT NULL, initiated REAL NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (account, region, id))""",
    """CREATE INDEX IF NOT EXISTS contacts_active
        ON contacts (account, region, instance_id, channel, active, scheduled_end)""",
    "CREATE INDEX IF NOT EXISTS contacts_id ON contacts (id)",
    "CREATE INDEX IF NOT EXISTS contacts_chain ON contacts (account, region, chain_id, initiated)",
    """CREATE TABLE IF NOT EXISTS participants (
        account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, contact_id TEXT NOT NULL,
        doc TEXT NOT NULL, PRIMARY KEY (account, region, id))""",
    "CREATE INDEX IF NOT EXISTS participants_contact ON participants (account, region, contact_id)",
    "CREATE INDEX IF NOT EXISTS participants_id ON participants (id)",
    """CREATE TABLE IF NOT EXISTS items (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, region TEXT NOT NULL,
        chain_id TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL, persisted INTEGER NOT NULL,
        doc TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS items_chain ON items (account, region, chain_id, persisted, seq)",
    "CREATE UNIQUE INDEX IF NOT EXISTS items_id ON items (id)",
    """CREATE TABLE IF NOT EXISTS idempotency (
        account TEXT NOT NULL, region TEXT NOT NULL, key TEXT NOT NULL, fingerprint TEXT NOT NULL,
        response TEXT NOT NULL, expires REAL NOT NULL, PRIMARY KEY (account, region, key))""",
    # version 3: attachments (their bytes beside the record) and admin-registered views
    """CREATE TABLE IF NOT EXISTS attachments (
        account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, contact_id TEXT NOT NULL,
        doc TEXT NOT NULL, data BLOB, PRIMARY KEY (account, region, id))""",
    "CREATE INDEX IF NOT EXISTS attachments_contact ON attachments (account, region, contact_id)",
    "CREATE INDEX IF NOT EXISTS attachments_id ON attachments (id)",
    """CREATE TABLE IF NOT EXISTS views (
        account TEXT NOT NULL, region TEXT NOT NULL, token TEXT NOT NULL, doc TEXT NOT NULL,
        PRIMARY KEY (account, region, token))""",
    # flows.md §3.1: a chat's flow record (its run's state, hooks, trail), kept so that a waiting run resumes
    """CREATE TABLE IF NOT EXISTS flow_runs (
        account TEXT NOT NULL, region TEXT NOT NULL, contact_id TEXT NOT NULL, live INTEGER NOT NULL,
        doc TEXT NOT NULL, PRIMARY KEY (account, region, contact_id))""",
    "CREATE INDEX IF NOT EXISTS flow_runs_live ON flow_runs (live)",
    # queues, hours of operation and Lambda functions (flows.md §5.4, §7); `queued` indexes the contacts
    # waiting in a queue (kept by put_contact), so capacity and the admin's queue view never scan contacts
    """CREATE TABLE IF NOT EXISTS hours (
        account TEXT NOT NULL, region TEXT NOT NULL, instance_id TEXT NOT NULL, id TEXT NOT NULL,
        name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, instance_id, id))""",
    """CREATE TABLE IF NOT EXISTS queues (
        account TEXT NOT NULL, region TEXT NOT NULL, instance_id TEXT NOT NULL, id TEXT NOT NULL,
        name TEXT NOT NULL, type TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, instance_id, id))""",
    "CREATE UNIQUE INDEX IF NOT EXISTS queues_name ON queues (account, region, instance_id, name)",
    """CREATE TABLE IF NOT EXISTS lambda_functions (
        account TEXT NOT NULL, region TEXT NOT NULL, instance_id TEXT NOT NULL, arn TEXT NOT NULL,
        doc TEXT NOT NULL, PRIMARY KEY (account, region, instance_id, arn))""",
    """CREATE TABLE IF NOT EXISTS queued (
        account TEXT NOT NULL, region TEXT NOT NULL, contact_id TEXT NOT NULL, instance_id TEXT NOT NULL,
        queue_id TEXT NOT NULL, enqueued REAL NOT NULL, scheduled_end REAL NOT NULL,
        PRIMARY KEY (account, region, contact_id))""",
    "CREATE INDEX IF NOT EXISTS queued_queue ON queued (account, region, instance_id, queue_id, enqueued)",
    "CREATE INDEX IF NOT EXISTS queued_end ON queued (account, region, instance_id, queue_id, scheduled_end)",
    # chat message streaming: streams (counters beside the record) and their outbox, in item order
    """CREATE TABLE IF NOT EXISTS streams (
        account TEXT NOT NULL, region TEXT NOT NULL, id TEXT NOT NULL, chain_id TEXT NOT NULL,
        instance_id TEXT NOT NULL, contact_id TEXT NOT NULL, state TEXT NOT NULL, doc TEXT NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0, filtered INTEGER NOT NULL DEFAULT 0, last_error TEXT,
        last_delivered_at REAL, PRIMARY KEY (account, region, id))""",
    "CREATE INDEX IF NOT EXISTS streams_chain ON streams (account, region, chain_id, state)",
    "CREATE UNIQUE INDEX IF NOT EXISTS streams_id ON streams (id)",
    """CREATE TABLE IF NOT EXISTS stream_outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, streaming_id TEXT NOT NULL, state TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0, first_at REAL, last_error TEXT, done_at REAL, item TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS stream_outbox_stream ON stream_outbox (streaming_id, state, seq)",
    # expired ClientToken records are swept by expiry (sql_repo.SWEEP_EVERY)
    "CREATE INDEX IF NOT EXISTS idempotency_expires ON idempotency (expires)",
    ACTIVE_COUNTS_TABLE,
    # several nodes: which node holds a flow run or a stream's delivery (`flow:<contact>`, `stream:<id>`) and
    # until when (epoch seconds, wall time even under a virtual clock: a node's death is measured in real time)
    "CREATE TABLE IF NOT EXISTS leases (name TEXT PRIMARY KEY, holder TEXT NOT NULL, expires REAL NOT NULL)",
)
