"""Test support shared by the test suite and the benchmarks (not part of the installed package).

:mod:`testing.fake_discord` is the local fake Discord that the real discord.py client talks to.
"""
