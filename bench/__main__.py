"""make bench: every benchmark in bench/, with ratios against a baseline in the same run.

    make bench                          # all of them
    make bench BENCH_ARGS=rest_api      # only the ones named (channels_page, payments_page, whitelist, rest_api, webhooks, schedules)
"""

import sys

from .harness import scratch_database, setup


def main() -> int:
    setup()
    from django.db import connection

    from . import channels_page, payments_page, rest_api, schedules, webhooks, whitelist

    modules = {m.__name__.rsplit(".", 1)[1]: m for m in (channels_page, payments_page, whitelist, rest_api, webhooks,
                                                        schedules)}
    wanted = sys.argv[1:] or list(modules)
    unknown = [name for name in wanted if name not in modules]
    if unknown:
        print(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(modules)}", file=sys.stderr)
        return 2
    print(f"database: {connection.vendor}")
    with scratch_database():
        for module in (modules[name] for name in wanted):
            for line in module.run():
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
