"""Print, as JSON, how yoyo-migrations reads a folder: the migrations in the
order yoyo applies them, with dependencies, transactional flag and steps.
Used by the tests to check our reader against the real yoyo."""
import json
import sys

from yoyo import read_migrations
from yoyo.migrations import StepGroup, topological_sort


def flatten(step):
    inner = getattr(step, "step", step)
    if isinstance(inner, StepGroup):
        for s in inner.steps:
            yield from flatten(s)
    else:
        yield [inner._apply, inner._rollback]


migrations = read_migrations(sys.argv[1])
for m in migrations:
    m.load()
out = []
for m in topological_sort(migrations):
    out.append(
        {
            "id": m.id,
            "depends": sorted(d.id for d in m.depends),
            "transactional": bool(m.use_transactions),
            "steps": [s for step in m.steps for s in flatten(step)],
        }
    )
json.dump({"migrations": out, "hooks": [h.id for h in migrations.post_apply]}, sys.stdout)
