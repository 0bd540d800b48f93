"""In-memory adapters of the core's storage ports (one process, nothing persisted): the proof
that the stores swap, run by the same contract suites as the SQL ones (tests/storage), and
fakes for unit tests that want a whole store."""
