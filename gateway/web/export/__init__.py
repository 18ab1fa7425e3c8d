"""``POST /export``: a GraphQL query's result as a spreadsheet (see :mod:`.route`).

Modules, in the order a request uses them: :mod:`.route` (HTTP, runs the query through the
``/graphql`` view), :mod:`.shape` (the result's shape from the query and the schema),
:mod:`.flatten` (result -> tables), :mod:`.naming` (titles, sheet names), :mod:`.sheets` (the
Summary and the sheets), :mod:`.xlsx` and :mod:`.csv` (the writers).
"""
