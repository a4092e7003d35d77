"""Reports rendered from result models: the self-contained HTML page of a runbook
validation (:mod:`.html`, Jinja2 templates in ``templates/``) and its terminal summary
(:mod:`.terminal`, rich tables)."""
