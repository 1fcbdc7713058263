"""Every write to a whitelist rule bumps its merchant's ``updated_at``, in the database.

The REST API keeps one compiled whitelist per merchant in each process, keyed on
``Merchant.updated_at`` (``console.api.selectors.whitelist_allows``), which it reads with the
merchant at no extra cost. A trigger makes that key follow the rules whoever writes them: the
Whitelist page, the admin, the ORM (``.delete()``, ``.update()``, ``bulk_create``) or SQL. So
a deleted rule stops admitting calls from the next call on, in every process.

PostgreSQL and SQLite are the databases the project runs on; another does nothing here.
"""

from django.db import migrations

NAME = "console_whitelist_rule_touches_merchant"


def _tables(apps):
    merchant = apps.get_model("console", "Merchant")._meta.db_table
    rule = apps.get_model("console", "WhitelistRule")._meta.db_table
    return merchant, rule


def create_triggers(apps, schema_editor):
    vendor, q = schema_editor.connection.vendor, schema_editor.quote_name
    merchant, rule = (q(t) for t in _tables(apps))
    if vendor == "postgresql":
        # Always later than the value it replaces: the clock (clock_timestamp(), not now(), so
        # two changes in one transaction differ), or a microsecond more.
        bump = "GREATEST(clock_timestamp(), updated_at + interval '1 microsecond')"
        schema_editor.execute(f"""
            CREATE OR REPLACE FUNCTION {NAME}() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.merchant_id <> NEW.merchant_id) THEN
                    UPDATE {merchant} SET updated_at = {bump} WHERE id = OLD.merchant_id;
                END IF;
                IF TG_OP <> 'DELETE' THEN
                    UPDATE {merchant} SET updated_at = {bump} WHERE id = NEW.merchant_id;
                END IF;
                RETURN NULL;
            END;
            $$
        """, params=None)
        schema_editor.execute(f"""
            CREATE TRIGGER {NAME} AFTER INSERT OR UPDATE OR DELETE ON {rule}
            FOR EACH ROW EXECUTE FUNCTION {NAME}()
        """, params=None)
    elif vendor == "sqlite":
        # Django stores a datetime as text that sorts in time order; SQLite's clock counts
        # milliseconds (%f), so a change within the same millisecond takes one more.
        now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
        bump = (f"CASE WHEN {now} > updated_at THEN {now} "
                "ELSE strftime('%Y-%m-%d %H:%M:%f', julianday(updated_at) + 0.001 / 86400) END")
        for event, ids in (("INSERT", "NEW.merchant_id"), ("DELETE", "OLD.merchant_id"),
                           ("UPDATE", "OLD.merchant_id, NEW.merchant_id")):
            schema_editor.execute(f"""
                CREATE TRIGGER {NAME}_{event.lower()} AFTER {event} ON {rule}
                BEGIN
                    UPDATE {merchant} SET updated_at = {bump} WHERE id IN ({ids});
                END
            """, params=None)


def drop_triggers(apps, schema_editor):
    vendor, q = schema_editor.connection.vendor, schema_editor.quote_name
    _merchant, rule = (q(t) for t in _tables(apps))
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {NAME} ON {rule}", params=None)
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {NAME}()", params=None)
    elif vendor == "sqlite":
        for event in ("insert", "delete", "update"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {NAME}_{event}", params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("console", "0009_admin_action_permissions"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers),
    ]
