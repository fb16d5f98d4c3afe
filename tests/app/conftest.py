"""Tests of the app as a whole: start-up, the embedded services, compose, migrations, i18n, bad
input, wiring, the benchmark, the shared state machines, and the route × role × organization
tenancy matrix (its helpers are in tests/app/matrix.py, a module, so no test imports another)."""
