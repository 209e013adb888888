"""``python -m govshare_desktop.cli``: the same as the ``govshare`` command."""

import sys

from govshare_desktop.cli import main

sys.exit(main())
