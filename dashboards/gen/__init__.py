"""The renderers of dashboards/generate.py, one module per thing rendered
(see generate.py's docstring for the list)."""
