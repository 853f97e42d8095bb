"""Policy files (issue 12): a service's policy in TOML, read key by key with typed errors."""

from __future__ import annotations

import json
import pickle
import tomllib
from datetime import timedelta
from importlib import resources
from pathlib import Path

import attrs
import jsonschema
import pytest

from rjflow import (
    LONDON_CRC,
    InvalidInput,
    OffenceCategory,
    Policy,
    PractitionerLevel,
    RiskScope,
    SourceUnavailable,
)
from rjflow.policy import (
    EXAMPLES,
    example_policy,
    file_values,
    policy_schema,
    read_policy_file,
)
from rjflow.policy_check import check_policy
from rjflow.policy_file import FileCode, PolicyFileError, to_toml
from rjflow.serialization import _fingerprint

ROOT = Path(__file__).resolve().parent.parent
SCHEMA_FILE = ROOT / "src" / "rjflow" / "schema" / "policy-v1.json"

#: Text a caller might put in a file that must never come back in a message.
CANARY = "Canary Smith"


def write(tmp_path: Path, text: str, name: str = "service.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


class TestReading:
    def test_an_empty_file_is_the_default_policy(self, tmp_path: Path) -> None:
        """Every key is optional: an empty file is London CRC's programme."""
        assert Policy.from_toml(write(tmp_path, "")) == LONDON_CRC

    def test_every_kind_of_value_is_read(self, tmp_path: Path) -> None:
        """Text, whole numbers, switches, durations, categories, levels and choices."""
        text = "\n".join(
            [
                "format = 1",
                'name = "Youth justice service"',
                "max_sessions = 8",
                "max_session_length = { hours = 1, minutes = 30 }",
                'conference_categories = ["violence", "robbery"]',
                "conference_for_direct_personal_harm = false",
                'min_lead_level = "advanced"',
                "min_sensitive_lead_level = 3",
                "enforcement_window = { weeks = 26 }",
                'risk_assessment_scope = "participant"',
                "excluded_with_ongoing_contact = []",
            ]
        )
        policy = Policy.from_toml(write(tmp_path, text))
        assert policy.name == "Youth justice service"
        assert policy.max_sessions == 8
        assert policy.max_session_length == timedelta(minutes=90)
        assert policy.conference_categories == {OffenceCategory.VIOLENCE, OffenceCategory.ROBBERY}
        assert policy.conference_for_direct_personal_harm is False
        assert policy.min_lead_level is PractitionerLevel.ADVANCED
        assert policy.min_sensitive_lead_level is PractitionerLevel.ADVANCED
        assert policy.enforcement_window == timedelta(days=182)
        assert policy.risk_assessment_scope is RiskScope.PARTICIPANT
        assert policy.excluded_with_ongoing_contact == frozenset()
        assert policy.letter_enabled is True  # not in the file: the default

    def test_where_each_value_came_from(self, tmp_path: Path) -> None:
        """The keys the file set, and their lines; every other value is the default."""
        read = read_policy_file(write(tmp_path, "# a comment\n\nmax_sessions = 8\n"))
        assert read.from_file == {"max_sessions"}
        assert read.lines["max_sessions"] == 3

    def test_a_policy_from_a_file_is_the_same_value_as_one_built_in_python(
        self, tmp_path: Path
    ) -> None:
        """Equal, same hash, same fingerprint, and it pickles: one form per policy."""
        built = Policy(
            name="Prison service",
            max_sessions=10,
            min_lead_level=PractitionerLevel.ADVANCED,
            conference_categories=[OffenceCategory.VIOLENCE],
        )
        loaded = Policy.from_toml(write(tmp_path, to_toml(file_values(built))))
        assert loaded == built
        assert hash(loaded) == hash(built)
        assert _fingerprint(loaded) == _fingerprint(built)
        assert pickle.loads(pickle.dumps(loaded)) == built

    @pytest.mark.parametrize(
        "policy",
        [
            LONDON_CRC,
            Policy(
                name='Odd "name" \\ with\ttab and \x7f',
                max_session_length=timedelta(seconds=5401),
                risk_assessment_valid_for=timedelta(hours=36),
                sensitive_categories=frozenset(),
                risk_assessment_scope=RiskScope.PARTICIPANT,
            ),
        ],
        ids=["default", "odd"],
    )
    def test_written_files_read_back_equal(self, tmp_path: Path, policy: Policy) -> None:
        """What to_toml writes from file_values, from_toml reads back as the same policy."""
        assert Policy.from_toml(write(tmp_path, to_toml(file_values(policy)))) == policy


class TestErrors:
    """Each fault: its code, the file, the key and line, the kind of value and what is
    allowed, and never the caller's text."""

    def fails(self, tmp_path: Path, text: str, code: FileCode) -> PolicyFileError:
        with pytest.raises(PolicyFileError) as caught:
            Policy.from_toml(write(tmp_path, text))
        error = caught.value
        assert error.code is code, str(error)
        assert isinstance(error, ValueError)
        assert CANARY not in str(error) and CANARY not in repr(error)
        assert str(error).startswith("service.toml")
        assert f"[{code.value} {code.slug}]" in str(error)
        return error

    def test_unknown_key(self, tmp_path: Path) -> None:
        error = self.fails(tmp_path, "max_sessions = 3\nmax_sesions = 8\n", FileCode.UNKNOWN_KEY)
        assert (error.key, error.line) == (None, 2)  # the line says where; the key is not kept
        assert "max_sesions" not in str(error)
        assert "max_sessions" in str(error) and "letter_enabled" in str(error)  # allowed ones
        assert "(did you mean max_sessions?)" in str(error)

    def test_every_bad_key_of_the_file_is_reported_in_its_order(self, tmp_path: Path) -> None:
        text = (
            f'max_sesions = 3\nletter_enabled = 1\nname = "ok"\n"{CANARY}" = 1\n'
            f'max_sessions = "{CANARY}"\n'
        )
        error = self.fails(tmp_path, text, FileCode.UNKNOWN_KEY)
        every = [(e.code, e.key, e.line) for e in (error, *error.also)]
        assert every == [
            (FileCode.UNKNOWN_KEY, None, 1),
            (FileCode.WRONG_TYPE, "letter_enabled", 2),
            (FileCode.UNKNOWN_KEY, None, 4),
            (FileCode.WRONG_TYPE, "max_sessions", 5),
        ]
        assert str(error).endswith("; 3 more problems in the file")
        assert all(CANARY not in str(e) and not e.also for e in error.also)
        again = pickle.loads(pickle.dumps(error))
        assert [str(e) for e in (again, *again.also)] == [str(e) for e in (error, *error.also)]

    def test_every_value_the_policy_refuses_is_reported_judged_with_the_files_values(
        self, tmp_path: Path
    ) -> None:
        text = (
            'name = ""\nmax_sessions = 60\nrequired_sessions = 50\n'
            "max_session_length = { hours = 0 }\nreview_every = { days = 0 }\n"
        )
        error = self.fails(tmp_path, text, FileCode.INVALID_VALUE)
        every = [(e.key, e.line) for e in (error, *error.also)]
        # required_sessions (50) is within the file's max_sessions (60): not refused.
        assert every == [("name", 1), ("max_session_length", 4), ("review_every", 5)]

    def test_a_key_like_no_setting_gets_no_guess(self, tmp_path: Path) -> None:
        error = self.fails(tmp_path, "colour = 8\n", FileCode.UNKNOWN_KEY)
        assert "did you mean" not in str(error)

    def test_an_unknown_key_that_is_anyones_text_is_not_repeated(self, tmp_path: Path) -> None:
        error = self.fails(tmp_path, f'"{CANARY}" = 1\n', FileCode.UNKNOWN_KEY)
        assert error.key is None

    def test_a_table_is_not_a_setting(self, tmp_path: Path) -> None:
        error = self.fails(
            tmp_path, "max_sessions = 8\n[policy]\nmax_sessions = 8\n", FileCode.UNKNOWN_KEY
        )
        assert (error.key, error.line) == (None, 2)

    @pytest.mark.parametrize(
        "text",
        [
            "zqxJaneDoe_7731 = 1\n",
            "[zqxJaneDoe_7731]\n",
            "max_sessionsJaneDoe = 1\n",
            "JaneDoe.x = 1\n",
        ],
    )
    def test_an_unknown_key_shaped_like_a_name_is_never_repeated(
        self, tmp_path: Path, text: str
    ) -> None:
        error = self.fails(tmp_path, text, FileCode.UNKNOWN_KEY)
        assert "JaneDoe" not in str(error) and error.key is None and error.line == 1

    def test_a_key_set_twice_says_so(self, tmp_path: Path) -> None:
        error = self.fails(tmp_path, "max_sessions = 8\nmax_sessions = 9\n", FileCode.NOT_TOML)
        assert "already set" in str(error) and error.line == 2

    def test_a_byte_order_mark_is_read_past(self, tmp_path: Path) -> None:
        path = tmp_path / "service.toml"
        path.write_bytes(b"\xef\xbb\xbfmax_sessions = 8\n")
        assert Policy.from_toml(path).max_sessions == 8

    @pytest.mark.parametrize(
        ("text", "kind"),
        [
            (f'max_sessions = "{CANARY}"', "got text"),
            ("max_sessions = 8.5", "got a decimal number"),
            ("letter_enabled = 1", "got a whole number"),
            (f'name = ["{CANARY}"]', "got a list"),
            ("max_session_length = 3", "got a whole number"),
            (f'conference_categories = "{CANARY}"', "got text"),
            ("min_lead_level = true", "got true or false"),
            ("enforcement_window = { days = -1 }", "got -1"),
        ],
    )
    def test_wrong_type(self, tmp_path: Path, text: str, kind: str) -> None:
        error = self.fails(tmp_path, text, FileCode.WRONG_TYPE)
        assert kind in str(error)
        assert error.line == 1

    def test_unknown_offence_category(self, tmp_path: Path) -> None:
        error = self.fails(
            tmp_path,
            f'\nsensitive_categories = ["stalking", "{CANARY}"]',
            FileCode.UNKNOWN_CATEGORY,
        )
        assert (error.key, error.line) == ("sensitive_categories", 2)
        assert "item 2" in str(error) and "household_burglary" in str(error)

    def test_level_below_foundation(self, tmp_path: Path) -> None:
        error = self.fails(tmp_path, "min_lead_level = 0", FileCode.LEVEL_BELOW_FOUNDATION)
        assert "below foundation" in str(error) and "'intermediate'" in str(error)

    def test_level_above_advanced(self, tmp_path: Path) -> None:
        error = self.fails(tmp_path, "min_sensitive_lead_level = 4", FileCode.LEVEL_ABOVE_ADVANCED)
        assert "above advanced" in str(error)

    @pytest.mark.parametrize(
        "text",
        [f'min_lead_level = "{CANARY}"', f'risk_assessment_scope = "{CANARY}"'],
    )
    def test_unknown_choice(self, tmp_path: Path, text: str) -> None:
        error = self.fails(tmp_path, text, FileCode.UNKNOWN_CHOICE)
        assert "got other text" in str(error)

    def test_not_toml_names_the_line(self, tmp_path: Path) -> None:
        error = self.fails(tmp_path, f"max_sessions = 8\n{CANARY} here\n", FileCode.NOT_TOML)
        assert error.line == 2

    def test_not_utf8(self, tmp_path: Path) -> None:
        path = tmp_path / "service.toml"
        path.write_bytes(b'name = "\xff"\n')
        with pytest.raises(PolicyFileError) as caught:
            Policy.from_toml(path)
        assert caught.value.code is FileCode.NOT_TOML

    @pytest.mark.parametrize(
        ("text", "key"),
        [
            ("max_sessions = 0", "max_sessions"),
            ("max_sessions = 4\nrequired_sessions = 6", "required_sessions"),
            ('conference_categories = ["theft", "theft"]', "conference_categories"),
            ("max_session_length = { hours = 0 }", "max_session_length"),
            ("format = 2", "format"),
            ('name = "  "', "name"),
        ],
    )
    def test_values_the_policy_refuses(self, tmp_path: Path, text: str, key: str) -> None:
        """Right type, wrong value: the policy's own rule, attributed to the key."""
        error = self.fails(tmp_path, text, FileCode.INVALID_VALUE)
        assert error.key == key
        assert error.line is not None

    def test_a_file_not_named_like_a_file_is_not_repeated(self, tmp_path: Path) -> None:
        path = write(tmp_path, "max_sessions = 0", name=f"{CANARY}.toml")
        with pytest.raises(PolicyFileError) as caught:
            Policy.from_toml(path)
        assert str(caught.value).startswith("the policy file, line 1")
        assert caught.value.file == str(path)  # kept for the program, out of the message

    def test_a_missing_file_is_unavailable(self, tmp_path: Path) -> None:
        with pytest.raises(SourceUnavailable) as caught:
            Policy.from_toml(tmp_path / "missing.toml")
        assert "missing" not in str(caught.value)

    @pytest.mark.parametrize("path", [b"service.toml", 42, None, "a\x00b.toml"])
    def test_a_path_that_is_no_path_is_invalid_input(self, path: object) -> None:
        with pytest.raises(InvalidInput):
            Policy.from_toml(path)  # type: ignore[arg-type]

    def test_the_error_pickles(self, tmp_path: Path) -> None:
        """Errors cross process boundaries with their fields."""
        with pytest.raises(PolicyFileError) as caught:
            Policy.from_toml(write(tmp_path, "min_lead_level = 0"))
        copy = pickle.loads(pickle.dumps(caught.value))
        assert (copy.code, copy.key, copy.line, str(copy)) == (
            FileCode.LEVEL_BELOW_FOUNDATION,
            "min_lead_level",
            1,
            str(caught.value),
        )


class TestSchema:
    def test_the_shipped_schema_is_current(self) -> None:
        """src/rjflow/schema/policy-v1.json is what Policy generates now."""
        shipped = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
        assert shipped == policy_schema(), (
            'policy-v1.json is stale: run python -c "import json, rjflow.policy as p; '
            'print(json.dumps(p.policy_schema(), indent=2))" > src/rjflow/schema/policy-v1.json'
        )

    def test_every_policy_field_is_in_the_schema(self) -> None:
        assert set(policy_schema()["properties"]) == {f.name for f in attrs.fields(Policy)} | {
            "format"
        }

    def test_the_default_validates_and_faults_do_not(self) -> None:
        """The schema accepts the default's file data and refuses each kind of fault."""
        validator = jsonschema.Draft202012Validator(policy_schema())
        validator.validate(file_values(LONDON_CRC))
        for bad in (
            {"max_sesions": 8},
            {"max_sessions": "8"},
            {"max_sessions": 0},
            {"conference_categories": ["arson"]},
            {"min_lead_level": 0},
            {"min_lead_level": 4},
            {"max_session_length": {"fortnights": 1}},
        ):
            assert not validator.is_valid(bad), bad


class TestExamples:
    """The example files shipped in the package: labelled, sourced, valid and sound."""

    @pytest.mark.parametrize("name", EXAMPLES)
    def test_each_example_loads_validates_and_passes_the_checks(self, name: str) -> None:
        read = example_policy(name)
        assert check_policy(read.policy) == ()
        assert "(example)" in read.policy.name
        assert read.policy != LONDON_CRC
        path = resources.files("rjflow") / "policies" / f"{name}.toml"
        text = path.read_text(encoding="utf-8")
        jsonschema.validate(tomllib.loads(text), policy_schema())
        header = text.split("\nformat = 1", 1)[0]
        assert "EXAMPLE" in header and "NOT the policy of any real" in header
        assert "# Sources:" in header

    def test_the_package_ships_exactly_the_listed_examples(self) -> None:
        shipped = {p.name for p in (resources.files("rjflow") / "policies").iterdir()}
        assert shipped == {f"{name}.toml" for name in EXAMPLES}

    def test_an_unknown_example_is_refused(self) -> None:
        with pytest.raises(InvalidInput):
            example_policy(CANARY)
