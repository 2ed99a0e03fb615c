"""``python -m bulk_update.emulator``: run an emulator until Ctrl-C.

Every number among the quota and fault settings is an option, named after
its field (``write_rate`` -> ``--write-rate``) with the field's default.
"""

from __future__ import annotations

import argparse
from dataclasses import fields
from typing import Any

from .faults import FaultSettings
from .quotas import QuotaSettings
from .service import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bulk_update.emulator")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", default=None, help="JSON file of GetOpportunity records")
    parser.add_argument("--data", default=None, help="file that keeps state across restarts")
    numbers = [
        f
        for f in (*fields(QuotaSettings), *fields(FaultSettings))
        if type(f.default) in (int, float)
    ]
    for setting in numbers:
        flag = "--" + setting.name.replace("_", "-")
        parser.add_argument(flag, type=type(setting.default), default=setting.default)
    args = vars(parser.parse_args(argv))
    settings: dict[str, Any] = {f.name: args[f.name] for f in numbers}
    serve(port=args["port"], seed=args["seed"], data_file=args["data"], **settings)


if __name__ == "__main__":
    main()
