"""Parsed and validated GraphQL documents, memoized per process and bounded in bytes.

strawberry's ``ParserCache`` and ``ValidationCache`` keep a number of entries whatever their
size, and the validation cache holds each parsed document as its key: 512 documents of 2,000
tokens are some 500 MB of syntax trees a caller can fill by sending distinct texts. These
memos (:class:`~gateway.cache.sized.SizedLRU`) weigh a parsed document by its tokens
(:data:`AST_BYTES_PER_TOKEN` each) plus its text, and keep only the
verdict "valid" of a validation, keyed by the text: documents with validation errors are
validated again when they come back, so no error (and no part of a tree it points to) is kept.

Example:
    >>> parse_limited("{ snapshot { id } }", max_tokens=100).token_count
    6
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from graphql import ASTValidationRule, DocumentNode, GraphQLSchema
from graphql.language.parser import Parser
from strawberry.extensions import SchemaExtension

from gateway.cache.sized import MEMO_MAX_BYTES, OVERHEAD, SizedLRU

AST_BYTES_PER_TOKEN = 512
"""Bytes of syntax tree graphql-core builds per token of a document (measured: about 0.5 KB)."""

ParseKey = tuple[int, tuple[tuple[str, Any], ...], str]
"""(token limit, parse options, text)."""
ValidateKey = tuple[GraphQLSchema, tuple[type[ASTValidationRule], ...], str]
"""(schema, validation rules, text)."""


def _parsed_weight(key: ParseKey, document: DocumentNode) -> int:
    tokens = getattr(document, "token_count", None)
    if not isinstance(tokens, int):
        tokens = min(len(key[2]), key[0])  # a token is at least one character
    return OVERHEAD + len(key[2]) + tokens * AST_BYTES_PER_TOKEN


def _validated_weight(key: ValidateKey, valid: bool) -> int:
    del valid
    return OVERHEAD + len(key[2])


_PARSED: SizedLRU[ParseKey, DocumentNode] = SizedLRU(MEMO_MAX_BYTES, _parsed_weight)
_VALID: SizedLRU[ValidateKey, bool] = SizedLRU(MEMO_MAX_BYTES, _validated_weight)


def parse_limited(query: str, *, max_tokens: int, **options: Any) -> DocumentNode:
    """``graphql.parse(query, max_tokens=max_tokens, **options)``, memoized.

    Raises:
        GraphQLSyntaxError: as :func:`graphql.parse` (the token limit included); failures
            are not memoized.
    """
    key = (max_tokens, tuple(sorted(options.items())), query)
    document = _PARSED.get(key)
    if document is None:
        document = Parser(query, max_tokens=max_tokens, **options).parse_document()
        _PARSED[key] = document
    return document


class MemoValidationCache(SchemaExtension):
    """Validate each distinct document text once while it stays valid (see the module
    docstring); replaces strawberry's ``ValidationCache``."""

    def on_validate(self) -> Iterator[None]:
        """Skip validation of a text known to be valid; remember texts that prove valid."""
        context = self.execution_context
        key = None
        if context.query is not None:
            key = (context.schema._schema, tuple(context.validation_rules), context.query)
            if _VALID.get(key):
                context.pre_execution_errors = []
        yield
        if key is not None and context.pre_execution_errors == []:
            _VALID[key] = True
