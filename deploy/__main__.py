"""Entry point: ``python -m deploy <command>``."""

import sys

from .cli import main

sys.exit(main())
