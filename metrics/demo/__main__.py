"""`python -m metrics.demo [DB] [--scale N] [--seed N] [--as-of DATE] [--replace]`."""

from metrics.demo.build import main

main()
