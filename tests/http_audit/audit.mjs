// Runs graphql-http's server audit (GraphQL over HTTP conformance) against a running gateway
// and prints one JSON array of {id, name, status, reason} on stdout.
//
//   AUDIT_AUTHORIZATION='Bearer <JWT>' node audit.mjs http://127.0.0.1:8000/graphql
//
// The gateway answers 401 to anonymous requests, so every audit request gets the
// Authorization header through a custom fetch. Used by tests/web/test_http_audit.py.
import { auditServer } from 'graphql-http';

const [url] = process.argv.slice(2);
const authorization = process.env.AUDIT_AUTHORIZATION;
if (!url || !authorization) {
  console.error('usage: AUDIT_AUTHORIZATION=... node audit.mjs URL');
  process.exit(2);
}

function authorizedFetch(input, init = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', authorization);
  return fetch(input, { ...init, headers });
}

const results = await auditServer({ url, fetchFn: authorizedFetch });
const summary = results.map(({ id, name, status, reason }) => ({ id, name, status, reason }));
process.stdout.write(JSON.stringify(summary) + '\n');
