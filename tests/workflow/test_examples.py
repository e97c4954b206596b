"""The README's example runs and prints what the README shows."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_prints_what_the_readme_shows():
    readme = (ROOT / "README.md").read_text()
    script = (ROOT / "examples" / "quickstart.py").read_text()
    shown = re.search(r"<!-- output of examples/quickstart.py -->\n```text\n(.*?)```", readme,
                      re.S).group(1)
    code = re.search(r"```python\n(import numpy as np\n\nimport fmrnoise.*?)```", readme,
                     re.S).group(1)
    assert code.strip() in script  # the README shows the script's code
    result = subprocess.run([sys.executable, str(ROOT / "examples" / "quickstart.py")],
                            capture_output=True, text=True, check=True)
    assert result.stdout == shown
