"""Trusted documents: a manifest of the only operations some callers may run.

``GATEWAY_TRUSTED_DOCUMENTS_FILE`` names a JSON manifest; ``GATEWAY_TRUSTED_DOCUMENTS_FOR``
says whom it binds: ``everyone`` (the default) or ``api-keys`` (callers with ``X-API-Key``,
i.e. partner tools; bearer-token users keep free-form queries). A bound caller's operation runs
only when its document's SHA-256 is listed, whether it sends the hash alone (an automatic
persisted query: the document comes from the manifest) or the full text. Anything else gets
``PERSISTED_QUERY_NOT_ALLOWED`` (HTTP 403 under ``application/graphql-response+json``).

Two manifest formats are read:

* a flat object ``{"<sha256 hex>": "<document>"}``: GraphQL Code Generator's client preset
  with ``persistedDocuments: {hashAlgorithm: "sha256"}``, and ``gateway manifest`` (below);
* Apollo's ``{"format": "apollo-persisted-query-manifest", "version": 1, "operations":
  [{"id": "<sha256 hex>", "body": "<document>", ...}]}``
  (``@apollo/generate-persisted-query-manifest`` with its default ids).

Every key must be the lowercase SHA-256 hex digest of its document's exact text (what APQ
clients send) and every document must parse; a manifest that breaks this, or lists nothing,
stops the start with a message naming the entry.

Example:
    >>> doc = "{ __typename }"
    >>> manifest = build_manifest([doc])
    >>> list(manifest.values()) == [doc], parse_manifest(manifest, "inline") == manifest
    (True, True)
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson
from graphql import GraphQLError, parse

from gateway.authz.principal import Principal

TrustedFor = Literal["everyone", "api-keys"]
"""Whom a manifest binds (``GATEWAY_TRUSTED_DOCUMENTS_FOR``)."""

APOLLO_FORMAT = "apollo-persisted-query-manifest"


class ManifestError(ValueError):
    """The trusted-documents manifest cannot be used (the message says which entry and why)."""


def document_hash(document: str) -> str:
    """The SHA-256 hex digest of a document's UTF-8 text (the APQ ``sha256Hash``)."""
    return hashlib.sha256(document.encode()).hexdigest()


def _apollo_entries(data: Mapping[str, object], source: str) -> list[tuple[object, object]]:
    operations = data.get("operations")
    if data.get("version") != 1 or not isinstance(operations, list):
        raise ManifestError(f"{source}: an Apollo manifest needs version 1 and an operations list")
    entries: list[tuple[object, object]] = []
    for index, operation in enumerate(operations):
        if not isinstance(operation, dict):
            raise ManifestError(f"{source}: operations[{index}] is not an object")
        entries.append((operation.get("id"), operation.get("body")))
    return entries


def parse_manifest(data: object, source: str) -> dict[str, str]:
    """The ``hash -> document`` table of a decoded manifest (see the module docstring).

    Raises:
        ManifestError: Unknown shape, a key that is not its document's SHA-256, a document
            that does not parse, or no entry at all.
    """
    if not isinstance(data, dict):
        raise ManifestError(f"{source}: a manifest is a JSON object")
    if data.get("format") == APOLLO_FORMAT:
        entries = _apollo_entries(data, source)
    else:
        entries = list(data.items())
    documents: dict[str, str] = {}
    for key, document in entries:
        if not isinstance(key, str) or not isinstance(document, str):
            raise ManifestError(f"{source}: entry {key!r} must map a hash to a document text")
        if key != document_hash(document):
            raise ManifestError(
                f"{source}: entry {key!r} is not the SHA-256 of its document "
                f"({document_hash(document)}); generate ids with SHA-256 over the exact text"
            )
        try:
            parse(document, no_location=True)
        except GraphQLError as exc:
            raise ManifestError(f"{source}: entry {key!r} does not parse: {exc.message}") from None
        documents[key] = document
    if not documents:
        raise ManifestError(f"{source}: the manifest lists no operation")
    return documents


def load_manifest(path: Path) -> dict[str, str]:
    """Read and check the manifest at ``path`` (raises :class:`ManifestError`)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ManifestError(f"{path}: cannot read the manifest: {exc.strerror}") from None
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ManifestError(f"{path}: not JSON: {exc}") from None
    return parse_manifest(data, str(path))


def build_manifest(documents: Iterable[str]) -> dict[str, str]:
    """A flat manifest of ``documents`` (each the exact text a client sends)."""
    return {document_hash(document): document for document in documents}


@dataclass(frozen=True)
class TrustedDocuments:
    """The manifest's documents and whom they bind."""

    documents: Mapping[str, str]
    binds: TrustedFor = "everyone"

    def binding(self, principal: Principal) -> bool:
        """True when ``principal`` may run listed documents only."""
        return self.binds == "everyone" or principal.via == "api_key"

    @classmethod
    def configured(cls, path: Path | None, binds: TrustedFor) -> TrustedDocuments | None:
        """The documents of ``GATEWAY_TRUSTED_DOCUMENTS_FILE``, or None when it is unset."""
        return None if path is None else cls(load_manifest(path), binds)
