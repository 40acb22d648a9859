"""The benchmark's arithmetic and its README table (no timings are asserted: the machine is shared)."""

import importlib.util
import sys

import pytest

from bot import PROJECT_DIR

spec = importlib.util.spec_from_file_location("bench", PROJECT_DIR / "scripts" / "bench.py")
bench = importlib.util.module_from_spec(spec)
sys.modules["bench"] = bench  # its dataclasses look their module up
spec.loader.exec_module(bench)


def test_percentile_is_the_nearest_rank():
    values = [float(value) for value in range(1, 101)]
    assert bench.percentile(values, 0.5) in (50.0, 51.0)
    assert bench.percentile(values, 0.95) == 95
    assert bench.percentile([7.0], 0.95) == 7.0
    assert bench.percentile([3.0, 1.0, 2.0], 1.0) == 3.0


def figures(latency: float, rate: float, memory: float) -> "bench.Figures":
    return bench.Figures(
        single=[latency] * 10,
        single_rate=[rate],
        crowd=[latency * 4] * 10,
        crowd_rate=[rate * 2],
        early_turns=[latency] * 10,
        late_turns=[latency] * 10,
        ready_s=20.0,
        rasa_mb=memory,
        actions_mb=0.0,
    )


def test_the_table_has_a_column_per_bot_and_ratios_against_the_stock_bot():
    stock = bench.Bot("stock starter bot", "", figures(latency=40, rate=20, memory=1200))
    ours = bench.Bot("this assistant", "", figures(latency=20, rate=40, memory=600))
    lines = bench.table([stock, ours]).splitlines()
    assert lines[0].count("|") == 5  # label, stock, ours, ratio
    throughput = next(line for line in lines if line.startswith("| 16 visitors: msgs/s"))
    assert "40.0 msgs/s" in throughput and "80.0 msgs/s" in throughput and "2.00x" in throughput
    latency = next(line for line in lines if line.startswith("| 1 visitor: p95"))
    assert "2.00x" in latency  # half the latency is twice as good
    memory = next(line for line in lines if line.startswith("| Rasa server memory"))
    assert "1,200 MB" in memory and "2.00x" in memory


def test_the_table_replaces_only_what_lies_between_the_markers():
    readme = f"intro\n{bench.BEGIN}\nold table\n{bench.END}\nafter\n"
    updated = bench.replace_between_markers(readme, "new table")
    assert updated == f"intro\n{bench.BEGIN}\nnew table\n{bench.END}\nafter\n"
    assert bench.replace_between_markers(updated, "new table") == updated


def test_a_readme_without_markers_is_an_error_that_names_them():
    with pytest.raises(ValueError, match="bench:begin"):
        bench.replace_between_markers("no markers here", "table")


def test_variant_settings_are_name_value_pairs():
    assert bench.parse_env(["A=1", "B=x=y"]) == {"A": "1", "B": "x=y"}
    with pytest.raises(SystemExit):
        bench.parse_env(["oops"])
