"""Drive yoyo-migrations' own API for `migration-creator test-apply`.

migration-creator starts this script once per run, with the Python of the
yoyo it found, in the private scratch folder that holds `scratch.db`. The
first line on stdin is the configuration; each later line is one command:

    {"op": "apply", "id": "0003_x"}      apply one migration (yoyo's apply_one)
    {"op": "rollback", "id": "0003_x"}   roll one back (yoyo's rollback_one)
    {"op": "hooks"}                      run the post-apply hooks
    {"op": "quit"}

Answers are JSON lines on the file descriptor that was stdout (yoyo's own
output, and any print() in a migration, goes to stderr): `ready` once, then
`step` for every step started and `done` for every command.

Every SQLite connection opened in this process is sealed: only the scratch
database may be opened, ATTACH (and with it VACUUM INTO) and load_extension()
are refused. Python callables in migrations still run arbitrary code.
"""

import json
import os
import sys
import threading
import time

EVENTS = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
sys.stdout = sys.stderr


def emit(event, **fields):
    fields["event"] = event
    EVENTS.write(json.dumps(fields) + "\n")
    EVENTS.flush()


def watch_parent(parent):
    # When migration-creator dies (even by SIGKILL), stop too.
    while True:
        time.sleep(0.2)
        if os.getppid() != parent:
            os._exit(70)


threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()

CONFIG = json.loads(sys.stdin.readline())
SCRATCH = os.path.realpath(CONFIG["database"])

import sqlite3  # noqa: E402
import _sqlite3  # noqa: E402
from urllib.parse import unquote  # noqa: E402

ORIGINAL = _sqlite3.Connection

STATE = {"refused": None, "refused_at": None, "touched": set(), "failed": None, "current": None}


def note_refusal(what):
    """Remember what the seal refused, and the step that asked for it."""
    if STATE["refused"] is None:
        STATE["refused"] = what
        STATE["refused_at"] = STATE["current"]

# Authorizer actions that write a table, and which argument names the table.
WRITES = {
    sqlite3.SQLITE_INSERT: 0,
    sqlite3.SQLITE_UPDATE: 0,
    sqlite3.SQLITE_DELETE: 0,
    sqlite3.SQLITE_CREATE_TABLE: 0,
    sqlite3.SQLITE_DROP_TABLE: 0,
    sqlite3.SQLITE_ALTER_TABLE: 1,
    sqlite3.SQLITE_CREATE_INDEX: 1,
    sqlite3.SQLITE_DROP_INDEX: 1,
    sqlite3.SQLITE_CREATE_TRIGGER: 1,
    sqlite3.SQLITE_DROP_TRIGGER: 1,
}


def authorizer(action, arg1, arg2, dbname, _source):
    if action == sqlite3.SQLITE_ATTACH and arg1 not in ("", ":memory:"):
        note_refusal("ATTACH of %r" % arg1)
        return sqlite3.SQLITE_DENY
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() == "load_extension":
        note_refusal("load_extension()")
        return sqlite3.SQLITE_DENY
    position = WRITES.get(action)
    if position is not None:
        name = (arg1, arg2)[position]
        if name and not name.startswith("sqlite_") and (dbname in (None, "main") or position == 1):
            STATE["touched"].add(name)
    return sqlite3.SQLITE_OK


def target(database, uri):
    """The file a connect() call would open, or None for a database in memory.

    A `file:` name is read as SQLite reads a URI (the last `mode` wins),
    whatever `uri` says, so no spelling reaches a file unseen."""
    name = os.fsdecode(os.fspath(database))
    if name in ("", ":memory:"):
        return None
    if name.startswith("file:"):
        path, _, query = name[5:].partition("?")
        path = path.partition("#")[0]
        modes = [unquote(v) for k, _, v in (p.partition("=") for p in query.split("&")) if unquote(k) == "mode"]
        path = unquote(path)
        if path.startswith("//"):
            rest = path[2:]
            path = rest[rest.index("/"):] if "/" in rest else ""
        if modes and modes[-1] == "memory" or path in ("", ":memory:"):
            return None
        name = path
    return os.path.realpath(name)


def check(database, uri):
    path = target(database, uri)
    if path is not None and path != SCRATCH:
        note_refusal("sqlite3.connect(%r)" % (database,))
        raise sqlite3.OperationalError(
            "opening %r is refused: only the scratch copy may be opened" % (database,)
        )


def seal(conn):
    ORIGINAL.set_authorizer(conn, authorizer)
    if conn.in_transaction is False:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA journal_mode = MEMORY")


class SealedConnection(ORIGINAL):
    def __init__(self, database, *args, **kwargs):
        uri = kwargs.get("uri", args[6] if len(args) > 6 else False)
        check(database, uri)
        super().__init__(database, *args, **kwargs)
        seal(self)

    def set_authorizer(self, *args, **kwargs):
        note_refusal("set_authorizer()")
        raise sqlite3.OperationalError("changing the authorizer of a sealed connection is refused")

    def enable_load_extension(self, *args, **kwargs):
        note_refusal("enable_load_extension()")
        raise sqlite3.OperationalError("loading extensions is refused")

    def load_extension(self, *args, **kwargs):
        note_refusal("load_extension()")
        raise sqlite3.OperationalError("loading extensions is refused")


_connect = sqlite3.connect


def sealed_connect(database, *args, **kwargs):
    kwargs.setdefault("factory", SealedConnection)
    if len(args) > 4:
        args = list(args)
        if args[4] is ORIGINAL:
            args[4] = SealedConnection
    conn = _connect(database, *args, **kwargs)
    if not isinstance(conn, SealedConnection):
        conn.close()
        raise sqlite3.OperationalError("a connection factory that is not sealed is refused")
    return conn


for module in (sqlite3, sqlite3.dbapi2, _sqlite3):
    module.connect = sealed_connect
    module.Connection = SealedConnection

from yoyo import get_backend, read_migrations  # noqa: E402
from yoyo import migrations as ym  # noqa: E402

# Step numbers as migration-creator counts them: the leaves of the step
# tree, groups flattened, in the order yoyo runs them.
INDEX = {}


def leaves(steps):
    for s in steps:
        inner = getattr(s, "step", s)
        if isinstance(inner, ym.StepGroup):
            yield from leaves(inner.steps)
        else:
            yield inner


def traced(direction, original):
    def run(self, backend, force=False):
        sql = self._apply if direction == "apply" else self._rollback
        step = INDEX.get(id(self))
        sql = sql if isinstance(sql, str) else None
        STATE["current"] = (step, sql)
        emit("step", step=step, sql=sql)
        try:
            return original(self, backend, force)
        except BaseException:
            if STATE["failed"] is None:
                STATE["failed"] = (step, sql)
            raise

    return run


ym.MigrationStep.apply = traced("apply", ym.MigrationStep.apply)
ym.MigrationStep.rollback = traced("rollback", ym.MigrationStep.rollback)


def unswallowed(original):
    """A step that went on after the seal refused something (its
    ignore_errors, or an exception a callable caught) fails here, as the
    native engine fails it: the same migration run on the real database
    would have reached another file."""

    def run(self, backend, force=False, direction="apply"):
        original(self, backend, force, direction)
        if STATE["refused"] is not None:
            STATE["failed"] = STATE["refused_at"]
            raise sqlite3.OperationalError(
                "%s was refused, and the migration went on without it "
                "(ignore_errors, or an exception it caught)" % STATE["refused"]
            )

    return run


for wrapper in (getattr(ym, "TransactionWrapper", None), getattr(ym, "Transactionless", None)):
    if wrapper is not None:
        wrapper.apply = unswallowed(wrapper.apply)


def describe(error):
    if isinstance(error, sqlite3.Error):
        return str(error)
    text = str(error)
    return "%s: %s" % (type(error).__name__, text) if text else type(error).__name__


def done_failed(migration, step, sql, error):
    emit(
        "done",
        ok=False,
        migration=migration,
        step=step,
        sql=sql,
        error=error,
        refused=STATE["refused"],
        touched=sorted(STATE["touched"]),
    )


def main():
    try:
        backend = get_backend("sqlite:///" + SCRATCH)
        migrations = read_migrations(CONFIG["sources"])
        errors = {}
        for m in list(migrations) + list(migrations.post_apply):
            emit("loading", migration=m.id)
            try:
                m.load()
            except BaseException as e:
                cause = e.args[1] if len(e.args) > 1 else e
                errors[m.id] = describe(cause)
                continue
            for i, leaf in enumerate(leaves(m.steps), start=1):
                INDEX[id(leaf)] = i
        # Every file is imported: what hangs now is not a migration's import.
        emit("loading", migration=None)
        if errors:
            emit("ready", ok=False, errors=errors)
            return
        pending = [m.id for m in backend.to_apply(migrations)]
    except BaseException as e:
        emit("ready", ok=False, errors={"": describe(e)})
        return
    by_id = {m.id: m for m in migrations}
    emit(
        "ready",
        ok=True,
        pending=pending,
        hooks=[m.id for m in migrations.post_apply],
        yoyo=getattr(sys.modules.get("yoyo"), "__version__", None),
    )
    for line in sys.stdin:
        command = json.loads(line)
        op = command["op"]
        if op == "quit":
            return
        STATE.update(refused=None, refused_at=None, failed=None, current=None)
        STATE["touched"] = set()
        migration = command.get("id")
        try:
            if op == "apply":
                backend.apply_one(by_id[migration])
            elif op == "rollback":
                backend.rollback_one(by_id[migration])
            elif op == "hooks":
                for hook in migrations.post_apply:
                    migration = hook.id
                    backend.apply_one(hook, mark=False)
            else:
                raise ValueError("unknown command %r" % op)
        except BaseException as e:
            step, sql = STATE["failed"] or STATE["current"] or (None, None)
            done_failed(migration, step, sql, describe(e))
            continue
        if STATE["refused"] is not None:
            # The migration went on without what the seal refused (an
            # ignore_errors step, an exception a callable caught): against
            # the real database it would have reached another file.
            step, sql = STATE["refused_at"] or (None, None)
            done_failed(
                migration,
                step,
                sql,
                "%s was refused, and the migration went on without it "
                "(ignore_errors, or an exception it caught)" % STATE["refused"],
            )
            continue
        emit("done", ok=True, touched=sorted(STATE["touched"]))


main()
