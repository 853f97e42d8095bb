"""Reading a sealed caseload's facts from its verified histories (issue 13's report from JSON
Lines, issue 15's loading): ``iter_jsonl_facts`` must give exactly the facts and the problem
lines that loading each case in full (``iter_jsonl`` + ``case_facts``) gives, for sealed,
plain, tampered and foreign documents alike; ``sealed_history`` trusts a history only once
its chain, free texts and seals check out."""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path
from typing import Any

import pytest

from rjflow import InvalidInput, Keyring, Policy, State
from rjflow.caseload import iter_jsonl, iter_jsonl_facts
from rjflow.reporting import CaseFacts, case_facts
from rjflow.serialization import LineProblem, dumps, from_dict, sealed_history, to_dict
from tests.builders import at_stage
from tests.synthetic import synthetic_caseload

RING = Keyring({"k1": b"a key of thirty-two bytes, test1"}, current="k1")
OTHER = Keyring({"k1": b"another key of 32 bytes, test 2!"}, current="k1")


def _sealed(case: Any, ring: Keyring = RING) -> dict[str, Any]:
    return json.loads(dumps(case, keyring=ring, snapshot=True))


def _full(path: Path) -> list[CaseFacts | LineProblem]:
    return [
        item if isinstance(item, LineProblem) else case_facts(item)
        for item in iter_jsonl(path, keyring=RING)
    ]


def _write(tmp_path: Path, documents: list[Any]) -> Path:
    path = tmp_path / "caseload.jsonl"
    path.write_text(
        "".join((d if isinstance(d, str) else json.dumps(d)) + "\n" for d in documents),
        encoding="utf-8",
    )
    return path


def _tampered(base: dict[str, Any]) -> list[dict[str, Any]]:
    """Documents altered in every way a reader must notice, each from a sealed ``base``."""
    out = []

    def altered(change: Any) -> None:
        doc = json.loads(json.dumps(base))
        change(doc)
        out.append(doc)

    altered(lambda d: d["events"][1]["data"].update({"extra": 1}))  # hashed content
    altered(lambda d: d["events"][1].update({"unknown": 1}))  # a field no event has
    altered(lambda d: d.update({"unknown": 1}))  # a field no document has
    altered(lambda d: d["snapshot"]["record"].update({"version": 99}))  # sealed record
    altered(lambda d: d["events"].pop())  # a shorter history
    altered(lambda d: d.update({"version": d["version"] + 1}))  # what the top says
    altered(lambda d: d.update({"state": "referred" if d["state"] != "referred" else "closed"}))
    altered(lambda d: d["integrity"].update({"mac": "0" * 64}))  # the seal itself
    altered(lambda d: d.pop("integrity"))  # the seal removed
    altered(lambda d: d["events"][0].update({"at": d["events"][0]["at"].replace("+00:00", "Z")}))
    for index, event in enumerate(base["events"]):
        if event["texts"]:  # a free text changed beside its commitment
            pointer = next(iter(event["texts"]))

            def change_text(d: dict[str, Any], i: int = index, p: str = pointer) -> None:
                d["events"][i]["texts"][p]["text"] = "changed"

            altered(change_text)
            break
    return out


def test_facts_from_verified_histories_equal_facts_from_loaded_cases(tmp_path: Path) -> None:
    cases = list(synthetic_caseload(120))
    path = _write(tmp_path, [_sealed(c) for c in cases])
    fast = list(iter_jsonl_facts(path, keyring=RING))
    assert fast == _full(path)
    assert fast == [case_facts(c) for c in cases]  # and equal to the cases' own facts


def test_every_tampered_plain_or_foreign_line_is_the_same_problem_both_ways(
    tmp_path: Path,
) -> None:
    closed, clock = at_stage(State.INTRODUCTION)
    closed.close(reason="other", note="Moved away.", at=clock(), actor="F1")
    review, _ = at_stage(State.REVIEW)
    documents: list[Any] = [_sealed(review), _sealed(closed)]
    for base in (_sealed(review), _sealed(closed)):
        documents += _tampered(base)
    documents.append(to_dict(review))  # plain: no seal, yet a keyring is given
    documents.append(_sealed(review, OTHER))  # sealed with another secret under the same id
    documents.append("{not json")
    documents.append('{"schema_version": 2, "schema_version": 2}')
    path = _write(tmp_path, documents)
    fast, full = list(iter_jsonl_facts(path, keyring=RING)), _full(path)
    assert fast == full
    problems = [item for item in fast if isinstance(item, LineProblem)]
    assert len(problems) == len(documents) - 2  # every altered line refused, none let through
    assert all(isinstance(item, CaseFacts) for item in fast[:2])


def test_sealed_history_trusts_only_what_checks_out() -> None:
    review, _ = at_stage(State.REVIEW)
    sealed = _sealed(review)
    events = sealed_history(sealed, keyring=RING)
    assert events is not None
    assert list(events) == list(from_dict(sealed, keyring=RING).history)
    with pytest.raises(TypeError):
        events[1].data["extra"] = 1  # type: ignore[index]  # read-only, as every event's data
    for doc in _tampered(sealed):
        assert sealed_history(doc, keyring=RING) is None
    assert sealed_history(to_dict(review), keyring=RING) is None
    assert sealed_history(sealed, keyring=OTHER) is None
    with pytest.raises(InvalidInput):
        sealed_history(sealed, keyring=None)  # type: ignore[arg-type]


def test_reading_in_worker_processes_gives_the_same_items_in_the_same_order(
    tmp_path: Path,
) -> None:
    review, _ = at_stage(State.REVIEW)
    sealed = _sealed(review)
    cases = list(synthetic_caseload(40))
    documents: list[Any] = [_sealed(c) for c in cases[:20]]
    documents += _tampered(sealed)
    documents += [_sealed(c) for c in cases[20:]]
    path = _write(tmp_path, documents)
    with path.open("ab") as fh:  # a line that is not UTF-8, then one more case
        fh.write(b'{"caf\xe9"}\n' + json.dumps(sealed).encode() + b"\n")
    one = list(iter_jsonl_facts(path, keyring=RING))
    two = list(iter_jsonl_facts(path, keyring=RING, workers=min(2, os.cpu_count() or 1)))
    assert two == one == _full(path)
    assert [type(x).__name__ for x in one].count("LineProblem") == len(_tampered(sealed)) + 1


@pytest.mark.parametrize("workers", [0, -1, 1.5, "2", True, 10**9, (os.cpu_count() or 1) + 1])
def test_workers_must_be_a_whole_number_one_or_more(tmp_path: Path, workers: object) -> None:
    path = _write(tmp_path, [])
    with pytest.raises(InvalidInput, match="workers"):
        list(iter_jsonl_facts(path, keyring=RING, workers=workers))  # type: ignore[arg-type]


def test_a_policy_given_warns_once_per_line_whichever_reader_and_however_many_workers(
    tmp_path: Path,
) -> None:
    """Issue 12's PolicyChanged: the fast reading takes a history as it stands only when it
    was judged under the policy it is read under; otherwise the line is loaded in full (and
    warned about) exactly as iter_jsonl loads it, also when read in worker processes."""
    other = Policy(name="another-service", max_sessions=8)
    cases = list(synthetic_caseload(6))
    path = _write(tmp_path, [_sealed(c) for c in cases])

    def read(reader: Any) -> tuple[list[Any], list[str]]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            items = list(reader())
        return items, [type(w.message).__name__ for w in caught]

    full = read(lambda: iter_jsonl(path, keyring=RING, policy=other))
    full_items = [i if isinstance(i, LineProblem) else case_facts(i) for i in full[0]]
    for workers in (1, min(2, os.cpu_count() or 1)):
        fast = read(lambda w=workers: iter_jsonl_facts(path, keyring=RING, policy=other, workers=w))
        assert fast[0] == full_items
        assert fast[1] == full[1] == ["PolicyChanged"] * len(cases)
    for case in cases:
        assert sealed_history(_sealed(case), keyring=RING, policy=other) is None
