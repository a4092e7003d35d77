"""Scenarios as data: one YAML file per real-world story, checked against a shipped JSON
Schema, collected by pytest, run step by step with the actions of :mod:`harness.actions`.

``model``    Scenario, Step, Baseline (what a file says)
``loader``   YAML + ``scenario.schema.json`` + rules -> Scenario; errors name file, line, step
``runner``   the run's Context, the steps in order, the failure report with the state diff
``collect``  the pytest collection hook (ids, markers from tags, provider, matrix)
``timing``   each scenario's wall time in the terminal summary
"""
