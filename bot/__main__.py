"""`python -m bot` runs the command line."""

import sys

from bot.cli.main import main

sys.exit(main())
