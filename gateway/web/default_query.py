"""The query GraphiQL opens with: a tour of the schema a first-time visitor can run as is."""

from __future__ import annotations

DEFAULT_QUERY = """\
# Mini-program analytics gateway
#
# Credentials go in the Headers tab below, e.g.
#   {"Authorization": "Bearer <JWT>"}
#   {"X-API-Key": "<key>"}
# Ctrl-Enter runs; Ctrl-Space completes; see Docs.

query Overview {
  snapshot {
    takenAt
    nextRefreshAt
  }
  workspaces(first: 10) {
    totalCount
    nodes {
      id
      name
      availableMiniPrograms
      activeUsers(timeRange: {preset: LAST_7_DAYS}) {
        value
        previousValue
        changeRate
        series {
          date
          value
        }
      }
      targetApps(
        first: 10
        orderBy: {field: USER_COUNT}
        timeRange: {preset: LAST_7_DAYS}
      ) {
        nodes {
          id
          name
          activeUsers(timeRange: {preset: LAST_7_DAYS}) {
            value
            change
          }
          launches(timeRange: {preset: LAST_30_DAYS}) {
            value
            series(granularity: WEEK) {
              date
              value
            }
          }
          miniProgramStatusCounts {
            all
            fullRelease
            grayscaleRelease
            reviewing
            developing
            inactive
          }
          miniPrograms(first: 5) {
            totalCount
            nodes {
              name
              type
              category
              status
              activeUsers(timeRange: {preset: YESTERDAY}) {
                value
              }
            }
            pageInfo {
              hasNextPage
              endCursor
            }
          }
        }
      }
    }
  }
}
"""
"""The query a first-time visitor sees: the snapshot, workspaces with a metric and its series,
their apps ranked by users with metrics and status counts, and mini programs."""
