"""Personal data and media are kept only as long as a project says: the retention sweep
(policy.py, sweep.py, runner.py) and a reporter's erasure request (erase.py), each recorded
in ``erasures``."""
