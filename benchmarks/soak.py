"""A bounded soak: apply runs killed with SIGKILL at random moments, resumed, under server faults.

Each round starts an emulator with faults (server errors, writes kept then
answered 500, answers dropped after the write, latency), applies a sheet of
changed rows with ``bulk-update apply`` in a child process, kills it with
SIGKILL after a random delay, resumes it (sometimes killing the resume too),
until the run folder says it finished.  Then it checks, against the
emulator's own records and write counters:

- every row holds its new value (none lost);
- no record was written more than once per row (none written twice);
- no field outside the row's column changed;
- the journal's ``updated`` rows are exactly the rows the server wrote, so a
  rollback covers every write that landed; then a rollback is run and every
  record must be back to its value before the round.

Usage: ``python benchmarks/soak.py [--rounds N] [--rows N] [--seconds S] [--seed N]``.
It prints what it checked and its figures; it exits 1 on the first broken check.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bulk_update.emulator import Emulator
from bulk_update.run.folder import RunFolder

SAMPLES = Path(__file__).resolve().parent.parent / "samples" / "opportunities.json"
FAULTS = {
    "fault_rate": 0.05,
    "error_after_write_rate": 0.05,
    "drop_after_write_rate": 0.05,
    "latency": 0.005,
}


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bulk_update", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def _strip(record: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(record)
    out.pop("LastModifiedDate", None)
    out.get("LifeCycle", {}).pop("NextStepsHistory", None)
    out.get("LifeCycle", {}).pop("NextSteps", None)
    return out


def _round(n: int, rows: int, rng: random.Random, work: Path, figures: dict[str, Any]) -> None:
    seed = rng.randrange(1 << 30)
    emu = Emulator(
        seed=str(SAMPLES),
        write_rate=400,
        write_burst=400,
        read_rate=1000,
        read_burst=1000,
        fault_seed=seed,
        fault_rate=FAULTS["fault_rate"],
        drop_after_write_rate=FAULTS["drop_after_write_rate"],
        latency=FAULTS["latency"],
    )
    emu.set_faults(error_after_write_rate=FAULTS["error_after_write_rate"], fault_seed=seed)
    emu.start()
    try:
        base = work / f"round-{n}"
        base.mkdir()
        ids = sorted(
            i
            for i, r in emu.records("Sandbox").items()
            if r["LifeCycle"]["ReviewStatus"] in ("Pending Submission", "Approved")
        )[:rows]
        before = {i: emu.record("Sandbox", i) for i in ids}
        sheet = base / "s.csv"
        sheet.write_text(
            "Identifier,LifeCycle.NextSteps\n" + "".join(f"{i},Soak {n} {i}\n" for i in ids),
            encoding="utf-8",
        )
        common = ["--catalog", "Sandbox", "--endpoint-url", emu.url, "--write-rate", "10"]
        common += ["--read-rate", "200"]
        runs = base / "runs"
        proc = _cli("apply", str(sheet), "--run-dir", str(runs), *common)
        kills = resumes = 0
        for _attempt in range(40):  # bounded: a round that never finishes fails below
            delay = rng.uniform(0.5, 5.0)  # start-up (imports) takes about a second
            try:
                proc.wait(timeout=delay)
            except subprocess.TimeoutExpired:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                kills += 1
            else:
                if proc.returncode not in (0, 1):
                    err = proc.stderr.read() if proc.stderr else ""
                    if "finished run" not in err:
                        raise SystemExit(f"round {n}: exit {proc.returncode}: {err.strip()}")
            found = [p for p in runs.iterdir() if p.is_dir()] if runs.is_dir() else []
            folder = found[0] if found else None
            if folder is not None and RunFolder.open(folder).journal.replay().complete:
                break
            if folder is None:  # killed before its folder existed: start again
                proc = _cli("apply", str(sheet), "--run-dir", str(runs), *common)
                continue
            resumes += 1
            proc = _cli("apply", "--resume", str(folder), *common)
        else:
            raise SystemExit(f"round {n}: the run did not finish in 40 starts")
        assert folder is not None
        _check(n, emu, ids, before, folder, figures)
        figures["kills"] += kills
        figures["resumes"] += resumes
        figures["rows"] += len(ids)
        counters = emu.counters()
        figures["faults"] += sum(counters.get("faults", {}).values())
        _rollback(n, emu, ids, before, folder, common)
    finally:
        emu.stop()


def _check(
    n: int,
    emu: Emulator,
    ids: list[str],
    before: dict[str, dict[str, Any]],
    folder: Path,
    figures: dict[str, Any],
) -> None:
    writes = emu.counters()["writes_per_id"]
    twice = {k: v for k, v in writes.items() if v > 1}
    if twice:
        raise SystemExit(f"round {n}: written twice: {twice}")
    for i in ids:
        now = emu.record("Sandbox", i)
        if now["LifeCycle"].get("NextSteps") != f"Soak {n} {i}":
            raise SystemExit(f"round {n}: {i} lost its change")
        if _strip(now) != _strip(before[i]):
            raise SystemExit(f"round {n}: {i} changed outside its column")
    state = RunFolder.open(folder).journal.replay()
    journalled = {str(r.identifier) for r in state.rows.values() if r.state == "updated"}
    written = {k.split("/", 1)[1] for k in writes}
    if journalled != written:
        raise SystemExit(
            f"round {n}: journal says updated {sorted(journalled - written)} not written, "
            f"written {sorted(written - journalled)} not journalled"
        )
    figures["writes"] += sum(writes.values())


def _rollback(
    n: int,
    emu: Emulator,
    ids: list[str],
    before: dict[str, dict[str, Any]],
    folder: Path,
    common: list[str],
) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bulk_update", "rollback", str(folder), *common, "--json"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
    )
    if done.returncode != 0:
        raise SystemExit(f"round {n}: rollback exit {done.returncode}: {done.stderr.strip()}")
    summary = json.loads(done.stdout)
    if summary["counts"].get("updated", 0) != len(ids):
        raise SystemExit(f"round {n}: rollback counts {summary['counts']}")
    for i in ids:
        if emu.record("Sandbox", i)["LifeCycle"].get("NextSteps") != before[i]["LifeCycle"].get(
            "NextSteps"
        ):
            raise SystemExit(f"round {n}: rollback left {i} changed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--rows", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=180.0, help="stop starting rounds after")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    figures: dict[str, Any] = {"rows": 0, "kills": 0, "resumes": 0, "writes": 0, "faults": 0}
    started = time.monotonic()
    rounds = 0
    with tempfile.TemporaryDirectory(prefix="bulk-update-soak-") as tmp:
        for n in range(args.rounds):
            if time.monotonic() - started > args.seconds:
                break
            _round(n, args.rows, rng, Path(tmp), figures)
            rounds += 1
    elapsed = time.monotonic() - started
    print(f"soak: {rounds} rounds, seed {args.seed}, faults {FAULTS}")
    print(
        f"  rows {figures['rows']}, SIGKILLs {figures['kills']}, resumes {figures['resumes']}, "
        f"server writes {figures['writes']}, injected faults {figures['faults']}, {elapsed:.0f} s"
    )
    print(
        "  checked: every row holds its value (none lost); no record written twice; no field "
        "outside the row's column changed; journal 'updated' == rows the server wrote; "
        "rollback put every record back (exit 0)"
    )


if __name__ == "__main__":
    main()
