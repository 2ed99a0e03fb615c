"""The emulator as one object: state, quotas, faults, counters and the server thread.

    with Emulator(seed="samples/opportunities.json", write_rate=1000) as emu:
        client = boto3.client("partnercentral-selling", endpoint_url=emu.url, ...)

``handle`` is the whole life of one AWS call, in this order: count it, wait
the injected latency, maybe drop it, refuse it when access is denied, throttle
it when over quota, maybe fail it with InternalServerException, check it
against the model, carry it out; then, for a successful update, maybe drop the
answer, and for a successful read of one record, maybe let a seller edit it.

``newer`` makes it play a newer model than the installed botocore's: requests
may carry the members and enum values it adds (see ``validation.Newer``), and
records holding them (seeded or put) are served as they are, so an
UpdateOpportunity that omits such a member nulls it, as the real service does.
"""

from __future__ import annotations

import copy
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import fields, replace
from typing import Any, NamedTuple

from .calls import Account, Calls, registered_users, solutions
from .faults import Faults, FaultSettings
from .operations import Operations
from .quotas import Clock, Quotas, QuotaSettings
from .server import EmulatorServer
from .store import CATALOGS, Store, normalize, read_seed, set_path
from .validation import INSTALLED, Newer, input_shape, validate
from .wire import (
    REQUEST_VALIDATION_FAILED,
    TARGET_PREFIX,
    ApiError,
    FieldError,
    access_denied,
    dumps,
    internal,
    now_ms,
    throttled,
    unknown_operation,
    validation_error,
)

Seed = str | os.PathLike[str] | list[dict[str, Any]] | None

# Fields a random seller edit may touch: always valid, whatever the record holds.
_SELLER_FIELDS = ("LifeCycle.NextSteps", "Project.AdditionalComments")


class Outcome(NamedTuple):
    """What to answer: a status and a body, or nothing at all (drop the connection)."""

    status: int
    body: bytes
    drop: bool = False


_DROP = Outcome(0, b"", True)

# The writes to one record, and the member naming it: they count in writes_per_id
# and may lose their answer after landing (drop_after_write, error_after_write).
_TARGETED = {
    "UpdateOpportunity": "Identifier",
    "AssignOpportunity": "Identifier",
    "SubmitOpportunity": "Identifier",
    "AssociateOpportunity": "OpportunityIdentifier",
    "DisassociateOpportunity": "OpportunityIdentifier",
}


def _split(settings: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Settings by name, into the quota ones and the fault ones; unknown names refused."""
    quota_names = {f.name for f in fields(QuotaSettings)}
    fault_names = {f.name for f in fields(FaultSettings)}
    unknown = set(settings) - quota_names - fault_names
    if unknown:
        raise TypeError(f"unknown emulator settings: {sorted(unknown)}")
    quota = {k: v for k, v in settings.items() if k in quota_names}
    return quota, {k: v for k, v in settings.items() if k in fault_names}


class Emulator:
    """A local Partner Central Selling endpoint for tests, demos and benchmarks."""

    def __init__(
        self,
        seed: Seed = None,
        data_file: str | os.PathLike[str] | None = None,
        port: int = 0,
        clock: Clock = time.monotonic,
        wall_clock_ms: Callable[[], int] = now_ms,
        newer: Newer = INSTALLED,
        **settings: Any,
    ) -> None:
        """``settings``: any field of ``QuotaSettings`` (write_rate, read_rate, write_burst,
        read_burst, daily_writes, daily_reads, operation_rates) or ``FaultSettings``
        (fault_rate, latency, drop_rate, drop_after_write_rate, error_after_write_rate,
        seller_edit_rate, fault_seed, forget_on_write), by name."""
        self.port = port
        self.newer = newer
        """What the model it plays adds to the installed one (nothing by default)."""
        self.deny_access = False
        self.wall_clock_ms = wall_clock_ms
        self.store = Store(data_file)
        if not self.store.load(wall_clock_ms()):
            self.store.load_records(read_seed(seed), wall_clock_ms())
            self.store.save()
        self.account = Account(search_enabled=True)
        self.set_users(registered_users())
        with self.account.lock:
            self.account.solutions = {c: solutions(c) for c in CATALOGS}
        self.operations = Operations(self.store, wall_clock_ms, self.account)
        calls = Calls(self.store, self.account, wall_clock_ms, self.operations.target)
        quota, fault = _split(settings)
        self.quotas = Quotas(QuotaSettings(**quota), clock)
        self.faults = Faults(FaultSettings(**fault))
        self._handlers: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "GetOpportunity": self.operations.get,
            "UpdateOpportunity": self.operations.update,
            "CreateOpportunity": self.operations.create,
            "ListOpportunities": self.operations.list,
            "SearchOpportunities": self.operations.search,
            "AssignOpportunity": calls.assign,
            "AssociateOpportunity": calls.associate,
            "DisassociateOpportunity": calls.disassociate,
            "SubmitOpportunity": calls.submit,
            "ListSolutions": calls.list_solutions,
        }
        self._scheduled: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._counts_lock = threading.Lock()
        self.reset_counters()
        self._server: EmulatorServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- life --------------------------------------------------------------
    def start(self) -> str:
        """Serve in a background thread; return ``http://127.0.0.1:PORT``."""
        if self._server is not None:
            return self.url
        self._server = EmulatorServer(("127.0.0.1", self.port), self)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name=f"pc-emulator-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Emulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one call ----------------------------------------------------------
    def handle(self, target: str, body: bytes, arrived: float | None = None) -> Outcome:
        operation = target[len(TARGET_PREFIX) :] if target.startswith(TARGET_PREFIX) else target
        self._count("calls", operation)
        latency = self.faults.settings.latency
        if latency > 0:
            time.sleep(latency)
        if self.faults.drop():
            self._count("faults", operation)
            return _DROP
        try:
            params, result = self._call(operation, body, arrived)
        except ApiError as error:
            return Outcome(error.status, error.body())
        if operation in _TARGETED:
            self._count_write(params["Catalog"], params[_TARGETED[operation]])
            if operation == "UpdateOpportunity" and self.faults.settings.forget_on_write:
                self._forget(params["Catalog"], params["Identifier"])
            if self.faults.drop_after_write():
                self._count("faults", operation)
                return _DROP
            if self.faults.error_after_write():
                self._count("faults", operation)
                failure = internal("Injected internal error after the write was kept")
                return Outcome(failure.status, failure.body())
            return Outcome(200, dumps(result))
        if operation == "CreateOpportunity":
            self._count_write(params["Catalog"], result["Id"])
        answer = Outcome(200, dumps(result))
        if operation == "GetOpportunity":
            self._after_read(result["Catalog"], result["Id"])
        return answer

    def _call(
        self, operation: str, body: bytes, arrived: float | None = None
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        if self.deny_access:
            raise access_denied(f"Access denied to {operation}")
        handler = self._handlers.get(operation)
        if handler is None:
            raise unknown_operation(operation)
        reason = self.quotas.admit(operation, at=arrived)
        if reason is not None:
            self._count("throttled", operation)
            raise throttled(reason)
        if self.faults.fault():
            self._count("faults", operation)
            raise internal("Injected internal error; retry with backoff")
        try:
            params = json.loads(body or b"{}")
        except ValueError as error:
            raise ApiError(400, "SerializationException", f"Body is not JSON: {error}") from None
        errors = validate(input_shape(operation), params, newer=self.newer)
        if errors:
            raise validation_error(REQUEST_VALIDATION_FAILED, errors)
        return params, handler(params)

    def _forget(self, catalog: str, identifier: str) -> None:
        """The ``forget_on_write`` fault: the stored record loses those paths, same version."""
        with self.store.lock:
            stored = self.store.get(catalog, identifier)
            if stored is None:
                return
            record = json.loads(json.dumps(stored))
            for path in self.faults.settings.forget_on_write:
                set_path(record, path, None)
            self.store.put(record)

    def _after_read(self, catalog: str, identifier: str) -> None:
        with self._counts_lock:
            waiting = self._scheduled.get((catalog, identifier))
            changes = waiting.pop(0) if waiting else None
        if changes is not None:
            self.operations.seller_edit(catalog, identifier, changes)
        elif self.faults.seller_edit():
            path = _SELLER_FIELDS[self.faults.pick(len(_SELLER_FIELDS))]
            self._count("seller_edits", "GetOpportunity")
            stamp = self.wall_clock_ms()
            self.operations.seller_edit(catalog, identifier, {path: f"Seller update {stamp}"})

    # -- counters ----------------------------------------------------------
    def _count(self, kind: str, operation: str) -> None:
        with self._counts_lock:
            self._counters[kind][operation] += 1

    def _count_write(self, catalog: str, identifier: str) -> None:
        self._count("writes_per_id", f"{catalog}/{identifier}")

    def counters(self) -> dict[str, dict[str, int]]:
        """Calls, throttled calls, faults and writes per id, as plain dicts."""
        with self._counts_lock:
            return {kind: dict(counts) for kind, counts in self._counters.items()}

    def reset_counters(self) -> None:
        with self._counts_lock:
            self._counters: dict[str, Counter[str]] = {
                k: Counter()
                for k in ("calls", "throttled", "faults", "writes_per_id", "seller_edits")
            }

    # -- settings ----------------------------------------------------------
    def set_quotas(self, **changes: Any) -> None:
        """Change any quota setting (write_rate, ..., operation_rates={"AssignOpportunity": 2})."""
        self.quotas.apply(replace(self.quotas.settings, **changes))

    def set_faults(self, **changes: Any) -> None:
        """Change any fault setting; the generator restarts from ``fault_seed``."""
        known = {f.name for f in fields(FaultSettings)}
        unknown = set(changes) - known
        if unknown:
            raise TypeError(f"unknown fault settings: {sorted(unknown)}")
        self.faults.apply(replace(self.faults.settings, **changes))

    # -- state -------------------------------------------------------------
    def records(self, catalog: str = "Sandbox") -> dict[str, dict[str, Any]]:
        """Every record of a catalog by id: deep copies, GetOpportunity-shaped."""
        _check_catalog(catalog)
        return {r["Id"]: copy.deepcopy(r) for r in self.store.all(catalog)}

    def record(self, catalog: str, identifier: str) -> dict[str, Any]:
        _check_catalog(catalog)
        found = self.store.get(catalog, identifier)
        if found is None:
            raise KeyError(f"{catalog}/{identifier}")
        return copy.deepcopy(found)

    def put_record(self, catalog: str, record: dict[str, Any]) -> None:
        """Insert or replace a record as it is (no rules, no quota)."""
        _check_catalog(catalog)
        self.store.put(normalize({**record, "Catalog": catalog}, self.wall_clock_ms()))

    def set_review_status(
        self, catalog: str, identifier: str, status: str, comments: str | None = None
    ) -> dict[str, Any]:
        """AWS reviews the record: set its ReviewStatus (and ReviewComments), a new version."""
        changes: dict[str, Any] = {"LifeCycle.ReviewStatus": status}
        if comments is not None:
            changes["LifeCycle.ReviewComments"] = comments
        return self.seller_edit(catalog, identifier, changes)

    def users(self) -> list[dict[str, str]]:
        """The registered partner users (who may be assigned), as copies."""
        with self.account.lock:
            return [dict(u) for u in self.account.users.values()]

    def set_users(self, users: list[dict[str, str]]) -> list[dict[str, str]]:
        """Replace the registered users (dicts with at least an ``Email``); return them."""
        with self.account.lock:
            self.account.users = {u["Email"].lower(): dict(u) for u in users}
        return self.users()

    def set_solutions(self, catalog: str, records: list[dict[str, Any]]) -> None:
        """Replace a catalog's solutions (ListSolutions-shaped: Id, Name, Status, ...)."""
        _check_catalog(catalog)
        with self.account.lock:
            self.account.solutions[catalog] = [dict(r) for r in records]

    def set_tags(self, catalog: str, identifier: str, tags: dict[str, str]) -> None:
        """Give a record its tags (what SearchOpportunities' Tags key reads)."""
        _check_catalog(catalog)
        with self.account.lock:
            self.account.tags[f"{catalog}/{identifier}"] = [
                {"Key": k, "Value": v} for k, v in tags.items()
            ]

    def set_search_enabled(self, enabled: bool) -> dict[str, bool]:
        """False: SearchOpportunities answers that search is not enabled for the account."""
        self.account.search_enabled = bool(enabled)
        return {"enabled": self.account.search_enabled}

    def seller_edit(self, catalog: str, identifier: str, changes: dict[str, Any]) -> dict[str, Any]:
        """A seller changes the record now (dotted path -> value; None clears)."""
        _check_catalog(catalog)
        return copy.deepcopy(self.operations.seller_edit(catalog, identifier, changes))

    def schedule_seller_edit(self, catalog: str, identifier: str, changes: dict[str, Any]) -> None:
        """A seller changes the record right after its next GetOpportunity."""
        _check_catalog(catalog)
        with self._counts_lock:
            self._scheduled.setdefault((catalog, identifier), []).append(dict(changes))


def _check_catalog(catalog: str) -> None:
    if catalog not in CATALOGS:
        raise ValueError(f"catalog must be one of {CATALOGS}, not {catalog!r}")


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def serve(
    port: int = 0,
    seed: Seed = None,
    data_file: str | os.PathLike[str] | None = None,
    builtin_seed: bool = True,
    **settings: Any,
) -> None:
    """Run an emulator until interrupted, printing the URL for ``--endpoint-url``.

    Without a seed file (and no data file holding state yet), it starts with
    the built-in sample set of ``seeddata`` unless ``builtin_seed`` is False.
    Other keyword arguments go to ``Emulator`` (write_rate, latency, drop_rate, ...).
    """
    if seed is None and builtin_seed:
        from .seeddata import generate

        seed = generate()
    emulator = Emulator(seed=seed, data_file=data_file, port=port, **settings)
    url = emulator.start()
    # SIGTERM (a service manager, CI's `kill`) stops it as Ctrl-C does: a clean stop.
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    counts = {c: len(emulator.store.catalogs[c]) for c in CATALOGS}
    print(f"Partner Central emulator at {url}", flush=True)
    print(f"  records: {counts['Sandbox']} Sandbox, {counts['AWS']} AWS", flush=True)
    print(f"  use: --endpoint-url {url}   (Ctrl-C stops it)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


__all__ = ["Emulator", "FieldError", "Newer", "Outcome", "serve"]
