"""The command line: one module per ``python -m simulation`` command (run, runs, ope).

Command modules parse arguments, call library functions and print; no library
code lives here.
"""
