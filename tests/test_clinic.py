"""The clinic's contact details: shown when set, never invented, checked like content."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.clinic import Clinic, load_clinic
from bot.content import ContentError
from bot.library import collect_errors


def test_shipped_clinic_file_sets_nothing_so_nothing_is_shown(shipped):
    assert shipped.clinic.contact_lines() == []
    assert shipped.clinic.how_to_contact() == "Please contact the clinic directly."


def test_only_the_fields_that_are_set_are_shown(tmp_path):
    path = tmp_path / "clinic.yml"
    path.write_text("name: Skin Clinic\nphone: '+1 555 0100'\nemail:\nbooking_url: https://clinic.example/book\n")
    clinic = load_clinic(path)
    assert clinic.contact_lines() == ["Phone: +1 555 0100", "Book online: https://clinic.example/book"]
    assert clinic.how_to_contact().startswith("Please contact Skin Clinic:\n")


@pytest.mark.parametrize(
    ("text", "line", "says"),
    [
        ("name: x\nfax: 123\n", 2, "unknown field 'fax'"),
        ("name: x\nphone: [1, 2]\n", 2, "'phone' should be one line of text"),
        ("name: x\n\nbooking_url: clinic.example/book\n", 3, "'booking_url' is not a web address"),
        ("name: x\nprivacy_url: clinic.example/privacy\n", 2, "'privacy_url' is not a web address"),
        ("name: 'unclosed\n", 1, "not valid YAML"),
    ],
)
def test_bad_clinic_file_is_refused_with_its_line(tmp_path, text, line, says):
    path = tmp_path / "clinic.yml"
    path.write_text(text)
    with pytest.raises(ContentError) as caught:
        load_clinic(path)
    assert caught.value.line == line and says in str(caught.value)


def test_bad_clinic_file_fails_the_content_check(content_copy):
    (content_copy / "clinic.yml").write_text("telephone: 123\n")
    errors = collect_errors(content_copy)
    assert len(errors) == 1 and "clinic.yml:1: unknown field 'telephone'" in str(errors[0])


def test_page_links_follow_the_site_url():
    assert Clinic().page_url("p", "a") == "/procedures/p#a"
    assert Clinic(site_url="https://x.example/").page_url("p", "a") == "https://x.example/procedures/p#a"


@pytest.mark.parametrize(
    ("contacts", "warned", "strict_exit"),
    [
        ("", True, 1),
        ("phone: '+1 555 0100'\n", False, 0),
        ("email: desk@clinic.example\n", False, 0),
    ],
    ids=["neither", "phone", "email"],
)
def test_the_check_before_going_live_wants_a_phone_or_an_email(content_copy, capsys, contacts, warned, strict_exit):
    clinic = content_copy / "clinic.yml"
    clinic.write_text("name: Skin Clinic\nprivacy_url: https://clinic.example/privacy\n" + contacts)

    assert main(["check", str(content_copy)]) == 0  # a warning: `make run` still starts
    said = capsys.readouterr().out
    assert ("neither a phone number nor an e-mail address" in said) is warned
    assert main(["check", "--strict", str(content_copy)]) == strict_exit


def test_the_check_before_going_live_wants_a_privacy_notice(content_copy, capsys):
    (content_copy / "clinic.yml").write_text("name: Skin Clinic\nphone: '+1 555 0100'\n")
    assert main(["check", "--strict", str(content_copy)]) == 1
    assert "privacy_url" in capsys.readouterr().out
