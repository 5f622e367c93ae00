"""Fast unit tests: fingerprints, WCAG tags, ownership, URLs and configuration."""

from __future__ import annotations

import pytest

from audits.accessibility import findings_from_axe
from audits.fingerprint import fingerprints, normalise_start_tag
from audits.ownership import compile_rules, owner_for
from settings.loader import ConfigError, config_from_dict
from settings.model import Team
from vocabulary.urls import normalise_url, path_and_query
from vocabulary.wcag import criteria_from_tags, level_of, run_only_tags


def axe_result(*nodes: tuple[str, list[str], str]) -> dict:
    rules: dict[str, dict] = {}
    for rule_id, target, html in nodes:
        rule = rules.setdefault(
            rule_id,
            {"id": rule_id, "impact": "critical", "tags": ["wcag2a", "wcag111"], "nodes": []},
        )
        rule["nodes"].append({"target": target, "html": html})
    return {"violations": list(rules.values()), "incomplete": []}


def prints(*nodes: tuple[str, list[str], str]) -> list[str]:
    return [f.fingerprint for f in findings_from_axe(axe_result(*nodes))]


def test_paragraph_inserted_above_keeps_the_fingerprint() -> None:
    before = prints(("image-alt", ["main > img:nth-child(3)"], '<img src="/bin.png">'))
    after = prints(("image-alt", ["main > img:nth-child(4)"], '<img src="/bin.png">'))
    assert before == after


def test_two_identical_images_get_two_fingerprints() -> None:
    twins = prints(
        ("image-alt", ["main > img:nth-child(2)"], '<img src="/bin.png">'),
        ("image-alt", ["main > img:nth-child(5)"], '<img src="/bin.png">'),
    )
    assert len(set(twins)) == 2


def test_cache_busting_query_keeps_the_fingerprint() -> None:
    old = prints(("image-alt", ["#logo"], '<img src="/logo.png?v=123" class="logo">'))
    new = prints(("image-alt", ["#logo"], '<img class="logo" src="/logo.png?v=456">'))
    assert old == new


def test_fingerprint_ignores_digit_runs_ids_and_nonces() -> None:
    a = prints(("label", ["#block-1234 > input"], '<input id="q12" nonce="abc" type="text">'))
    b = prints(("label", ["#block-98 > input"], '<input type="text" id="q7" nonce="xyz">'))
    assert a == b


def test_different_rules_on_one_element_differ() -> None:
    assert (
        len(
            set(
                fingerprints(
                    [("image-alt", ["img"], "<img>"), ("color-contrast", ["img"], "<img>")]
                )
            )
        )
        == 2
    )


def test_start_tag_is_sorted_without_volatile_attributes() -> None:
    assert normalise_start_tag('<a id="x" href="/p?x=1" data-token="t" class="b">text</a>') == (
        '<a class="b" href="/p">'
    )


@pytest.mark.parametrize(
    ("tags", "criteria"),
    [
        (["cat.text-alternatives", "wcag2a", "wcag111", "section508"], ["1.1.1"]),
        (["wcag21aa", "wcag1410"], ["1.4.10"]),
        (["wcag2a", "wcag244", "wcag412"], ["2.4.4", "4.1.2"]),
        (["best-practice"], []),
    ],
)
def test_wcag_criteria_from_axe_tags(tags: list[str], criteria: list[str]) -> None:
    assert criteria_from_tags(tags) == criteria


def test_wcag_levels() -> None:
    assert run_only_tags("2.1-AA") == ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
    assert "wcag22aa" in run_only_tags("2.2-AA")
    assert run_only_tags("2.1-AA", best_practices=True)[-1] == "best-practice"
    assert level_of(["wcag2aa", "wcag143"]) == "AA"
    assert level_of(["wcag2a", "wcag111"]) == "A"
    assert level_of(["best-practice"]) is None


def test_ownership_precedence() -> None:
    teams = [
        Team("Revenues", paths=("/council-tax/",)),
        Team("Discounts", paths=("/council-tax/discounts/",)),
        Team("Planning", patterns=(r"^/planning-",)),
        Team("Catch-all", patterns=(r"^/council-tax/discounts/student",)),
    ]
    rules = compile_rules(teams)
    assert owner_for("/council-tax/pay", None, rules) == "Revenues"
    assert owner_for("/council-tax/discounts/single", None, rules) == "Discounts"  # longest
    assert owner_for("/council-tax/discounts/student", None, rules) == "Catch-all"  # regex
    assert owner_for("/planning-applications", None, rules) == "Planning"
    assert owner_for("/council-tax/pay", "Digital Services", rules) == "Digital Services"
    assert owner_for("/parking/", None, rules) == "Unassigned"


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("HTTP://Example.GOV.uk:80/a?b=1#top", "http://example.gov.uk/a?b=1"),
        ("https://example.gov.uk:443", "https://example.gov.uk/"),
        ("https://example.gov.uk/p?utm_source=x&id=3&fbclid=y", "https://example.gov.uk/p?id=3"),
        ("https://example.gov.uk:8443/p", "https://example.gov.uk:8443/p"),
    ],
)
def test_normalise_url(url: str, normal: str) -> None:
    assert normalise_url(url, strip_params=("utm_*", "fbclid")) == normal


def test_path_and_query_ignores_host() -> None:
    assert path_and_query("https://staging.example.gov.uk/a?b=1") == "/a?b=1"


def test_team_config_in_the_documented_form() -> None:
    config = config_from_dict(
        {
            "teams": [
                {
                    "name": "Revenues and Benefits",
                    "paths": ["/council-tax/", "/benefits/"],
                    "email": "revenues@example.gov.uk",
                }
            ]
        }
    )
    assert config.teams[0].paths == ("/council-tax/", "/benefits/")


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"audit": {"wcag": "3.0"}}, "audit.wcag must be one of"),
        ({"audit": {"viewport": "390"}}, "audit.viewport must be WIDTHxHEIGHT in CSS pixels"),
        ({"audit": {"viewport": "200x800"}}, "(width 320 to 3840, height 240 to 4320)"),
        ({"site": {"max_pages": "ten"}}, "site.max_pages must be a number"),
        (
            {"teams": [{"name": "X", "patterns": ["("]}]},
            "teams[0].patterns: '(' is not a valid regex",
        ),
        ({"team": []}, "unknown key team; did you mean teams?"),
        ({"site": {"start_urls": ["ftp://x"]}}, "is not an absolute http(s) URL"),
    ],
)
def test_config_errors_name_the_key(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=None) as err:
        config_from_dict(raw, "site.toml")
    assert str(err.value).startswith("site.toml: ") and message in str(err.value)


def test_a_scan_at_another_viewport_reuses_no_audit() -> None:
    from settings.model import DEFAULT_VIEWPORT, viewport_size
    from store.previous import DESKTOP_VIEWPORT, rules_key

    assert viewport_size(DEFAULT_VIEWPORT) == DESKTOP_VIEWPORT
    assert viewport_size(" 390x844 ") == (390, 844)
    # The desktop key is the one scans made before audit.viewport had, so they still match.
    assert rules_key("4.14.1", ("wcag2a",)) == '["4.14.1", ["wcag2a"]]'
    assert rules_key("4.14.1", ("wcag2a",), (1280, 1024)) == rules_key("4.14.1", ("wcag2a",))
    assert rules_key("4.14.1", ("wcag2a",), (390, 844)) == '["4.14.1", ["wcag2a"], "390x844"]'


def test_a_pages_section_id_is_the_same_in_every_scan_and_on_every_host() -> None:
    from reports.escape import page_anchor

    anchor = page_anchor("http://127.0.0.1:8000/bins/collection-days.html?area=north")
    assert anchor == page_anchor(
        "https://www.example-council.gov.uk/bins/collection-days.html?area=north"
    )
    assert anchor.startswith("page-bins-collection-days-html-area-north-")
    assert page_anchor("https://x.example/") != page_anchor("https://x.example/?a=1")
    assert all(c.isalnum() or c == "-" for c in page_anchor('https://x.example/"><script>'))
