#!/usr/bin/env python
"""Same as the `minyi` console command, for habit's sake."""

from minyi.__main__ import main

if __name__ == "__main__":
    main()
