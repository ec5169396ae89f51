"""Each finding of the compliance table (``benchmarks/compliance.py``) confirmed in a few lines of
torch that import nothing of the suite: a script exits 1 where the library deviates, 0 where it does
not (the table runs each on the library and on a copy with the finding's fix), printing what it saw."""
