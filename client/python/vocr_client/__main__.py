"""`python3 -m vocr_client ...`: the command line (see cli.py)."""
import sys

from .cli import main

sys.exit(main())
