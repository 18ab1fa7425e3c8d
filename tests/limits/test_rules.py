"""The limit rules on documents alone: what counts, robustness, and the defaults."""

from __future__ import annotations

import pytest
from graphql import GraphQLError, get_introspection_query, parse, specified_rules, validate
from graphql.language import SelectionSetNode

from gateway.limits import rules
from gateway.limits.rules import alias_rule, depth_rule
from gateway.schema import QueryLimits, build_schema
from gateway.settings import Settings
from gateway.web.default_query import DEFAULT_QUERY
from tests.limits.support import count_tokens


def too_complex(document: str, depth: int = 10, aliases: int = 15) -> list[str]:
    """The QUERY_TOO_COMPLEX messages of validating ``document`` with the standard rules and
    ours (so ours must cope with whatever the standard ones reject)."""
    schema = build_schema()._schema
    rules = [*specified_rules, depth_rule(depth), alias_rule(aliases)]
    errors: list[GraphQLError] = validate(schema, parse(document), rules)
    return [e.message for e in errors if (e.extensions or {}).get("code") == "QUERY_TOO_COMPLEX"]


def test_defaults_are_the_settings_defaults() -> None:
    fields = Settings.model_fields
    assert QueryLimits() == QueryLimits(
        depth=fields["max_query_depth"].default,
        aliases=fields["max_query_aliases"].default,
        tokens=fields["max_query_tokens"].default,
        allow_batching=fields["allow_batching"].default,
    )


def test_version_names_every_limit() -> None:
    variants = [QueryLimits(), QueryLimits(depth=9), QueryLimits(aliases=14)]
    assert len({limits.version for limits in [*variants, QueryLimits(tokens=1999)]}) == 4


@pytest.mark.parametrize(
    "document", [DEFAULT_QUERY, get_introspection_query(descriptions=True)], ids=["page", "intro"]
)
def test_graphiql_documents_fit_the_defaults(document: str) -> None:
    assert too_complex(document) == []
    assert count_tokens(document) <= QueryLimits().tokens


def test_of_type_chains_are_free_but_introspection_fan_out_counts() -> None:
    of_type = '{ __type(name: "Query") { ' + "ofType { " * 12 + "name" + " }" * 12 + " } }"
    assert too_complex(of_type, depth=2) == []  # __type, name
    fan_out = '{ __type(name: "Query") { fields { type { fields { name } } } } }'
    assert too_complex(fan_out, depth=4) == [
        "the operation nests fields 5 levels deep; the limit is 4"
    ]


@pytest.mark.parametrize(
    "document",
    [
        "{ workspaces { ...Missing } }",
        "query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }",
        "query { ...A } fragment A on Query { snapshot { ...A } }",
    ],
    ids=["unknown", "cycle", "self"],
)
def test_broken_fragments_are_left_to_the_standard_rules(document: str) -> None:
    assert too_complex(document, depth=1, aliases=0) == []


def test_every_operation_is_checked() -> None:
    document = "query Fine { snapshot { id } } query Wide { a: snapshot { id } b: snapshot { id } }"
    assert too_complex(document, aliases=1) == [
        "operation Wide uses 2 aliases (fragments counted each time they are spread); "
        "the limit is 1"
    ]


def test_exponential_spreads_cost_linear_work(monkeypatch: pytest.MonkeyPatch) -> None:
    # Each fragment spreads the next twice: 2**levels aliases, counted by walking each
    # fragment once (memoized); without the memo the walk would take 2**levels steps.
    levels = 20
    fragments = "".join(
        f"fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(levels)
    )
    document = f"{{ ...F0 }}\n{fragments}fragment F{levels} on Query {{ a: snapshot {{ id }} }}"
    walked: list[str] = []
    count = rules._Walker.count

    def counting(self: rules._Walker, selections: SelectionSetNode | None, kind: str) -> int:
        walked.append(kind)
        return count(self, selections, kind)  # type: ignore[arg-type]

    monkeypatch.setattr(rules._Walker, "count", counting)
    messages = too_complex(document)
    assert messages == [
        f"the operation uses {2**levels} aliases (fragments counted each time they are "
        "spread); the limit is 15"
    ]
    assert 0 < len(walked) <= 4 * (levels + 2)  # linear in the fragments, not 2**levels
