"""The service's key file: ``Keyring.from_toml``/``to_toml``/``rotated``, ``rjflow keyring
new|rotate``, and ``rjflow --key-file`` (or RJFLOW_KEY_FILE), with which the command line
checks every integrity seal and seals what it writes."""

from __future__ import annotations

import base64
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rjflow import InvalidInput, Keyring, SourceUnavailable, State
from rjflow.demo import build_demo_case
from rjflow.integrity import MIN_KEY_BYTES
from rjflow.serialization import dumps, loads
from rjflow.store import SQLiteStore

from .builders import at_stage
from .test_cli import rjflow

#: Text that must never appear in a message: it stands for a secret or a person's name.
CANARY = "Jane Doe SECRETCANARY"

IDS = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,20}", fullmatch=True)


def key_file(folder: Path, text: str) -> Path:
    path = folder / "keys.toml"
    path.write_text(text, encoding="utf-8")
    return path


def b64(secret: bytes) -> str:
    return base64.b64encode(secret).decode()


class TestTheKeyFile:
    @given(
        rings=st.dictionaries(IDS, st.binary(min_size=MIN_KEY_BYTES, max_size=64), min_size=1),
        data=st.data(),
    )
    def test_what_to_toml_writes_from_toml_reads_back(
        self, tmp_path_factory: pytest.TempPathFactory, rings: dict[str, bytes], data: st.DataObject
    ) -> None:
        current = data.draw(st.sampled_from(sorted(rings)))
        ring = Keyring(rings, current=current)
        path = key_file(tmp_path_factory.mktemp("k"), ring.to_toml())
        again = Keyring.from_toml(path)
        assert (again.current, again.key_ids) == (current, ring.key_ids)
        assert all(again._secret(k) == secret for k, secret in rings.items())

    def test_a_ring_rotated_keeps_its_keys_and_seals_with_the_new_one(self) -> None:
        old = Keyring({"2026-11": b"a" * 32}, current="2026-11")
        new = old.rotated("2026-12", b"b" * 32)
        assert (new.current, new.key_ids) == ("2026-12", ("2026-11", "2026-12"))
        case = build_demo_case()
        sealed_before = dumps(case, keyring=old)
        assert loads(sealed_before, keyring=new) == case  # the old key still verifies
        assert json.loads(dumps(case, keyring=new))["integrity"]["key_id"] == "2026-12"
        with pytest.raises(InvalidInput, match="already has a key 2026-11"):
            new.rotated("2026-11", b"c" * 32)

    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("garbage = = " + CANARY, "is not valid TOML at line 1, column 11"),
            (f'current = "k"\ncurrent = "{CANARY}"\n', "sets a key twice at line 2"),
            (f'current = "k"\n[keys]\nk = "{b64(b"s" * 32)}"\n"{CANARY}" = 1\n', "opaque id"),
            (f'current = "k"\nother = "{CANARY}"\n[keys]\nk = "{b64(b"s" * 32)}"\n', "only"),
            ('current = "k"\n[keys]\n', "only"),
            ('current = "k"\nkeys = "' + CANARY + '"\n', "only"),
            (f'current = "k"\n[keys]\nk = "{CANARY}"\n', "base64 text of at least 16 bytes"),
            (f'current = "k"\n[keys]\nk = "{b64(b"short")}"\n', "at least 16 bytes"),
            (f'current = "k"\n[keys]\nk = {{ a = "{CANARY}" }}\n', "base64 text"),
            (f'current = "j"\n[keys]\nk = "{b64(b"s" * 32)}"\n', "'current' must be one of"),
            (f'current = "{CANARY}"\n[keys]\nk = "{b64(b"s" * 32)}"\n', "opaque id"),
        ],
    )
    def test_a_bad_key_file_says_what_is_wrong_never_what_it_holds(
        self, tmp_path: Path, text: str, expected: str
    ) -> None:
        path = key_file(tmp_path, text)
        with pytest.raises(InvalidInput) as caught:
            Keyring.from_toml(path)
        assert expected in str(caught.value)
        assert CANARY not in str(caught.value) and "SECRET" not in repr(caught.value)

    def test_odd_but_honest_files_are_read_or_refused_plainly(self, tmp_path: Path) -> None:
        ring = Keyring({"k": b"s" * 32}, current="k")
        bom = tmp_path / "bom.toml"
        bom.write_bytes(b"\xef\xbb\xbf" + ring.to_toml().encode())
        assert Keyring.from_toml(bom).key_ids == ("k",)
        latin = tmp_path / "latin.toml"
        latin.write_bytes(b"current = '\xe9'\n")
        with pytest.raises(InvalidInput, match="is not UTF-8 text"):
            Keyring.from_toml(latin)
        huge = tmp_path / "huge.toml"
        huge.write_bytes(b"#" * (2 << 20))
        with pytest.raises(InvalidInput, match="is larger than 1048576 bytes"):
            Keyring.from_toml(huge)

    def test_a_missing_key_file_is_unavailable_without_its_path(self, tmp_path: Path) -> None:
        missing = tmp_path / f"{CANARY}.toml"
        with pytest.raises(SourceUnavailable) as caught:
            Keyring.from_toml(missing)
        assert CANARY not in str(caught.value)
        assert caught.value.path == str(missing)

    def test_no_path_at_all_is_invalid_input(self) -> None:
        with pytest.raises(InvalidInput, match="'path' must name the key file"):
            Keyring.from_toml(3)  # type: ignore[arg-type]


class TestTheCommands:
    def test_new_writes_a_private_file_and_never_overwrites_one(self, tmp_path: Path) -> None:
        path = tmp_path / "keys.toml"
        made = rjflow("keyring", "new", str(path), "--key-id", "2026-11")
        assert made.returncode == 0, made.stderr
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        ring = Keyring.from_toml(path)
        assert ring.key_ids == ("2026-11",) and len(ring._secret("2026-11")) == 32
        before = path.read_bytes()
        again = rjflow("keyring", "new", str(path), "--key-id", "2026-12")
        assert again.returncode == 3 and "never overwritten" in again.stderr
        assert path.read_bytes() == before

    def test_rotate_adds_a_current_key_and_keeps_the_old_ones(self, tmp_path: Path) -> None:
        path = tmp_path / "keys.toml"
        assert rjflow("keyring", "new", str(path), "--key-id", "2026-11").returncode == 0
        old = Keyring.from_toml(path)
        path.chmod(0o640)  # opened to the application's group by hand: kept so
        rotated = rjflow("keyring", "rotate", str(path), "--key-id", "2026-12")
        assert rotated.returncode == 0, rotated.stderr
        new = Keyring.from_toml(path)
        assert (new.current, new.key_ids) == ("2026-12", ("2026-11", "2026-12"))
        assert new._secret("2026-11") == old._secret("2026-11")
        assert stat.S_IMODE(path.stat().st_mode) == 0o640
        assert [p.name for p in tmp_path.iterdir()] == ["keys.toml"]  # no file left behind
        twice = rjflow("keyring", "rotate", str(path), "--key-id", "2026-12")
        assert twice.returncode == 2 and "already has a key 2026-12" in twice.stderr

    def test_rotate_through_a_link_rotates_the_file_it_names(self, tmp_path: Path) -> None:
        real = tmp_path / "secrets" / "keys.toml"
        real.parent.mkdir()
        assert rjflow("keyring", "new", str(real), "--key-id", "2026-11").returncode == 0
        link = tmp_path / "keys.toml"
        link.symlink_to(real)
        assert rjflow("keyring", "rotate", str(link), "--key-id", "2026-12").returncode == 0
        assert link.is_symlink() and Keyring.from_toml(real).current == "2026-12"
        assert sorted(p.name for p in real.parent.iterdir()) == ["keys.toml"]

    def test_a_key_id_that_is_not_an_id_is_a_usage_error_not_repeated(self, tmp_path: Path) -> None:
        refused = rjflow("keyring", "new", str(tmp_path / "k.toml"), "--key-id", CANARY)
        assert refused.returncode == 2 and CANARY not in refused.stderr
        assert not (tmp_path / "k.toml").exists()


class TestReadingWithTheKeyFile:
    @pytest.fixture
    def keys(self, tmp_path: Path) -> Path:
        path = tmp_path / "keys.toml"
        assert rjflow("keyring", "new", str(path), "--key-id", "2026-11").returncode == 0
        return path

    def test_a_store_verified_with_the_key_finds_a_case_saved_without_it(
        self, tmp_path: Path, keys: Path
    ) -> None:
        store = tmp_path / "rj.sqlite3"
        assert rjflow("--key-file", str(keys), "demo", "--store", str(store)).returncode == 0
        assert rjflow("--key-file", str(keys), "store", "verify", str(store)).returncode == 0
        plain = tmp_path / "plain.sqlite3"
        with SQLiteStore(plain) as db:
            db.save(build_demo_case(), expected_version=0)
        checked = rjflow("--key-file", str(keys), "store", "verify", str(plain))
        assert checked.returncode == 1 and "carries no integrity seal" in checked.stderr
        assert rjflow("store", "verify", str(plain)).returncode == 0  # no key: no seal asked

    def test_export_seals_and_check_refuses_an_unsealed_or_edited_case(
        self, tmp_path: Path, keys: Path
    ) -> None:
        store = tmp_path / "rj.sqlite3"
        assert rjflow("--key-file", str(keys), "demo", "--store", str(store)).returncode == 0
        out = tmp_path / "cases.jsonl"
        exported = rjflow("--key-file", str(keys), "export", str(store), "-o", str(out))
        assert exported.returncode == 0, exported.stderr
        document = json.loads(out.read_text(encoding="utf-8"))
        assert document["integrity"]["key_id"] == "2026-11"
        assert rjflow("--key-file", str(keys), "check", str(out)).returncode == 0
        # Someone without the key removes the seal (after editing the case, say): refused.
        del document["integrity"]
        unsealed = tmp_path / "unsealed.jsonl"
        unsealed.write_text(json.dumps(document) + "\n", encoding="utf-8")
        refused = rjflow("--key-file", str(keys), "check", str(unsealed))
        assert refused.returncode == 1 and "no integrity seal" in refused.stderr
        assert rjflow("check", str(unsealed)).returncode == 0

    def test_the_environment_variable_gives_the_key_file_and_report_uses_it(
        self, tmp_path: Path, keys: Path
    ) -> None:
        ring = Keyring.from_toml(keys)
        cases = tmp_path / "cases.jsonl"
        cases.write_text(dumps(build_demo_case(), keyring=ring) + "\n", encoding="utf-8")
        unsealed = tmp_path / "unsealed.jsonl"
        unsealed.write_text(dumps(build_demo_case()) + "\n", encoding="utf-8")

        def report(source: Path, out: str) -> subprocess.CompletedProcess[str]:
            args = ["report", str(source), "--from", "2026-01-01", "--to", "2027-12-31"]
            return subprocess.run(
                [sys.executable, "-m", "rjflow", *args, "--out", str(tmp_path / out)],
                capture_output=True,
                text=True,
                check=False,
                timeout=120,
                env={**os.environ, "RJFLOW_KEY_FILE": str(keys)},
            )

        sealed = report(cases, "sealed")
        assert sealed.returncode == 0, sealed.stderr
        plain = rjflow(
            "report", str(cases), "--from", "2026-01-01", "--to", "2027-12-31",
            "--out", str(tmp_path / "plain"),
        )  # fmt: skip
        assert plain.returncode == 0
        with_key = json.loads((tmp_path / "sealed" / "report.json").read_text(encoding="utf-8"))
        without = json.loads((tmp_path / "plain" / "report.json").read_text(encoding="utf-8"))
        assert with_key == without and with_key["cases"] == 1
        refused = report(unsealed, "refused")
        assert refused.returncode == 1 and "unsealed.jsonl:1: " in refused.stderr

    def test_the_key_file_after_the_command_says_where_it_goes(self, tmp_path: Path) -> None:
        done = rjflow("store", "verify", str(tmp_path / "s.sqlite3"), "--key-file", "k.toml")
        assert done.returncode == 2
        assert "give it before the command, as in rjflow --key-file FILE" in done.stderr

    def test_an_empty_key_file_variable_is_a_mistake_not_no_key(self, tmp_path: Path) -> None:
        out = tmp_path / "c.jsonl"
        out.write_text(dumps(build_demo_case()) + "\n", encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "rjflow", "check", str(out)],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
            env={**os.environ, "RJFLOW_KEY_FILE": ""},
        )
        assert done.returncode == 2 and "RJFLOW_KEY_FILE is set but empty" in done.stderr

    def test_a_bad_key_file_stops_the_command_without_showing_its_text(
        self, tmp_path: Path
    ) -> None:
        bad = key_file(tmp_path, f'current = "k"\n[keys]\nk = "{CANARY}"\n')
        out = tmp_path / "c.jsonl"
        out.write_text(dumps(build_demo_case()) + "\n", encoding="utf-8")
        refused = rjflow("--key-file", str(bad), "check", str(out))
        assert refused.returncode == 1 and "keys.toml: The secret of key k" in refused.stderr
        assert CANARY not in refused.stderr + refused.stdout
        missing = rjflow("--key-file", str(tmp_path / "none.toml"), "check", str(out))
        assert missing.returncode == 2 and "cannot read" in missing.stderr


class TestAStoreReadWithTheKeyFile:
    """A store's summaries and report facts are not sealed: with a key file, ``due`` and
    ``report`` load and verify every case instead of trusting them."""

    @pytest.fixture
    def sealed_store(self, tmp_path: Path) -> tuple[Path, Path]:
        keys = tmp_path / "keys.toml"
        assert rjflow("keyring", "new", str(keys), "--key-id", "2026-11").returncode == 0
        ring = Keyring.from_toml(keys)
        store = tmp_path / "rj.sqlite3"
        with SQLiteStore(store, keyring=ring) as db:
            for i, stage in enumerate((State.INTRODUCTION, State.PREPARATION)):
                case, _ = at_stage(stage, case_id=f"RJ-{i}")
                db.save(case, expected_version=0)
        return store, keys

    def test_forged_facts_and_hidden_deadlines_are_not_believed(
        self, tmp_path: Path, sealed_store: tuple[Path, Path]
    ) -> None:
        store, keys = sealed_store
        args = ["--from", "2026-01-01", "--to", "2027-12-31"]
        honest = rjflow(
            "--key-file", str(keys), "report", str(store), *args, "--out", str(tmp_path / "h")
        )
        due_before = rjflow("--key-file", str(keys), "due", str(store), "--at", "2027-01-01")
        db = sqlite3.connect(store)
        with db:
            db.execute("""UPDATE rjflow_facts SET facts = json_set(facts, '$.end_reason',
                          'completed', '$.ended_at', '2026-06-01T00:00:00+00:00')""")
            db.execute("UPDATE rjflow_summaries SET due_at = NULL")
        db.close()
        forged = rjflow(
            "--key-file", str(keys), "report", str(store), *args, "--out", str(tmp_path / "f")
        )
        due_after = rjflow("--key-file", str(keys), "due", str(store), "--at", "2027-01-01")
        assert honest.returncode == forged.returncode == 0, forged.stderr
        assert forged.stdout.splitlines()[0] == honest.stdout.splitlines()[0]
        assert "0 completed" in forged.stdout
        assert due_after.stdout == due_before.stdout and "2 case(s)" in due_after.stdout
        without_key = rjflow("due", str(store), "--at", "2027-01-01")
        assert "0 obligation(s)" in without_key.stdout  # the summaries, as documented

    def test_a_report_says_how_many_cases_it_left_out(
        self, tmp_path: Path, sealed_store: tuple[Path, Path]
    ) -> None:
        store, keys = sealed_store
        with SQLiteStore(store) as db:  # saved without the key: no seal
            db.save(at_stage(State.REFERRED, case_id="RJ-9")[0], expected_version=0)
        out = tmp_path / "out"
        made = rjflow(
            "--key-file", str(keys), "report", str(store),
            "--from", "2026-01-01", "--to", "2027-12-31", "--out", str(out),
        )  # fmt: skip
        assert made.returncode == 1 and "RJ-9: " in made.stderr
        numbers = json.loads((out / "report.json").read_text(encoding="utf-8"))
        assert (numbers["cases"], numbers["cases_left_out"]) == (2, 1)
        assert "1 case(s) of the caseload could not be read" in (out / "report.html").read_text(
            encoding="utf-8"
        )
        assert "cases,left_out,1" in (out / "report.csv").read_text(encoding="utf-8")
