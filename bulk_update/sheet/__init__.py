"""Reading a sheet: cells and their kinds, headers, per-cell checks, cross-field rules, messages."""
