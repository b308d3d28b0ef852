"""Offline runs: lead files through `simulate`, stored history through what-if."""
