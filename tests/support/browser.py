"""Browser tests' parts: Debian's Chromium and axe-core.

Chromium comes from the machine (`CHROMIUM`, else `chromium` on PATH: Debian's
package); Playwright drives it through `executable_path`, so no browser is
ever downloaded. axe-core is the `axe.min.js` shipped in the
axe-playwright-python wheel.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM", "SCREENSHOTS", "serious_violations"]

CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium")
# Set by `./dev screenshots`: where the browser test saves the README's pictures.
SCREENSHOTS = (
    Path(os.environ["QUIZGEN_SCREENSHOTS"]) if os.environ.get("QUIZGEN_SCREENSHOTS") else None
)


async def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page, one readable line each."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
