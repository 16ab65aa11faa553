"""``python -m hookwire``: the ``hookwire`` command.

``python -m`` puts the current directory first on ``sys.path``; it is removed so that, as with
the ``hookwire`` console script, nothing planted in the current directory is imported or
discovered as a plugin unless asked for (``PYTHONPATH=.``).
"""

from __future__ import annotations

import os
import sys

if __name__ == "__main__":
    if sys.path and not sys.flags.safe_path and sys.path[0] in ("", os.getcwd()):
        del sys.path[0]

    from hookwire.cli import main

    main()
