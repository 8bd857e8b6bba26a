"""On PostgreSQL the rollup table is UNLOGGED: it is derived data the engine rebuilds, and
skipping the write-ahead log makes a full recompute about a third faster. After a crash
PostgreSQL empties unlogged tables; the engine's sweep notices an empty table and rebuilds it.
(SQLite has no such option; nothing to do there.)"""

from django.db import migrations


def set_unlogged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE indicators_rollup SET UNLOGGED")


def set_logged(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE indicators_rollup SET LOGGED")


class Migration(migrations.Migration):
    dependencies = [("indicators", "0002_engine")]
    operations = [migrations.RunPython(set_unlogged, set_logged)]
