"""Query limits checked before execution: depth, aliases (through fragments) and tokens.

A document past a limit is answered with one error whose ``extensions.code`` is
``QUERY_TOO_COMPLEX``; nothing of it executes (parsing stops at the token limit, depth and
aliases are validation rules). Fragments are expanded where they are spread, so neither limit
can be dodged by moving selections into named or inline fragments::

    fragment F on Workspace { a: id b: id }
    { workspaces { nodes { ...F ...F } } }      # 4 aliases, depth 3

Depth counts field levels (``{ workspaces { totalCount } }`` is 2). Introspection's
``ofType`` chains do not count: they only unwrap list and non-null wrappers (one object per
level, no fan-out), and GraphiQL's introspection query nests them nine deep. Every other
introspection field counts, so a circular introspection query
(``types { fields { type { fields ...`` ) is bounded like any other.

Example:
    >>> QueryLimits().version
    'd10-a15-t2000'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.error import GraphQLSyntaxError
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension

from gateway.errors import ErrorCode

_CODE = {"code": ErrorCode.QUERY_TOO_COMPLEX.value}

UNWRAPPING_FIELD = "ofType"
"""``__Type.ofType``: not counted in depth inside introspection (see the module doc)."""


@dataclass(frozen=True, slots=True)
class QueryLimits:
    """The bounds a document must stay within (the defaults are the settings' defaults).

    Attributes:
        depth: Most nested field levels (``GATEWAY_MAX_QUERY_DEPTH``).
        aliases: Most aliased fields, fragments expanded where spread
            (``GATEWAY_MAX_QUERY_ALIASES``).
        tokens: Most lexical tokens in the document (``GATEWAY_MAX_QUERY_TOKENS``).
        allow_batching: Whether a POST body may be a JSON array of operations
            (``GATEWAY_ALLOW_BATCHING``).
    """

    depth: int = 10
    aliases: int = 15
    tokens: int = 2000
    allow_batching: bool = False

    @property
    def version(self) -> str:
        """A short text naming the limits that decide whether a document runs (cache keys
        carry it: a lowered limit must not be bypassed by a cached answer)."""
        return f"d{self.depth}-a{self.aliases}-t{self.tokens}"


def too_complex(message: str, nodes: list[FieldNode] | None = None) -> GraphQLError:
    """A ``QUERY_TOO_COMPLEX`` error."""
    return GraphQLError(message, nodes, extensions=dict(_CODE))


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {
        d.name.value: d
        for d in context.document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }


def _operations(context: ValidationContext) -> Iterator[OperationDefinitionNode]:
    return (d for d in context.document.definitions if isinstance(d, OperationDefinitionNode))


def _named(operation: OperationDefinitionNode) -> str:
    return f"operation {operation.name.value}" if operation.name else "the operation"


class _Walker:
    """Depth and alias counts of selection sets, each named fragment computed once.

    Memoized because a fragment spread twice in a fragment spread twice ... would otherwise
    cost exponential time in a document of a few hundred tokens. A fragment cycle (reported
    by graphql-core's own rule) or an unknown fragment counts as empty.
    """

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._depths: dict[tuple[str, bool], int] = {}
        self._aliases: dict[str, int] = {}
        self._open: set[str] = set()

    def _fragment(self, name: str) -> FragmentDefinitionNode | None:
        if name in self._open:
            return None
        return self._fragments.get(name)

    def depth(self, selections: SelectionSetNode | None, introspecting: bool = False) -> int:
        """Field levels below ``selections`` (0 for a leaf)."""
        deepest = 0
        for node in selections.selections if selections else ():
            if isinstance(node, FieldNode):
                name = node.name.value
                inside = introspecting or name.startswith("__")
                level = 0 if inside and name == UNWRAPPING_FIELD else 1
                deepest = max(deepest, level + self.depth(node.selection_set, inside))
            elif isinstance(node, InlineFragmentNode):
                deepest = max(deepest, self.depth(node.selection_set, introspecting))
            elif isinstance(node, FragmentSpreadNode):
                deepest = max(deepest, self._spread_depth(node.name.value, introspecting))
        return deepest

    def _spread_depth(self, name: str, introspecting: bool) -> int:
        key = (name, introspecting)
        if key not in self._depths:
            fragment = self._fragment(name)
            if fragment is None:
                return 0
            self._open.add(name)
            self._depths[key] = self.depth(fragment.selection_set, introspecting)
            self._open.discard(name)
        return self._depths[key]

    def aliases(self, selections: SelectionSetNode | None) -> int:
        """Aliased fields in ``selections``, each spread of a fragment counted in full."""
        count = 0
        for node in selections.selections if selections else ():
            if isinstance(node, FieldNode):
                count += (node.alias is not None) + self.aliases(node.selection_set)
            elif isinstance(node, InlineFragmentNode):
                count += self.aliases(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                count += self._spread_aliases(node.name.value)
        return count

    def _spread_aliases(self, name: str) -> int:
        if name not in self._aliases:
            fragment = self._fragment(name)
            if fragment is None:
                return 0
            self._open.add(name)
            self._aliases[name] = self.aliases(fragment.selection_set)
            self._open.discard(name)
        return self._aliases[name]


def depth_rule(limit: int) -> type[ValidationRule]:
    """A validation rule refusing an operation nested more than ``limit`` field levels."""

    class DepthLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            walker = _Walker(_fragments(context))
            for operation in _operations(context):
                depth = walker.depth(operation.selection_set)
                if depth > limit:
                    context.report_error(
                        too_complex(
                            f"{_named(operation)} nests fields {depth} levels deep; "
                            f"the limit is {limit}"
                        )
                    )

    return DepthLimit


def alias_rule(limit: int) -> type[ValidationRule]:
    """A validation rule refusing an operation with more than ``limit`` aliases."""

    class AliasLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            walker = _Walker(_fragments(context))
            for operation in _operations(context):
                count = walker.aliases(operation.selection_set)
                if count > limit:
                    context.report_error(
                        too_complex(
                            f"{_named(operation)} uses {count} aliases (fragments counted "
                            f"each time they are spread); the limit is {limit}"
                        )
                    )

    return AliasLimit


class TokenLimitedParserCache(ParserCache):
    """strawberry's :class:`ParserCache` whose parser stops past ``max_tokens`` tokens.

    graphql-core aborts the parse at the first token over the limit, so a huge document costs
    no more than a document at the limit; that abort is reported as ``QUERY_TOO_COMPLEX``.
    """

    def __init__(self, max_tokens: int, maxsize: int) -> None:
        super().__init__(maxsize=maxsize)
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        """Parse (cached) with the token limit."""
        context = self.execution_context
        try:
            options = {**context.parse_options, "max_tokens": self.max_tokens}
            context.graphql_document = self.cached_parse_document(context.query, **options)
        except GraphQLSyntaxError as error:
            # graphql-core's wording of its token abort; other syntax errors pass through.
            if f"more than {self.max_tokens} tokens" not in error.message:
                raise
            limit = self.max_tokens
            message = f"the document has more than {limit} tokens; the limit is {limit}"
            raise too_complex(message) from error
        yield


class CodeAbortedValidation(SchemaExtension):
    """Give graphql-core's own refusals of costly documents the ``QUERY_TOO_COMPLEX`` code.

    graphql-core aborts validation (:class:`ValidationAbortedError`) after 100 errors, when
    comparing overlapping fields or expanding fragments exceeds its work budget (e.g. a few
    hundred copies of one field), or on recursion; the document never runs, for the same reason
    as our limits.
    """

    def on_validate(self) -> Iterator[None]:
        """Tag the aborts among the validation errors (after validation)."""
        yield
        for error in self.execution_context.pre_execution_errors or ():
            if isinstance(error, ValidationAbortedError):
                error.extensions = {**(error.extensions or {}), **_CODE}


def limit_extensions(
    limits: QueryLimits, parse_cache_size: int
) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions enforcing ``limits``: the token-limited parser (replacing a plain
    :class:`ParserCache`), the depth and alias rules, and the code of graphql-core's aborts."""
    rules: list[type[ASTValidationRule]] = [depth_rule(limits.depth), alias_rule(limits.aliases)]
    return [
        lambda: TokenLimitedParserCache(limits.tokens, parse_cache_size),
        lambda: AddValidationRules(rules),
        CodeAbortedValidation,
    ]
