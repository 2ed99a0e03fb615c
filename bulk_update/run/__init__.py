"""Carrying a sheet out: validate and apply jobs, the executor, the run folder, the ledger, rollback."""
