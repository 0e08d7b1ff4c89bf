"""`python -m cnnlint.dev new-rule CODE NAME` | `rules-table [CODE ...]`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m cnnlint.dev", description="Tools for working on cnnlint.")
    sub = p.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new-rule", help="write a new static rule, its page and its test")
    new.add_argument("code", help="a free code, CNL1xx-CNL4xx")
    new.add_argument("name", help="kebab-case, e.g. gradients-never-cleared")
    new.add_argument("--root", default=ROOT, help="the checkout (default: this one)")
    rows = sub.add_parser("rules-table", help="print the README's rules table from the catalog")
    rows.add_argument("codes", nargs="*", help="only these rows")
    rows.add_argument("--write", metavar="README", nargs="?", const="README.md",
                      help="rewrite the table in README (default README.md) instead of printing it")
    args = p.parse_args(argv)
    if args.command == "rules-table":
        from cnnlint.dev.rules_table import table, write_readme

        if args.write:
            try:
                changed = write_readme(args.write)
            except (OSError, ValueError) as exc:
                print(f"cnnlint.dev: error: {args.write}: {exc}", file=sys.stderr)
                return 2
            print(f"{'rewrote' if changed else 'unchanged:'} the rules table in {args.write}")
            return 0
        sys.stdout.write(table(args.codes))
        return 0
    from cnnlint.dev.scaffold import new_rule

    try:
        written = new_rule(args.root, args.code, args.name)
    except (ValueError, OSError) as exc:
        print(f"cnnlint.dev: error: {exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print("next: fill in the TODOs (CONTRIBUTING.md), regenerate the README's rules table with "
          "`python -m cnnlint.dev rules-table --write`, run the tests")
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
