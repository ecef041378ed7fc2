"""Settings for every pytest run, whatever the command line.

Chapter notebooks run (under nbval) with the explorers' kernel-free form, as in the website build:
executing live ipywidgets headless can stall the notebook client (jupyter/nbclient#312). The kernel
nbval starts inherits this process's environment. The live form is tested in tests/test_explorers.py.
"""

import os

os.environ.setdefault("OPTLIB_EXPLORERS", "static")
