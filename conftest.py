"""Root pytest hooks: nbval does not compare stderr (progress bars, warnings)."""


def pytest_collectstart(collector):
    if str(getattr(collector, "path", "")).endswith(".ipynb"):
        collector.skip_compare += ("stderr",)
