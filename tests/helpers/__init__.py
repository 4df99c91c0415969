"""Builders and recorded servers shared by several test modules, imported as tests.helpers.<name>.

Fixtures live in tests/conftest.py; no test module imports another.
"""
