"""Start-up: the rule-pack cache, lazily compiled patterns, what ``claimtag tag`` imports,
and the settings claimtag gives the Prefect runs it starts. No timing assertions."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from claimtag import rules as rules_module
from claimtag.classify import classify_sentence
from claimtag.cli import _prefect_environment, main
from claimtag.errors import RulePackError
from claimtag.regex_safety import compile_union
from claimtag.rules import (
    LazyRegex,
    bundled_pack,
    compile_packs,
    load_rules,
    parse_pack,
)

BUNDLED_TEXT = (resources.files("claimtag") / "rules" / "core.yaml").read_text(encoding="utf-8")

SMALL_PACK = """\
name: extra
version: {version}
rules:
  - id: extra.blockade
    claim_type: economic_leverage
    weight: 0.7
    patterns: ['\\bblockade[sd]?\\b']
    examples:
      positive: ["The navy blockaded the port."]
      negative: ["The road was blocked by snow."]
"""


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty claimtag cache folder for the test."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("CLAIMTAG_CACHE_DIR", str(folder))
    return folder


def _cached_packs(folder: Path) -> list[Path]:
    return sorted(folder.glob("pack-*.json")) if folder.is_dir() else []


# --- the rule-pack cache ----------------------------------------------------------------------


def test_a_checked_pack_is_read_back_from_the_cache(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = parse_pack(BUNDLED_TEXT, "core.yaml", trusted=True)
    assert len(_cached_packs(cache)) == 1
    assert first.digest

    def no_checks(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the pack was checked again")

    monkeypatch.setattr(rules_module, "_validated_data", no_checks)
    second = parse_pack(BUNDLED_TEXT, "elsewhere/core.yaml", trusted=True)
    assert second.data == first.data
    assert second.source == "elsewhere/core.yaml"
    assert second.digest == first.digest


def test_the_cache_key_is_the_text_and_how_it_is_read(cache: Path) -> None:
    parse_pack(SMALL_PACK.format(version="1.0.0"), "a.yaml")
    parse_pack(SMALL_PACK.format(version="1.0.1"), "a.yaml")
    assert len(_cached_packs(cache)) == 2
    parse_pack(SMALL_PACK.format(version="1.0.1"), "b.yaml")  # same text, same checks
    assert len(_cached_packs(cache)) == 2
    parse_pack(SMALL_PACK.format(version="1.0.1"), "b.yaml", trusted=True)  # fewer checks
    assert len(_cached_packs(cache)) == 3


def test_a_broken_pack_is_never_cached(cache: Path) -> None:
    broken = SMALL_PACK.format(version="1.0.0").replace("blockade[sd]?", "blockade(")
    messages = []
    for _ in range(2):
        with pytest.raises(RulePackError) as info:
            parse_pack(broken, "broken.yaml")
        messages.append(str(info.value))
    assert messages[0] == messages[1]
    assert "invalid regular expression" in messages[0]
    assert _cached_packs(cache) == []


def test_a_damaged_cache_entry_is_checked_again(cache: Path) -> None:
    text = SMALL_PACK.format(version="1.0.0")
    good = parse_pack(text, "a.yaml")
    (entry,) = _cached_packs(cache)
    for damage in ("{not json", json.dumps({"digest": "other", "data": {}}), "[]"):
        entry.write_text(damage, encoding="utf-8")
        assert parse_pack(text, "a.yaml").data == good.data
        assert json.loads(entry.read_text(encoding="utf-8"))["digest"] == good.digest


def test_without_the_cache_nothing_is_read_or_written(
    cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_cache(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the cache was used")

    monkeypatch.setattr(rules_module, "_load_cached_pack", no_cache)
    monkeypatch.setattr(rules_module, "_store_cached_pack", no_cache)
    assert parse_pack(SMALL_PACK.format(version="1.0.0"), "a.yaml", use_cache=False).data
    assert bundled_pack(use_cache=False).data["rules"]


def test_rules_check_checks_in_full(
    cache: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_cache(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("rules check used the cache")

    monkeypatch.setattr(rules_module, "_load_cached_pack", no_cache)
    main(["rules", "check"])  # exit code 1 if an example fails: not what this test is about
    assert ": valid, " in capsys.readouterr().out


def test_load_rules_compiles_the_same_texts_once(cache: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra.yaml"
    extra.write_text(SMALL_PACK.format(version="1.0.0"), encoding="utf-8")
    pack = load_rules([extra])
    assert load_rules([extra]) is pack
    assert load_rules([extra], replace=True) is not pack
    extra.write_text(SMALL_PACK.format(version="2.0.0"), encoding="utf-8")
    changed = load_rules([extra])
    assert changed is not pack
    assert changed.version.endswith("+extra@2.0.0")


# --- lazily compiled patterns -----------------------------------------------------------------


def test_lazy_patterns_are_the_eager_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = bundled_pack()
    lazy = compile_packs([raw])
    with monkeypatch.context() as m:  # every pattern compiled now, as before LazyRegex
        m.setattr(LazyRegex, "plain", staticmethod(lambda pattern: False))
        eager = compile_packs([raw])
    assert any(isinstance(p, LazyRegex) for r in lazy.rules for p in r.patterns)
    for a, b in zip(lazy.rules, eager.rules, strict=True):
        assert a.id == b.id
        for x, y in zip(a.patterns, b.patterns, strict=True):
            assert isinstance(y, re.Pattern)
            assert (x.pattern, x.flags) == (y.pattern, y.flags), a.id
        for x, y in ((a.require, b.require), (a.exclude, b.exclude)):
            assert (x is None) == (y is None), a.id
            if x is not None and y is not None:
                assert (x.pattern, x.flags) == (y.pattern, y.flags), a.id
    for cues in ("negation", "hedging"):
        x, y = getattr(lazy, cues), getattr(eager, cues)
        assert isinstance(x, re.Pattern)  # the prefilter screens for cues only then
        assert y is not None
        assert (x.pattern, x.flags) == (y.pattern, y.flags)
    examples = [t for r in lazy.rules for t in (*r.positive, *r.negative)]
    for text in examples:
        assert classify_sentence(lazy, text) == classify_sentence(eager, text), text


def test_lazy_regex_behaves_like_re() -> None:
    pattern = r"\bmass(?:ed|ing)\s+troops\b(?!\s+home)"
    lazy, eager = LazyRegex(pattern, re.IGNORECASE), re.compile(pattern, re.IGNORECASE)
    assert (lazy.pattern, lazy.flags) == (eager.pattern, eager.flags)
    assert "_compiled" not in vars(lazy)
    text = "Moscow MASSED troops at the border; they were massing troops home."
    m, n = lazy.search(text), eager.search(text)
    assert m is not None
    assert n is not None
    assert m.span() == n.span()
    assert "_compiled" in vars(lazy)
    assert [x.span() for x in lazy.finditer(text)] == [x.span() for x in eager.finditer(text)]
    assert lazy.match(text) is None
    assert lazy.groups == 0
    copy = pickle.loads(pickle.dumps(lazy))
    assert copy == lazy
    assert hash(copy) == hash(lazy)
    assert "_compiled" not in vars(copy)  # sent to worker processes uncompiled
    assert copy.search(text) is not None
    assert LazyRegex.plain(pattern)
    assert not LazyRegex.plain("(?i)war")
    assert not LazyRegex.plain("(?P<x>war)")


def test_a_lazy_union_is_compile_union() -> None:
    parts = [LazyRegex(r"\bwar\b", re.IGNORECASE), LazyRegex(r"troops?", re.IGNORECASE)]
    union = rules_module._union(parts, re.IGNORECASE)
    reference = compile_union(parts, re.IGNORECASE)
    assert isinstance(union, LazyRegex)
    assert reference is not None
    assert (union.pattern, union.flags) == (reference.pattern, reference.flags)
    text = "No war, but troops."
    assert [m.span() for m in union.finditer(text)] == [m.span() for m in reference.finditer(text)]


# --- claimtag tag: what a fresh process imports -----------------------------------------------


def test_tag_imports_neither_prefect_nor_yaml(tmp_path: Path) -> None:
    """In a fresh interpreter: no Prefect at all, and no YAML once the pack is cached."""
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "s1", "text": "Moscow has massed troops along the border."}) + "\n",
        encoding="utf-8",
    )
    probe = (
        "import json, sys\n"
        "from claimtag.cli import main\n"
        f"status = main(['tag', {str(source)!r}])\n"
        "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'yaml'})\n"
        "print(json.dumps({'status': status, 'imported': heavy}))\n"
    )
    env = {
        **os.environ,
        "CLAIMTAG_CACHE_DIR": str(tmp_path / "cache"),
        "CLAIMTAG_PREFILTER": "regex",  # no Hyperscan database to compile in the new cache
    }
    seen = []
    for _ in range(2):  # the first run checks the pack and caches it
        proc = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300
        )
        assert proc.returncode == 0, proc.stderr
        tagged, probed = (json.loads(line) for line in proc.stdout.splitlines())
        assert tagged["labels"] == ["threat"]
        assert probed["status"] == 0
        seen.append(probed["imported"])
    assert "prefect" not in seen[0]
    assert seen[1] == []


def test_version_is_read_when_asked_for(capsys: pytest.CaptureFixture[str]) -> None:
    from claimtag import __version__

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out == f"claimtag {__version__}\n"


# --- Prefect settings of claimtag run ---------------------------------------------------------


def test_run_settings_for_an_ephemeral_server(monkeypatch: pytest.MonkeyPatch) -> None:
    environ: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", environ)
    _prefect_environment(False, ephemeral=True)
    assert environ["PREFECT_SERVER_REGISTER_BLOCKS_ON_START"] == "false"
    assert environ["PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION"] == "false"
    assert environ["DO_NOT_TRACK"] == "1"
    for name in ("PREFECT_SERVER_REGISTER_BLOCKS_ON_START", "PREFECT_API_BLOCKS_REGISTER_ON_START"):
        chosen = {name: "true"}  # the user's choice, and Prefect's defaults with it
        monkeypatch.setattr(os, "environ", chosen)
        _prefect_environment(False, ephemeral=True)
        assert chosen[name] == "true"
        assert "PREFECT_SERVER_MEMOIZE_BLOCK_AUTO_REGISTRATION" not in chosen
    served: dict[str, str] = {}
    monkeypatch.setattr(os, "environ", served)
    _prefect_environment(False)  # claimtag serve: its server is a real one
    assert "PREFECT_SERVER_REGISTER_BLOCKS_ON_START" not in served


def test_direct_runs_have_no_heartbeat_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    from claimtag_flows import extract

    seen: list[int | None] = []

    def fake_flow(**parameters: Any) -> dict[str, Any]:
        seen.append(get_current_settings().flows.heartbeat_frequency)
        return {"parameters": parameters}

    monkeypatch.setattr(extract, "extract_claims", fake_flow)
    assert extract.run_here(inputs=["x"]) == {"parameters": {"inputs": ["x"]}}
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: 60}):
        extract.run_here(inputs=["x"])
    assert seen == [None, 60]
