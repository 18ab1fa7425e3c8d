"""Execution policy: what a GraphQL request may ask and what a failure may reveal.

The bounds checked before execution (depth, aliases, tokens, directives: :mod:`.rules`, with the
parse memo of :mod:`.documents`), the query cost and its weights (:mod:`.cost`, :mod:`.weights`,
enforced by :mod:`.cost_limit`), page sizes (:mod:`.pages`) and error masking (:mod:`.masking`).
It sits under the schema and the web layer and imports nothing above it: the domain
vocabulary, errors, time ranges and the byte-bounded memo only.
"""
