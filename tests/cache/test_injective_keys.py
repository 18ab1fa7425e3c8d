"""Every key built from a caller or from ids is an injective encoding (issue 14): random ids,
subjects and roles, including every separator and control character, never make two different
inputs share a key, whichever builder makes it.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.authz.principal import Principal
from gateway.cache.keys import cache_key
from gateway.domain import ID_PATTERN
from gateway.encoding import encode_parts
from gateway.loaders.metric_cache import MetricCache, _full
from gateway.metrics.cells import CellKey, app_scope, mini_program_scope, workspace_scope
from gateway.metrics.timerange import DateRange
from gateway.roles import FAMILY, Family, Grant, GrantError, Role
from gateway.web.ratelimit import rate_key

HOSTILE = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(";:|/\x1f\x00\n\"'\\,[]{}=@.-_ ")),
        st.characters(max_codepoint=0x1F),
        st.characters(categories=["Cs"]),  # lone surrogates (a JSON "\\ud800" escape)
        st.characters(),
    ),
    max_size=12,
)
"""Text made mostly of separators, quotes, brackets and control characters."""
ID_CHARS = "abAB09_-.:@/"
IDS = st.text(alphabet=ID_CHARS, min_size=1, max_size=10)
"""Ids within the grammar: ``:`` and ``/``, the old separators, included."""
EXAMPLES = settings(max_examples=400, deadline=None)


@EXAMPLES
@given(st.lists(HOSTILE, max_size=5), st.lists(HOSTILE, max_size=5))
def test_parts_encode_injectively(a: list[str], b: list[str]) -> None:
    assert (encode_parts(*a) == encode_parts(*b)) == (a == b)
    assert (cache_key("layer", *a) == cache_key("layer", *b)) == (a == b)


def _grant(role: Role, ident: str) -> Grant:
    family = FAMILY[role]
    if family is Family.SUPERAPP:
        return Grant(role, workspace_id=ident)
    if family is Family.MINI_PROGRAM:
        return Grant(role, merchant_id=ident)
    return Grant(role)


GRANTS = st.lists(st.builds(_grant, st.sampled_from(list(Role)), IDS), max_size=4)


@EXAMPLES
@given(GRANTS, GRANTS)
def test_distinct_grant_sets_never_share_a_scope_key(a: list[Grant], b: list[Grant]) -> None:
    pa, pb = Principal("s", tuple(a)), Principal("s", tuple(b))
    assert (pa.grants_key == pb.grants_key) == (set(a) == set(b))


@EXAMPLES
@given(st.sampled_from(["jwt", "api_key"]), HOSTILE, st.sampled_from(["jwt", "api_key"]), HOSTILE)
def test_distinct_callers_never_share_a_rate_limit_bucket(
    via_a: str, subject_a: str, via_b: str, subject_b: str
) -> None:
    a = rate_key(Principal(subject_a, (), via=via_a), {})
    b = rate_key(Principal(subject_b, (), via=via_b), {})
    assert (a == b) == ((via_a, subject_a) == (via_b, subject_b))
    # No subject names an address's bucket.
    assert a != rate_key(None, {"client": (subject_a, 1)})


SCOPES = st.one_of(
    st.builds(lambda i: ("ws", i), IDS),
    st.builds(lambda i: ("app", i), IDS),
    st.builds(lambda i: ("mp", i), IDS),
    st.builds(lambda a, m: ("app-mp", a, m), IDS, IDS),
)


def _scope(spec: tuple[str, ...]) -> str:
    kind, *ids = spec
    if kind == "ws":
        return workspace_scope(ids[0])
    if kind == "app":
        return app_scope(ids[0])
    if kind == "mp":
        return mini_program_scope(ids[0])
    return mini_program_scope(ids[1], app_id=ids[0])


@EXAMPLES
@given(SCOPES, SCOPES)
def test_cell_scopes_are_injective_over_the_id_grammar(
    a: tuple[str, ...], b: tuple[str, ...]
) -> None:
    assert (_scope(a) == _scope(b)) == (a == b)


def test_the_old_cell_spelling_collision_is_gone() -> None:
    # app "a/mp:b" with mini program "c", and app "a" with mini program "b/mp:c": one cell before.
    assert mini_program_scope("c", app_id="a/mp:b") != mini_program_scope("b/mp:c", app_id="a")


@EXAMPLES
@given(SCOPES, HOSTILE, SCOPES, HOSTILE)
def test_metric_cache_keys_are_injective(
    a: tuple[str, ...], cat_a: str, b: tuple[str, ...], cat_b: str
) -> None:
    span = DateRange(dt.date(2026, 1, 1), dt.date(2026, 1, 7))
    ka = MetricCache.key("activeUsers", CellKey(_scope(a), "PRODUCTION", "*", cat_a), span)
    kb = MetricCache.key("activeUsers", CellKey(_scope(b), "PRODUCTION", "*", cat_b), span)
    assert (_full(1, ka) == _full(1, kb)) == ((a, cat_a) == (b, cat_b))


@pytest.mark.parametrize(
    "ident",
    ["", "x" * 129, "w1;SUPERAPP_OPERATOR:w2:", "a b", "a|b", "a\x00", "ä", "a\n", "a#b", "a%2F"],
)
def test_grant_ids_outside_the_grammar_are_refused(ident: str) -> None:
    assert not re.fullmatch(ID_PATTERN, ident)
    with pytest.raises(GrantError, match="1 to 128"):
        Grant(Role.SUPERAPP_OPERATOR, workspace_id=ident)
    with pytest.raises(GrantError, match="1 to 128"):
        Grant(Role.MINI_PROGRAM_ADMIN, merchant_id=ident)


@pytest.mark.parametrize("ident", ["w", "x" * 128, "a-b_c.d:e@f/g", "A9"])
def test_grant_ids_within_the_grammar_are_accepted(ident: str) -> None:
    assert Grant(Role.SUPERAPP_OPERATOR, workspace_id=ident).workspace_id == ident
