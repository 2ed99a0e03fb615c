"""``python -m bulk_update.emulator``: run an emulator until Ctrl-C."""

from __future__ import annotations

import argparse

from .service import serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bulk_update.emulator")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", default=None, help="JSON file of GetOpportunity records")
    parser.add_argument("--data", default=None, help="file that keeps state across restarts")
    parser.add_argument("--write-rate", type=float, default=1.0)
    parser.add_argument("--read-rate", type=float, default=10.0)
    parser.add_argument("--write-burst", type=float, default=1.0)
    parser.add_argument("--read-burst", type=float, default=10.0)
    parser.add_argument("--fault-rate", type=float, default=0.0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    serve(
        port=args.port,
        seed=args.seed,
        data_file=args.data,
        write_rate=args.write_rate,
        read_rate=args.read_rate,
        fault_rate=args.fault_rate,
        write_burst=args.write_burst,
        read_burst=args.read_burst,
        latency=args.latency,
    )


if __name__ == "__main__":
    main()
