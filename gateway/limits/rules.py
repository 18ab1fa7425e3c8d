"""Query limits checked before execution: depth, aliases and directives (through fragments),
tokens, and cost (:mod:`gateway.limits.cost_limit`).

A document past a limit is answered with one error whose ``extensions.code`` is
``QUERY_TOO_COMPLEX``; nothing of it executes (parsing stops at the token limit, depth,
aliases and directives are validation rules, the cost is checked once the variables are
known). Fragments are expanded where they are spread, so no limit can be dodged by moving
selections into named or inline fragments::

    fragment F on Workspace { a: id b: id }
    { workspaces { nodes { ...F ...F } } }      # 4 aliases, depth 3

Depth counts field levels (``{ workspaces { totalCount } }`` is 2). Introspection's
``ofType`` chains do not count: they only unwrap list and non-null wrappers (one object per
level, no fan-out), and GraphiQL's introspection query nests them nine deep. Every other
introspection field counts, so a circular introspection query
(``types { fields { type { fields ...`` ) is bounded like any other.

Example:
    >>> QueryLimits().version
    'd10-a15-t2000-r50-c5000'
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.error import GraphQLSyntaxError
from graphql.validation.validate import ValidationAbortedError
from strawberry.extensions import AddValidationRules, SchemaExtension

from gateway.errors import ErrorCode
from gateway.limits.cost_limit import CostLimit
from gateway.limits.documents import parse_limited

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
        directives: Most directives in an operation, fragments counted where spread
            (``GATEWAY_MAX_QUERY_DIRECTIVES``).
        cost: Most an operation may cost (``GATEWAY_MAX_QUERY_COST``, see
            :mod:`gateway.limits.cost`).
        allow_batching: Whether a POST body may be a JSON array of operations
            (``GATEWAY_ALLOW_BATCHING``).
    """

    depth: int = 10
    aliases: int = 15
    tokens: int = 2000
    directives: int = 50
    cost: int = 5000
    allow_batching: bool = False

    @property
    def version(self) -> str:
        """A short text naming the limits that decide whether a document runs (cache keys
        carry it: a lowered limit must not be bypassed by a cached answer)."""
        return f"d{self.depth}-a{self.aliases}-t{self.tokens}-r{self.directives}-c{self.cost}"


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
    """Depth, alias and directive counts of selection sets, each named fragment computed once.

    Memoized because a fragment spread twice in a fragment spread twice ... would otherwise
    cost exponential time in a document of a few hundred tokens. A fragment cycle (reported
    by graphql-core's own rule) or an unknown fragment counts as empty.
    """

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._depths: dict[tuple[str, bool], int] = {}
        self._counts: dict[tuple[str, Counted], int] = {}
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

    def count(self, selections: SelectionSetNode | None, kind: Counted) -> int:
        """Aliases or directives in ``selections``, each spread of a fragment counted in full."""
        count = 0
        for node in selections.selections if selections else ():
            count += _own(node, kind)
            if isinstance(node, FieldNode | InlineFragmentNode):
                count += self.count(node.selection_set, kind)
            elif isinstance(node, FragmentSpreadNode):
                count += self._spread_count(node.name.value, kind)
        return count

    def _spread_count(self, name: str, kind: Counted) -> int:
        key = (name, kind)
        if key not in self._counts:
            fragment = self._fragment(name)
            if fragment is None:
                return 0
            self._open.add(name)
            self._counts[key] = _own(fragment, kind) + self.count(fragment.selection_set, kind)
            self._open.discard(name)
        return self._counts[key]


Counted = Literal["aliases", "directives"]
"""What :meth:`_Walker.count` counts."""


def _own(node: SelectionNode | FragmentDefinitionNode, kind: Counted) -> int:
    """The aliases or directives written on ``node`` itself (not inside its selections)."""
    if kind == "aliases":
        return int(isinstance(node, FieldNode) and node.alias is not None)
    return len(node.directives or ())


def _operation_count(walker: _Walker, operation: OperationDefinitionNode, kind: Counted) -> int:
    """Aliases or directives of ``operation``: its own and its variables' directives too."""
    own = 0
    if kind == "directives":
        own = len(operation.directives or ())
        own += sum(len(v.directives or ()) for v in operation.variable_definitions or ())
    return own + walker.count(operation.selection_set, kind)


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


def _count_rule(limit: int, kind: Counted) -> type[ValidationRule]:
    class CountLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            walker = _Walker(_fragments(context))
            for operation in _operations(context):
                count = _operation_count(walker, operation, kind)
                if count > limit:
                    context.report_error(
                        too_complex(
                            f"{_named(operation)} uses {count} {kind} (fragments counted "
                            f"each time they are spread); the limit is {limit}"
                        )
                    )

    return CountLimit


def alias_rule(limit: int) -> type[ValidationRule]:
    """A validation rule refusing an operation with more than ``limit`` aliases."""
    return _count_rule(limit, "aliases")


def directive_rule(limit: int) -> type[ValidationRule]:
    """A validation rule refusing an operation with more than ``limit`` directives (its own,
    its variables' and its selections')."""
    return _count_rule(limit, "directives")


class TokenLimitedParserCache(SchemaExtension):
    """A parser cache (in place of strawberry's ``ParserCache``) whose parser stops past
    ``max_tokens`` tokens, memoized in bytes (:mod:`gateway.limits.documents`).

    graphql-core aborts the parse at the first token over the limit, so a huge document costs
    no more than a document at the limit; that abort is reported as ``QUERY_TOO_COMPLEX``.
    """

    def __init__(self, max_tokens: int) -> None:
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        """Parse (cached) with the token limit."""
        context = self.execution_context
        try:
            options = {k: v for k, v in context.parse_options.items() if k != "max_tokens"}
            query = context.query or ""
            context.graphql_document = parse_limited(query, max_tokens=self.max_tokens, **options)
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


def limit_extensions(limits: QueryLimits) -> list[Callable[[], SchemaExtension]]:
    """The schema extensions enforcing ``limits``: the token-limited parser (replacing a plain
    :class:`ParserCache`), the depth, alias and directive rules, the code of graphql-core's
    aborts, and the cost limit."""
    rules: list[type[ASTValidationRule]] = [
        depth_rule(limits.depth),
        alias_rule(limits.aliases),
        directive_rule(limits.directives),
    ]
    return [
        lambda: TokenLimitedParserCache(limits.tokens),
        lambda: AddValidationRules(rules),
        CodeAbortedValidation,
        lambda: CostLimit(limit=limits.cost),
    ]
