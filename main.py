"""Entry point: ``python main.py`` starts the terminal (demo profile unless configured)."""

import sys

from terminal.entry import main

if __name__ == "__main__":
    sys.exit(main())
