"""make bench: every benchmark in bench/, with ratios against a baseline in the same run."""

import sys

from .harness import scratch_database, setup


def main() -> int:
    setup()
    from django.db import connection

    from . import channels_page, rest_api, webhooks, whitelist

    print(f"database: {connection.vendor}")
    with scratch_database():
        for module in (channels_page, whitelist, rest_api, webhooks):
            for line in module.run():
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
